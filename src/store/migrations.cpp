#include "store/migrations.hpp"

namespace qcc::store {
namespace {

// Conventions: times are Unix milliseconds (INTEGER); booleans are 0/1 INTEGERs; durations are
// *_ms INTEGERs, NULL when unset; lists and maps are JSON text (see sqlite_store.cpp).
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE meta (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    data_version INTEGER NOT NULL
);
INSERT INTO meta (id, data_version) VALUES (1, 0);

CREATE TABLE endpoints (
    name                  TEXT PRIMARY KEY NOT NULL,
    id                    TEXT NOT NULL,
    base_url              TEXT NOT NULL,
    api_key               TEXT NOT NULL,
    kind                  TEXT NOT NULL,
    auth                  TEXT NOT NULL,
    tier                  INTEGER NOT NULL,
    weight                INTEGER NOT NULL,
    enabled               INTEGER NOT NULL,
    tls_verify            INTEGER NOT NULL,
    model_map             TEXT NOT NULL DEFAULT '{}',
    connect_timeout_ms    INTEGER,
    first_byte_timeout_ms INTEGER,
    idle_timeout_ms       INTEGER,
    tags                  TEXT NOT NULL DEFAULT '[]',
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX endpoints_by_id ON endpoints (id);

CREATE TABLE client_keys (
    name       TEXT PRIMARY KEY NOT NULL,
    key_hash   TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER
);
CREATE INDEX client_keys_by_hash ON client_keys (key_hash);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE endpoint_state (
    endpoint_id       TEXT PRIMARY KEY NOT NULL,
    breaker_state     TEXT NOT NULL DEFAULT 'closed',
    opened_at         INTEGER,
    cooldown_until    INTEGER,
    quarantined       INTEGER NOT NULL DEFAULT 0,
    quarantine_reason TEXT,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE session_bindings (
    session_key TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL,
    last_used   INTEGER NOT NULL
);
CREATE INDEX session_bindings_by_last_used ON session_bindings (last_used);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    ts          INTEGER NOT NULL,
    endpoint_id TEXT,
    kind        TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX events_by_ts ON events (ts);

CREATE TABLE request_log (
    id                    INTEGER PRIMARY KEY,
    ts                    INTEGER NOT NULL,
    client_key            TEXT,
    session_key           TEXT,
    endpoint              TEXT,
    attempts              INTEGER NOT NULL DEFAULT 0,
    tried                 TEXT,
    model_requested       TEXT,
    model_sent            TEXT,
    stream                INTEGER NOT NULL DEFAULT 0,
    status                INTEGER,
    error_class           TEXT,
    ttfb_ms               INTEGER,
    total_ms              INTEGER,
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cost_usd              REAL NOT NULL DEFAULT 0,
    bytes_in              INTEGER NOT NULL DEFAULT 0,
    bytes_out             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX request_log_by_ts ON request_log (ts);
)sql";

// Resilience state: the breaker's open period and re-open count, so that period
// doubling survives a restart, and why an endpoint is cooling down. Unset times stay NULL as in
// migration 1. The index serves recent_events filtered by endpoint (rowid order comes free).
constexpr std::string_view kMigration2 = R"sql(
ALTER TABLE endpoint_state ADD COLUMN open_for_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoint_state ADD COLUMN reopens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoint_state ADD COLUMN cooldown_reason TEXT;
CREATE INDEX events_by_endpoint ON events (endpoint_id);
)sql";

// Health check and probe results: one row per finished check, bounded like events. The
// index serves recent_health_checks filtered by endpoint (rowid order comes free).
constexpr std::string_view kMigration3 = R"sql(
CREATE TABLE health_checks (
    id            INTEGER PRIMARY KEY,
    ts            INTEGER NOT NULL,
    endpoint      TEXT NOT NULL,
    method        TEXT NOT NULL,
    result        TEXT NOT NULL,
    valid         INTEGER NOT NULL DEFAULT 0,
    score         INTEGER NOT NULL DEFAULT 0,
    latency_ms    INTEGER NOT NULL DEFAULT 0,
    model         TEXT,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);
CREATE INDEX health_checks_by_endpoint ON health_checks (endpoint);
)sql";

// Migration 4: the adaptive weight persists with the rest of the endpoint state, in
// thousandths so that it stays an integer column.
constexpr std::string_view kMigration4 = R"sql(
ALTER TABLE endpoint_state ADD COLUMN adaptive_weight_milli INTEGER NOT NULL DEFAULT 0;
)sql";

// Migration 5: the request log. request_log gains the columns it lacked; empty strings
// are stored as NULL, ttfb_ms -1 ("no byte sent") as NULL, status 0 as 0. Every filter index ends
// in the implicit rowid, so "WHERE x = ? ORDER BY id DESC LIMIT n" walks one index backwards.
// Only endpoint and session are indexed: each index costs every insert (with the model and
// client-key indexes too, the writer managed 60k rows/s instead of 86k on the 2-core VM), and a
// page filtered by model or key is found by walking ids backwards (0.12 ms over 1M rows);
// the partial index holds only the failed requests (errors are rare, a table scan for them is
// not) and its WHERE text is repeated verbatim by the queries that use it (sqlite_store.cpp,
// kNotSuccessSql). Payloads live apart so that retention can drop them early and row scans stay
// small. request_rollups holds one row per (hour, endpoint, model, client key), model being
// model_sent or else model_requested, with latency and TTFB histograms in LatencyHistogram's
// encoding; it is what answers stats over whole hours.
constexpr std::string_view kMigration5 = R"sql(
ALTER TABLE request_log ADD COLUMN request_id TEXT;
ALTER TABLE request_log ADD COLUMN method TEXT;
ALTER TABLE request_log ADD COLUMN path TEXT;
CREATE INDEX request_log_by_endpoint ON request_log (endpoint);
CREATE INDEX request_log_by_session ON request_log (session_key);
CREATE INDEX request_log_errors ON request_log (id)
    WHERE status < 200 OR status >= 400 OR error_class IS NOT NULL;

CREATE TABLE request_payloads (
    id       INTEGER PRIMARY KEY,
    ts       INTEGER NOT NULL,
    request  BLOB,
    response BLOB
);
CREATE INDEX request_payloads_by_ts ON request_payloads (ts);

CREATE TABLE request_rollups (
    hour                  INTEGER NOT NULL,
    endpoint              TEXT NOT NULL,
    model                 TEXT NOT NULL,
    client_key            TEXT NOT NULL,
    count                 INTEGER NOT NULL,
    successes             INTEGER NOT NULL,
    failovers             INTEGER NOT NULL,
    input_tokens          INTEGER NOT NULL,
    output_tokens         INTEGER NOT NULL,
    cache_creation_tokens INTEGER NOT NULL,
    cache_read_tokens     INTEGER NOT NULL,
    cost_usd              REAL NOT NULL,
    latency_hist          BLOB NOT NULL,
    ttfb_hist             BLOB NOT NULL,
    PRIMARY KEY (hour, endpoint, model, client_key)
) WITHOUT ROWID;
)sql";

