// Test helper: a database file as an older build left it, to exercise migrations on open.
#pragma once
#include <cstddef>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/migrations.hpp"

namespace qcc::store::testing {

/// Creates `path` with the first `version` migrations applied the way the store applies them
/// (no auto_vacuum, as every build before schema 5), then runs `extra_sql` (e.g. rows in the old
/// form). Fails the test on any SQLite error.
inline void create_legacy_db(const std::string& path, std::size_t version,
                             const std::string& extra_sql = {}) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string sql =
        "PRAGMA journal_mode=WAL; CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
        "applied_at INTEGER NOT NULL);";
    for (std::size_t i = 0; i < version; ++i) {
        sql += std::string(migrations()[i]);
        sql += "INSERT INTO schema_version (version, applied_at) VALUES (" + std::to_string(i + 1) +
               ", 0);";
    }
    sql += extra_sql;
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
}

}  // namespace qcc::store::testing
