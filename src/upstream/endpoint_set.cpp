#include "upstream/endpoint_set.hpp"

namespace qcc::upstream {

const Endpoint* EndpointSet::find(std::string_view name) const {
    for (const auto& ep : endpoints) {
        if (ep->cfg.name == name) return ep.get();
    }
    return nullptr;
}

const Endpoint* EndpointSet::find_by_id(std::string_view id) const {
    for (const auto& ep : endpoints) {
        if (ep->id == id) return ep.get();
    }
    return nullptr;
}

std::shared_ptr<EndpointState> StateRegistry::state_for(const std::string& endpoint_id) {
    std::lock_guard lock(mu_);
    auto& slot = states_[endpoint_id];
    if (!slot) slot = std::make_shared<EndpointState>();
    return slot;
}

}  // namespace qcc::upstream