// Endpoints may restrict the models they serve (JSON array of patterns; empty = every model).
constexpr std::string_view kMigration6 = R"sql(
ALTER TABLE endpoints ADD COLUMN models TEXT NOT NULL DEFAULT '[]';
)sql";

// Per-attempt timings of a request ("status/start_ms/duration_ms", comma-separated, in the order of
// `tried`), for the dashboard's attempt waterfall.
constexpr std::string_view kMigration7 = R"sql(
ALTER TABLE request_log ADD COLUMN attempt_timings TEXT;
)sql";

// Dashboard sessions, by the SHA-256 of their cookie.
constexpr std::string_view kMigration8 = R"sql(
CREATE TABLE ui_sessions (
    hash    TEXT PRIMARY KEY,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Requests refused for a missing or wrong client key, counted per minute (start of the minute in
// Unix ms): never one request-log row each, so that a flood of bad keys cannot fill the disk, and
// apart from the request statistics, so that it never counts in their success ratio.
constexpr std::string_view kMigration9 = R"sql(
CREATE TABLE unauthorized_minutes (
    minute INTEGER PRIMARY KEY,
    count  INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Per-key limits and budgets: a JSON object (requests_per_minute, tokens_per_minute,
// budget_daily_usd, budget_monthly_usd); '{}' = none.
constexpr std::string_view kMigration10 = R"sql(
ALTER TABLE client_keys ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';
)sql";

// Several instances on one store: their registrations (heartbeat every few seconds) and the
// resilience decisions (cooldown, quarantine, release) each makes for the others to apply.
constexpr std::string_view kMigration11 = R"sql(
CREATE TABLE instances (
    id           TEXT PRIMARY KEY NOT NULL,
    address      TEXT NOT NULL,
    version      TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
CREATE TABLE endpoint_signals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ts          INTEGER NOT NULL,
    instance    TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    until_ms    INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX endpoint_signals_by_ts ON endpoint_signals (ts);
)sql";

constexpr std::string_view kMigrations[] = {kMigration1, kMigration2,  kMigration3, kMigration4,
                                            kMigration5, kMigration6,  kMigration7, kMigration8,
                                            kMigration9, kMigration10, kMigration11};

}  // namespace

std::span<const std::string_view> migrations() { return kMigrations; }

}  // namespace qcc::store
