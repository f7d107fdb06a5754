// Runtime: the state every worker shares. Read-mostly parts are immutable snapshots swapped
// atomically; counters are atomics. Nothing here takes a lock on the data path.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/request_ctx.hpp"
#include "upstream/endpoint_set.hpp"

namespace qcc::proxy {

/// A client key as the data path sees it: the name and the SHA-256 hex of the key.
struct ClientKey {
    std::string name;
    std::string hash;
};
using KeySet = std::vector<ClientKey>;

struct Counters {
    std::atomic<std::uint64_t> requests{0}, failovers{0}, client_cancels{0}, mid_stream_failures{0},
        unauthorized{0}, in_flight{0};
};

class Runtime {
public:
    explicit Runtime(config::Config cfg) : cfg_(std::move(cfg)) {}

    const config::Config& config() const { return cfg_; }

    std::shared_ptr<const upstream::EndpointSet> endpoints() const {
        return endpoints_.load(std::memory_order_acquire);
    }
    void set_endpoints(std::shared_ptr<const upstream::EndpointSet> set) {
        endpoints_.store(std::move(set), std::memory_order_release);
    }
    std::shared_ptr<const KeySet> keys() const { return keys_.load(std::memory_order_acquire); }
    void set_keys(std::shared_ptr<const KeySet> keys) {
        keys_.store(std::move(keys), std::memory_order_release);
    }
    /// The key's name if `presented` matches a client key (constant-time per stored hash).
    std::optional<std::string> authenticate(std::string_view presented) const;

    /// Called on the worker thread when a request ends; must not block (queue the work).
    std::function<void(const RequestContext&)> on_request_done;

    upstream::StateRegistry& states() { return states_; }
    Counters& counters() { return counters_; }
    std::atomic<bool> draining{false};

private:
    config::Config cfg_;
    std::atomic<std::shared_ptr<const upstream::EndpointSet>> endpoints_{
        std::make_shared<const upstream::EndpointSet>()};
    std::atomic<std::shared_ptr<const KeySet>> keys_{std::make_shared<const KeySet>()};
    upstream::StateRegistry states_;
    Counters counters_;
};

}  // namespace qcc::proxy
