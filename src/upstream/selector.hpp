// Selection (SPEC §6): turns the endpoint set into the ordered candidate list a request walks.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "common/clock.hpp"
#include "upstream/endpoint_set.hpp"

namespace qcc::upstream {

/// True when selection may route new requests to `ep` now: enabled, not quarantined, not cooling down.
bool is_usable(const Endpoint& ep, SteadyTime now);

/// Smooth weighted round robin (nginx style) within each tier, best tier first; unusable endpoints
/// are left out unless none is usable (fail open: then every enabled endpoint, by tier).
/// One instance per worker thread: it holds per-worker round-robin state and takes no locks.
class WeightedSelector {
public:
    /// The ordered candidates for one request. `preferred` (may be null) goes first if usable.
    std::vector<const Endpoint*> order(const EndpointSet& set, SteadyTime now,
                                       const Endpoint* preferred = nullptr);

private:
    std::uint64_t generation_ = ~std::uint64_t{0};
    std::vector<std::int64_t> current_;  // SWRR current weight per index in the set
};

}  // namespace qcc::upstream
