#include "store/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace qcc::store {
namespace {

constexpr unsigned char kVersion = 1;

// Lower bounds of every bucket, computed once; bucket_of() corrects the logarithm's rounding
// against this table so that a value always lands in the bucket whose bounds contain it.
struct Bounds {
    std::array<double, LatencyHistogram::kBuckets + 1> lower{};
    Bounds() {
        for (std::size_t i = 0; i < LatencyHistogram::kExactBuckets; ++i) {
            lower[i] = static_cast<double>(i);
        }
        for (std::size_t i = LatencyHistogram::kExactBuckets; i <= LatencyHistogram::kBuckets;
             ++i) {
            lower[i] = static_cast<double>(LatencyHistogram::kExactBuckets) *
                       std::pow(LatencyHistogram::kGrowth,
                                static_cast<double>(i - LatencyHistogram::kExactBuckets));
        }
    }
};

const Bounds& bounds() {
    static const Bounds b;
    return b;
}

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}

bool get_varint(std::string_view& in, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (in.empty()) return false;
        const auto byte = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

}  // namespace

std::size_t LatencyHistogram::bucket_of(std::int64_t ms) noexcept {
    if (ms < static_cast<std::int64_t>(kExactBuckets)) {
        return ms < 0 ? 0 : static_cast<std::size_t>(ms);
    }
    const auto& lower = bounds().lower;
    const double v = static_cast<double>(ms);
    const double j =
        std::floor(std::log(v / static_cast<double>(kExactBuckets)) / std::log(kGrowth));
    auto bucket = kExactBuckets + static_cast<std::size_t>(std::max(0.0, j));
    if (bucket >= kBuckets) return kBuckets - 1;
    while (bucket > kExactBuckets && v < lower[bucket]) --bucket;
    while (bucket + 1 < kBuckets && v >= lower[bucket + 1]) ++bucket;
    return bucket;
}

double LatencyHistogram::lower_bound(std::size_t bucket) noexcept { return bounds().lower[bucket]; }

double LatencyHistogram::estimate(std::size_t bucket) noexcept {
    if (bucket < kExactBuckets) return static_cast<double>(bucket);
    return bounds().lower[bucket] * std::sqrt(kGrowth);
}

std::uint64_t LatencyHistogram::rank(double q, std::uint64_t n) noexcept {
    if (n == 0) return 0;
    // The epsilon keeps e.g. 0.95 * 100 (94.999…) from rounding to rank 96 or 95 by accident.
    const double r = std::ceil(q * static_cast<double>(n) - 1e-9);
    if (!(r >= 1)) return 1;
    if (r >= static_cast<double>(n)) return n;
    return static_cast<std::uint64_t>(r);
}

void LatencyHistogram::add(std::int64_t ms, std::uint64_t n) noexcept {
    counts_[bucket_of(ms)] += n;
    total_ += n;
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
}

bool LatencyHistogram::merge_encoded(std::string_view in) noexcept {
    if (in.empty() || static_cast<unsigned char>(in.front()) != kVersion) return false;
    in.remove_prefix(1);
    LatencyHistogram decoded;  // so that a malformed tail adds nothing
    std::uint64_t next = 0;    // first bucket the next pair may name
    while (!in.empty()) {
        std::uint64_t gap = 0, count = 0;
        if (!get_varint(in, gap) || !get_varint(in, count)) return false;
        if (gap >= kBuckets - next || count == 0) return false;
        const std::uint64_t bucket = next + gap;
        decoded.counts_[bucket] = count;
        decoded.total_ += count;
        next = bucket + 1;
    }
    merge(decoded);
    return true;
}

std::string LatencyHistogram::encode() const {
    std::string out(1, static_cast<char>(kVersion));
    std::size_t next = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        if (counts_[i] == 0) continue;
        put_varint(out, i - next);
        put_varint(out, counts_[i]);
        next = i + 1;
    }
    return out;
}

double LatencyHistogram::percentile(double q) const noexcept {
    if (total_ == 0) return 0;
    const std::uint64_t target = rank(q, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= target) return estimate(i);
    }
    return estimate(kBuckets - 1);
}

std::optional<std::string> merge_encoded_histograms(std::string_view a, std::string_view b) {
    LatencyHistogram h;
    if (!h.merge_encoded(a) || !h.merge_encoded(b)) return std::nullopt;
    return h.encode();
}

}  // namespace qcc::store
