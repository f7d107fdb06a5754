// SqlStore: construction (connection, bounds, credential re-sealing) and the open_*() functions.
#include "store/sql/sql_store.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "store/sqlite/db.hpp"

namespace qcc::store {

namespace sql {

namespace {
std::int64_t bound(std::size_t n) {
    return static_cast<std::int64_t>(
        std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}
}  // namespace

SqlStore::SqlStore(std::unique_ptr<Db> db, const StoreOptions& options)
    : owned_db_(std::move(db)),
      db_(*owned_db_),
      max_events_(bound(options.max_events)),
      max_health_checks_(bound(options.max_health_checks)),
      secrets_(options.secrets),
      options_(options) {
    reseal_plain_credentials();
}

std::unique_ptr<Store> SqlStore::second_connection() {
    auto db = db_.connect_again();
    if (!db) return nullptr;
    auto options = options_;
    {
        std::lock_guard lock(db_.mu());
        if (!options.secrets) options.secrets = secrets_;
    }
    return std::make_unique<SqlStore>(std::move(db), options);
}

void check_bounds(const std::string& what, const StoreOptions& options) {
    if (options.max_events == 0) {
        throw std::invalid_argument(what + ": max_events must be at least 1");
    }
    if (options.max_health_checks == 0) {
        throw std::invalid_argument(what + ": max_health_checks must be at least 1");
    }
}

}  // namespace sql

std::unique_ptr<Store> open_sqlite(const std::string& path) { return open_sqlite(path, {}); }

std::unique_ptr<Store> open_sqlite(const std::string& path, const StoreOptions& options) {
    sql::check_bounds("sqlite store " + path, options);
    return std::make_unique<sql::SqlStore>(std::make_unique<sqlite::SqliteDb>(path), options);
}

}  // namespace qcc::store
