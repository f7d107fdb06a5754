// Store tests that run against every backend: a fixture parameterized by the backend that gives
// each test a fresh private place for its database (SQLite: a file in a temporary directory;
// PostgreSQL: a schema of its own in the server named by QCC_TEST_POSTGRES, dropped afterwards),
// opens stores there and looks at the tables with plain SQL.
//
//   class FooTest : public testing::BackendTest {};
//   TEST_P(FooTest, Bar) { auto store = open(); ... }
//   QCC_INSTANTIATE_BACKENDS(FooTest);   // FooTest.Bar/Sqlite and FooTest.Bar/Postgres
//
// Without QCC_TEST_POSTGRES the PostgreSQL instances skip; scripts/test-postgres.sh CMD runs CMD
// with a throwaway server.
#pragma once
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include "store/secret.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "temp_db.hpp"

namespace qcc::store::testing {

enum class Backend { kSqlite, kPostgres };

inline const char* to_string(Backend b) { return b == Backend::kSqlite ? "Sqlite" : "Postgres"; }

/// Names the instances "…/Sqlite" and "…/Postgres".
inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
    return to_string(info.param);
}

inline void PrintTo(Backend b, std::ostream* os) { *os << to_string(b); }

/// The message PostgreSQL instances skip with when there is no server to test against.
inline constexpr const char* kNoPostgresMessage =
    "QCC_TEST_POSTGRES is not set: PostgreSQL store tests skipped";

/// The libpq URL of the PostgreSQL server to test against; "" when there is none.
inline std::string test_postgres_url() {
    const char* url = std::getenv("QCC_TEST_POSTGRES");
    return url != nullptr ? url : "";
}

/// `url` with `param` (key=value, already percent-encoded) added to its query string.
inline std::string with_url_param(const std::string& url, const std::string& param) {
    if (url.empty()) return param;
    const char last = url.back();
    if (last == '?' || last == '&') return url + param;
    return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

inline void ignore_notice(void*, const char*) {}

/// Keeps libpq's notices ("drop cascades to …") out of the test output.
inline void quiet_notices(PGconn* conn) { PQsetNoticeProcessor(conn, ignore_notice, nullptr); }

/// Runs SQL on a connection of its own to the PostgreSQL at `url`; returns the first column of the
/// first row of the last statement's result ("" if none or NULL). An error fails the test.
inline std::string postgres_raw_query(const std::string& url, const std::string& sql) {
    PGconn* conn = PQconnectdb(url.c_str());
    std::string result;
    if (PQstatus(conn) != CONNECTION_OK) {
        ADD_FAILURE() << "cannot connect to PostgreSQL: " << PQerrorMessage(conn);
        PQfinish(conn);
        return result;
    }
    quiet_notices(conn);
    PGresult* res = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_TUPLES_OK) {
        if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
            result.assign(PQgetvalue(res, 0, 0), static_cast<std::size_t>(PQgetlength(res, 0, 0)));
        }
    } else if (status != PGRES_COMMAND_OK) {
        ADD_FAILURE() << PQresultErrorMessage(res) << " in " << sql;
    }
    PQclear(res);
    PQfinish(conn);
    return result;
}

/// Fixture base of the store tests that run on both backends (see the top of this file).
class BackendTest : public ::testing::TestWithParam<Backend> {
  protected:
    /// `db_subpath`: where the SQLite file lives below the test's directory (deeper paths make the
    /// store create its own private directories). Unused for PostgreSQL.
    explicit BackendTest(std::string db_subpath = "qcc.db") : db_subpath_(std::move(db_subpath)) {}

    void SetUp() override {
        if (GetParam() == Backend::kSqlite) {
            dir_.emplace("qcc-store-test");
            root_ = dir_->path();
            db_path_ = (root_ / db_subpath_).string();
            return;
        }
        base_url_ = test_postgres_url();
        if (base_url_.empty()) GTEST_SKIP() << kNoPostgresMessage;
        admin_ = PQconnectdb(base_url_.c_str());
        ASSERT_EQ(PQstatus(admin_), CONNECTION_OK)
            << "cannot connect to QCC_TEST_POSTGRES: " << PQerrorMessage(admin_);
        quiet_notices(admin_);
        static std::atomic<int> counter{0};
        for (int attempt = 0; attempt < 100 && schema_.empty(); ++attempt) {
            const std::string name =
                "qcc_t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
            PGresult* res = PQexec(admin_, ("CREATE SCHEMA " + name).c_str());
            const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            const bool exists = state != nullptr && std::string(state) == "42P06";
            std::string error = PQresultErrorMessage(res);
            PQclear(res);
            // An existing schema: a leftover of a killed run with the same pid; try the next name.
            if (ok) {
                schema_ = name;
            } else if (!exists) {
                FAIL() << "CREATE SCHEMA " << name << ": " << error;
            }
        }
        ASSERT_FALSE(schema_.empty()) << "no free schema name";
        url_ = with_url_param(base_url_, "options=-csearch_path%3D" + schema_);
    }

