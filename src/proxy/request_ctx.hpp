// Per-request state: everything the forwarder learns about one request, handed to the observer
// (request log, metrics) when the request ends.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol/anthropic/usage.hpp"
#include "proxy/key_limits.hpp"

namespace qcc::proxy {

/// One try of one request against one endpoint.
struct Attempt {
    std::string endpoint;                   // endpoint name
    int status = 0;                         // HTTP status received, 0 if none
    std::string error_class;                // "" when the attempt was committed successfully
    std::chrono::milliseconds duration{0};  // 0 for the attempt that answered: until the end
    std::chrono::milliseconds start{0};     // since the request's start
};

struct RequestContext {
    std::string id;  // request id (also in logs)
    std::int64_t start_unix_ms = 0;
    std::chrono::steady_clock::time_point start;
    std::string method, target;
    std::string client_key;                // client key name
    std::shared_ptr<const ClientKey> key;  // its limits and meter (null: not authenticated)
    std::string peer;                      // the client's address
    std::string session_key;
    std::string model_requested, model_sent;
    bool stream = false;
    std::vector<Attempt> attempts;
    std::string endpoint;       // endpoint that served the response ("" if none)
    int status = 0;             // status sent to the client
    std::string error_class;    // "" on success
    std::int64_t ttfb_ms = -1;  // to the first response byte written to the client
    std::int64_t total_ms = 0;
    anthropic::Usage usage;
    std::uint64_t bytes_in = 0, bytes_out = 0;
    // Captured bodies (setting log.payloads; capped at log.payload_max_bytes), "" = not captured.
    std::string request_payload, response_payload;
};

}  // namespace qcc::proxy
