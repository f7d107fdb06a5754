// SqlStore, resilience-state part: endpoint states and session bindings.
#include <cmath>

#include "store/sql/sql_store.hpp"

namespace qcc::store::sql {

void SqlStore::save_endpoint_states(const std::vector<EndpointStateRecord>& states) {
    if (states.empty()) return;
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    const std::int64_t now = now_ms();
    Query q(db_,
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

std::vector<EndpointStateRecord> SqlStore::load_endpoint_states() {
    std::lock_guard lock(db_.mu());
    std::vector<EndpointStateRecord> out;
    // NULL columns read as 0 / "" (sqlite3_column_* convert NULL that way).
    Query q(db_,
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

void SqlStore::save_bindings(const std::vector<BindingRecord>& bindings) {
    if (bindings.empty()) return;
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    Query q(db_,
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

std::size_t SqlStore::delete_bindings_before(std::int64_t unix_ms) {
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    Query q(db_, "DELETE FROM session_bindings WHERE last_used < ?1");
    q.bind_int(1, unix_ms).run();
    const auto deleted = static_cast<std::size_t>(db_.changes());
    tx.commit();
    return deleted;
}

std::vector<BindingRecord> SqlStore::load_bindings() {
    std::lock_guard lock(db_.mu());
    std::vector<BindingRecord> out;
    Query q(db_,
            "SELECT session_key, endpoint_id, last_used FROM session_bindings "
            "ORDER BY last_used, session_key");
    while (q.step()) out.push_back({q.text(0), q.text(1), q.integer(2)});
    return out;
}

void SqlStore::heartbeat_instance(const InstanceRecord& r) {
    std::lock_guard lock(db_.mu());
    Query q(db_,
            "INSERT INTO instances (id, address, version, started_at, heartbeat_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
            "address = excluded.address, version = excluded.version, "
            "heartbeat_at = excluded.heartbeat_at");
    q.bind_text(1, r.id)
        .bind_text(2, r.address)
        .bind_text(3, r.version)
        .bind_int(4, r.started_at_unix_ms)
        .bind_int(5, r.heartbeat_unix_ms)
        .run();
}

void SqlStore::remove_instance(std::string_view id) {
    std::lock_guard lock(db_.mu());
    Query q(db_, "DELETE FROM instances WHERE id = ?1");
    q.bind_text(1, id).run();
}

std::vector<InstanceRecord> SqlStore::list_instances() {
    std::lock_guard lock(db_.mu());
    std::vector<InstanceRecord> out;
    Query q(db_,
            "SELECT id, address, version, started_at, heartbeat_at FROM instances ORDER BY id");
    while (q.step()) out.push_back({q.text(0), q.text(1), q.text(2), q.integer(3), q.integer(4)});
    return out;
}

void SqlStore::append_signals(const std::vector<SignalRecord>& signals) {
    if (signals.empty()) return;
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    const std::int64_t now = now_ms();
    Query q(db_,
            "INSERT INTO endpoint_signals (ts, instance, endpoint_id, kind, until_ms, reason) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    for (const auto& s : signals) {
        q.bind_int(1, s.ts_unix_ms != 0 ? s.ts_unix_ms : now)
            .bind_text(2, s.instance)
            .bind_text(3, s.endpoint_id)
            .bind_text(4, s.kind)
            .bind_int(5, s.until_unix_ms)
            .bind_text(6, s.reason)
            .run();
        q.reset();
    }
    db_.announce_change();
    tx.commit();
}

std::vector<SignalRecord> SqlStore::load_signals_since(std::int64_t ts_unix_ms) {
    std::lock_guard lock(db_.mu());
    std::vector<SignalRecord> out;
    Query q(db_,
            "SELECT id, ts, instance, endpoint_id, kind, until_ms, reason FROM endpoint_signals "
            "WHERE ts >= ?1 ORDER BY id");
    q.bind_int(1, ts_unix_ms);
    while (q.step()) {
        out.push_back(SignalRecord{q.integer(0), q.integer(1), q.text(2), q.text(3), q.text(4),
                                   q.integer(5), q.text(6)});
    }
    return out;
}

void SqlStore::save_ui_session(std::string_view hash, std::int64_t expires_unix_ms) {
    std::lock_guard lock(db_.mu());
    Query q(db_,
            "INSERT INTO ui_sessions (hash, expires) VALUES (?1, ?2) "
            "ON CONFLICT (hash) DO UPDATE SET expires = excluded.expires");
    q.bind_text(1, hash).bind_int(2, expires_unix_ms).run();
}

void SqlStore::delete_ui_session(std::string_view hash) {
    std::lock_guard lock(db_.mu());
    Query q(db_, "DELETE FROM ui_sessions WHERE hash = ?1");
    q.bind_text(1, hash).run();
}

std::vector<std::pair<std::string, std::int64_t>> SqlStore::load_ui_sessions(
    std::int64_t now_unix_ms) {
    std::lock_guard lock(db_.mu());
    {
        Query del(db_, "DELETE FROM ui_sessions WHERE expires <= ?1");
        del.bind_int(1, now_unix_ms).run();
    }
    std::vector<std::pair<std::string, std::int64_t>> out;
    Query q(db_, "SELECT hash, expires FROM ui_sessions ORDER BY expires");
    while (q.step()) out.emplace_back(q.text(0), q.integer(1));
    return out;
}

}  // namespace qcc::store::sql
