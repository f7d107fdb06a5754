#include "store/latency_histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace qcc::store {
namespace {

using H = LatencyHistogram;

// |estimate - exact| within the documented bound (exact for values below 16 ms).
::testing::AssertionResult within_bound(double estimate, double exact) {
    const double allowed = exact < 16 ? 0 : H::kMaxRelativeError * exact;
    if (std::abs(estimate - exact) <= allowed) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "estimate " << estimate << " vs exact " << exact << " (allowed " << allowed << ")";
}

// Values an exhaustive-ish sweep should cover: every integer up to 100 000, then a geometric
// sweep with neighbours up to the tracked maximum.
std::vector<std::int64_t> sample_values() {
    std::vector<std::int64_t> out;
    for (std::int64_t v = 0; v <= 100'000; ++v) out.push_back(v);
    for (double v = 100'000; v < 2'147'483'647.0; v *= 1.013) {
        const auto i = static_cast<std::int64_t>(v);
        out.insert(out.end(), {i - 1, i, i + 1});
    }
    out.push_back(2'147'483'647);
    return out;
}

TEST(LatencyHistogramTest, SmallValuesHaveExactBuckets) {
    for (std::int64_t v = 0; v < 16; ++v) {
        EXPECT_EQ(H::bucket_of(v), static_cast<std::size_t>(v));
        EXPECT_EQ(H::estimate(H::bucket_of(v)), static_cast<double>(v));
    }
    EXPECT_EQ(H::bucket_of(-5), 0u);
    EXPECT_EQ(H::bucket_of(16), 16u);
}

TEST(LatencyHistogramTest, EveryValueLandsInsideItsBucketWithinTheErrorBound) {
    std::size_t previous = 0;
    for (const std::int64_t v : sample_values()) {
        const std::size_t b = H::bucket_of(v);
        ASSERT_LT(b, H::kBuckets);
        ASSERT_GE(b, previous) << v;  // monotonic
        previous = b;
        const auto d = static_cast<double>(v);
        ASSERT_GE(d, H::lower_bound(b)) << v;
        if (b + 1 < H::kBuckets) {
            ASSERT_LT(d, H::lower_bound(b + 1)) << v;
        }
        ASSERT_TRUE(within_bound(H::estimate(b), d)) << v;
    }
    // The documented error bound is what the bucket width gives.
    EXPECT_NEAR(H::kMaxRelativeError, std::sqrt(H::kGrowth) - 1, 0.001);
    EXPECT_GE(H::kMaxRelativeError, std::sqrt(H::kGrowth) - 1);
    // The last bucket starts below 2^31 ms, so everything below stays within the bound.
    EXPECT_LE(H::lower_bound(H::kBuckets - 1), 2'147'483'648.0);
    EXPECT_EQ(H::bucket_of(std::int64_t{1} << 40), H::kBuckets - 1);
}

TEST(LatencyHistogramTest, RankIsNearestRank) {
    EXPECT_EQ(H::rank(0.5, 0), 0u);
    EXPECT_EQ(H::rank(0.5, 1), 1u);
    EXPECT_EQ(H::rank(0.5, 4), 2u);
    EXPECT_EQ(H::rank(0.5, 5), 3u);
    EXPECT_EQ(H::rank(0.95, 100), 95u);
    EXPECT_EQ(H::rank(0.95, 101), 96u);
    EXPECT_EQ(H::rank(0.99, 100), 99u);
    EXPECT_EQ(H::rank(0.99, 10), 10u);
    EXPECT_EQ(H::rank(0.0, 10), 1u);
    EXPECT_EQ(H::rank(1.0, 10), 10u);
}

TEST(LatencyHistogramTest, PercentilesOfRandomDataAreWithinTheBound) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> dist(7.0, 1.5);  // median ~1.1 s, long tail
    for (const std::size_t n : {1u, 2u, 3u, 10u, 99u, 1000u, 12345u}) {
        std::vector<std::int64_t> values;
        H h;
        for (std::size_t i = 0; i < n; ++i) {
            values.push_back(static_cast<std::int64_t>(dist(rng)));
            h.add(values.back());
        }
        std::sort(values.begin(), values.end());
        EXPECT_EQ(h.count(), n);
        for (const int p : {1, 50, 95, 99, 100}) {
            const std::size_t rank = std::max<std::size_t>(1, (p * n + 99) / 100);
            EXPECT_TRUE(
                within_bound(h.percentile(p / 100.0), static_cast<double>(values[rank - 1])))
                << "n=" << n << " p" << p;
        }
    }
    EXPECT_EQ(H().percentile(0.5), 0.0);
}

TEST(LatencyHistogramTest, EncodeMergeRoundTrip) {
    H a, b;
    a.add(0);
    a.add(3, 4);
    a.add(250);
    a.add(std::int64_t{1} << 35);  // last bucket
    b.add(250, 2);
    b.add(90'000);
    H decoded;
    ASSERT_TRUE(decoded.merge_encoded(a.encode()));
    EXPECT_EQ(decoded, a);
    EXPECT_EQ(decoded.count(), 7u);

    H sum = a;
    sum.merge(b);
    EXPECT_EQ(sum.count(), 10u);
    EXPECT_EQ(sum.bucket_count(H::bucket_of(250)), 3u);
    const auto merged = merge_encoded_histograms(a.encode(), b.encode());
    ASSERT_TRUE(merged.has_value());
    EXPECT_EQ(*merged, sum.encode());

    EXPECT_EQ(H().encode().size(), 1u);  // empty = just the version byte
    H empty;
    ASSERT_TRUE(empty.merge_encoded(H().encode()));
    EXPECT_EQ(empty.count(), 0u);
    // Sparse: a typical roll-up hour costs a few bytes per non-empty bucket.
    EXPECT_LE(a.encode().size(), 1u + 4 * 6);
}

TEST(LatencyHistogramTest, MalformedEncodingsAreRejectedAndAddNothing) {
    H base;
    base.add(42);
    const std::string good = base.encode();
    const std::string malformed[] = {
        "",                                                  // no version byte
        std::string("\x02", 1),                              // unknown version
        good.substr(0, good.size() - 1),                     // pair cut short
        std::string("\x01\x05", 2),                          // gap without count
        std::string("\x01\x00\x00", 3),                      // zero count
        std::string("\x01\xd5\x01\x01", 4),                  // gap 213: past the last bucket
        std::string("\x01\x00\x01\x00\x01\xd3\x01\x01", 8),  // second pair past the end
        std::string("\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12),  // varint too long
    };
    for (const auto& bytes : malformed) {
        H h = base;
        EXPECT_FALSE(h.merge_encoded(bytes)) << ::testing::PrintToString(bytes);
        EXPECT_EQ(h, base);
        EXPECT_FALSE(merge_encoded_histograms(good, bytes).has_value());
    }
}

}  // namespace
}  // namespace qcc::store
