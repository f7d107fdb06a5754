// Endpoint: an immutable snapshot of one upstream (config + parsed URL + effective timeouts), and
// EndpointState: its shared, mutable, lock-free runtime state (survives snapshot swaps).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.hpp"
#include "protocol/openai/translate_request.hpp"
#include "upstream/breaker.hpp"
#include "upstream/health.hpp"

namespace qcc::upstream {

using Millis = std::chrono::milliseconds;

/// Runtime state of one endpoint, shared by every worker. Counters are atomics read and updated
/// without locks; the breaker and the passive statistics synchronise internally. Times are
/// steady-clock nanoseconds since its epoch.
struct EndpointState {
    std::atomic<int> in_flight{0};
    std::atomic<std::int64_t> cooldown_until_ns{0};
    std::atomic<bool> quarantined{false};
    std::atomic<std::uint64_t> successes{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> attempts{0};
    /// Until then, `anthropic-ratelimit-unified-status: allowed_warning` lowers the weight.
    std::atomic<std::int64_t> soft_limited_until_ns{0};
    /// Adaptive weight; 0 until computed, then used instead of the configured weight.
    std::atomic<double> adaptive_weight{0.0};
    /// Stream cuts (failures after the commit point, where nothing can be retried) are remembered
    /// longer than other failures: see StreamCuts in upstream/selector.hpp.
    std::atomic<std::int64_t> cut_hold_ms{0};           // 0 = not cutting streams
    std::atomic<std::int64_t> cut_demoted_until_ns{0};  // until then, last in every selection
    std::atomic<std::int64_t> cut_trial_after_ns{0};    // next streaming trial on probation
    std::atomic<std::uint64_t> stream_cuts{0};          // total since start
    /// Set whenever persisted state (breaker, cooldown, quarantine) changes.
    std::atomic<bool> dirty{false};
    CircuitBreaker breaker;
    PassiveStats stats;

    /// Why the endpoint is quarantined / cooling down ("" when it is not). Rarely touched.
    std::string quarantine_reason() const;
    std::string cooldown_reason() const;
    void set_quarantine_reason(std::string reason);
    void set_cooldown_reason(std::string reason);
    /// The last failed attempt ("429 rate_limited", "connect_refused") and when (Unix ms; 0 =
    /// none).
    std::pair<std::string, std::int64_t> last_error() const;
    void set_last_error(std::string error, std::int64_t unix_ms);

  private:
    mutable std::mutex reason_mu_;
    std::string quarantine_reason_, cooldown_reason_, last_error_;
    std::int64_t last_error_at_ = 0;
};

/// One upstream as configured, with its base URL split for fast request building. Immutable.
struct Endpoint {
    std::string id;  // stable id (store::endpoint_id)
    config::EndpointConfig cfg;
    bool https = false;
    std::string host;         // DNS name or IP literal (no brackets)
    std::string port;         // numeric service
    std::string path_prefix;  // "" or "/api/anthropic" (no trailing slash); for kind openai the
                              // OpenAI base path ("/v1" when the URL has none; a pasted
                              // ".../chat/completions" is cut off): requests go to
                              // path_prefix + "/chat/completions"
    std::string host_header;  // value of the Host header to send
    Millis connect_timeout{10'000};
    Millis first_byte_timeout{300'000};
    Millis idle_timeout{120'000};
    Millis total_timeout{600'000};
    openai::TargetProfile openai;          // kind openai: the target's quirks (openai_profile())
    std::shared_ptr<EndpointState> state;  // never null

    bool is_openai() const { return cfg.kind == config::EndpointKind::kOpenAI; }
};

/// The quirks of an OpenAI-compatible target, from its host and its `openai:` tags:
/// - by host: api.openai.com sends max_completion_tokens and maps thinking to reasoning_effort;
///   openrouter.ai maps thinking to OpenRouter's `reasoning`; DashScope (aliyuncs.com) to Qwen's
///   enable_thinking / thinking_budget; generativelanguage.googleapis.com to reasoning_effort;
///   any other host drops thinking.
/// - tags override: "openai:reasoning=none|effort|openrouter|qwen", "openai:max_completion_tokens",
///   "openai:max_tokens", "openai:keep_schema" (tool schemas sent unchanged),
///   "openai:no_stream_usage" (no stream_options, for servers that reject it).
openai::TargetProfile openai_profile(std::string_view host, const std::vector<std::string>& tags);

/// Appends the endpoint's credential header(s) per its auth mode: `x-api-key`,
/// `authorization: Bearer`, or both. The one place credentials enter an upstream request.
void append_credentials(std::string& head, const Endpoint& ep);

/// Builds an Endpoint from its config, applying global timeout defaults. Throws
/// std::invalid_argument when the base URL cannot be used (config validation normally catches that
/// first).
Endpoint make_endpoint(std::string id, const config::EndpointConfig& cfg,
                       const config::Timeouts& defaults, std::shared_ptr<EndpointState> state);

}  // namespace qcc::upstream
