#include "admin/event_hub.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace qcc::admin {

namespace asio = boost::asio;

Subscriber::Subscriber(asio::any_io_executor ex, std::size_t capacity)
    : ex_(ex), timer_(ex), capacity_(std::max<std::size_t>(capacity, 1)) {}

void Subscriber::push(const LiveEvent& e) {
    bool wake = false;
    {
        std::lock_guard lock(mu_);
        if (queue_.size() >= capacity_) {
            queue_.pop_front();
            dropped_.fetch_add(1, std::memory_order_relaxed);
        }
        queue_.push_back(e);
        if (!wake_posted_) wake = wake_posted_ = true;
    }
    // The timer belongs to the subscriber's executor: cancel it there, once per batch.
    if (wake) {
        asio::post(ex_, [weak = weak_from_this()] {
            if (auto self = weak.lock()) self->timer_.cancel();
        });
    }
}

asio::awaitable<std::vector<LiveEvent>> Subscriber::next(std::chrono::milliseconds max_wait) {
    std::vector<LiveEvent> out;
    {
        std::lock_guard lock(mu_);
        if (!queue_.empty()) {
            out.assign(std::make_move_iterator(queue_.begin()),
                       std::make_move_iterator(queue_.end()));
            queue_.clear();
            wake_posted_ = false;
            co_return out;
        }
    }
    timer_.expires_after(max_wait);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    std::lock_guard lock(mu_);
    out.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    wake_posted_ = false;
    co_return out;
}

std::shared_ptr<Subscriber> EventHub::subscribe(asio::any_io_executor ex, std::size_t capacity) {
    std::lock_guard lock(mu_);
    if (subs_.size() >= kMaxSubscribers) return nullptr;
    auto s = std::make_shared<Subscriber>(std::move(ex), capacity);
    subs_.push_back(s);
    count_.store(subs_.size(), std::memory_order_relaxed);
    return s;
}

void EventHub::unsubscribe(const std::shared_ptr<Subscriber>& s) {
    std::lock_guard lock(mu_);
    std::erase(subs_, s);
    count_.store(subs_.size(), std::memory_order_relaxed);
}

void EventHub::publish(std::string_view kind, std::string data) {
    if (!has_subscribers()) return;
    const LiveEvent e{std::string(kind), std::move(data)};
    std::lock_guard lock(mu_);
    for (const auto& s : subs_) s->push(e);
}

std::size_t EventHub::subscribers() const {
    std::lock_guard lock(mu_);
    return subs_.size();
}

}  // namespace qcc::admin
