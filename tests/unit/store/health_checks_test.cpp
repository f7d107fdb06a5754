// Store: the health_checks table (SPEC §7) — round trip, ordering, filtering, the row bound,
// atomic batches, persistence (on every backend) and the upgrade from schema version 2 (SQLite).
#include <chrono>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "backends.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"
#include "temp_db.hpp"

namespace qcc::store {
namespace {

namespace fs = std::filesystem;

class HealthCheckStoreTest : public testing::BackendTest {};
QCC_INSTANTIATE_BACKENDS(HealthCheckStoreTest);

// SQLite only: upgrades of files older builds left.
class SqliteHealthCheckStoreTest : public testing::TempDbTest {};

HealthCheckRecord check(std::string endpoint, std::string result, std::int64_t ts = 1000) {
    HealthCheckRecord r;
    r.ts_unix_ms = ts;
    r.endpoint = std::move(endpoint);
    r.method = "conversation";
    r.result = std::move(result);
    r.valid = r.result == "pass";
    r.score = r.valid ? 90 : 0;
    r.latency_ms = 420;
    r.model = "claude-haiku-4-5";
    r.input_tokens = 31;
    r.output_tokens = 5;
    r.error = r.valid ? "" : "reply does not contain the code";
    return r;
}

std::vector<std::string> results(const std::vector<HealthCheckRecord>& records) {
    std::vector<std::string> out;
    out.reserve(records.size());
    for (const auto& r : records) out.push_back(r.endpoint + ":" + r.result);
    return out;
}

TEST_P(HealthCheckStoreTest, RoundTripsEveryFieldNewestFirst) {
    auto store = open();
    auto a = check("relay-a", "pass", 10);
    auto b = check("relay-b", "timeout", 20);
    b.method = "models";
    b.model.clear();  // empty text is stored as NULL and reads back as ""
    b.latency_ms = 5000;
    b.input_tokens = b.output_tokens = 0;
    b.error = "timed out after 5000 ms";
    auto c = check("relay-a", "error", 30);
    c.method = "connect";
    c.score = 0;
    c.error = "connect refused";
    store->append_health_checks({a, b});
    store->append_health_checks({c});

    const auto got = store->recent_health_checks(10);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_GT(got[0].id, got[1].id);
    EXPECT_GT(got[1].id, got[2].id);
    c.id = got[0].id;
    b.id = got[1].id;
    a.id = got[2].id;
    EXPECT_EQ(got[0], c);
    EXPECT_EQ(got[1], b);
    EXPECT_EQ(got[2], a);
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM health_checks WHERE model IS NULL"), "1");
}

TEST_P(HealthCheckStoreTest, FiltersByEndpointAndLimits) {
    auto store = open();
    store->append_health_checks(
        {check("a", "pass"), check("b", "fail"), check("a", "timeout"), check("a", "fail")});
    EXPECT_EQ(results(store->recent_health_checks(2)),
              (std::vector<std::string>{"a:fail", "a:timeout"}));
    EXPECT_EQ(results(store->recent_health_checks(10, "a")),
              (std::vector<std::string>{"a:fail", "a:timeout", "a:pass"}));
    EXPECT_EQ(results(store->recent_health_checks(1, "b")), (std::vector<std::string>{"b:fail"}));
    EXPECT_TRUE(store->recent_health_checks(10, "unknown").empty());
    EXPECT_TRUE(store->recent_health_checks(0).empty());
    EXPECT_EQ(store->recent_health_checks(std::numeric_limits<std::size_t>::max()).size(), 4u);
    store->append_health_checks({});  // an empty batch is a no-op
    EXPECT_EQ(store->recent_health_checks(100).size(), 4u);
}

TEST_P(HealthCheckStoreTest, CheckWithoutTimestampGetsTheAppendTime) {
    auto store = open();
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    store->append_health_checks({check("a", "pass", 0)});
    const auto got = store->recent_health_checks(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_GE(got[0].ts_unix_ms, before);
}

TEST_P(HealthCheckStoreTest, TableIsBoundedOldestFirst) {
    StoreOptions options;
    options.max_health_checks = 3;
    options.max_events = 1;  // independent bounds
    auto store = open(options);
    store->append_health_checks({check("e1", "pass"), check("e2", "pass")});
    store->append_health_checks({check("e3", "pass"), check("e4", "pass"), check("e5", "pass")});
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM health_checks"), "3");
    EXPECT_EQ(results(store->recent_health_checks(10)),
              (std::vector<std::string>{"e5:pass", "e4:pass", "e3:pass"}));

    // A gap left by another deletion must not make the trim drop more than needed.
    raw_query("DELETE FROM health_checks WHERE endpoint = 'e4'");
    store->append_health_checks({check("e6", "fail")});
    EXPECT_EQ(results(store->recent_health_checks(10)),
              (std::vector<std::string>{"e6:fail", "e5:pass", "e3:pass"}));

    // Events keep their own bound.
    store->append_events({{0, 1, "x", "k1", ""}, {0, 2, "x", "k2", ""}});
    EXPECT_EQ(store->recent_events(10).size(), 1u);
    EXPECT_EQ(store->recent_health_checks(10).size(), 3u);
}

TEST_P(HealthCheckStoreTest, DefaultBoundIsOneHundredThousand) {
    EXPECT_EQ(kDefaultMaxHealthChecks, 100'000u);
    EXPECT_EQ(SqliteOptions{}.max_health_checks, kDefaultMaxHealthChecks);
    auto store = open_scratch();
    std::vector<HealthCheckRecord> batch(kDefaultMaxHealthChecks + 2, check("ep", "pass"));
    batch.front().endpoint = "first";
    batch.back().endpoint = "last";
    store->append_health_checks(batch);
    EXPECT_EQ(store->recent_health_checks(1).at(0).endpoint, "last");
    const auto kept = store->recent_health_checks(kDefaultMaxHealthChecks + 10);
    ASSERT_EQ(kept.size(), kDefaultMaxHealthChecks);
    EXPECT_EQ(kept.back().id, 3);  // ids 1 ("first") and 2 went
}

TEST_P(HealthCheckStoreTest, ZeroBoundIsRejected) {
    StoreOptions options;
    options.max_health_checks = 0;
    EXPECT_THROW((void)open(options), std::invalid_argument);
}

TEST_P(HealthCheckStoreTest, BatchIsAllOrNothing) {
    auto store = open();
    fail_inserts_when("health_checks", "NEW.endpoint = 'bad'");
    EXPECT_THROW(store->append_health_checks({check("good", "pass"), check("bad", "pass")}),
                 std::runtime_error);
    EXPECT_TRUE(store->recent_health_checks(10).empty());
    store->append_health_checks({check("good", "pass")});
    EXPECT_EQ(store->recent_health_checks(10).size(), 1u);
}

TEST_P(HealthCheckStoreTest, SurvivesReopenAndDoesNotChangeDataVersion) {
    {
        auto store = open();
        store->append_health_checks({check("a", "pass", 7)});
        EXPECT_EQ(store->data_version(), 0);
    }
    auto store = open();
    const auto got = store->recent_health_checks(10);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].ts_unix_ms, 7);
    store->append_health_checks({check("a", "fail")});
    EXPECT_GT(store->recent_health_checks(1).at(0).id, got[0].id);
    EXPECT_EQ(store->data_version(), 0);
}

TEST_F(SqliteHealthCheckStoreTest, UpgradesDatabaseFromSchemaVersion2) {
    ASSERT_GE(migrations().size(), 3u);
    {
        // A database as written by a build that knew migrations 1 and 2, with an event in it.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
        const std::string v2 =
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT "
            "NULL);" +
            std::string(migrations()[0]) + std::string(migrations()[1]) +
            "INSERT INTO schema_version (version, applied_at) VALUES (1, 0), (2, 0);"
            "INSERT INTO events (ts, endpoint_id, kind, detail) VALUES (5, 'ep', 'release', '');";
        char* error = nullptr;
        const int rc = sqlite3_exec(db, v2.c_str(), nullptr, nullptr, &error);
        EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
        sqlite3_free(error);
        sqlite3_close(db);
        ASSERT_EQ(rc, SQLITE_OK);
    }
    auto store = open_sqlite(db_path_);
    EXPECT_EQ(raw_query("SELECT MAX(version) FROM schema_version"),
              std::to_string(migrations().size()));
    EXPECT_EQ(store->recent_events(10).size(), 1u);
    EXPECT_TRUE(store->recent_health_checks(10).empty());
    store->append_health_checks({check("ep", "pass")});
    EXPECT_EQ(store->recent_health_checks(10, "ep").size(), 1u);
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                        "name = 'health_checks_by_endpoint'"),
              "1");
}

}  // namespace
}  // namespace qcc::store
