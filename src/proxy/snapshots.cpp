#include "proxy/snapshots.hpp"

#include <unordered_map>

#include "common/crypto.hpp"

namespace qcc::proxy {

void Snapshots::publish(std::shared_ptr<const upstream::EndpointSet> endpoints,
                        std::shared_ptr<const KeySet> keys, std::shared_ptr<const Policy> policy) {
    endpoints_.store(std::move(endpoints), std::memory_order_release);
    keys_.store(std::move(keys), std::memory_order_release);
    policy_.store(std::move(policy), std::memory_order_release);
}

std::shared_ptr<const ClientKey> Snapshots::authenticate(std::string_view presented) const {
    if (presented.empty()) return nullptr;
    auto set = keys();
    // Keys that matched before are remembered per thread, for the key set they matched in: a
    // request then costs a hash-map lookup instead of a SHA-256. Only matches are remembered, so
    // a flood of wrong keys cannot fill the cache; a new key set (any key change) starts afresh.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view k) const {
            return std::hash<std::string_view>{}(k);
        }
    };
    struct Cache {
        std::shared_ptr<const KeySet> set;
        // presented key -> index of its key in `set`
        std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> names;
    };
    thread_local Cache cache;
    if (cache.set != set) {
        cache.names.clear();
        cache.set = set;
    }
    if (const auto it = cache.names.find(presented); it != cache.names.end()) {
        return std::shared_ptr<const ClientKey>(set, &(*set)[it->second]);
    }
    const auto hash = crypto::hash_client_key(presented);
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < set->size(); ++i) {
        // Compare against every key so timing does not reveal which one matched.
        if (crypto::constant_time_equal(hash, (*set)[i].hash) && !found) found = i;
    }
    if (!found) return nullptr;
    constexpr std::size_t kMaxCached = 1024;
    if (cache.names.size() >= kMaxCached) cache.names.clear();
    cache.names.emplace(presented, *found);
    return std::shared_ptr<const ClientKey>(set, &(*set)[*found]);
}

}  // namespace qcc::proxy
