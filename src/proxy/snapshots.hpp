// Snapshots: what the data plane reads on every request — the endpoint set, the client keys and
// the policy — as immutable objects swapped atomically when control reloads them. Readers take a
// shared_ptr and keep a consistent view for as long as they hold it; nobody waits.
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/key_limits.hpp"
#include "proxy/policy.hpp"
#include "upstream/endpoint_set.hpp"

namespace qcc::proxy {

using KeySet = std::vector<ClientKey>;

class Snapshots {
  public:
    std::shared_ptr<const upstream::EndpointSet> endpoints() const {
        return endpoints_.load(std::memory_order_acquire);
    }
    std::shared_ptr<const KeySet> keys() const { return keys_.load(std::memory_order_acquire); }
    std::shared_ptr<const Policy> policy() const { return policy_.load(std::memory_order_acquire); }

    /// Installs new snapshots (control). Each is swapped on its own; a reader may briefly see a
    /// new endpoint set with the previous policy, which every reader tolerates.
    void publish(std::shared_ptr<const upstream::EndpointSet> endpoints,
                 std::shared_ptr<const KeySet> keys, std::shared_ptr<const Policy> policy);

    /// The client key `presented` matches (constant-time per stored hash), or null. The pointer
    /// keeps its key set alive.
    std::shared_ptr<const ClientKey> authenticate(std::string_view presented) const;

  private:
    std::atomic<std::shared_ptr<const upstream::EndpointSet>> endpoints_{
        std::make_shared<const upstream::EndpointSet>()};
    std::atomic<std::shared_ptr<const KeySet>> keys_{std::make_shared<const KeySet>()};
    std::atomic<std::shared_ptr<const Policy>> policy_{std::make_shared<const Policy>()};
};

}  // namespace qcc::proxy
