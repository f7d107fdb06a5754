// SQLite implementation of Store. One connection guarded by a mutex: callers are the admin API,
// the CLI and the store-writer thread, none of them latency-critical.
//
// Request log layout (migration 5): raw rows in request_log, payloads in request_payloads, and
// hourly roll-ups (hour, endpoint, model, client key) in request_rollups, updated in the same
// transaction as the rows they summarize. stats() reads whole hours from the roll-ups and only
// the partial hours at the window's edges from raw rows, so a 24 h summary reads ~1/24 of the rows
// plus a few thousand roll-up rows whatever the traffic.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <variant>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.hpp"
#include "common/quoted.hpp"
#include "store/latency_histogram.hpp"
#include "store/migrations.hpp"
#include "store/secret.hpp"
#include "store/store.hpp"

namespace qcc::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr std::string_view kMemory = ":memory:";
constexpr std::int64_t kHourMs = 3'600'000;
// Rows deleted per transaction by cleanup(): small enough that the writer thread, which shares
// the connection's mutex, waits for at most one chunk.
constexpr std::int64_t kCleanupChunk = 5'000;
constexpr std::size_t kMaxRequestPage = 1'000;
// query_requests reads a time range through the ts index (and sorts it) when it holds fewer rows
// than kNarrowTimeRange, or fewer than kSortableTimeRange and fewer than the newer rows an id walk
// would have to skip.
constexpr std::int64_t kNarrowTimeRange = 5'000;
constexpr std::int64_t kSortableTimeRange = 50'000;
// Verbatim the WHERE of the partial index request_log_errors (migration 5): SQLite uses a partial
// index only for queries that repeat its condition.
constexpr const char* kNotSuccessSql = "(status < 200 OR status >= 400 OR error_class IS NOT NULL)";
constexpr const char* kSuccessSql = "(status >= 200 AND status < 400 AND error_class IS NULL)";

// Floor division: bucket and hour starts of any time, also before 1970.
std::int64_t floor_to(std::int64_t t, std::int64_t step) {
    std::int64_t q = t / step;
    if (t % step != 0 && t < 0) --q;
    return q * step;
}

std::int64_t ceil_to(std::int64_t t, std::int64_t step) {
    const std::int64_t f = floor_to(t, step);
    return f == t ? f : f + step;
}

// Merges two encoded LatencyHistograms: the roll-up UPSERT calls it as qcc_hist_merge(old, new).
void sql_hist_merge(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
    auto arg = [&](int i) {
        const auto* p = static_cast<const char*>(sqlite3_value_blob(argv[i]));
        const int n = sqlite3_value_bytes(argv[i]);
        return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
    };
    if (argc != 2) {
        sqlite3_result_error(ctx, "qcc_hist_merge takes 2 arguments", -1);
        return;
    }
    try {
        const auto merged = merge_encoded_histograms(arg(0), arg(1));
        if (!merged) {
            sqlite3_result_error(ctx, "malformed latency histogram", -1);
            return;
        }
        sqlite3_result_blob64(ctx, merged->data(), merged->size(), SQLITE_TRANSIENT);
    } catch (...) {
        sqlite3_result_error_nomem(ctx);
    }
}

// The sums of one group of requests (a roll-up row, or the raw rows of one stats bucket).
struct RequestTotals {
    std::int64_t count = 0, successes = 0, failovers = 0;
    std::int64_t input_tokens = 0, output_tokens = 0, cache_creation_tokens = 0,
                 cache_read_tokens = 0;
    double cost_usd = 0;
    LatencyHistogram latency, ttfb;

    void add_row(bool success, int attempts, std::int64_t total_ms, std::int64_t ttfb_ms,
                 std::int64_t in, std::int64_t out, std::int64_t cache_creation,
                 std::int64_t cache_read, double cost) {
        ++count;
        if (success) ++successes;
        if (attempts > 1) ++failovers;
        input_tokens += in;
        output_tokens += out;
        cache_creation_tokens += cache_creation;
        cache_read_tokens += cache_read;
        cost_usd += cost;
        latency.add(total_ms);
        if (ttfb_ms >= 0) ttfb.add(ttfb_ms);
    }

    StatsRow to_row(std::string group, std::int64_t bucket) const {
        StatsRow r;
        r.group = std::move(group);
        r.bucket_unix_ms = bucket;
        r.count = count;
        r.successes = successes;
        r.failovers = failovers;
        r.success_ratio =
            count == 0 ? 0 : static_cast<double>(successes) / static_cast<double>(count);
        r.latency_p50_ms = latency.percentile(0.50);
        r.latency_p95_ms = latency.percentile(0.95);
        r.latency_p99_ms = latency.percentile(0.99);
        r.ttfb_p50_ms = ttfb.percentile(0.50);
        r.ttfb_p95_ms = ttfb.percentile(0.95);
        r.ttfb_p99_ms = ttfb.percentile(0.99);
        r.input_tokens = input_tokens;
        r.output_tokens = output_tokens;
        r.cache_creation_tokens = cache_creation_tokens;
        r.cache_read_tokens = cache_read_tokens;
        r.cost_usd = cost_usd;
        return r;
    }
};

// Roll-up row key: hour start, endpoint, model (sent, else requested), client key.
using RollupKey = std::tuple<std::int64_t, std::string, std::string, std::string>;
// Stats row key: bucket start, group.
using StatsKey = std::pair<std::int64_t, std::string>;

// The stats group column of each GroupBy, for request_log and request_rollups. Empty strings are
// stored as NULL in request_log, so COALESCE picks model_requested when nothing was sent.
const char* raw_group_sql(GroupBy by) {
    switch (by) {
        case GroupBy::kNone:
            return "''";
        case GroupBy::kEndpoint:
            return "endpoint";
        case GroupBy::kModel:
            return "COALESCE(model_sent, model_requested)";
        case GroupBy::kClientKey:
            return "client_key";
        case GroupBy::kSession:
            return "session_key";
    }
    return "''";
}

const char* rollup_group_sql(GroupBy by) {
    switch (by) {
        case GroupBy::kEndpoint:
            return "endpoint";
        case GroupBy::kModel:
            return "model";
        case GroupBy::kClientKey:
            return "client_key";
        case GroupBy::kNone:
        case GroupBy::kSession:  // never served from roll-ups
            break;
    }
    return "''";
}

constexpr const char* kRequestColumns =
    "id, ts, request_id, method, path, client_key, session_key, endpoint, attempts, tried, "
    "model_requested, model_sent, stream, status, error_class, ttfb_ms, total_ms, input_tokens, "
    "output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, bytes_in, bytes_out";

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

[[noreturn]] void fail_errno(const std::string& path, std::string_view what) {
    throw std::runtime_error("sqlite store " + path + ": " + std::string(what) + ": " +
                             std::strerror(errno));
}

// Creates the missing directories leading to the database with mode 0700 (SPEC §10); existing
// ones are left alone, they may be shared (e.g. /tmp).
void make_private_dirs(const std::filesystem::path& dir, const std::string& db_path) {
    std::vector<std::filesystem::path> missing;
    for (auto p = dir; !p.empty() && p != p.parent_path(); p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0) break;
        missing.push_back(p);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
            fail_errno(db_path, "cannot create directory " + it->string());
        }
        ::chmod(it->c_str(), 0700);  // mkdir's mode is filtered by the umask
    }
}

