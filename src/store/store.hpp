// QCC's persistent state behind one interface per concern (configuration, resilience state,
// history, request log), so that a backend implements each and a caller depends only on the part
// it uses. SQLite is the embedded default. Not for the data path: every call blocks on I/O.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "store/change_listener.hpp"
#include "store/config_store.hpp"
#include "store/history_store.hpp"
#include "store/records.hpp"
#include "store/request_log_store.hpp"
#include "store/state_store.hpp"

namespace qcc::store {

class SecretBox;

/// Every part of the store in one object (what a backend provides). Thread-safe.
class Store : public ConfigStore, public StateStore, public HistoryStore, public RequestLogStore {
  public:
    ~Store() override = default;

    /// The same data on a database connection of its own, for a thread that should not wait
    /// behind the others' queries (the request-log writer): PostgreSQL serves several connections
    /// at once. Null where a second connection gains nothing (SQLite takes one writer at a time)
    /// or the store is not a database of its own (test doubles). Throws when connecting fails.
    virtual std::unique_ptr<Store> second_connection() { return nullptr; }
    /// Announcements of the configuration changes and endpoint signals other instances write
    /// (PostgreSQL), on a connection of its own. Null where nothing announces them (SQLite, test
    /// doubles): readers poll. Throws when connecting fails.
    virtual std::unique_ptr<ChangeListener> change_listener() { return nullptr; }
};

/// Tuning of a store; the defaults are what production uses.
struct StoreOptions {
    /// Upper bound on rows in the events table; at least 1 (tests use small bounds).
    std::size_t max_events = kDefaultMaxEvents;
    /// Upper bound on rows in the health_checks table; at least 1.
    std::size_t max_health_checks = kDefaultMaxHealthChecks;
    /// Seals endpoint credentials. SQLite: null = SecretBox::load_or_create(<directory of the
    /// database file>) on first use (SecretBox::ephemeral() for ":memory:"). PostgreSQL: required
    /// (every instance sharing the database needs the same master key).
    std::shared_ptr<const SecretBox> secrets;
};
using SqliteOptions = StoreOptions;

/// Opens (creating if needed) the SQLite store: parent directory created 0700, file 0600, WAL,
/// synchronous=NORMAL, busy_timeout 5000 ms, auto_vacuum=INCREMENTAL when the file is new, schema
/// migrations applied, credentials still in the legacy "plain:" form re-sealed. ":memory:" opens a
/// private in-memory database (tests). Throws std::runtime_error with the path and SQLite's
/// message.
std::unique_ptr<Store> open_sqlite(const std::string& path);
/// As open_sqlite(path), with explicit options; throws std::invalid_argument when max_events or
/// max_health_checks is 0.
std::unique_ptr<Store> open_sqlite(const std::string& path, const SqliteOptions& options);

/// True for a PostgreSQL connection URL (postgres://… or postgresql://…).
bool is_postgres_url(std::string_view location);

/// Opens the PostgreSQL store at a libpq connection URL: the schema's migrations applied (one
/// instance at a time, under an advisory lock), statements prepared once per connection, a lost
/// connection re-established on the next call. Throws std::invalid_argument when
/// options.secrets is null or a bound is 0; std::runtime_error (naming the server, never the
/// password) when the database cannot be reached or its schema is newer than this build.
std::unique_ptr<Store> open_postgres(const std::string& url, const StoreOptions& options);

/// The URL with its password replaced by "***" (for messages and logs).
std::string redact_url(std::string_view url);

/// Stable endpoint id: first 16 hex chars of sha256(base_url + "\n" + credential).
std::string endpoint_id(std::string_view base_url, std::string_view credential);

}  // namespace qcc::store
