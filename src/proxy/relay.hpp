// The committed half of a request: once an attempt's response is accepted, the relay writes its
// head and the bytes already read (the commit point), then pumps the rest from the upstream to the
// client as it arrives — never waiting to fill a buffer, bounded by one 64 KiB buffer per stream
// (backpressure), reading usage on the side (SSE tap or the JSON body). A failure after the commit
// point ends an SSE stream with an `error` event and a clean chunked end; it is never retried.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "protocol/anthropic/stream_tap.hpp"
#include "proxy/client_watch.hpp"
#include "proxy/request_ctx.hpp"
#include "upstream/pool.hpp"

namespace qcc::proxy {

class RelayBuffers;
using ResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

/// Writes to the client: whole answers or chunk-framed pieces, counting bytes out and keeping the
/// opt-in payload capture. Once a write fails, the client is marked gone.
class ClientWriter {
  public:
    ClientWriter(boost::beast::tcp_stream& client, std::shared_ptr<ClientWatch> watch,
                 RequestContext& ctx, std::size_t capture_limit, std::chrono::nanoseconds timeout)
        : client_(client),
          watch_(std::move(watch)),
          ctx_(ctx),
          capture_limit_(capture_limit),
          timeout_(timeout) {}

    /// Writes `head` (may be empty) then `data`, the latter as one chunk when `chunked`.
    /// False when the client is gone.
    boost::asio::awaitable<bool> write(std::string_view head, std::string_view data, bool chunked);
    boost::beast::tcp_stream& stream() { return client_; }

  private:
    boost::beast::tcp_stream& client_;
    std::shared_ptr<ClientWatch> watch_;
    RequestContext& ctx_;
    std::size_t capture_limit_;
    std::chrono::nanoseconds timeout_;
};

/// Reads the next piece of a response body into `buf` (RelayBuffers::kBytes) within `timeout`;
/// returns the error (need_buffer is not one) and how many bytes arrived.
boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_body_piece(
    upstream::Lease& lease, ResponseParser& p, char* buf, std::chrono::nanoseconds timeout);

/// Reads the rest of a (small) body into `out` until it ends, `limit` bytes are held, the client
/// leaves or a read fails; returns the read error (none when it ended or hit the limit).
boost::asio::awaitable<boost::system::error_code> read_rest(upstream::Lease& lease,
                                                            ResponseParser& p, char* buf,
                                                            std::string& out, std::size_t limit,
                                                            std::chrono::nanoseconds timeout,
                                                            const ClientWatch& watch);

/// Response headers to pass to the client: all but hop-by-hop and framing, as header lines.
std::string filtered_response_headers(const boost::beast::http::response_header<>& h);

/// One committed response to relay.
struct RelayJob {
    const upstream::Endpoint& endpoint;
    upstream::Lease& lease;
    ResponseParser& parser;
    std::string_view pending;  // body bytes already read (pre-commit SSE events, an error body)
    anthropic::StreamTap& tap;
    bool sse = false;
    bool head_request = false;  // the client asked with HEAD: no body
    bool keep_json = false;     // keep a bounded copy of a JSON answer to read its usage
    int attempts = 0;           // for x-qcc-attempts
};

/// How the relay ended.
struct RelayResult {
    bool client_gone = false;
    bool upstream_failed = false;  // cut, reset, idle timeout or SSE without message_stop
    bool keep_alive = true;        // false: the client connection must close
    bool chunked = false;          // the body was chunk-framed towards the client
    std::string failure;           // why upstream_failed
    std::string error_type;        // Anthropic error type of the SSE error event ("" = api_error)
};

/// Relays `job` to the client through `out` (which must be the writer of `ctx`); fills ctx.status,
/// endpoint, ttfb_ms, usage. Gives the upstream connection back to the worker's pool when the
/// response ended cleanly and keep-alive allows it. When the upstream failed mid-response the
/// client's response is left open: the caller records the failure, then calls end_cut_response.
boost::asio::awaitable<RelayResult> relay(const RelayJob& job, ClientWriter& out,
                                          RequestContext& ctx, RelayBuffers& buffers,
                                          upstream::Pool& pool, const ClientWatch& watch,
                                          bool keep_alive);

/// Ends a chunked response whose upstream failed after the commit point: an SSE stream gets an
/// `error` event, then the body ends cleanly (never a silent truncation). False when the client is
/// gone. (A Content-Length body cannot be ended early: its connection just closes.)
boost::asio::awaitable<bool> end_cut_response(ClientWriter& out, const RelayResult& r, bool sse);

}  // namespace qcc::proxy