// Creates the file ourselves so it is 0600 from its first byte; SQLite gives its -wal and -shm
// files the same mode as the database.
void make_private_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno(path, "cannot create database file");
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) {
        spdlog::warn("sqlite store {}: cannot make the file private (mode {:o}): {}", path,
                     st.st_mode & 07777, std::strerror(errno));
    }
    ::close(fd);
}

// Lists and maps are stored as JSON text so that the sqlite3 shell (json_each) can read them;
// they are decoded with SQLite's own JSON parser, so only the writer is ours.
std::string encode_model_map(const std::vector<std::pair<std::string, std::string>>& map) {
    std::string out = "{";
    for (const auto& [from, to] : map) {
        if (out.size() > 1) out += ',';
        append_quoted(out, from);
        out += ':';
        append_quoted(out, to);
    }
    return out + "}";
}

std::string encode_tags(const std::vector<std::string>& tags) {
    std::string out = "[";
    for (const auto& tag : tags) {
        if (out.size() > 1) out += ',';
        append_quoted(out, tag);
    }
    return out + "]";
}

struct StmtDeleter {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

constexpr const char* kEndpointColumns =
    "name, id, base_url, api_key, kind, auth, tier, weight, enabled, tls_verify, model_map, "
    "connect_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, tags, created_at, updated_at";

class SqliteStore final : public Store {
  public:
    SqliteStore(std::string path, const SqliteOptions& options)
        : path_(std::move(path)),
          max_events_(static_cast<std::int64_t>(
              std::min<std::size_t>(options.max_events, std::numeric_limits<std::int64_t>::max()))),
          max_health_checks_(static_cast<std::int64_t>(std::min<std::size_t>(
              options.max_health_checks, std::numeric_limits<std::int64_t>::max()))),
          secrets_(options.secrets) {
        const bool memory = path_ == kMemory;
        if (!memory) {
            make_private_dirs(std::filesystem::path(path_).parent_path(), path_);
            make_private_file(path_);
        }
        const int rc = sqlite3_open_v2(
            path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
            nullptr);
        if (rc != SQLITE_OK) {
            const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
            sqlite3_close_v2(db_);
            throw std::runtime_error("sqlite store " + path_ + ": cannot open: " + message);
        }
        try {
            sqlite3_busy_timeout(db_, kBusyTimeoutMs);
            if (sqlite3_create_function_v2(
                    db_, "qcc_hist_merge", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                    &sql_hist_merge, nullptr, nullptr, nullptr) != SQLITE_OK) {
                fail("register qcc_hist_merge");
            }
            // Takes effect only while the file has no table yet (a new database): cleanup can
            // then hand free pages back with PRAGMA incremental_vacuum. Older files keep
            // auto_vacuum=NONE until someone runs VACUUM once.
            exec("PRAGMA auto_vacuum=INCREMENTAL");
            if (!memory) {
                Query q(*this, "PRAGMA journal_mode=WAL");
                if (!q.step() || q.text(0) != "wal") {
                    spdlog::warn("sqlite store {}: WAL journal unavailable, using the default",
                                 path_);
                }
            }
            exec("PRAGMA synchronous=NORMAL");
            migrate();
            reseal_plain_credentials();
        } catch (...) {
            stmts_.clear();
            sqlite3_close_v2(db_);
            throw;
        }
    }

    ~SqliteStore() override {
        stmts_.clear();
        sqlite3_close_v2(db_);
    }

    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    std::vector<EndpointRecord> list_endpoints() override {
        std::lock_guard lock(mu_);
        std::vector<EndpointRecord> out;
        Query q(*this, std::string("SELECT ") + kEndpointColumns + " FROM endpoints ORDER BY name");
        while (q.step()) out.push_back(read_endpoint(q));
        return out;
    }

    EndpointRecord upsert_endpoint(const config::EndpointConfig& e) override {
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        std::optional<EndpointRecord> existing = find_endpoint(e.name);
        if (existing && existing->config == e) {
            tx.commit();
            return *existing;
        }
        EndpointRecord record;
        record.id = endpoint_id(e.base_url, e.api_key);
        record.config = e;
        record.updated_at = now_ms();
        record.created_at = existing ? existing->created_at : record.updated_at;
        Query q(*this,
                std::string("INSERT INTO endpoints (") + kEndpointColumns +
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                    "?16, ?17) ON CONFLICT (name) DO UPDATE SET id = excluded.id, "
                    "base_url = excluded.base_url, api_key = excluded.api_key, "
                    "kind = excluded.kind, auth = excluded.auth, tier = excluded.tier, "
                    "weight = excluded.weight, enabled = excluded.enabled, "
                    "tls_verify = excluded.tls_verify, model_map = excluded.model_map, "
                    "connect_timeout_ms = excluded.connect_timeout_ms, "
                    "first_byte_timeout_ms = excluded.first_byte_timeout_ms, "
                    "idle_timeout_ms = excluded.idle_timeout_ms, tags = excluded.tags, "
                    "updated_at = excluded.updated_at");
        q.bind_text(1, e.name)
            .bind_text(2, record.id)
            .bind_text(3, e.base_url)
            .bind_text(4, secrets().seal(e.api_key))
            .bind_text(5, config::to_string(e.kind))
            .bind_text(6, config::to_string(e.auth))
            .bind_int(7, e.tier)
            .bind_int(8, e.weight)
            .bind_int(9, e.enabled ? 1 : 0)
            .bind_int(10, e.tls_verify ? 1 : 0)
            .bind_text(11, encode_model_map(e.model_map))
            .bind_millis(12, e.connect_timeout)
            .bind_millis(13, e.first_byte_timeout)
            .bind_millis(14, e.idle_timeout)
            .bind_text(15, encode_tags(e.tags))
            .bind_int(16, record.created_at)
            .bind_int(17, record.updated_at);
        q.run();
        bump_version();
        tx.commit();
        return record;
    }

    bool remove_endpoint(std::string_view name) override {
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        Query q(*this, "DELETE FROM endpoints WHERE name = ?1");
        q.bind_text(1, name).run();
        const bool removed = sqlite3_changes(db_) > 0;
        if (removed) bump_version();
        tx.commit();
        return removed;
    }

    std::vector<ClientKeyRecord> list_client_keys() override {
        std::lock_guard lock(mu_);
        std::vector<ClientKeyRecord> out;
        Query q(
            *this,
            "SELECT name, key_hash, prefix, created_at, revoked FROM client_keys ORDER BY name");
        while (q.step()) {
            ClientKeyRecord r;
            r.name = q.text(0);
            r.key_hash = q.text(1);
            r.prefix = q.text(2);
            r.created_at = q.integer(3);
            r.revoked = q.integer(4) != 0;
            out.push_back(std::move(r));
        }
        return out;
    }

