#include "upstream/strategy.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qcc::upstream {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);
// Endpoint ids that left the configuration keep their SWRR slot; past this size start afresh.
constexpr std::size_t kMaxSwrrEntries = 1024;

bool known(double ttfb) { return ttfb > 0 && std::isfinite(ttfb); }

std::vector<std::size_t> indices(std::size_t n) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    return idx;
}

void reorder(std::vector<const Endpoint*>& tier, const std::vector<std::size_t>& idx) {
    std::vector<const Endpoint*> out;
    out.reserve(idx.size());
    for (auto i : idx) out.push_back(tier[i]);
    tier.swap(out);
}

}  // namespace

std::optional<Strategy> parse_strategy(std::string_view name) {
    if (name == "weighted") return Strategy::kWeighted;
    if (name == "round-robin") return Strategy::kRoundRobin;
    if (name == "least-inflight") return Strategy::kLeastInflight;
    if (name == "latency") return Strategy::kLatency;
    if (name == "random") return Strategy::kRandom;
    return std::nullopt;
}

std::string_view to_string(Strategy s) {
    switch (s) {
        case Strategy::kWeighted:
            return "weighted";
        case Strategy::kRoundRobin:
            return "round-robin";
        case Strategy::kLeastInflight:
            return "least-inflight";
        case Strategy::kLatency:
            return "latency";
        case Strategy::kRandom:
            return "random";
    }
    return "weighted";
}

StrategyState::StrategyState(std::uint64_t seed) : rng_(seed ^ 0xA0761D6478BD642FULL) {}

std::uint64_t StrategyState::next_u64() {
    // splitmix64: tiny state, good statistical quality, fully reproducible across platforms.
    std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double StrategyState::next_unit() {
    return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53;
}

std::size_t StrategyState::rotate_step(int tier) { return cursors_[tier]++; }

double StrategyState::weight_of(
    const Endpoint& ep, const std::function<double(const Endpoint&)>& effective_weight) const {
    double w = effective_weight ? effective_weight(ep) : 0.0;
    if (!(w > 0) || !std::isfinite(w)) w = static_cast<double>(ep.cfg.weight);
    return w > 0 ? w : 1.0;
}

std::size_t StrategyState::pick_weighted(const std::vector<double>& weights, std::size_t skip) {
    double total = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (i != skip) total += weights[i];
    }
    double r = next_unit() * total;
    std::size_t last = kNone;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (i == skip) continue;
        last = i;
        if (r < weights[i]) return i;
        r -= weights[i];
    }
    return last;  // rounding left r just above the sum
}

void StrategyState::order(Strategy s, std::vector<const Endpoint*>& tier,
                          const std::function<double(const Endpoint&)>& ttfb_ms,
                          const std::function<double(const Endpoint&)>& effective_weight,
                          std::size_t keep) {
    if (tier.empty()) return;
    std::vector<double> weights;
    weights.reserve(tier.size());
    for (const auto* ep : tier) weights.push_back(weight_of(*ep, effective_weight));
    switch (s) {
        case Strategy::kWeighted:
            order_weighted(tier, weights, keep);
            return;
        case Strategy::kRoundRobin:
            order_round_robin(tier);
            return;
        case Strategy::kLeastInflight:
            order_least_inflight(tier, weights);
            return;
        case Strategy::kLatency:
            order_latency(tier, weights, ttfb_ms);
            return;
        case Strategy::kRandom:
            order_random(tier, weights);
            return;
    }
}

