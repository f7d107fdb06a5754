// Latency histograms of the request-log roll-ups: fixed buckets shared by every roll-up
// row, so that hours, groups and raw rows merge by adding counts, and percentiles of any window
// are estimates with a known bound rather than exact values that would need every row.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qcc::store {

/// Counts of millisecond durations in fixed buckets: 0..15 ms exactly, then log-spaced buckets
/// [16·1.1^j, 16·1.1^(j+1)). A percentile is the estimate of the bucket holding the nearest-rank
/// value: exact below 16 ms, else within kMaxRelativeError of it (values >= 2^31 ms, ~25 days,
/// share the last bucket and are under-estimated). Not thread-safe; a plain value type.
class LatencyHistogram {
  public:
    static constexpr std::size_t kExactBuckets = 16;
    static constexpr double kGrowth = 1.1;
    /// kExactBuckets + the log-spaced buckets up to 2^31 ms.
    static constexpr std::size_t kBuckets = 213;
    /// sqrt(kGrowth) - 1 rounded up: the worst relative error of a percentile estimate.
    static constexpr double kMaxRelativeError = 0.049;

    /// The bucket holding `ms` (negative values count as 0).
    static std::size_t bucket_of(std::int64_t ms) noexcept;
    /// The smallest value of a bucket (bucket < kBuckets).
    static double lower_bound(std::size_t bucket) noexcept;
    /// The value reported for a bucket: the value itself for exact buckets, else the geometric
    /// middle of the bucket.
    static double estimate(std::size_t bucket) noexcept;
    /// Nearest rank of quantile q (0 < q <= 1) among n values: ceil(q·n) clamped to 1..n.
    static std::uint64_t rank(double q, std::uint64_t n) noexcept;

    /// Counts `n` occurrences of `ms`.
    void add(std::int64_t ms, std::uint64_t n = 1) noexcept;
    /// Adds the counts of `other`.
    void merge(const LatencyHistogram& other) noexcept;
    /// Adds the counts of an encode() result; false (and nothing added) when malformed.
    bool merge_encoded(std::string_view bytes) noexcept;
    /// Compact binary form (version byte, then varint gap/count pairs of non-empty buckets).
    std::string encode() const;
    /// Number of values counted.
    std::uint64_t count() const noexcept { return total_; }
    /// Count of one bucket (bucket < kBuckets).
    std::uint64_t bucket_count(std::size_t bucket) const noexcept { return counts_[bucket]; }
    /// Estimate of quantile q (e.g. 0.95): estimate() of the bucket holding the value of nearest
    /// rank rank(q, count()); 0 when empty.
    double percentile(double q) const noexcept;

    bool operator==(const LatencyHistogram&) const = default;

  private:
    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t total_ = 0;
};

/// Sum of two encoded histograms, encoded (the store's SQL merge function); nullopt when either
/// is malformed.
std::optional<std::string> merge_encoded_histograms(std::string_view a, std::string_view b);

}  // namespace qcc::store
