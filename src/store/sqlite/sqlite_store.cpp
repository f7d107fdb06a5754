// SqliteStore: construction (connection, bounds, credential re-sealing) and open_sqlite().
#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace qcc::store {

namespace sqlite {

namespace {
std::int64_t bound(std::size_t n) {
    return static_cast<std::int64_t>(
        std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}
}  // namespace

SqliteStore::SqliteStore(std::string path, const SqliteOptions& options)
    : db_(std::move(path)),
      max_events_(bound(options.max_events)),
      max_health_checks_(bound(options.max_health_checks)),
      secrets_(options.secrets) {
    reseal_plain_credentials();
}

}  // namespace sqlite

std::unique_ptr<Store> open_sqlite(const std::string& path) { return open_sqlite(path, {}); }

std::unique_ptr<Store> open_sqlite(const std::string& path, const SqliteOptions& options) {
    if (options.max_events == 0) {
        throw std::invalid_argument("sqlite store " + path + ": max_events must be at least 1");
    }
    if (options.max_health_checks == 0) {
        throw std::invalid_argument("sqlite store " + path +
                                    ": max_health_checks must be at least 1");
    }
    return std::make_unique<sqlite::SqliteStore>(path, options);
}

}  // namespace qcc::store
