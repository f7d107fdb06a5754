// ConnectionGate: the process-wide count of client connections, and of those that have not yet
// sent an authenticated request. Excess connections are refused at accept, before a byte is read,
// so a flood of idle or unauthenticated connections costs one accept and one close each.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>

namespace qcc::proxy {

class ConnectionGate {
  public:
    /// `max_unauthenticated` 0 = half of `max_connections`: authenticated clients keep at least
    /// half of the capacity however many idle connections a flood opens.
    ConnectionGate(int max_connections, int max_unauthenticated)
        : max_open_(max_connections),
          max_unauthenticated_(max_unauthenticated > 0 ? max_unauthenticated
                                                       : std::max(max_connections / 2, 1)) {}

    /// A new connection: counted (open, unauthenticated) and true, or refused (false, nothing
    /// counted).
    bool admit() {
        if (open_.fetch_add(1, std::memory_order_relaxed) >= max_open_) {
            open_.fetch_sub(1, std::memory_order_relaxed);
            refused_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        if (unauthenticated_.fetch_add(1, std::memory_order_relaxed) >= max_unauthenticated_) {
            unauthenticated_.fetch_sub(1, std::memory_order_relaxed);
            open_.fetch_sub(1, std::memory_order_relaxed);
            refused_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        return true;
    }
    /// The connection's first authenticated request (call once per connection).
    void authenticated() { unauthenticated_.fetch_sub(1, std::memory_order_relaxed); }
    /// The connection closed.
    void closed(bool was_authenticated) {
        if (!was_authenticated) unauthenticated_.fetch_sub(1, std::memory_order_relaxed);
        open_.fetch_sub(1, std::memory_order_relaxed);
    }

    int open() const { return open_.load(std::memory_order_relaxed); }
    int unauthenticated() const { return unauthenticated_.load(std::memory_order_relaxed); }
    int max_open() const { return max_open_; }
    int max_unauthenticated() const { return max_unauthenticated_; }
    /// Connections refused at accept so far.
    std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  private:
    const int max_open_;
    const int max_unauthenticated_;
    std::atomic<int> open_{0};
    std::atomic<int> unauthenticated_{0};
    std::atomic<std::uint64_t> refused_{0};
};

}  // namespace qcc::proxy
