// AuthThrottle: remembers recent authentication failures per client address, so a client that
// keeps presenting bad keys (or admin tokens) is slowed down while everybody else is served at
// full speed. The table is bounded (oldest addresses forgotten first) and thread-safe.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"
#include "config/config.hpp"

namespace qcc::proxy {

/// How many failures are free and how the delay grows after them.
struct AuthThrottlePolicy {
    int free_failures = 5;                       // per window, answered at once
    std::chrono::milliseconds window{60'000};    // failures older than this are forgotten
    std::chrono::milliseconds first_delay{250};  // the first throttled answer's delay
    std::chrono::milliseconds max_delay{4'000};  // doubling stops here
    std::size_t max_addresses = 4096;
};

/// The throttle policy of a configuration's limits.
AuthThrottlePolicy auth_throttle_policy(const config::Limits& limits);

class AuthThrottle {
  public:
    using Policy = AuthThrottlePolicy;
    AuthThrottle() : AuthThrottle(Policy{}) {}
    explicit AuthThrottle(Policy policy) : policy_(policy) {}

    /// Records a failure from `address`; returns how long to hold the answer back (0 while the
    /// address is within its free failures).
    std::chrono::milliseconds on_failure(std::string_view address, SteadyTime now);
    /// How long until `address` may fail again without delay (0 when it is not throttled).
    std::chrono::milliseconds remaining(std::string_view address, SteadyTime now);
    /// A success from `address` clears its record.
    void on_success(std::string_view address);
    /// Failures answered with a delay so far.
    std::uint64_t throttled() const { return throttled_.load(std::memory_order_relaxed); }

  private:
    struct Entry {
        int failures = 0;
        SteadyTime window_start{};
        std::list<std::string>::iterator lru;
    };

    Policy policy_;
    std::mutex mu_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> lru_;  // front = most recently failed
    std::atomic<std::uint64_t> throttled_{0};
};

}  // namespace qcc::proxy
