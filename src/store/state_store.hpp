// Resilience state that must survive a restart: each endpoint's breaker, cooldown, quarantine and
// adaptive weight, and the session bindings. Changes with traffic, so it is not counted in the
// configuration's data_version.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/records.hpp"

namespace qcc::store {

/// Endpoint states and session bindings. Thread-safe; blocking; throws std::runtime_error.
class StateStore {
  public:
    virtual ~StateStore() = default;
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

    /// Fleet membership (instances sharing this store): inserts or refreshes `r` by id.
    virtual void heartbeat_instance(const InstanceRecord& r) = 0;
    virtual void remove_instance(std::string_view id) = 0;
    /// Every registered instance, by id (stale ones too: the caller decides which are live).
    virtual std::vector<InstanceRecord> list_instances() = 0;

    /// Resilience decisions shared between instances (cooldowns, quarantines, releases).
    virtual void append_signals(const std::vector<SignalRecord>& signals) = 0;
    /// The signals recorded at or after `ts_unix_ms`, oldest first.
    virtual std::vector<SignalRecord> load_signals_since(std::int64_t ts_unix_ms) = 0;

    /// Dashboard sessions (the SHA-256 of the cookie, never the cookie; expiry in Unix ms): saved
    /// at login, deleted at logout, loaded at start so that a restart keeps browsers logged in.
    virtual void save_ui_session(std::string_view hash, std::int64_t expires_unix_ms) = 0;
    virtual void delete_ui_session(std::string_view hash) = 0;
    /// The sessions that expire after `now_unix_ms` (expired ones are deleted).
    virtual std::vector<std::pair<std::string, std::int64_t>> load_ui_sessions(
        std::int64_t now_unix_ms) = 0;
};

}  // namespace qcc::store
