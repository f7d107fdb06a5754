// The store: one class implementing every store interface over one SQL connection (sql::Db,
// SQLite or PostgreSQL). Its methods are defined one file per concern: config.cpp (endpoints,
// keys, settings), state.cpp (endpoint states, bindings), history.cpp (events, health checks),
// request_log.cpp (rows, roll-ups, stats, cleanup). Internal to the store module: others use
// store::open_sqlite() / open_postgres() / open_store().
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "store/sql/db.hpp"
#include "store/store.hpp"

namespace qcc::store::sql {

class SqlStore final : public Store {
  public:
    SqlStore(std::unique_ptr<Db> db, const StoreOptions& options);
    ~SqlStore() override = default;
    SqlStore(const SqlStore&) = delete;
    SqlStore& operator=(const SqlStore&) = delete;

    std::unique_ptr<Store> second_connection() override;
    std::unique_ptr<ChangeListener> change_listener() override { return db_.change_listener(); }

    // ConfigStore (config.cpp)
    std::vector<EndpointRecord> list_endpoints() override;
    EndpointRecord upsert_endpoint(const config::EndpointConfig& e) override;
    bool remove_endpoint(std::string_view name) override;
    std::vector<ClientKeyRecord> list_client_keys() override;
    bool set_client_key_limits(std::string_view name, std::string_view limits_json) override;
    void upsert_client_key(std::string_view name, std::string_view key_hash,
                           std::string_view prefix) override;
    bool revoke_client_key(std::string_view name) override;
    std::optional<std::string> get_setting(std::string_view key) override;
    void set_setting(std::string_view key, std::string_view value) override;
    std::int64_t data_version() override;

    // StateStore (state.cpp)
    void save_endpoint_states(const std::vector<EndpointStateRecord>& states) override;
    std::vector<EndpointStateRecord> load_endpoint_states() override;
    void save_bindings(const std::vector<BindingRecord>& bindings) override;
    std::size_t delete_bindings_before(std::int64_t unix_ms) override;
    std::vector<BindingRecord> load_bindings() override;
    void heartbeat_instance(const InstanceRecord& r) override;
    void remove_instance(std::string_view id) override;
    std::vector<InstanceRecord> list_instances() override;
    void append_signals(const std::vector<SignalRecord>& signals) override;
    std::vector<SignalRecord> load_signals_since(std::int64_t ts_unix_ms) override;
    void save_ui_session(std::string_view hash, std::int64_t expires_unix_ms) override;
    void delete_ui_session(std::string_view hash) override;
    std::vector<std::pair<std::string, std::int64_t>> load_ui_sessions(
        std::int64_t now_unix_ms) override;

    // HistoryStore (history.cpp)
    void append_events(const std::vector<EventRecord>& events) override;
    std::vector<EventRecord> recent_events(std::size_t limit, std::string_view endpoint) override;
    void append_health_checks(const std::vector<HealthCheckRecord>& checks) override;
    std::vector<HealthCheckRecord> recent_health_checks(std::size_t limit,
                                                        std::string_view endpoint) override;

    // RequestLogStore (request_log.cpp)
    void append_requests(std::vector<RequestRecord>& rows) override;
    std::vector<RequestRecord> query_requests(const RequestQuery& rq) override;
    std::optional<RequestRecord> get_request(std::int64_t id) override;
    std::vector<StatsRow> stats(const StatsQuery& sq) override;
    CleanupResult cleanup(std::int64_t now_unix_ms, const RetentionPolicy& p) override;
    std::int64_t count_requests() override;
    void add_unauthorized(std::int64_t unix_ms, std::int64_t n) override;
    std::int64_t count_unauthorized(std::int64_t from_unix_ms, std::int64_t to_unix_ms) override;

  private:
    std::optional<EndpointRecord> find_endpoint(std::string_view name);
    EndpointRecord read_endpoint(const Query& q);
    void decode_model_map(const std::string& text,
                          std::vector<std::pair<std::string, std::string>>& out) const;
    void decode_list(const std::string& text, std::vector<std::string>& out) const;
    // The credential sealer, resolved on first use so that a store used only for the request log
    // or settings never needs the master key. Called with the connection's mutex held or from the
    // constructor.
    const SecretBox& secrets();
    void reseal_plain_credentials();

    std::unique_ptr<Db> owned_db_;
    Db& db_;
    std::int64_t max_events_;
    std::int64_t max_health_checks_;
    std::shared_ptr<const SecretBox> secrets_;  // see secrets()
    // The request log's INSERT texts by row count (append_requests, under db_.mu()).
    std::map<std::size_t, std::string> insert_sql_;
    StoreOptions options_;  // as opened (for second_connection())
};

/// Throws std::invalid_argument when a bound of `options` is 0; `what` names the store.
void check_bounds(const std::string& what, const StoreOptions& options);

}  // namespace qcc::store::sql
