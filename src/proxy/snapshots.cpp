#include "proxy/snapshots.hpp"

#include "common/crypto.hpp"

namespace qcc::proxy {

void Snapshots::publish(std::shared_ptr<const upstream::EndpointSet> endpoints,
                        std::shared_ptr<const KeySet> keys, std::shared_ptr<const Policy> policy) {
    endpoints_.store(std::move(endpoints), std::memory_order_release);
    keys_.store(std::move(keys), std::memory_order_release);
    policy_.store(std::move(policy), std::memory_order_release);
}

std::optional<std::string> Snapshots::authenticate(std::string_view presented) const {
    if (presented.empty()) return std::nullopt;
    const auto set = keys();
    const auto hash = crypto::hash_client_key(presented);
    std::optional<std::string> found;
    for (const auto& k : *set) {
        // Compare against every key so timing does not reveal which one matched.
        if (crypto::constant_time_equal(hash, k.hash) && !found) found = k.name;
    }
    return found;
}

}  // namespace qcc::proxy
