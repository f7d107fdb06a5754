#include "proxy/auth_throttle.hpp"

#include <algorithm>

namespace qcc::proxy {

AuthThrottlePolicy auth_throttle_policy(const config::Limits& limits) {
    AuthThrottlePolicy p;
    p.free_failures = limits.auth_free_failures;
    p.max_delay = limits.auth_max_delay;
    p.first_delay = std::min(p.first_delay, p.max_delay);
    return p;
}

std::chrono::milliseconds AuthThrottle::on_failure(std::string_view address, SteadyTime now) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(std::string(address));
    if (it == entries_.end()) {
        if (entries_.size() >= policy_.max_addresses && !lru_.empty()) {
            entries_.erase(lru_.back());
            lru_.pop_back();
        }
        lru_.emplace_front(address);
        it = entries_.emplace(std::string(address), Entry{0, now, lru_.begin()}).first;
    } else {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
    }
    auto& e = it->second;
    if (now - e.window_start > policy_.window) {
        e.failures = 0;
        e.window_start = now;
    }
    ++e.failures;
    const int over = e.failures - policy_.free_failures;
    if (over <= 0) return std::chrono::milliseconds(0);
    throttled_.fetch_add(1, std::memory_order_relaxed);
    auto delay = policy_.first_delay;
    for (int i = 1; i < over && delay < policy_.max_delay; ++i) delay *= 2;
    return std::min(delay, policy_.max_delay);
}

std::chrono::milliseconds AuthThrottle::remaining(std::string_view address, SteadyTime now) {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(std::string(address));
    if (it == entries_.end() || it->second.failures < policy_.free_failures) {
        return std::chrono::milliseconds(0);
    }
    const auto left = policy_.window - (now - it->second.window_start);
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                    std::chrono::milliseconds(0));
}

void AuthThrottle::on_success(std::string_view address) {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(std::string(address));
    if (it == entries_.end()) return;
    lru_.erase(it->second.lru);
    entries_.erase(it);
}

}  // namespace qcc::proxy