    void TearDown() override {
        if (admin_ != nullptr) {
            if (!schema_.empty()) {
                PGresult* res = PQexec(admin_, ("DROP SCHEMA " + schema_ + " CASCADE").c_str());
                EXPECT_EQ(PQresultStatus(res), PGRES_COMMAND_OK)
                    << "DROP SCHEMA " << schema_ << ": " << PQresultErrorMessage(res);
                PQclear(res);
            }
            PQfinish(admin_);
            admin_ = nullptr;
        }
        dir_.reset();
    }

    bool is_sqlite() const { return GetParam() == Backend::kSqlite; }
    bool is_postgres() const { return GetParam() == Backend::kPostgres; }

    /// Opens a store at this test's place (every call: a new store on the same data). SQLite:
    /// the options as given. PostgreSQL: a null `secrets` becomes the one SecretBox this test
    /// keeps, so that a reopened store reads the credentials an earlier one sealed.
    std::unique_ptr<Store> open(StoreOptions options = {}) {
        if (is_sqlite()) return open_sqlite(db_path_, options);
        if (options.secrets == nullptr) options.secrets = secrets();
        return open_postgres(url_, options);
    }

    /// A store the test never reopens nor looks at with SQL: SQLite ":memory:" (no file I/O, for
    /// tests with many rows), PostgreSQL as open().
    std::unique_ptr<Store> open_scratch(StoreOptions options = {}) {
        if (is_sqlite()) return open_sqlite(":memory:", options);
        return open(std::move(options));
    }

    /// The SecretBox PostgreSQL stores of this test use unless told otherwise.
    std::shared_ptr<const SecretBox> secrets() {
        if (secrets_ == nullptr) {
            secrets_ = std::make_shared<const SecretBox>(SecretBox::ephemeral());
        }
        return secrets_;
    }

    /// Runs SQL on a connection of its own (PostgreSQL: with this test's schema first on the
    /// search path); returns the first column of the first row ("" if none). An SQL error fails
    /// the test.
    std::string raw_query(const std::string& sql) const {
        return is_sqlite() ? sqlite_raw_query(db_path_, sql) : postgres_raw_query(url_, sql);
    }

    /// Makes every insert into `table` of a row for which `condition` (SQL over NEW) holds fail
    /// with "boom", by a trigger (to check that a batch is written all or nothing).
    void fail_inserts_when(const std::string& table, const std::string& condition) {
        if (is_sqlite()) {
            raw_query("CREATE TRIGGER fail_" + table + " BEFORE INSERT ON " + table + " WHEN " +
                      condition + " BEGIN SELECT RAISE(ABORT, 'boom'); END;");
        } else {
            raw_query(
                "CREATE OR REPLACE FUNCTION qcc_test_fail() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'boom'; END $$;"
                "CREATE TRIGGER fail_" +
                table + " BEFORE INSERT ON " + table + " FOR EACH ROW WHEN (" + condition +
                ") EXECUTE FUNCTION qcc_test_fail();");
        }
    }

    /// SQLite: the test's directory and the database file in it (empty for PostgreSQL).
    std::filesystem::path root_;
    std::string db_path_;
    /// PostgreSQL: the store URL (the server's URL, search_path = schema_) and the schema.
    std::string url_;
    std::string schema_;

  private:
    std::string db_subpath_;
    std::optional<test::TempDir> dir_;
    std::string base_url_;
    PGconn* admin_ = nullptr;
    std::shared_ptr<const SecretBox> secrets_;
};

}  // namespace qcc::store::testing

/// Instantiates the TEST_Ps of `suite` (a BackendTest) once per backend: suite.Test/Sqlite and
/// suite.Test/Postgres.
#define QCC_INSTANTIATE_BACKENDS(suite)                                                    \
    INSTANTIATE_TEST_SUITE_P(, suite,                                                      \
                             ::testing::Values(::qcc::store::testing::Backend::kSqlite,    \
                                               ::qcc::store::testing::Backend::kPostgres), \
                             ::qcc::store::testing::backend_name)
