// FakeUpstream: a scripted Anthropic-like upstream for integration tests, over sim::Server. Tests
// queue the replies the next requests get and then assert on what the upstream received.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sim/server.hpp"

namespace qcc::test {

/// Where to cut a stream (sim::Reply::reset_after_bytes) so that the cut falls after its first
/// content_block_delta: past QCC's commit point, `extra` bytes into the next event.
std::size_t bytes_past_first_delta(const std::vector<std::string>& events, std::size_t extra = 10);

class FakeUpstream {
  public:
    /// Starts on 127.0.0.1 with an OS-chosen port.
    FakeUpstream();
    /// Same, serving HTTPS with `tls` (see sim::Server::sni_names() for the SNI it saw).
    explicit FakeUpstream(const sim::TlsOptions& tls);
    ~FakeUpstream();
    FakeUpstream(const FakeUpstream&) = delete;
    FakeUpstream& operator=(const FakeUpstream&) = delete;

    std::string base_url() const;
    std::uint16_t port() const;

    /// The next request gets `reply` (FIFO); when the queue is empty, the fallback handler or
    /// the default reply answers.
    void push(sim::Reply reply);
    /// Reply for requests when the queue is empty (initially: 200 with a small Anthropic message).
    void set_default(sim::Reply reply);
    /// Answers requests with `handler` when the queue is empty (e.g. sim::respond_like_anthropic);
    /// an empty handler goes back to the default reply.
    void set_fallback(sim::Handler handler);

    /// Connection refusal on (listener closed) / off (listening again on the same port).
    void refuse();
    void accept();

    /// Every request received, in order.
    std::vector<sim::Request> requests() const;
    std::size_t request_count() const;

    /// Waits until at least n requests arrived; false after the deadline.
    bool wait_for_requests(std::size_t n,
                           std::chrono::milliseconds deadline = std::chrono::seconds(10));
    /// Waits until at least n connections were closed by the client while a reply was in progress.
    bool wait_for_client_aborts(std::size_t n,
                                std::chrono::milliseconds deadline = std::chrono::seconds(10));

    sim::Server& server();

  private:
    void start(std::optional<sim::TlsOptions> tls);
    sim::Reply next_reply(const sim::Request& req);

    mutable std::mutex mutex_;
    std::condition_variable arrived_;
    std::deque<sim::Reply> queue_;
    sim::Reply default_;
    sim::Handler fallback_;
    std::vector<sim::Request> requests_;
    std::unique_ptr<sim::Server> server_;
};

}  // namespace qcc::test
