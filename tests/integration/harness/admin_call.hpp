// Admin API helpers for integration tests: one call with the admin token and its JSON answer, and
// a reader for the server-sent event stream of GET /api/events.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"

namespace qcc::test {

/// What an admin call returned: the status, the raw response and the body parsed as JSON (null
/// when it is not JSON).
struct AdminReply {
    int status = 0;
    ClientResponse response;
    boost::json::value json;

    /// error.message of an Anthropic-shaped error body ("" if the body is not one).
    std::string error_message() const;
};

/// One admin API request on a new connection, with `Authorization: Bearer <token>` (no header
/// when `token` is empty).
AdminReply admin_call(std::uint16_t port, std::string_view method, std::string_view target,
                      std::string_view body = {}, std::string_view token = kAdminToken);

/// A connection to GET /api/events (or any SSE target) that collects the de-chunked stream.
class EventStream {
  public:
    /// Connects, sends the request with the admin token and `extra` headers, and reads the head.
    EventStream(std::uint16_t port, const Headers& extra = {},
                std::string_view target = "/api/events");
    ~EventStream();
    EventStream(const EventStream&) = delete;
    EventStream& operator=(const EventStream&) = delete;

    /// Status of the response (0 if none arrived before the deadline).
    int status() const { return status_; }
    /// The head as received (for header assertions) and the body when the answer was not a stream.
    const std::string& head() const { return head_; }
    /// Reads until the stream text contains `needle` after offset `from` or the deadline passes;
    /// true when found.
    bool wait_for(std::string_view needle, std::size_t from = 0,
                  std::chrono::milliseconds deadline = std::chrono::seconds(10));
    /// Everything received so far (de-chunked).
    const std::string& text() const { return text_; }
    /// Closes the connection (the server must notice and unsubscribe).
    void close();

  private:
    bool read_more(std::chrono::steady_clock::time_point deadline);
    void dechunk();

    int fd_ = -1;
    int status_ = 0;
    std::string head_;
    std::string raw_;   // received body bytes not yet de-chunked
    std::string text_;  // de-chunked stream
    bool chunked_ = false;
};

}  // namespace qcc::test
