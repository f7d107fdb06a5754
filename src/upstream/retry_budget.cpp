#include "upstream/retry_budget.hpp"

#include <algorithm>
#include <cmath>

namespace qcc::upstream {
namespace {

constexpr std::uint64_t kCountMask = 0xffff'ffffULL;
constexpr int kIndexShift = 32;

std::uint32_t index_of(std::uint64_t word) {
    return static_cast<std::uint32_t>(word >> kIndexShift);
}

std::uint64_t word_of(std::uint32_t idx, std::uint64_t count) {
    return (std::uint64_t{idx} << kIndexShift) | (count & kCountMask);
}

// Bucket `e` is inside the window ending at bucket `idx` (wrap-around safe).
bool in_window(std::uint32_t e, std::uint32_t idx) {
    return static_cast<std::uint32_t>(idx - e) < static_cast<std::uint32_t>(RetryBudget::kBuckets);
}

}  // namespace

RetryBudget::RetryBudget(RetryBudgetPolicy p)
    : policy_(p),
      bucket_width_(
          std::max(std::chrono::duration_cast<std::chrono::nanoseconds>(p.window) / kBuckets,
                   std::chrono::nanoseconds(1))) {
    const double per_bucket =
        std::max(0, p.min_per_second) * std::chrono::duration<double>(bucket_width_).count();
    min_per_bucket_ = static_cast<std::uint64_t>(std::ceil(per_bucket));
    if (p.burst > 0) {
        burst_interval_ =
            std::max(std::chrono::duration_cast<std::chrono::nanoseconds>(p.window) / p.burst,
                     std::chrono::nanoseconds(1));
    }
}

bool RetryBudget::take_burst(SteadyTime now) {
    if (policy_.burst <= 0) return false;
    const std::int64_t now_ns = now.time_since_epoch().count();
    const std::int64_t step = burst_interval_.count();
    const std::int64_t depth = step * policy_.burst;  // a full bucket
    std::int64_t tat = burst_tat_ns_.load(std::memory_order_relaxed);
    for (;;) {
        // GCRA: each unit moves the bucket's "full again at" time one interval later; a unit is
        // left while that time stays within one full bucket of now.
        const std::int64_t next = std::max(tat, now_ns) + step;
        if (next - now_ns > depth) return false;
        if (burst_tat_ns_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
    }
}

std::uint32_t RetryBudget::bucket_index(SteadyTime now) const {
    return static_cast<std::uint32_t>(now.time_since_epoch() / bucket_width_);
}

void RetryBudget::add(Slots& slots, std::uint32_t idx) {
    auto& slot = slots[idx % kBuckets];
    std::uint64_t word = slot.load(std::memory_order_relaxed);
    std::uint64_t next = 0;
    do {
        const std::uint64_t count = index_of(word) == idx ? (word & kCountMask) : 0;
        next = word_of(idx, count + 1);
    } while (!slot.compare_exchange_weak(word, next, std::memory_order_relaxed));
}

std::uint64_t RetryBudget::sum(const Slots& slots, std::uint32_t idx, bool skip_current) {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        if (skip_current && i == idx % kBuckets) continue;
        const std::uint64_t word = slots[i].load(std::memory_order_relaxed);
        if (in_window(index_of(word), idx)) total += word & kCountMask;
    }
    return total;
}

void RetryBudget::on_request(SteadyTime now) { add(requests_, bucket_index(now)); }

bool RetryBudget::try_spend_retry(SteadyTime now) {
    const std::uint32_t idx = bucket_index(now);
    auto& slot = retries_[idx % kBuckets];
    std::uint64_t word = slot.load(std::memory_order_relaxed);
    for (;;) {
        const std::uint64_t here = index_of(word) == idx ? (word & kCountMask) : 0;
        // Older buckets only change by expiring, so the current bucket's word is the one value a
        // concurrent spender can race on; the compare-exchange below makes the check exact.
        const std::uint64_t others = sum(retries_, idx, /*skip_current=*/true);
        const double requests = static_cast<double>(sum(requests_, idx));
        const double retries_after = static_cast<double>(others + here + 1);
        const bool by_ratio = retries_after <= policy_.ratio * requests + 1e-9;
        const bool by_floor = here < min_per_bucket_;
        if (!by_ratio && !by_floor) {
            if (!take_burst(now)) {
                denied_.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            add(retries_, idx);
            return true;
        }
        if (slot.compare_exchange_weak(word, word_of(idx, here + 1), std::memory_order_relaxed)) {
            return true;
        }
    }
}

std::uint64_t RetryBudget::denied() const { return denied_.load(std::memory_order_relaxed); }

std::uint64_t RetryBudget::requests_in_window(SteadyTime now) const {
    return sum(requests_, bucket_index(now));
}

std::uint64_t RetryBudget::retries_in_window(SteadyTime now) const {
    return sum(retries_, bucket_index(now));
}

}  // namespace qcc::upstream