void StrategyState::order_weighted(std::vector<const Endpoint*>& tier,
                                   const std::vector<double>& weights, std::size_t keep) {
    if (current_.size() > kMaxSwrrEntries) current_.clear();
    // Integer milli-weights keep SWRR exact (no float drift) while allowing fractional weights.
    const auto n = tier.size();
    std::int64_t total = 0;
    std::size_t best = 0;
    std::int64_t best_current = 0;
    std::int64_t* best_slot = nullptr;
    for (std::size_t i = 0; i < n; ++i) {
        const auto w = std::max<std::int64_t>(1, std::llround(weights[i] * 1000.0));
        total += w;
        auto& cur = current_[tier[i]->state.get()];
        cur += w;
        if (i == 0 || cur > best_current) {
            best = i;
            best_current = cur;
            best_slot = &cur;
        }
    }
    *best_slot -= total;
    // The pick leads; the others follow by weight (ties by position), only as far as needed.
    auto idx = indices(n);
    const auto by_weight = [&](std::size_t a, std::size_t b) {
        if (a == best || b == best) return a == best && b != best;
        return weights[a] != weights[b] ? weights[a] > weights[b] : a < b;
    };
    const auto last =
        (keep == 0 || keep >= n) ? idx.end() : idx.begin() + static_cast<std::ptrdiff_t>(keep);
    std::partial_sort(idx.begin(), last, idx.end(), by_weight);
    reorder(tier, idx);
}

void StrategyState::order_round_robin(std::vector<const Endpoint*>& tier) {
    const auto k = rotate_step(tier.front()->cfg.tier) % tier.size();
    std::rotate(tier.begin(), tier.begin() + static_cast<std::ptrdiff_t>(k), tier.end());
}

void StrategyState::order_least_inflight(std::vector<const Endpoint*>& tier,
                                         const std::vector<double>& weights) {
    const auto n = tier.size();
    std::vector<int> in_flight(n);
    for (std::size_t i = 0; i < n; ++i) {
        in_flight[i] = tier[i]->state->in_flight.load(std::memory_order_relaxed);
    }
    // Full ties rotate, so sequential requests on an idle tier spread instead of all hitting one.
    const auto offset = rotate_step(tier.front()->cfg.tier) % n;
    auto idx = indices(n);
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
        if (in_flight[a] != in_flight[b]) return in_flight[a] < in_flight[b];
        if (weights[a] != weights[b]) return weights[a] > weights[b];
        return (a + n - offset) % n < (b + n - offset) % n;
    });
    reorder(tier, idx);
}

void StrategyState::order_latency(std::vector<const Endpoint*>& tier,
                                  const std::vector<double>& weights,
                                  const std::function<double(const Endpoint&)>& ttfb_ms) {
    const auto n = tier.size();
    if (n == 1) return;
    std::vector<double> ttfb(n, 0.0);
    if (ttfb_ms) {
        for (std::size_t i = 0; i < n; ++i) ttfb[i] = ttfb_ms(*tier[i]);
    }
    // Lower is better; unknown beats everything so a new endpoint gets measured.
    const auto better = [&](std::size_t a, std::size_t b) {
        const bool ka = known(ttfb[a]);
        const bool kb = known(ttfb[b]);
        if (ka != kb) return !ka;
        if (ka && ttfb[a] != ttfb[b]) return ttfb[a] < ttfb[b];
        return false;
    };
    // Sampling the pair by weight lets soft rate-limit reductions act under this strategy too.
    const auto a = pick_weighted(weights, kNone);
    const auto b = pick_weighted(weights, a);
    const auto pick = better(b, a) ? b : a;
    auto idx = indices(n);
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) {
        if (x == pick || y == pick) return x == pick && y != pick;
        if (better(x, y)) return true;
        if (better(y, x)) return false;
        return weights[x] > weights[y];
    });
    reorder(tier, idx);
}

void StrategyState::order_random(std::vector<const Endpoint*>& tier,
                                 const std::vector<double>& weights) {
    // Efraimidis-Spirakis: sorting by Exp(w) arrival times draws each position with probability
    // proportional to weight among the endpoints not yet placed.
    const auto n = tier.size();
    std::vector<double> key(n);
    for (std::size_t i = 0; i < n; ++i) key[i] = -std::log(next_unit()) / weights[i];
    auto idx = indices(n);
    std::sort(idx.begin(), idx.end(),
              [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    reorder(tier, idx);
}

}  // namespace qcc::upstream
