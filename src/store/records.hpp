// The rows QCC keeps (endpoints, client keys, resilience state, history, the request log and its
// statistics), shared by every store interface and backend.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace qcc::store {

/// An endpoint as stored. `id` = endpoint_id(base_url, api_key); times are Unix milliseconds.
struct EndpointRecord {
    std::string id;
    config::EndpointConfig config;
    std::int64_t created_at = 0, updated_at = 0;
};

/// A client key as stored: only its hash and a display prefix; `created_at` in Unix milliseconds.
struct ClientKeyRecord {
    std::string name, key_hash, prefix;
    std::int64_t created_at = 0;
    bool revoked = false;
    std::string limits = "{}";  // JSON object of the key's limits and budgets ("{}" = none)
};

/// Persisted resilience state of one endpoint, keyed by endpoint id. Times are Unix
/// milliseconds; 0 means "never" / "none".
struct EndpointStateRecord {
    std::string endpoint_id;
    std::string breaker_state;           // "closed" | "open" | "half_open"
    std::int64_t opened_at_unix_ms = 0;  // when the breaker last opened (0 = never)
    std::int64_t open_for_ms = 0;        // current open period
    int reopens = 0;                     // consecutive re-opens (period doubling)
    std::int64_t cooldown_until_unix_ms = 0;
    std::string cooldown_reason;  // "rate_limited" | "overloaded" | ""
    bool quarantined = false;
    std::string quarantine_reason;  // e.g. "auth_failed", "billing", "operator"
    double adaptive_weight = 0;     // adaptive weight (0 = not computed); kept to 1/1000
    std::int64_t updated_at = 0;    // 0 when saving = the time of the save

    bool operator==(const EndpointStateRecord&) const = default;
};

/// A session affinity binding: session key → endpoint id, last used at a Unix ms time.
struct BindingRecord {
    std::string session_key, endpoint_id;
    std::int64_t last_used_unix_ms = 0;

    bool operator==(const BindingRecord&) const = default;
};

/// A running gateway instance sharing the store (several instances on one PostgreSQL): registered
/// at start, its heartbeat refreshed every few seconds, removed when it stops.
struct InstanceRecord {
    std::string id;       // random, per process
    std::string address;  // where it listens (host:port)
    std::string version;  // QCC's version
    std::int64_t started_at_unix_ms = 0;
    std::int64_t heartbeat_unix_ms = 0;

    bool operator==(const InstanceRecord&) const = default;
};

/// A resilience decision one instance made about an endpoint, for the other instances to apply:
/// kind "cooldown" (until `until_unix_ms`), "quarantine" or "release". `id` and (when 0) the time
/// are assigned by the store.
struct SignalRecord {
    std::int64_t id = 0;
    std::int64_t ts_unix_ms = 0;
    std::string instance;
    std::string endpoint_id;
    std::string kind;
    std::int64_t until_unix_ms = 0;
    std::string reason;

    bool operator==(const SignalRecord&) const = default;
};

/// A health/state-change event (breaker open/half-open/close, cooldown start/end,
/// quarantine/release, re-pin). `endpoint` identifies the endpoint as the caller chooses (empty =
/// not about one endpoint); `id` is assigned by the store; `ts_unix_ms` 0 when appending = now.
struct EventRecord {
    std::int64_t id = 0;
    std::int64_t ts_unix_ms = 0;
    std::string endpoint;
    std::string kind;
    std::string detail;

    bool operator==(const EventRecord&) const = default;
};

/// One finished health check or probe. `endpoint` identifies the endpoint as the caller
/// chooses (the recovery loop uses the endpoint name); `id` is assigned by the store; `ts_unix_ms`
/// 0 when appending = now. Empty `model` / `error` are stored as NULL and read back as "".
struct HealthCheckRecord {
    std::int64_t id = 0;
    std::int64_t ts_unix_ms = 0;
    std::string endpoint;
    std::string method;  // "conversation" | "models" | "connect"
    std::string result;  // "pass" | "fail" | "timeout" | "error"
    bool valid = false;
    int score = 0;  // 0..100
    std::int64_t latency_ms = 0;
    std::string model;
    std::int64_t input_tokens = 0, output_tokens = 0;
    std::string error;

    bool operator==(const HealthCheckRecord&) const = default;
};