    void upsert_client_key(std::string_view name, std::string_view key_hash,
                           std::string_view prefix) override {
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        // The WHERE makes re-declaring an unchanged, active key a no-op (no version bump).
        Query q(*this,
                "INSERT INTO client_keys (name, key_hash, prefix, created_at, revoked, revoked_at) "
                "VALUES (?1, ?2, ?3, ?4, 0, NULL) ON CONFLICT (name) DO UPDATE SET "
                "key_hash = excluded.key_hash, prefix = excluded.prefix, "
                "created_at = excluded.created_at, revoked = 0, revoked_at = NULL "
                "WHERE client_keys.key_hash <> excluded.key_hash "
                "OR client_keys.prefix <> excluded.prefix OR client_keys.revoked <> 0");
        q.bind_text(1, name).bind_text(2, key_hash).bind_text(3, prefix).bind_int(4, now_ms());
        q.run();
        if (sqlite3_changes(db_) > 0) bump_version();
        tx.commit();
    }

    bool revoke_client_key(std::string_view name) override {
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        Query update(*this,
                     "UPDATE client_keys SET revoked = 1, revoked_at = ?2 "
                     "WHERE name = ?1 AND revoked = 0");
        update.bind_text(1, name).bind_int(2, now_ms()).run();
        bool found = sqlite3_changes(db_) > 0;
        if (found) {
            bump_version();
        } else {
            Query exists(*this, "SELECT 1 FROM client_keys WHERE name = ?1");
            found = exists.bind_text(1, name).step();
        }
        tx.commit();
        return found;
    }

    std::optional<std::string> get_setting(std::string_view key) override {
        std::lock_guard lock(mu_);
        Query q(*this, "SELECT value FROM settings WHERE key = ?1");
        if (!q.bind_text(1, key).step()) return std::nullopt;
        return q.text(0);
    }

    void set_setting(std::string_view key, std::string_view value) override {
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        Query q(*this,
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at WHERE settings.value <> excluded.value");
        q.bind_text(1, key).bind_text(2, value).bind_int(3, now_ms()).run();
        if (sqlite3_changes(db_) > 0) bump_version();
        tx.commit();
    }

    std::int64_t data_version() override {
        std::lock_guard lock(mu_);
        Query q(*this, "SELECT data_version FROM meta WHERE id = 1");
        if (!q.step()) fail("meta row missing");
        return q.integer(0);
    }

    void save_endpoint_states(const std::vector<EndpointStateRecord>& states) override {
        if (states.empty()) return;
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        const std::int64_t now = now_ms();
        Query q(*this,
                "INSERT INTO endpoint_state (endpoint_id, breaker_state, opened_at, open_for_ms, "
                "reopens, cooldown_until, cooldown_reason, quarantined, quarantine_reason, "
                "updated_at, adaptive_weight_milli) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                "?10, ?11) "
                "ON CONFLICT (endpoint_id) DO UPDATE SET breaker_state = excluded.breaker_state, "
                "opened_at = excluded.opened_at, open_for_ms = excluded.open_for_ms, "
                "reopens = excluded.reopens, cooldown_until = excluded.cooldown_until, "
                "cooldown_reason = excluded.cooldown_reason, quarantined = excluded.quarantined, "
                "quarantine_reason = excluded.quarantine_reason, updated_at = excluded.updated_at, "
                "adaptive_weight_milli = excluded.adaptive_weight_milli");
        for (const auto& s : states) {
            q.bind_text(1, s.endpoint_id)
                .bind_text(2, s.breaker_state)
                .bind_int_or_null(3, s.opened_at_unix_ms)
                .bind_int(4, s.open_for_ms)
                .bind_int(5, s.reopens)
                .bind_int_or_null(6, s.cooldown_until_unix_ms)
                .bind_text_or_null(7, s.cooldown_reason)
                .bind_int(8, s.quarantined ? 1 : 0)
                .bind_text_or_null(9, s.quarantine_reason)
                .bind_int(10, s.updated_at != 0 ? s.updated_at : now)
                .bind_int(11, std::llround(s.adaptive_weight * 1000.0));
            q.run();
            q.reset();
        }
        tx.commit();
    }

    std::vector<EndpointStateRecord> load_endpoint_states() override {
        std::lock_guard lock(mu_);
        std::vector<EndpointStateRecord> out;
        // NULL columns read as 0 / "" (sqlite3_column_* convert NULL that way).
        Query q(*this,
                "SELECT endpoint_id, breaker_state, opened_at, open_for_ms, reopens, "
                "cooldown_until, cooldown_reason, quarantined, quarantine_reason, updated_at, "
                "adaptive_weight_milli FROM endpoint_state ORDER BY endpoint_id");
        while (q.step()) {
            EndpointStateRecord r;
            r.endpoint_id = q.text(0);
            r.breaker_state = q.text(1);
            r.opened_at_unix_ms = q.integer(2);
            r.open_for_ms = q.integer(3);
            r.reopens = static_cast<int>(q.integer(4));
            r.cooldown_until_unix_ms = q.integer(5);
            r.cooldown_reason = q.text(6);
            r.quarantined = q.integer(7) != 0;
            r.quarantine_reason = q.text(8);
            r.updated_at = q.integer(9);
            r.adaptive_weight = static_cast<double>(q.integer(10)) / 1000.0;
            out.push_back(std::move(r));
        }
        return out;
    }

    void save_bindings(const std::vector<BindingRecord>& bindings) override {
        if (bindings.empty()) return;
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        Query q(*this,
                "INSERT INTO session_bindings (session_key, endpoint_id, last_used) "
                "VALUES (?1, ?2, ?3) ON CONFLICT (session_key) DO UPDATE SET "
                "endpoint_id = excluded.endpoint_id, last_used = excluded.last_used");
        for (const auto& b : bindings) {
            q.bind_text(1, b.session_key)
                .bind_text(2, b.endpoint_id)
                .bind_int(3, b.last_used_unix_ms)
                .run();
            q.reset();
        }
        tx.commit();
    }

    std::size_t delete_bindings_before(std::int64_t unix_ms) override {
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        Query q(*this, "DELETE FROM session_bindings WHERE last_used < ?1");
        q.bind_int(1, unix_ms).run();
        const auto deleted = static_cast<std::size_t>(sqlite3_changes64(db_));
        tx.commit();
        return deleted;
    }

    std::vector<BindingRecord> load_bindings() override {
        std::lock_guard lock(mu_);
        std::vector<BindingRecord> out;
        Query q(*this,
                "SELECT session_key, endpoint_id, last_used FROM session_bindings "
                "ORDER BY last_used, session_key");
        while (q.step()) out.push_back({q.text(0), q.text(1), q.integer(2)});
        return out;
    }

    void append_events(const std::vector<EventRecord>& events) override {
        if (events.empty()) return;
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        const std::int64_t now = now_ms();
        {
            Query q(*this,
                    "INSERT INTO events (ts, endpoint_id, kind, detail) VALUES (?1, ?2, ?3, ?4)");
            for (const auto& e : events) {
                q.bind_int(1, e.ts_unix_ms != 0 ? e.ts_unix_ms : now)
                    .bind_text_or_null(2, e.endpoint)
                    .bind_text(3, e.kind)
                    .bind_text_or_null(4, e.detail)
                    .run();
                q.reset();
            }
        }
        trim_events();
        tx.commit();
    }

