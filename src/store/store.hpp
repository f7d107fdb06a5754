// Persistent state of QCC (SPEC §11): endpoints, client keys, settings and a change counter, plus
// the runtime resilience state that must survive restarts (breakers, cooldowns, quarantine, session
// bindings, health events) and the request log with its hourly roll-ups, behind one interface so
// PostgreSQL can join SQLite later. Not for the data path: calls block on I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace qcc::store {

class SecretBox;

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
};

/// Persisted resilience state of one endpoint (SPEC §4, §7), keyed by endpoint id. Times are Unix
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
    double adaptive_weight = 0;     // SPEC §6 adaptive weight (0 = not computed); kept to 1/1000
    std::int64_t updated_at = 0;    // 0 when saving = the time of the save

    bool operator==(const EndpointStateRecord&) const = default;
};

/// A session affinity binding (SPEC §5): session key → endpoint id, last used at a Unix ms time.
struct BindingRecord {
    std::string session_key, endpoint_id;
    std::int64_t last_used_unix_ms = 0;

    bool operator==(const BindingRecord&) const = default;
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

/// One finished health check or probe (SPEC §7). `endpoint` identifies the endpoint as the caller
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

/// One finished request (SPEC §11). Times are Unix ms; ttfb_ms -1 = no byte was sent. A request
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

/// How long each kind of request data is kept (SPEC §11); a duration <= 0 keeps that kind forever.
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

/// Persistent state of QCC (SPEC §11). Implementations are thread-safe. Methods throw
/// std::runtime_error when the database fails (they are never called on I/O threads).
class Store {
  public:
    virtual ~Store() = default;
    /// Every endpoint, ordered by name.
    virtual std::vector<EndpointRecord> list_endpoints() = 0;
    /// Inserts or updates by name; returns the record as stored. Storing an identical config is a
    /// no-op (no write, data_version unchanged), so re-applying the config file at start is free.
    virtual EndpointRecord upsert_endpoint(const config::EndpointConfig& endpoint) = 0;
    /// False when no endpoint has that name.
    virtual bool remove_endpoint(std::string_view name) = 0;
    /// Every client key (revoked ones included), ordered by name.
    virtual std::vector<ClientKeyRecord> list_client_keys() = 0;
    /// Inserts or replaces the key named `name` (un-revoking it). `prefix` = first 8 chars of the
    /// key, for display.
    virtual void upsert_client_key(std::string_view name, std::string_view key_hash,
                                   std::string_view prefix) = 0;
    /// False when no key has that name; revoking a revoked key returns true and changes nothing.
    virtual bool revoke_client_key(std::string_view name) = 0;
    /// The value of a setting, nullopt when unset.
    virtual std::optional<std::string> get_setting(std::string_view key) = 0;
    /// Sets a setting; setting the value it already has changes nothing.
    virtual void set_setting(std::string_view key, std::string_view value) = 0;
    /// Monotonic counter bumped by every change to endpoints, keys or settings by ANY process
    /// sharing the database (a row in a meta table updated in the same transaction); used to pick
    /// changes up within 1 s.
    virtual std::int64_t data_version() = 0;

    // Runtime state below is NOT counted in data_version: it changes with traffic, and
    // data_version means "configuration changed".

    /// Inserts or replaces each state by endpoint_id, all in one transaction.
    virtual void save_endpoint_states(const std::vector<EndpointStateRecord>& states) = 0;
    /// Every saved endpoint state (including endpoints since removed), ordered by endpoint_id.
    virtual std::vector<EndpointStateRecord> load_endpoint_states() = 0;

    /// Inserts or replaces each binding by session_key, all in one transaction.
    virtual void save_bindings(const std::vector<BindingRecord>& bindings) = 0;
    /// Deletes the bindings last used strictly before `unix_ms`; returns how many.
    virtual std::size_t delete_bindings_before(std::int64_t unix_ms) = 0;
    /// Every binding, least recently used first (so replaying them into an LRU keeps its order).
    virtual std::vector<BindingRecord> load_bindings() = 0;

