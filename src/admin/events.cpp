// Admin API: the live event stream (GET /api/events, server-sent events).
#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>

#include "admin/call.hpp"
#include "admin/ui.hpp"
#include "common/log.hpp"
#include "protocol/http/response_head.hpp"
#include "proxy/client_watch.hpp"

namespace qcc::admin {

using proxy::ClientWatch;
using proxy::ClientWatchScope;

namespace {

using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// A comment line keeps idle connections (and proxies in between) from timing out.
constexpr std::chrono::seconds kPingAfter{15};
// How often the loop looks at the disconnect flag and the drain flag when no event arrives.
constexpr std::chrono::milliseconds kPoll{500};
// A subscriber that does not read for this long is dropped (its queue already loses events).
constexpr std::chrono::seconds kWriteDeadline{30};

/// One HTTP/1.1 chunk.
std::string chunk(std::string_view payload) {
    char size[20];
    const auto n = std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
    std::string out(size, static_cast<std::size_t>(n));
    out += payload;
    out += "\r\n";
    return out;
}

asio::awaitable<bool> write_all(beast::tcp_stream& client, const std::string& bytes) {
    client.expires_after(kWriteDeadline);
    auto [ec, n] = co_await asio::async_write(client, asio::buffer(bytes), kUseTuple);
    client.expires_never();
    co_return !ec;
}

}  // namespace

asio::awaitable<Reply> stream_events(Call& c) {
    reject_unknown_params(c, {});
    // A page from another site must not read the stream with a token it got hold of.
    if (!same_origin(c.req)) {
        throw ApiError(403, "permission_error",
                       "Origin " + std::string(c.req[http::field::origin]) +
                           " does not match the Host of this server");
    }
    auto& hub = c.deps.hub;
    auto sub = hub.subscribe(c.client.get_executor());
    if (!sub) {
        throw ApiError(503, "api_error",
                       "too many event-stream subscribers (at most " +
                           std::to_string(EventHub::kMaxSubscribers) + ")");
    }
    struct Unsubscribe {
        EventHub& hub;
        std::shared_ptr<Subscriber> sub;
        ~Unsubscribe() { hub.unsubscribe(sub); }
    } unsubscribe{hub, sub};

    Reply reply;
    reply.written = true;
    reply.keep = false;
    // Subscribed before the head goes out: whoever has read the head sees every later event.
    const std::string head = qcc::http::ResponseHead(200)
                                 .field("content-type", "text/event-stream")
                                 .field("cache-control", "no-cache")
                                 .field("x-accel-buffering", "no")
                                 .chunked()
                                 .close()
                                 .take() +
                             chunk(": connected\n\n");
    const bool sent = co_await write_all(c.client, head);
    if (!sent) co_return reply;

    auto watch = std::make_shared<ClientWatch>();
    const ClientWatchScope client_watch(c.client, watch);  // an SSE client never sends more

    auto last_write = std::chrono::steady_clock::now();
    while (!watch->client_gone && !c.draining.load()) {
        auto events = co_await sub->next(kPoll);
        std::string payload;
        for (const auto& e : events) {
            payload += "event: ";
            payload += e.kind;
            payload += "\ndata: ";
            payload += e.data;
            payload += "\n\n";
        }
        const auto now = std::chrono::steady_clock::now();
        if (payload.empty() && now - last_write >= kPingAfter) payload = ": ping\n\n";
        if (payload.empty()) continue;
        const bool written = co_await write_all(c.client, chunk(payload));
        if (!written) co_return reply;
        last_write = now;
    }
    if (!watch->client_gone) co_await write_all(c.client, "0\r\n\r\n");  // draining: end cleanly
    co_return reply;
}

}  // namespace qcc::admin