    std::vector<EventRecord> recent_events(std::size_t limit, std::string_view endpoint) override {
        std::lock_guard lock(mu_);
        std::vector<EventRecord> out;
        if (limit == 0) return out;
        const auto bound = static_cast<std::int64_t>(
            std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
        // Two statements rather than "?2 = '' OR endpoint_id = ?2", which defeats the index.
        const bool all = endpoint.empty();
        Query q(*this, all ? "SELECT id, ts, endpoint_id, kind, detail FROM events "
                             "ORDER BY id DESC LIMIT ?1"
                           : "SELECT id, ts, endpoint_id, kind, detail FROM events "
                             "WHERE endpoint_id = ?2 ORDER BY id DESC LIMIT ?1");
        q.bind_int(1, bound);
        if (!all) q.bind_text(2, endpoint);
        while (q.step())
            out.push_back({q.integer(0), q.integer(1), q.text(2), q.text(3), q.text(4)});
        return out;
    }

    void append_health_checks(const std::vector<HealthCheckRecord>& checks) override {
        if (checks.empty()) return;
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        const std::int64_t now = now_ms();
        {
            Query q(*this,
                    "INSERT INTO health_checks (ts, endpoint, method, result, valid, score, "
                    "latency_ms, model, input_tokens, output_tokens, error) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
            for (const auto& c : checks) {
                q.bind_int(1, c.ts_unix_ms != 0 ? c.ts_unix_ms : now)
                    .bind_text(2, c.endpoint)
                    .bind_text(3, c.method)
                    .bind_text(4, c.result)
                    .bind_int(5, c.valid ? 1 : 0)
                    .bind_int(6, c.score)
                    .bind_int(7, c.latency_ms)
                    .bind_text_or_null(8, c.model)
                    .bind_int(9, c.input_tokens)
                    .bind_int(10, c.output_tokens)
                    .bind_text_or_null(11, c.error)
                    .run();
                q.reset();
            }
        }
        trim_health_checks();
        tx.commit();
    }

    std::vector<HealthCheckRecord> recent_health_checks(std::size_t limit,
                                                        std::string_view endpoint) override {
        std::lock_guard lock(mu_);
        std::vector<HealthCheckRecord> out;
        if (limit == 0) return out;
        const auto bound = static_cast<std::int64_t>(
            std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
        // Two statements for the same reason as recent_events: keep the endpoint index usable.
        const bool all = endpoint.empty();
        constexpr const char* kColumns =
            "SELECT id, ts, endpoint, method, result, valid, score, latency_ms, model, "
            "input_tokens, output_tokens, error FROM health_checks ";
        Query q(*this,
                std::string(kColumns) + (all ? "ORDER BY id DESC LIMIT ?1"
                                             : "WHERE endpoint = ?2 ORDER BY id DESC LIMIT ?1"));
        q.bind_int(1, bound);
        if (!all) q.bind_text(2, endpoint);
        while (q.step()) {
            HealthCheckRecord r;
            r.id = q.integer(0);
            r.ts_unix_ms = q.integer(1);
            r.endpoint = q.text(2);
            r.method = q.text(3);
            r.result = q.text(4);
            r.valid = q.integer(5) != 0;
            r.score = static_cast<int>(q.integer(6));
            r.latency_ms = q.integer(7);
            r.model = q.text(8);
            r.input_tokens = q.integer(9);
            r.output_tokens = q.integer(10);
            r.error = q.text(11);
            out.push_back(std::move(r));
        }
        return out;
    }

    void append_requests(std::vector<RequestRecord>& rows) override {
        if (rows.empty()) return;
        std::lock_guard lock(mu_);
        Transaction tx(*this);
        std::vector<std::int64_t> ids;
        ids.reserve(rows.size());
        std::map<RollupKey, RequestTotals> rollups;
        {
            Query insert(*this,
                         "INSERT INTO request_log (ts, request_id, method, path, client_key, "
                         "session_key, endpoint, attempts, tried, model_requested, model_sent, "
                         "stream, status, error_class, ttfb_ms, total_ms, input_tokens, "
                         "output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, "
                         "bytes_in, bytes_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                         "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)");
            for (const auto& r : rows) {
                insert.bind_int(1, r.ts_unix_ms)
                    .bind_text_or_null(2, r.request_id)
                    .bind_text_or_null(3, r.method)
                    .bind_text_or_null(4, r.path)
                    .bind_text_or_null(5, r.client_key)
                    .bind_text_or_null(6, r.session_key)
                    .bind_text_or_null(7, r.endpoint)
                    .bind_int(8, r.attempts)
                    .bind_text_or_null(9, r.tried)
                    .bind_text_or_null(10, r.model_requested)
                    .bind_text_or_null(11, r.model_sent)
                    .bind_int(12, r.stream ? 1 : 0)
                    .bind_int(13, r.status)
                    .bind_text_or_null(14, r.error_class)
                    .bind_int(16, r.total_ms)
                    .bind_int(17, r.input_tokens)
                    .bind_int(18, r.output_tokens)
                    .bind_int(19, r.cache_creation_tokens)
                    .bind_int(20, r.cache_read_tokens)
                    .bind_real(21, r.cost_usd)
                    .bind_int(22, r.bytes_in)
                    .bind_int(23, r.bytes_out);
                if (r.ttfb_ms >= 0) insert.bind_int(15, r.ttfb_ms);  // else NULL: no byte sent
                insert.run();
                insert.reset();
                ids.push_back(sqlite3_last_insert_rowid(db_));

                const std::string& model = r.model_sent.empty() ? r.model_requested : r.model_sent;
                rollups[RollupKey(floor_to(r.ts_unix_ms, kHourMs), r.endpoint, model, r.client_key)]
                    .add_row(is_success(r), r.attempts, r.total_ms, r.ttfb_ms, r.input_tokens,
                             r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens,
                             r.cost_usd);
            }
        }
        {
            Query payload(*this,
                          "INSERT INTO request_payloads (id, ts, request, response) "
                          "VALUES (?1, ?2, ?3, ?4)");
            for (std::size_t i = 0; i < rows.size(); ++i) {
                const auto& r = rows[i];
                if (r.request_payload.empty() && r.response_payload.empty()) continue;
                payload.bind_int(1, ids[i])
                    .bind_int(2, r.ts_unix_ms)
                    .bind_blob_or_null(3, r.request_payload)
                    .bind_blob_or_null(4, r.response_payload)
                    .run();
                payload.reset();
            }
        }
        {
            Query upsert(*this,
                         "INSERT INTO request_rollups (hour, endpoint, model, client_key, count, "
                         "successes, failovers, input_tokens, output_tokens, "
                         "cache_creation_tokens, cache_read_tokens, cost_usd, latency_hist, "
                         "ttfb_hist) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                         "?13, ?14) ON CONFLICT (hour, endpoint, model, client_key) DO UPDATE SET "
                         "count = count + excluded.count, "
                         "successes = successes + excluded.successes, "
                         "failovers = failovers + excluded.failovers, "
                         "input_tokens = input_tokens + excluded.input_tokens, "
                         "output_tokens = output_tokens + excluded.output_tokens, "
                         "cache_creation_tokens = cache_creation_tokens + "
                         "excluded.cache_creation_tokens, "
                         "cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, "
                         "cost_usd = cost_usd + excluded.cost_usd, "
                         "latency_hist = qcc_hist_merge(latency_hist, excluded.latency_hist), "
                         "ttfb_hist = qcc_hist_merge(ttfb_hist, excluded.ttfb_hist)");
            for (const auto& [key, t] : rollups) {
                upsert.bind_int(1, std::get<0>(key))
                    .bind_text(2, std::get<1>(key))
                    .bind_text(3, std::get<2>(key))
                    .bind_text(4, std::get<3>(key))
                    .bind_int(5, t.count)
                    .bind_int(6, t.successes)
                    .bind_int(7, t.failovers)
                    .bind_int(8, t.input_tokens)
                    .bind_int(9, t.output_tokens)
                    .bind_int(10, t.cache_creation_tokens)
                    .bind_int(11, t.cache_read_tokens)
                    .bind_real(12, t.cost_usd)
                    .bind_blob(13, t.latency.encode())
                    .bind_blob(14, t.ttfb.encode())
                    .run();
                upsert.reset();
            }
        }
        tx.commit();
        // Only now: a batch that failed leaves the records as they were (id 0), ready for a retry.
        for (std::size_t i = 0; i < rows.size(); ++i) rows[i].id = ids[i];
    }

    std::vector<RequestRecord> query_requests(const RequestQuery& rq) override {
        std::lock_guard lock(mu_);
        const char* ts = use_ts_index(rq) ? "ts" : "+ts";
        // Each condition refers to its parameter by number, so the model branch below can repeat
        // the filter text in two sub-queries and bind each value once.
        std::vector<std::variant<std::int64_t, std::string>> params;
        std::string where;
        auto param = [&](auto value) {
            params.emplace_back(std::move(value));
            return "?" + std::to_string(params.size());
        };
        auto add = [&](const std::string& condition) {
            where += where.empty() ? "" : " AND ";
            where += condition;
        };
        if (rq.from_unix_ms != 0) add(ts + (" >= " + param(rq.from_unix_ms)));
        if (rq.to_unix_ms != 0) add(ts + (" < " + param(rq.to_unix_ms)));
        if (!rq.endpoint.empty()) add("endpoint = " + param(rq.endpoint));
        if (!rq.client_key.empty()) add("client_key = " + param(rq.client_key));
        if (!rq.session_key.empty()) add("session_key = " + param(rq.session_key));
        if (!rq.error_class.empty()) add("error_class = " + param(rq.error_class));
        if (rq.status != 0) add("status = " + param(std::int64_t{rq.status}));
        // A filter that implies "failed" also names the failure condition, so that the partial
        // index of failed requests can serve it.
        const bool failed_only = rq.errors_only || !rq.error_class.empty() ||
                                 (rq.status != 0 && (rq.status < 200 || rq.status >= 400));
        if (failed_only) add(kNotSuccessSql);
        if (rq.before_id != 0) add("id < " + param(rq.before_id));
        const std::string limit =
            param(static_cast<std::int64_t>(std::clamp<std::size_t>(rq.limit, 1, kMaxRequestPage)));

        // The page's ids are chosen first, from indexes alone where they cover the filters (and
        // only integers are sorted); the full rows are read for those ids only.
        auto newest_ids = [&](const std::string& condition) {
            return "SELECT id FROM request_log WHERE " + condition + " ORDER BY id DESC LIMIT " +
                   limit;
        };
        std::string ids;
        if (rq.model.empty()) {
            ids = newest_ids(where.empty() ? "1" : where);
        } else {
            // "model_sent = ? OR model_requested = ?" would make SQLite sort every match; the
            // newest `limit` ids of the union are among the newest `limit` of each side, and
            // each side walks its own index backwards.
            const std::string model = param(rq.model);
            const std::string rest = where.empty() ? "" : " AND " + where;
            ids = "SELECT id FROM (" + newest_ids("model_sent = " + model + rest) +
                  ") UNION ALL SELECT id FROM (" + newest_ids("model_requested = " + model + rest) +
                  ")";
        }
        const std::string sql = std::string("SELECT ") + kRequestColumns +
                                " FROM request_log WHERE id IN (" + ids +
                                ") ORDER BY id DESC LIMIT " + limit;

        Query q(*this, sql);
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int index = static_cast<int>(i + 1);
            if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
                q.bind_int(index, *v);
            } else {
                q.bind_text(index, std::get<std::string>(params[i]));
            }
        }
        std::vector<RequestRecord> out;
        while (q.step()) out.push_back(read_request(q));
        return out;
    }

