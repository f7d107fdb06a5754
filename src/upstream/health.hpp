// Passive statistics: every attempt updates them at (near) zero cost; selection (latency
// strategy) and adaptive weights read them.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/clock.hpp"

namespace qcc::upstream {

/// The outcome of one attempt as the forwarder saw it. `ttfb` and `latency` only matter on success.
struct AttemptSample {
    bool success = false;
    std::chrono::milliseconds ttfb{0};     // request sent -> first response byte
    std::chrono::milliseconds latency{0};  // request sent -> attempt finished
    std::int64_t tokens = 0;               // input + output tokens the attempt reported
};

/// One endpoint's passive statistics, shared by every worker. Counters, EWMAs and the outcome
/// window are lock-free atomics; only the recent-latency rings take a small mutex.
/// EWMAs and latency rings fold in successful attempts only: a refused connection's 0 ms (or a
/// timeout's 300 s) says nothing about how fast the endpoint answers, only that it failed, which
/// the outcome window and the failure streak already count.
class PassiveStats {
  public:
    static constexpr double kAlpha = 0.2;  // EWMA weight of the newest sample
    static constexpr int kWindow = 20;     // attempts in the success window and latency rings

    /// Folds one attempt in. Thread-safe, never blocks for long.
    void record(const AttemptSample& s, SteadyTime now);

    /// EWMA (alpha 0.2) of time-to-first-byte over successful attempts; 0 until the first one.
    double ewma_ttfb_ms() const;
    /// EWMA (alpha 0.2) of total attempt latency over successful attempts; 0 until the first one.
    double ewma_latency_ms() const;
    /// Successes / attempts over the last 20 attempts; 1.0 when there are none.
    double success_ratio_window() const;
    /// Attempts in the success window (0..20).
    int samples_in_window() const;
    /// Failures since the last success.
    int consecutive_failures() const;
    /// Tokens reported by every attempt so far.
    std::int64_t tokens() const;
    /// Latencies of the last (up to) 20 successful attempts, oldest first.
    std::vector<double> recent_latencies_ms() const;
    /// Times to first byte of the last (up to) 20 successful attempts, oldest first.
    std::vector<double> recent_ttfb_ms() const;
    /// When the last attempt was recorded; epoch if none.
    SteadyTime last_sample_at() const;

  private:
    struct Ring {
        std::array<double, kWindow> values{};
        int next = 0;
        int size = 0;
        void push(double v);
        std::vector<double> ordered() const;
    };

    static void fold_ewma(std::atomic<double>& ewma, double sample);

    // Negative = no sample yet (0 is a legitimate value).
    std::atomic<double> ewma_ttfb_{-1.0};
    std::atomic<double> ewma_latency_{-1.0};
    // Bits 0..19: outcomes, newest in bit 0 (1 = success); bits 32..: number of valid bits.
    std::atomic<std::uint64_t> window_{0};
    std::atomic<int> consecutive_failures_{0};
    std::atomic<std::int64_t> tokens_{0};
    std::atomic<std::int64_t> last_sample_ns_{0};

    mutable std::mutex ring_mu_;
    Ring latencies_;
    Ring ttfbs_;
};

}  // namespace qcc::upstream
