#include "upstream/health.hpp"

#include <algorithm>
#include <bit>

namespace qcc::upstream {
namespace {

constexpr std::uint64_t kBitsMask = (std::uint64_t{1} << PassiveStats::kWindow) - 1;
constexpr int kCountShift = 32;

}  // namespace

void PassiveStats::Ring::push(double v) {
    values[static_cast<std::size_t>(next)] = v;
    next = (next + 1) % kWindow;
    size = std::min(size + 1, kWindow);
}

std::vector<double> PassiveStats::Ring::ordered() const {
    std::vector<double> out;
    out.reserve(static_cast<std::size_t>(size));
    const int first = (next - size + kWindow) % kWindow;
    for (int i = 0; i < size; ++i) {
        out.push_back(values[static_cast<std::size_t>((first + i) % kWindow)]);
    }
    return out;
}

void PassiveStats::fold_ewma(std::atomic<double>& ewma, double sample) {
    double old = ewma.load(std::memory_order_relaxed);
    double next = 0.0;
    do {
        next = old < 0.0 ? sample : old + kAlpha * (sample - old);
    } while (!ewma.compare_exchange_weak(old, next, std::memory_order_relaxed));
}

void PassiveStats::record(const AttemptSample& s, SteadyTime now) {
    std::uint64_t old = window_.load(std::memory_order_relaxed);
    std::uint64_t next = 0;
    do {
        const std::uint64_t count = std::min<std::uint64_t>((old >> kCountShift) + 1, kWindow);
        const std::uint64_t bits = ((old << 1) | (s.success ? 1U : 0U)) & kBitsMask;
        next = (count << kCountShift) | bits;
    } while (!window_.compare_exchange_weak(old, next, std::memory_order_relaxed));

    if (s.success) {
        consecutive_failures_.store(0, std::memory_order_relaxed);
        const double ttfb = static_cast<double>(std::max<std::int64_t>(0, s.ttfb.count()));
        const double latency = static_cast<double>(std::max<std::int64_t>(0, s.latency.count()));
        fold_ewma(ewma_ttfb_, ttfb);
        fold_ewma(ewma_latency_, latency);
        std::lock_guard lock(ring_mu_);
        ttfbs_.push(ttfb);
        latencies_.push(latency);
    } else {
        consecutive_failures_.fetch_add(1, std::memory_order_relaxed);
    }
    if (s.tokens > 0) tokens_.fetch_add(s.tokens, std::memory_order_relaxed);
    last_sample_ns_.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count(),
        std::memory_order_relaxed);
}

double PassiveStats::ewma_ttfb_ms() const {
    return std::max(0.0, ewma_ttfb_.load(std::memory_order_relaxed));
}

double PassiveStats::ewma_latency_ms() const {
    return std::max(0.0, ewma_latency_.load(std::memory_order_relaxed));
}

double PassiveStats::success_ratio_window() const {
    const std::uint64_t w = window_.load(std::memory_order_relaxed);
    const auto count = static_cast<int>(w >> kCountShift);
    if (count == 0) return 1.0;
    const std::uint64_t valid = (std::uint64_t{1} << count) - 1;
    return static_cast<double>(std::popcount(w & valid)) / count;
}

int PassiveStats::samples_in_window() const {
    return static_cast<int>(window_.load(std::memory_order_relaxed) >> kCountShift);
}

int PassiveStats::consecutive_failures() const {
    return consecutive_failures_.load(std::memory_order_relaxed);
}

std::int64_t PassiveStats::tokens() const { return tokens_.load(std::memory_order_relaxed); }

std::vector<double> PassiveStats::recent_latencies_ms() const {
    std::lock_guard lock(ring_mu_);
    return latencies_.ordered();
}

std::vector<double> PassiveStats::recent_ttfb_ms() const {
    std::lock_guard lock(ring_mu_);
    return ttfbs_.ordered();
}

SteadyTime PassiveStats::last_sample_at() const {
    return SteadyTime(std::chrono::nanoseconds(last_sample_ns_.load(std::memory_order_relaxed)));
}

}  // namespace qcc::upstream