    std::optional<RequestRecord> get_request(std::int64_t id) override {
        std::lock_guard lock(mu_);
        std::optional<RequestRecord> out;
        {
            Query q(*this,
                    std::string("SELECT ") + kRequestColumns + " FROM request_log WHERE id = ?1");
            if (!q.bind_int(1, id).step()) return std::nullopt;
            out = read_request(q);
        }
        Query p(*this, "SELECT request, response FROM request_payloads WHERE id = ?1");
        if (p.bind_int(1, id).step()) {
            out->request_payload = std::string(p.bytes(0));
            out->response_payload = std::string(p.bytes(1));
        }
        return out;
    }

    std::vector<StatsRow> stats(const StatsQuery& sq) override {
        if (sq.bucket_ms < 0) {
            throw std::invalid_argument("stats: bucket_ms must not be negative");
        }
        if (sq.to_unix_ms <= sq.from_unix_ms) return {};
        std::map<StatsKey, RequestTotals> groups;
        {
            std::lock_guard lock(mu_);
            ReadTransaction snapshot(*this);  // roll-ups and raw rows from one state
            const std::int64_t first_hour = ceil_to(sq.from_unix_ms, kHourMs);
            const std::int64_t end_hour = floor_to(sq.to_unix_ms, kHourMs);
            const bool rollups =
                sq.by != GroupBy::kSession && sq.bucket_ms % kHourMs == 0 && first_hour < end_hour;
            if (rollups) {
                fold_raw(sq, sq.from_unix_ms, first_hour, groups);
                fold_rollups(sq, first_hour, end_hour, groups);
                fold_raw(sq, end_hour, sq.to_unix_ms, groups);
            } else {
                fold_raw(sq, sq.from_unix_ms, sq.to_unix_ms, groups);
            }
        }
        std::vector<StatsRow> out;
        out.reserve(groups.size());
        for (const auto& [key, totals] : groups)
            out.push_back(totals.to_row(key.second, key.first));
        return out;
    }

