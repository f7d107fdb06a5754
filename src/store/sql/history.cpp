// SqlStore, history part: state-change events and health-check results, each table trimmed to
// its bound in the transaction that appends to it.
#include <algorithm>
#include <limits>

#include "store/sql/sql_store.hpp"

namespace qcc::store::sql {

namespace {

// Keeps the newest max_events_ rows. ids grow by one per insert, so the id span bounds the row
// count from above and is O(log n) to read; only past the bound do we walk the index to find
// the exact cut-off (gaps left by other deletions must not make us drop too much).
void trim_events(Db& db_, std::int64_t max_events_) {
    std::int64_t span = 0;
    {
        Query q(db_,
                "SELECT COALESCE((SELECT MAX(id) FROM events) - (SELECT MIN(id) FROM events) "
                "+ 1, 0)");
        q.step();
        span = q.integer(0);
    }
    if (span <= max_events_) return;
    Query q(db_,
            "DELETE FROM events WHERE id < "
            "(SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1)");
    q.bind_int(1, max_events_ - 1).run();
}

// Keeps the newest max_health_checks_ rows, the same way trim_events does.
void trim_health_checks(Db& db_, std::int64_t max_health_checks_) {
    std::int64_t span = 0;
    {
        Query q(db_,
                "SELECT COALESCE((SELECT MAX(id) FROM health_checks) - "
                "(SELECT MIN(id) FROM health_checks) + 1, 0)");
        q.step();
        span = q.integer(0);
    }
    if (span <= max_health_checks_) return;
    Query q(db_,
            "DELETE FROM health_checks WHERE id < "
            "(SELECT id FROM health_checks ORDER BY id DESC LIMIT 1 OFFSET ?1)");
    q.bind_int(1, max_health_checks_ - 1).run();
}

}  // namespace

void SqlStore::append_events(const std::vector<EventRecord>& events) {
    if (events.empty()) return;
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    const std::int64_t now = now_ms();
    {
        Query q(db_, "INSERT INTO events (ts, endpoint_id, kind, detail) VALUES (?1, ?2, ?3, ?4)");
        for (const auto& e : events) {
            q.bind_int(1, e.ts_unix_ms != 0 ? e.ts_unix_ms : now)
                .bind_text_or_null(2, e.endpoint)
                .bind_text(3, e.kind)
                .bind_text_or_null(4, e.detail)
                .run();
            q.reset();
        }
    }
    trim_events(db_, max_events_);
    tx.commit();
}

std::vector<EventRecord> SqlStore::recent_events(std::size_t limit, std::string_view endpoint) {
    std::lock_guard lock(db_.mu());
    std::vector<EventRecord> out;
    if (limit == 0) return out;
    const auto bound = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
    // Two statements rather than "?2 = '' OR endpoint_id = ?2", which defeats the index.
    const bool all = endpoint.empty();
    Query q(db_, all ? "SELECT id, ts, endpoint_id, kind, detail FROM events "
                       "ORDER BY id DESC LIMIT ?1"
                     : "SELECT id, ts, endpoint_id, kind, detail FROM events "
                       "WHERE endpoint_id = ?2 ORDER BY id DESC LIMIT ?1");
    q.bind_int(1, bound);
    if (!all) q.bind_text(2, endpoint);
    while (q.step()) out.push_back({q.integer(0), q.integer(1), q.text(2), q.text(3), q.text(4)});
    return out;
}

void SqlStore::append_health_checks(const std::vector<HealthCheckRecord>& checks) {
    if (checks.empty()) return;
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    const std::int64_t now = now_ms();
    {
        Query q(db_,
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
    trim_health_checks(db_, max_health_checks_);
    tx.commit();
}

std::vector<HealthCheckRecord> SqlStore::recent_health_checks(std::size_t limit,
                                                              std::string_view endpoint) {
    std::lock_guard lock(db_.mu());
    std::vector<HealthCheckRecord> out;
    if (limit == 0) return out;
    const auto bound = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
    // Two statements for the same reason as recent_events: keep the endpoint index usable.
    const bool all = endpoint.empty();
    constexpr const char* kColumns =
        "SELECT id, ts, endpoint, method, result, valid, score, latency_ms, model, "
        "input_tokens, output_tokens, error FROM health_checks ";
    Query q(db_, std::string(kColumns) + (all ? "ORDER BY id DESC LIMIT ?1"
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

}  // namespace qcc::store::sql