    /// Appends the events in order, in one transaction; ids increase with each event. The table
    /// is bounded (kDefaultMaxEvents): the oldest events beyond the bound are deleted in the same
    /// transaction.
    virtual void append_events(const std::vector<EventRecord>& events) = 0;
    /// At most `limit` events, most recently appended first; `endpoint` empty = every endpoint,
    /// otherwise only events whose `endpoint` equals it.
    virtual std::vector<EventRecord> recent_events(std::size_t limit,
                                                   std::string_view endpoint = {}) = 0;

    /// Appends the check results in order, in one transaction; ids increase with each record.
    /// The table is bounded (kDefaultMaxHealthChecks): the oldest rows beyond the bound are
    /// deleted in the same transaction.
    virtual void append_health_checks(const std::vector<HealthCheckRecord>& checks) = 0;
    /// At most `limit` check results, most recently appended first; `endpoint` empty = every
    /// endpoint, otherwise only results whose `endpoint` equals it.
    virtual std::vector<HealthCheckRecord> recent_health_checks(std::size_t limit,
                                                                std::string_view endpoint = {}) = 0;

    // Request log (SPEC §11), written by RequestWriter's thread. Not counted in data_version.

    /// Inserts the rows in one transaction (assigning ids into the records) and folds them into
    /// the hourly roll-ups in the same transaction. Payloads go to their own table.
    virtual void append_requests(std::vector<RequestRecord>& rows) = 0;
    /// Newest first (by id), filtered, paged. Payload fields are left empty.
    virtual std::vector<RequestRecord> query_requests(const RequestQuery& q) = 0;
    /// One row with its payloads; nullopt when absent.
    virtual std::optional<RequestRecord> get_request(std::int64_t id) = 0;
    /// Statistics over a window (see StatsQuery), ordered by bucket, then group. Whole hours come
    /// from the roll-ups, the partial hours at the edges from raw rows. Throws
    /// std::invalid_argument when bucket_ms < 0; an empty window gives no rows.
    virtual std::vector<StatsRow> stats(const StatsQuery& q) = 0;
    /// Deletes payloads / request rows / roll-ups older than the policy relative to now_unix_ms
    /// (in chunks, so writers interleave), then reclaims free pages (incremental vacuum; a
    /// database created before schema 5 gets its space back only after one VACUUM).
    virtual CleanupResult cleanup(std::int64_t now_unix_ms, const RetentionPolicy& p) = 0;
    /// Number of request rows (tests, status).
    virtual std::int64_t count_requests() = 0;
};

/// How many health events the SQLite store keeps (older ones are deleted as new ones arrive).
inline constexpr std::size_t kDefaultMaxEvents = 100'000;

/// How many health check results the SQLite store keeps (older ones are deleted as new ones
/// arrive).
inline constexpr std::size_t kDefaultMaxHealthChecks = 100'000;

/// Tuning of the SQLite store; the defaults are what production uses.
struct SqliteOptions {
    /// Upper bound on rows in the events table; at least 1 (tests use small bounds).
    std::size_t max_events = kDefaultMaxEvents;
    /// Upper bound on rows in the health_checks table; at least 1.
    std::size_t max_health_checks = kDefaultMaxHealthChecks;
    /// Seals endpoint credentials. Null = SecretBox::load_or_create(<directory of the database
    /// file>) on first use (SecretBox::ephemeral() for ":memory:").
    std::shared_ptr<const SecretBox> secrets;
};

/// Opens (creating if needed) the SQLite store: parent directory created 0700, file 0600, WAL,
/// synchronous=NORMAL, busy_timeout 5000 ms, auto_vacuum=INCREMENTAL when the file is new, schema
/// migrations applied, credentials still in the legacy "plain:" form re-sealed. ":memory:" opens a
/// private in-memory database (tests). Throws std::runtime_error with the path and SQLite's
/// message.
std::unique_ptr<Store> open_sqlite(const std::string& path);
/// As open_sqlite(path), with explicit options; throws std::invalid_argument when max_events or
/// max_health_checks is 0.
std::unique_ptr<Store> open_sqlite(const std::string& path, const SqliteOptions& options);

/// Stable endpoint id: first 16 hex chars of sha256(base_url + "\n" + credential).
std::string endpoint_id(std::string_view base_url, std::string_view credential);

}  // namespace qcc::store