    CleanupResult cleanup(std::int64_t now_unix_ms, const RetentionPolicy& p) override {
        CleanupResult result;
        // A payload never outlives its request row.
        std::int64_t payload_keep = 0;
        for (const std::int64_t keep : {p.payloads_ms, p.requests_ms}) {
            if (keep > 0 && (payload_keep == 0 || keep < payload_keep)) payload_keep = keep;
        }
        if (payload_keep > 0) {
            result.payloads = delete_in_chunks(
                "DELETE FROM request_payloads WHERE id IN "
                "(SELECT id FROM request_payloads WHERE ts < ?1 LIMIT ?2)",
                now_unix_ms - payload_keep);
        }
        if (p.requests_ms > 0) {
            result.requests = delete_in_chunks(
                "DELETE FROM request_log WHERE id IN "
                "(SELECT id FROM request_log WHERE ts < ?1 LIMIT ?2)",
                now_unix_ms - p.requests_ms);
        }
        if (p.rollups_ms > 0) {
            // Only hours that ended by the cut-off: a roll-up is all or nothing.
            result.rollups = delete_in_chunks(
                "DELETE FROM request_rollups WHERE (hour, endpoint, model, client_key) IN "
                "(SELECT hour, endpoint, model, client_key FROM request_rollups "
                "WHERE hour < ?1 LIMIT ?2)",
                now_unix_ms - p.rollups_ms - kHourMs + 1);
        }
        std::lock_guard lock(mu_);
        exec("PRAGMA incremental_vacuum");
        return result;
    }

    std::int64_t count_requests() override {
        std::lock_guard lock(mu_);
        Query q(*this, "SELECT COUNT(*) FROM request_log");
        q.step();
        return q.integer(0);
    }

  private:
    // A cached prepared statement in use: reset and unbound when the Query goes out of scope.
    class Query {
      public:
        Query(SqliteStore& store, const std::string& sql)
            : store_(store), stmt_(store.prepare(sql)) {}
        ~Query() { reset(); }
        Query(const Query&) = delete;
        Query& operator=(const Query&) = delete;

        Query& bind_text(int index, std::string_view value) {
            // A null data pointer would bind NULL instead of the empty string.
            const char* data = value.data() != nullptr ? value.data() : "";
            check(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT,
                                      SQLITE_UTF8));
            return *this;
        }
        Query& bind_int(int index, std::int64_t value) {
            check(sqlite3_bind_int64(stmt_, index, value));
            return *this;
        }
        Query& bind_real(int index, double value) {
            check(sqlite3_bind_double(stmt_, index, value));
            return *this;
        }
        Query& bind_blob(int index, std::string_view value) {
            // A null data pointer would bind NULL instead of the empty blob.
            const char* data = value.data() != nullptr ? value.data() : "";
            check(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT));
            return *this;
        }
        /// Binds NULL for the empty string (the schema's "unset").
        Query& bind_blob_or_null(int index, std::string_view value) {
            if (!value.empty()) return bind_blob(index, value);
            check(sqlite3_bind_null(stmt_, index));
            return *this;
        }
        /// Binds NULL for 0 (the schema's "unset").
        Query& bind_int_or_null(int index, std::int64_t value) {
            if (value != 0) return bind_int(index, value);
            check(sqlite3_bind_null(stmt_, index));
            return *this;
        }
        /// Binds NULL for the empty string (the schema's "unset").
        Query& bind_text_or_null(int index, std::string_view value) {
            if (!value.empty()) return bind_text(index, value);
            check(sqlite3_bind_null(stmt_, index));
            return *this;
        }
        Query& bind_millis(int index, const std::optional<config::Millis>& value) {
            if (value) return bind_int(index, value->count());
            check(sqlite3_bind_null(stmt_, index));
            return *this;
        }
        /// True when a row is available; false when the statement is done.
        bool step() {
            const int rc = sqlite3_step(stmt_);
            if (rc == SQLITE_ROW) return true;
            if (rc == SQLITE_DONE) return false;
            store_.fail("step");
        }
        void run() {
            while (step()) {
            }
        }
        std::string text(int column) const {
            const auto* p = sqlite3_column_text(stmt_, column);
            const int n = sqlite3_column_bytes(stmt_, column);
            return p == nullptr
                       ? std::string()
                       : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
        }
        std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
        double real(int column) const { return sqlite3_column_double(stmt_, column); }
        /// The column's bytes as stored (BLOB or TEXT), valid until the next step or reset.
        std::string_view bytes(int column) const {
            const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
            const int n = sqlite3_column_bytes(stmt_, column);
            return p == nullptr ? std::string_view()
                                : std::string_view(p, static_cast<std::size_t>(n));
        }
        /// Makes the statement ready to be bound and run again (batches reuse one statement).
        void reset() {
            sqlite3_reset(stmt_);
            sqlite3_clear_bindings(stmt_);
        }
        bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

