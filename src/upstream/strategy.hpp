// Load-balancing strategies: how the usable endpoints of ONE tier are ordered.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "upstream/endpoint.hpp"

namespace qcc::upstream {

/// The configured way to order endpoints within a tier.
enum class Strategy { kWeighted, kRoundRobin, kLeastInflight, kLatency, kRandom };

/// Parses the config spelling: "weighted", "round-robin", "least-inflight", "latency", "random".
std::optional<Strategy> parse_strategy(std::string_view name);

/// The config spelling of `s` (round-trips through parse_strategy).
std::string_view to_string(Strategy s);

/// Per-worker state of the strategies (round-robin cursors per tier, SWRR current weights keyed by
/// endpoint id, a PRNG). Not thread-safe: one instance per worker thread, so it takes no locks.
class StrategyState {
  public:
    /// `seed` makes the random choices reproducible; give each worker a different one.
    explicit StrategyState(std::uint64_t seed = 0);

    /// Orders `tier` (the usable endpoints of one tier) in place: the pick first, then the
    /// fallbacks. `ttfb_ms(ep)` is the EWMA time to first byte (0 = unknown; only kLatency asks)
    /// and `effective_weight(ep)` the current weight (<= 0 means cfg.weight); either may be empty.
    ///  - kWeighted: smooth weighted round robin pick, then by weight descending;
    ///  - kRoundRobin: rotation, one step per call (a cursor per cfg.tier);
    ///  - kLeastInflight: ascending in_flight, ties by weight descending, then rotation;
    ///  - kLatency: power of two choices (weight-sampled pair, lower ttfb wins, unknown counts as
    ///    best so new endpoints get traffic), then unknown first and ascending ttfb;
    ///  - kRandom: a shuffle where each position is drawn with probability proportional to weight.
    /// `keep` > 0: only the first `keep` positions need to be in order (a request makes at most
    /// that many attempts); the rest follow in unspecified order. Saves sorting long tiers.
    void order(Strategy s, std::vector<const Endpoint*>& tier,
               const std::function<double(const Endpoint&)>& ttfb_ms,
               const std::function<double(const Endpoint&)>& effective_weight,
               std::size_t keep = 0);

  private:
    double weight_of(const Endpoint& ep,
                     const std::function<double(const Endpoint&)>& effective_weight) const;
    std::uint64_t next_u64();
    double next_unit();  // uniform in (0, 1)
    std::size_t rotate_step(int tier);
    std::size_t pick_weighted(const std::vector<double>& weights, std::size_t skip);

    void order_weighted(std::vector<const Endpoint*>& tier, const std::vector<double>& weights,
                        std::size_t keep);
    void order_round_robin(std::vector<const Endpoint*>& tier);
    void order_least_inflight(std::vector<const Endpoint*>& tier,
                              const std::vector<double>& weights);
    void order_latency(std::vector<const Endpoint*>& tier, const std::vector<double>& weights,
                       const std::function<double(const Endpoint&)>& ttfb_ms);
    void order_random(std::vector<const Endpoint*>& tier, const std::vector<double>& weights);

    std::uint64_t rng_;
    std::unordered_map<int, std::uint64_t> cursors_;  // per cfg.tier
    // SWRR current weight per endpoint, in milli-weight units. Keyed by the endpoint's shared
    // state, which lives as long as the endpoint id (it survives endpoint-set rebuilds).
    std::unordered_map<const void*, std::int64_t> current_;
};

}  // namespace qcc::upstream
