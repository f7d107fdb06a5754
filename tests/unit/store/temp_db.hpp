// Test fixture for store tests: a fresh private directory per test (removed afterwards), the
// path of a database file inside it, and a way to look at that file with plain SQL.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "support/temp_dir.hpp"

namespace qcc::store::testing {

/// Runs SQL on its own connection to the SQLite file at `path`; returns the first column of the
/// first row ("" if none). An SQL error fails the test.
inline std::string sqlite_raw_query(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string result;
    char* error = nullptr;
    const int rc = sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int, char** values, char**) {
            if (values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
            return 0;
        },
        &result, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "") << " in " << sql;
    sqlite3_free(error);
    sqlite3_close(db);
    return result;
}

class TempDbTest : public ::testing::Test {
  protected:
    /// `db_subpath` is where the database lives below the directory (deeper paths make the store
    /// create its own private directories).
    explicit TempDbTest(std::string db_subpath = "qcc.db") : db_subpath_(std::move(db_subpath)) {}

    void SetUp() override {
        dir_.emplace("qcc-store-test");
        root_ = dir_->path();
        db_path_ = (root_ / db_subpath_).string();
    }
    void TearDown() override { dir_.reset(); }

    /// Runs SQL on its own connection; returns the first column of the first row ("" if none).
    /// An SQL error fails the test.
    std::string raw_query(const std::string& sql) const { return sqlite_raw_query(db_path_, sql); }

    std::filesystem::path root_;
    std::string db_path_;

  private:
    std::optional<test::TempDir> dir_;
    std::string db_subpath_;
};

}  // namespace qcc::store::testing
