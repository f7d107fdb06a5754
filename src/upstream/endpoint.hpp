// Endpoint: an immutable snapshot of one upstream (config + parsed URL + effective timeouts), and
// EndpointState: its shared, mutable, lock-free runtime state (survives snapshot swaps).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.hpp"

namespace qcc::upstream {

using Millis = std::chrono::milliseconds;

/// Runtime state of one endpoint, shared by every worker. All fields are atomics: the data path
/// reads and updates them without locks. Times are steady-clock nanoseconds since epoch.
struct EndpointState {
    std::atomic<int> in_flight{0};
    std::atomic<int> consecutive_failures{0};
    std::atomic<std::int64_t> cooldown_until_ns{0};
    std::atomic<bool> quarantined{false};
    std::atomic<std::uint64_t> successes{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> attempts{0};
};

/// One upstream as configured, with its base URL split for fast request building. Immutable.
struct Endpoint {
    std::string id;  // stable id (store::endpoint_id)
    config::EndpointConfig cfg;
    bool https = false;
    std::string host;         // DNS name or IP literal (no brackets)
    std::string port;         // numeric service
    std::string path_prefix;  // "" or "/api/anthropic" (no trailing slash)
    std::string host_header;  // value of the Host header to send
    Millis connect_timeout{10'000};
    Millis first_byte_timeout{300'000};
    Millis idle_timeout{120'000};
    Millis total_timeout{600'000};
    std::shared_ptr<EndpointState> state;  // never null
};

/// Builds an Endpoint from its config, applying global timeout defaults. Throws std::invalid_argument
/// when the base URL cannot be used (config validation normally catches that first).
Endpoint make_endpoint(std::string id, const config::EndpointConfig& cfg,
                       const config::Timeouts& defaults, std::shared_ptr<EndpointState> state);

}  // namespace qcc::upstream