      private:
        void check(int rc) {
            if (rc != SQLITE_OK) store_.fail("bind");
        }
        SqliteStore& store_;
        sqlite3_stmt* stmt_;
    };

    // BEGIN IMMEDIATE takes the write lock up front so two processes never deadlock upgrading
    // read transactions; busy_timeout makes the loser wait instead of failing.
    class Transaction {
      public:
        explicit Transaction(SqliteStore& store) : store_(store) { store_.exec("BEGIN IMMEDIATE"); }
        ~Transaction() {
            if (!done_) sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;
        void commit() {
            store_.exec("COMMIT");
            done_ = true;
        }

      private:
        SqliteStore& store_;
        bool done_ = false;
    };

    // A deferred read transaction: several SELECTs see one snapshot of the database.
    class ReadTransaction {
      public:
        explicit ReadTransaction(SqliteStore& store) : store_(store) { store_.exec("BEGIN"); }
        ~ReadTransaction() { sqlite3_exec(store_.db_, "COMMIT", nullptr, nullptr, nullptr); }
        ReadTransaction(const ReadTransaction&) = delete;
        ReadTransaction& operator=(const ReadTransaction&) = delete;

      private:
        SqliteStore& store_;
    };

    [[noreturn]] void fail(std::string_view what) const {
        throw std::runtime_error("sqlite store " + path_ + ": " + std::string(what) + ": " +
                                 sqlite3_errmsg(db_));
    }

    void exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
    }

    sqlite3_stmt* prepare(const std::string& sql) {
        auto it = stmts_.find(sql);
        if (it != stmts_.end()) return it->second.get();
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
            fail("prepare");
        }
        return stmts_.emplace(sql, StmtPtr(raw)).first->second.get();
    }

    void bump_version() {
        Query q(*this, "UPDATE meta SET data_version = data_version + 1 WHERE id = 1");
        q.run();
    }

    std::int64_t schema_version() {
        Query q(*this, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
        q.step();
        return q.integer(0);
    }

    // One migration per transaction, re-reading the version under the write lock so two
    // processes opening a fresh file at once apply each migration exactly once.
    void migrate() {
        exec(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
        const auto all = migrations();
        const auto latest = static_cast<std::int64_t>(all.size());
        if (schema_version() == latest) return;
        while (true) {
            Transaction tx(*this);
            const std::int64_t version = schema_version();
            if (version > latest) {
                throw std::runtime_error(
                    "sqlite store " + path_ + ": schema version " + std::to_string(version) +
                    " is newer than this build supports (" + std::to_string(latest) + ")");
            }
            if (version == latest) {
                tx.commit();
                return;
            }
            const std::string sql(all[static_cast<std::size_t>(version)]);
            if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
                fail("migration " + std::to_string(version + 1));
            }
            Query q(*this, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)");
            q.bind_int(1, version + 1).bind_int(2, now_ms()).run();
            tx.commit();
        }
    }

    // Keeps the newest max_events_ rows. ids grow by one per insert, so the id span bounds the row
    // count from above and is O(log n) to read; only past the bound do we walk the index to find
    // the exact cut-off (gaps left by other deletions must not make us drop too much).
    void trim_events() {
        std::int64_t span = 0;
        {
            Query q(*this,
                    "SELECT COALESCE((SELECT MAX(id) FROM events) - (SELECT MIN(id) FROM events) "
                    "+ 1, 0)");
            q.step();
            span = q.integer(0);
        }
        if (span <= max_events_) return;
        Query q(*this,
                "DELETE FROM events WHERE id < "
                "(SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1)");
        q.bind_int(1, max_events_ - 1).run();
    }

    // Keeps the newest max_health_checks_ rows, the same way trim_events does.
    void trim_health_checks() {
        std::int64_t span = 0;
        {
            Query q(*this,
                    "SELECT COALESCE((SELECT MAX(id) FROM health_checks) - "
                    "(SELECT MIN(id) FROM health_checks) + 1, 0)");
            q.step();
            span = q.integer(0);
        }
        if (span <= max_health_checks_) return;
        Query q(*this,
                "DELETE FROM health_checks WHERE id < "
                "(SELECT id FROM health_checks ORDER BY id DESC LIMIT 1 OFFSET ?1)");
        q.bind_int(1, max_health_checks_ - 1).run();
    }

    std::optional<EndpointRecord> find_endpoint(std::string_view name) {
        Query q(*this,
                std::string("SELECT ") + kEndpointColumns + " FROM endpoints WHERE name = ?1");
        if (!q.bind_text(1, name).step()) return std::nullopt;
        return read_endpoint(q);
    }

    EndpointRecord read_endpoint(const Query& q) {
        EndpointRecord r;
        auto& e = r.config;
        e.name = q.text(0);
        r.id = q.text(1);
        e.base_url = q.text(2);
        e.api_key = secrets().open(q.text(3));
        const auto kind = config::parse_endpoint_kind(q.text(4));
        const auto auth = config::parse_auth_mode(q.text(5));
        if (!kind || !auth) fail_data("endpoint " + e.name + " has an unknown kind or auth mode");
        e.kind = *kind;
        e.auth = *auth;
        e.tier = static_cast<int>(q.integer(6));
        e.weight = static_cast<int>(q.integer(7));
        e.enabled = q.integer(8) != 0;
        e.tls_verify = q.integer(9) != 0;
        {
            Query map(*this, "SELECT key, value FROM json_each(?1) ORDER BY id");
            map.bind_text(1, q.text(10));
            while (map.step()) e.model_map.emplace_back(map.text(0), map.text(1));
        }
        auto millis = [&](int column) -> std::optional<config::Millis> {
            if (q.is_null(column)) return std::nullopt;
            return config::Millis(q.integer(column));
        };
        e.connect_timeout = millis(11);
        e.first_byte_timeout = millis(12);
        e.idle_timeout = millis(13);
        {
            Query tags(*this, "SELECT value FROM json_each(?1) ORDER BY id");
            tags.bind_text(1, q.text(14));
            while (tags.step()) e.tags.push_back(tags.text(0));
        }
        r.created_at = q.integer(15);
        r.updated_at = q.integer(16);
        return r;
    }

    // The credential sealer, resolved on first use so that a store used only for the request log
    // or settings never needs the master key (and an unreadable key file fails the endpoint
    // operations with SecretBox's message instead of every open). Called with mu_ held or from
    // the constructor.
    const SecretBox& secrets() {
        if (!secrets_) {
            if (path_ == kMemory) {
                secrets_ = std::make_shared<const SecretBox>(SecretBox::ephemeral());
            } else {
                auto dir = std::filesystem::path(path_).parent_path();
                if (dir.empty()) dir = ".";
                secrets_ =
                    std::make_shared<const SecretBox>(SecretBox::load_or_create(dir.string()));
            }
        }
        return *secrets_;
    }

    // Credentials written by builds before sealing existed ("plain:<secret>") are sealed in
    // place, once, when the store opens; the plaintext is read back through SecretBox::open so a
    // row that is neither form fails loudly instead of being sealed as garbage.
    void reseal_plain_credentials() {
        constexpr const char* kPlainRows =
            "SELECT name, api_key FROM endpoints WHERE substr(api_key, 1, 6) = 'plain:'";
        {
            Query probe(*this, kPlainRows);
            if (!probe.step()) return;
        }
        const SecretBox& box = secrets();
        Transaction tx(*this);
        std::vector<std::pair<std::string, std::string>> rows;
        {
            Query q(*this, kPlainRows);  // again, under the write lock
            while (q.step()) rows.emplace_back(q.text(0), q.text(1));
        }
        Query update(*this, "UPDATE endpoints SET api_key = ?2 WHERE name = ?1");
        for (const auto& [name, stored] : rows) {
            update.bind_text(1, name).bind_text(2, box.seal(box.open(stored))).run();
            update.reset();
        }
        tx.commit();
        if (!rows.empty()) {
            spdlog::info("sqlite store {}: sealed {} stored credential(s) with the master key",
                         path_, rows.size());
        }
    }

    RequestRecord read_request(const Query& q) const {
        RequestRecord r;
        r.id = q.integer(0);
        r.ts_unix_ms = q.integer(1);
        r.request_id = q.text(2);
        r.method = q.text(3);
        r.path = q.text(4);
        r.client_key = q.text(5);
        r.session_key = q.text(6);
        r.endpoint = q.text(7);
        r.attempts = static_cast<int>(q.integer(8));
        r.tried = q.text(9);
        r.model_requested = q.text(10);
        r.model_sent = q.text(11);
        r.stream = q.integer(12) != 0;
        r.status = static_cast<int>(q.integer(13));
        r.error_class = q.text(14);
        r.ttfb_ms = q.is_null(15) ? -1 : q.integer(15);
        r.total_ms = q.integer(16);
        r.input_tokens = q.integer(17);
        r.output_tokens = q.integer(18);
        r.cache_creation_tokens = q.integer(19);
        r.cache_read_tokens = q.integer(20);
        r.cost_usd = q.real(21);
        r.bytes_in = q.integer(22);
        r.bytes_out = q.integer(23);
        return r;
    }

    // Rows with from <= ts < to (0 = unbounded), counting no further than `cap`; reads at most
    // `cap` index entries.
    std::int64_t count_ts_range(std::int64_t from, std::int64_t to, std::int64_t cap) {
        Query q(*this,
                "SELECT COUNT(*) FROM (SELECT 1 FROM request_log WHERE ts >= ?1 AND ts < ?2 "
                "LIMIT ?3)");
        q.bind_int(1, from != 0 ? from : std::numeric_limits<std::int64_t>::min())
            .bind_int(2, to != 0 ? to : std::numeric_limits<std::int64_t>::max())
            .bind_int(3, cap);
        q.step();
        return q.integer(0);
    }

    // Results are ordered by id. A time range is read through the ts index only when sorting it
    // is cheap; otherwise SQLite is made ("+ts": no index for the term) to walk ids backwards
    // from the newest and filter, which finds a page at once in recent ranges but must skip
    // every row newer than `to` first.
    bool use_ts_index(const RequestQuery& rq) {
        if (rq.from_unix_ms == 0 && rq.to_unix_ms == 0) return false;
        const std::int64_t in_range =
            count_ts_range(rq.from_unix_ms, rq.to_unix_ms, kSortableTimeRange);
        if (in_range < kNarrowTimeRange) return true;
        if (in_range >= kSortableTimeRange || rq.to_unix_ms == 0) return false;
        return count_ts_range(rq.to_unix_ms, 0, in_range + 1) > in_range;
    }

    static std::int64_t bucket_of(const StatsQuery& sq, std::int64_t t) {
        return sq.bucket_ms == 0 ? 0 : floor_to(t, sq.bucket_ms);
    }

    // Adds the raw rows with from <= ts < to to `groups`.
    void fold_raw(const StatsQuery& sq, std::int64_t from, std::int64_t to,
                  std::map<StatsKey, RequestTotals>& groups) {
        if (from >= to) return;
        Query q(*this, std::string("SELECT ts, ") + raw_group_sql(sq.by) + ", " + kSuccessSql +
                           ", attempts, total_ms, ttfb_ms, input_tokens, output_tokens, "
                           "cache_creation_tokens, cache_read_tokens, cost_usd "
                           "FROM request_log WHERE ts >= ?1 AND ts < ?2");
        q.bind_int(1, from).bind_int(2, to);
        StatsKey key;
        RequestTotals* totals = nullptr;
        while (q.step()) {
            const std::int64_t bucket = bucket_of(sq, q.integer(0));
            const std::string_view group = q.bytes(1);
            // Consecutive rows often share a group: skip the map lookup then.
            if (totals == nullptr || key.first != bucket || key.second != group) {
                key = StatsKey(bucket, std::string(group));
                totals = &groups[key];
            }
            totals->add_row(q.integer(2) != 0, static_cast<int>(q.integer(3)), q.integer(4),
                            q.is_null(5) ? -1 : q.integer(5), q.integer(6), q.integer(7),
                            q.integer(8), q.integer(9), q.real(10));
        }
    }

    // Adds the roll-ups of the hours first_hour <= hour < end_hour to `groups`.
    void fold_rollups(const StatsQuery& sq, std::int64_t first_hour, std::int64_t end_hour,
                      std::map<StatsKey, RequestTotals>& groups) {
        Query q(*this, std::string("SELECT hour, ") + rollup_group_sql(sq.by) +
                           ", count, successes, failovers, input_tokens, output_tokens, "
                           "cache_creation_tokens, cache_read_tokens, cost_usd, latency_hist, "
                           "ttfb_hist FROM request_rollups WHERE hour >= ?1 AND hour < ?2");
        q.bind_int(1, first_hour).bind_int(2, end_hour);
        StatsKey key;
        RequestTotals* t = nullptr;
        while (q.step()) {
            const std::int64_t bucket = bucket_of(sq, q.integer(0));
            const std::string_view group = q.bytes(1);
            if (t == nullptr || key.first != bucket || key.second != group) {
                key = StatsKey(bucket, std::string(group));
                t = &groups[key];
            }
            t->count += q.integer(2);
            t->successes += q.integer(3);
            t->failovers += q.integer(4);
            t->input_tokens += q.integer(5);
            t->output_tokens += q.integer(6);
            t->cache_creation_tokens += q.integer(7);
            t->cache_read_tokens += q.integer(8);
            t->cost_usd += q.real(9);
            if (!t->latency.merge_encoded(q.bytes(10)) || !t->ttfb.merge_encoded(q.bytes(11))) {
                fail_data("request_rollups: malformed latency histogram at hour " +
                          std::to_string(q.integer(0)));
            }
        }
    }

    // Runs `sql` (a DELETE taking the cut-off as ?1 and the chunk size as ?2) in transactions of
    // at most kCleanupChunk rows until it deletes fewer; the lock is released between chunks so
    // the request writer is never held up for long. Returns the rows deleted.
    std::size_t delete_in_chunks(const char* sql, std::int64_t cutoff) {
        std::size_t total = 0;
        while (true) {
            std::lock_guard lock(mu_);
            Transaction tx(*this);
            Query q(*this, sql);
            q.bind_int(1, cutoff).bind_int(2, kCleanupChunk).run();
            const auto deleted = sqlite3_changes64(db_);
            tx.commit();
            total += static_cast<std::size_t>(deleted);
            if (deleted < kCleanupChunk) return total;
        }
    }

    [[noreturn]] void fail_data(const std::string& what) const {
        throw std::runtime_error("sqlite store " + path_ + ": " + what);
    }

    std::string path_;
    std::int64_t max_events_;
    std::int64_t max_health_checks_;
    std::shared_ptr<const SecretBox> secrets_;  // resolved on first use, see secrets()
    sqlite3* db_ = nullptr;
    std::mutex mu_;
    std::unordered_map<std::string, StmtPtr> stmts_;  // keyed by SQL text
};

}  // namespace

