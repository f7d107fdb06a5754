// The forwarder: everything after authentication for one authenticated /v1/* request. Walks the
// ordered candidate list (select -> lease -> send -> classify -> retry or commit) and relays the
// committed response to the client as bytes arrive.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "protocol/anthropic/request_view.hpp"
#include "proxy/http_io.hpp"
#include "proxy/request_ctx.hpp"

namespace qcc::proxy {

class Worker;

/// Forwards `req` and writes the whole response to `client`. `view` is the peeked body (null for
/// requests without a JSON body). Returns false when the client connection must be closed.
asio::awaitable<bool> forward(Worker& worker, beast::tcp_stream& client, ClientRequest& req,
                              const anthropic::RequestView* view, RequestContext& ctx,
                              bool keep_alive);

}  // namespace qcc::proxy
