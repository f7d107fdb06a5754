// Persistent state of QCC (SPEC §11): endpoints, client keys, settings and a change counter, plus
// the runtime resilience state that must survive restarts (breakers, cooldowns, quarantine, session
// bindings, health events), behind one interface so PostgreSQL can join SQLite later. Not for the
// data path: calls block on I/O.
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
};

/// Opens (creating if needed) the SQLite store: parent directory created 0700, file 0600, WAL,
/// synchronous=NORMAL, busy_timeout 5000 ms, schema migrations applied. ":memory:" opens a private
/// in-memory database (tests). Throws std::runtime_error with the path and SQLite's message.
std::unique_ptr<Store> open_sqlite(const std::string& path);
/// As open_sqlite(path), with explicit options; throws std::invalid_argument when max_events or
/// max_health_checks is 0.
std::unique_ptr<Store> open_sqlite(const std::string& path, const SqliteOptions& options);

/// Stable endpoint id: first 16 hex chars of sha256(base_url + "\n" + credential).
std::string endpoint_id(std::string_view base_url, std::string_view credential);

}  // namespace qcc::store
