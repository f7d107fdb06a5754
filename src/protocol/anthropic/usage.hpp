// Token usage reported by a Messages response (read for the request log).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace qcc::anthropic {

/// Token counts, stop reason and model of one Messages response.
struct Usage {
    std::int64_t input_tokens = 0, output_tokens = 0, cache_creation_input_tokens = 0,
                 cache_read_input_tokens = 0;
    /// Split of cache_creation_input_tokens by cache lifetime, from usage.cache_creation
    /// .ephemeral_5m_input_tokens / .ephemeral_1h_input_tokens; both 0 when not reported.
    std::int64_t cache_creation_5m = 0, cache_creation_1h = 0;
    std::string stop_reason;  // "" if unknown
    std::string model;        // model named by the response, "" if unknown
};

/// Usage of a non-streaming Messages response body (top-level usage incl. its cache_creation
/// split, stop_reason, model). Zeros / "" for whatever is absent or invalid; never throws on bad
/// input.
Usage parse_usage_json(std::string_view body);

}  // namespace qcc::anthropic