std::unique_ptr<Store> open_sqlite(const std::string& path) { return open_sqlite(path, {}); }

std::unique_ptr<Store> open_sqlite(const std::string& path, const SqliteOptions& options) {
    if (options.max_events == 0) {
        throw std::invalid_argument("sqlite store " + path + ": max_events must be at least 1");
    }
    if (options.max_health_checks == 0) {
        throw std::invalid_argument("sqlite store " + path +
                                    ": max_health_checks must be at least 1");
    }
    return std::make_unique<SqliteStore>(path, options);
}

bool is_success(const RequestRecord& r) {
    return r.status >= 200 && r.status < 400 && r.error_class.empty();
}

std::optional<GroupBy> parse_group_by(std::string_view s) {
    for (const GroupBy g : {GroupBy::kNone, GroupBy::kEndpoint, GroupBy::kModel,
                            GroupBy::kClientKey, GroupBy::kSession}) {
        if (s == to_string(g)) return g;
    }
    return std::nullopt;
}

std::string_view to_string(GroupBy g) {
    switch (g) {
        case GroupBy::kNone:
            return "none";
        case GroupBy::kEndpoint:
            return "endpoint";
        case GroupBy::kModel:
            return "model";
        case GroupBy::kClientKey:
            return "key";
        case GroupBy::kSession:
            return "session";
    }
    return "none";
}

std::string endpoint_id(std::string_view base_url, std::string_view credential) {
    std::string input(base_url);
    input += '\n';
    input += credential;
    return crypto::sha256_hex(input).substr(0, 16);
}

}  // namespace qcc::store
