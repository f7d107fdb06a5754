// Live events for GET /api/events: request completions and health state changes fanned
// out to every connected SSE subscriber. Publishing never blocks the publisher (worker, writer or
// control thread); each subscriber has a bounded queue and a slow one loses its oldest events.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace qcc::admin {

/// One live event: an SSE event name ("request", "state", "check") and its JSON data (one line).
struct LiveEvent {
    std::string kind;
    std::string data;
};

/// One SSE connection's inbox. Created by EventHub::subscribe on the connection's executor.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
  public:
    Subscriber(boost::asio::any_io_executor ex, std::size_t capacity);

    /// Waits (on the subscriber's executor) until events are queued or `max_wait` passes, then
    /// takes every queued event (possibly none). One waiter at a time.
    boost::asio::awaitable<std::vector<LiveEvent>> next(std::chrono::milliseconds max_wait);
    /// Events this subscriber lost because its queue was full.
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  private:
    friend class EventHub;
    void push(const LiveEvent& e);  // any thread

    boost::asio::any_io_executor ex_;
    boost::asio::steady_timer timer_;  // touched only on ex_
    std::size_t capacity_;
    std::mutex mu_;
    std::deque<LiveEvent> queue_;
    bool wake_posted_ = false;
    std::atomic<std::uint64_t> dropped_{0};
};

/// Fan-out of live events. Thread-safe; publish() costs a mutex per subscriber and nothing when
/// nobody listens.
class EventHub {
  public:
    static constexpr std::size_t kDefaultCapacity = 2048;
    static constexpr std::size_t kMaxSubscribers = 64;

    /// A new subscriber woken on `ex`; nullptr when kMaxSubscribers are already connected.
    std::shared_ptr<Subscriber> subscribe(boost::asio::any_io_executor ex,
                                          std::size_t capacity = kDefaultCapacity);
    void unsubscribe(const std::shared_ptr<Subscriber>& s);
    /// Queues the event for every subscriber; never blocks on a subscriber's connection.
    void publish(std::string_view kind, std::string data);
    std::size_t subscribers() const;
    /// Cheap check so publishers can skip building JSON when nobody listens.
    bool has_subscribers() const { return count_.load(std::memory_order_relaxed) > 0; }

  private:
    mutable std::mutex mu_;
    std::vector<std::shared_ptr<Subscriber>> subs_;
    std::atomic<std::size_t> count_{0};
};

}  // namespace qcc::admin
