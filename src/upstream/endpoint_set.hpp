// EndpointSet: the immutable set of configured endpoints the data path routes over, plus the
// registry that keeps each endpoint's runtime state alive across snapshot swaps.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "upstream/endpoint.hpp"

namespace qcc::upstream {

/// An immutable snapshot, shared between workers with std::shared_ptr<const EndpointSet>.
struct EndpointSet {
    std::uint64_t generation = 0;                            // bumps with every rebuild
    std::vector<std::shared_ptr<const Endpoint>> endpoints;  // sorted by (tier, name)
    bool has_openai = false;  // some endpoint is of kind openai (set by whoever builds the set)
    const Endpoint* find(std::string_view name) const;
    /// The endpoint with stable id `id`, or null.
    const Endpoint* find_by_id(std::string_view id) const;
};

/// Owns the EndpointState of every endpoint id ever seen, so that rebuilding the set (config
/// change) keeps in-flight counts, cooldowns and failures. Thread-safe; used off the data path.
class StateRegistry {
  public:
    std::shared_ptr<EndpointState> state_for(const std::string& endpoint_id);

  private:
    std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<EndpointState>> states_;
};

}  // namespace qcc::upstream