/// One finished request. Times are Unix ms; ttfb_ms -1 = no byte was sent. A request
/// counts as a success when 200 <= status < 400 and error_class is empty, as a failover when
/// attempts > 1.
struct RequestRecord {
    std::int64_t id = 0;          // assigned by the store (row id), 0 before insert
    std::string request_id;       // QCC request id (also in logs)
    std::int64_t ts_unix_ms = 0;  // request start
    std::string method, path;     // path without query
    std::string client_key, session_key, endpoint;  // names; "" = none
    int attempts = 0;
    std::string tried;  // comma-separated "endpoint[:error_class]" in attempt order
    /// The same attempts' "status/start_ms/duration_ms" (start relative to the request's), "" when
    /// not recorded (rows older than the column).
    std::string attempt_timings;
    std::string model_requested, model_sent;
    bool stream = false;
    int status = 0;           // sent to the client (0 = none, e.g. client gone)
    std::string error_class;  // "" = success
    std::int64_t ttfb_ms = -1, total_ms = 0;
    std::int64_t input_tokens = 0, output_tokens = 0, cache_creation_tokens = 0,
                 cache_read_tokens = 0;
    double cost_usd = 0;
    std::int64_t bytes_in = 0, bytes_out = 0;
    std::string request_payload, response_payload;  // "" = not captured (payload table)

    bool operator==(const RequestRecord&) const = default;
};

/// True when the request counts as a success (see RequestRecord).
bool is_success(const RequestRecord& r);

/// What stats rows are grouped by.
enum class GroupBy { kNone, kEndpoint, kModel, kClientKey, kSession };
/// "none", "endpoint", "model", "key", "session"; nullopt for anything else.
std::optional<GroupBy> parse_group_by(std::string_view s);
/// Inverse of parse_group_by.
std::string_view to_string(GroupBy g);

/// A statistics window [from, to) in Unix ms. bucket_ms 0 = one row per group; otherwise one row
/// per non-empty (bucket, group), buckets aligned to the Unix epoch (start = floor(ts / bucket_ms)
/// * bucket_ms, so the first bucket may start before `from`). A bucket that is a multiple of 1 h
/// (or none) lets whole hours come from the roll-ups; any other bucket, and GroupBy::kSession, are
/// served from the raw rows (which cleanup deletes after RetentionPolicy::requests_ms).
struct StatsQuery {
    std::int64_t from_unix_ms = 0, to_unix_ms = 0;
    GroupBy by = GroupBy::kNone;
    std::int64_t bucket_ms = 0;
};

/// One stats row. Percentiles are histogram estimates within LatencyHistogram::kMaxRelativeError
/// (4.9 %) of the exact nearest-rank value; TTFB percentiles are over rows with ttfb_ms >= 0.
struct StatsRow {
    std::string group;  // endpoint / model (model_sent, else requested) / key / session; "" = kNone
    std::int64_t bucket_unix_ms = 0;  // bucket start (0 when bucket_ms == 0)
    std::int64_t count = 0, successes = 0, failovers = 0;
    double success_ratio = 0;  // successes / count (0 when count == 0)
    double latency_p50_ms = 0, latency_p95_ms = 0, latency_p99_ms = 0;  // total_ms
    double ttfb_p50_ms = 0, ttfb_p95_ms = 0, ttfb_p99_ms = 0;
    std::int64_t input_tokens = 0, output_tokens = 0, cache_creation_tokens = 0,
                 cache_read_tokens = 0;
    double cost_usd = 0;

    bool operator==(const StatsRow&) const = default;
};

/// Filters of the request log browser; "" / 0 = any. Times are [from, to) in Unix ms.
struct RequestQuery {
    std::int64_t from_unix_ms = 0, to_unix_ms = 0;                      // 0 = unbounded
    std::string endpoint, model, client_key, session_key, error_class;  // model: requested or sent
    int status = 0;                                                     // exact status, 0 = any
    bool errors_only = false;                                           // not a success
    std::int64_t before_id = 0;  // paging: only ids < before_id (0 = from the newest)
    std::size_t limit = 50;      // clamped to 1..1000
};

/// How long each kind of request data is kept; a duration <= 0 keeps that kind forever.
struct RetentionPolicy {
    std::int64_t payloads_ms = 7LL * 24 * 3600 * 1000;
    std::int64_t requests_ms = 90LL * 24 * 3600 * 1000;
    std::int64_t rollups_ms = 365LL * 24 * 3600 * 1000;
};

/// How many rows cleanup deleted, per kind.
struct CleanupResult {
    std::size_t payloads = 0, requests = 0, rollups = 0;

    bool operator==(const CleanupResult&) const = default;
};

}  // namespace qcc::store
