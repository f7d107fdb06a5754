// Clock: the one source of time for policy code (breakers, cooldowns, TTLs), so tests can use a
// FakeClock instead of waiting.
#pragma once
#include <atomic>
#include <chrono>

namespace qcc {

using SteadyTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual SteadyTime now() const = 0;
};

/// The real monotonic clock.
class SteadyClock final : public Clock {
  public:
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
    /// A process-wide instance for code that has no injected clock.
    static const SteadyClock& instance() {
        static const SteadyClock clock;
        return clock;
    }
};

/// A clock that only moves when told to (tests).
class FakeClock final : public Clock {
  public:
    SteadyTime now() const override { return SteadyTime(std::chrono::nanoseconds(ns_.load())); }
    void advance(std::chrono::nanoseconds d) { ns_ += d.count(); }

  private:
    std::atomic<long long> ns_{1'000'000'000'000};
};

}  // namespace qcc
