#include "store/store.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends.hpp"
#include "legacy_db.hpp"
#include "store/migrations.hpp"
#include "store/secret.hpp"
#include "store/sqlite/db.hpp"
#include "temp_db.hpp"

namespace qcc::store {
namespace {

namespace fs = std::filesystem;
using config::AuthMode;
using config::EndpointConfig;
using config::EndpointKind;
using config::Millis;
using ::testing::HasSubstr;

using testing::Backend;

// The store's behaviour through its interface, on every backend: a fresh place per test (SQLite: a
// directory removed afterwards, the database two levels below it so that the store has to create
// (private) directories; PostgreSQL: a schema of its own).
class StoreTest : public testing::BackendTest {
  protected:
    StoreTest() : BackendTest("data/qcc/qcc.db") {}
};
QCC_INSTANTIATE_BACKENDS(StoreTest);

// What only the SQLite backend has: files and their modes, WAL, the key file beside the database,
// ":memory:", upgrades of databases older builds left.
class SqliteStoreTest : public testing::TempDbTest {
  protected:
    SqliteStoreTest() : TempDbTest("data/qcc/qcc.db") {}
};

// What only the PostgreSQL backend has (skipped without QCC_TEST_POSTGRES).
class PostgresStoreTest : public testing::BackendTest {};
INSTANTIATE_TEST_SUITE_P(, PostgresStoreTest, ::testing::Values(Backend::kPostgres),
                         testing::backend_name);

EndpointConfig full_endpoint() {
    EndpointConfig e;
    e.name = "relay-a";
    e.base_url = "https://relay.example.com/api/anthropic";
    e.api_key = "sk-relay-secret";
    e.kind = EndpointKind::kOpenAI;
    e.auth = AuthMode::kBoth;
    e.tier = 3;
    e.weight = 777;
    e.enabled = false;
    e.tls_verify = false;
    // Awkward characters must survive the JSON encoding byte for byte.
    e.model_map = {{"haiku", "claude-3-5-haiku"},
                   {"claude-opus-4", "quote\"back\\slash\nnewline\ttab\x01ctl"},
                   {"sonnet", "ünïcödé-模型"}};
    e.connect_timeout = Millis(2500);
    e.first_byte_timeout = Millis(90'000);
    e.idle_timeout = std::nullopt;
    e.tags = {"eu", "cheap", "with \"quotes\""};
    return e;
}

TEST_F(SqliteStoreTest, CreatesPrivateDirectoryAndFile) {
    auto store = open_sqlite(db_path_);
    struct stat st {};
    ASSERT_EQ(::stat(db_path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((root_ / "data" / "qcc").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat((root_ / "data").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // A write creates the WAL file, which must be as private as the database.
    store->set_setting("k", "v");
    ASSERT_EQ(::stat((db_path_ + "-wal").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SqliteStoreTest, TightensModeOfExistingFile) {
    fs::create_directories(fs::path(db_path_).parent_path());
    std::ofstream(db_path_).close();
    fs::permissions(db_path_, fs::perms::owner_read | fs::perms::owner_write |
                                  fs::perms::group_read | fs::perms::others_read);
    auto store = open_sqlite(db_path_);
    struct stat st {};
    ASSERT_EQ(::stat(db_path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SqliteStoreTest, KeepsStatementJournalsInMemory) {
    // A multi-row INSERT keeps a statement journal; in a file it took three quarters of the
    // request-log writer's write calls. temp_store is per connection: asked on the store's own.
    sqlite::SqliteDb db(db_path_);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db.handle(), "PRAGMA temp_store", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(stmt, 0), 2) << "2 = MEMORY";
    sqlite3_finalize(stmt);
}

TEST_F(SqliteStoreTest, UsesWalAndRecordsSchemaVersion) {
    { auto store = open_sqlite(db_path_); }
    EXPECT_EQ(raw_query("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw_query("SELECT MAX(version) FROM schema_version"),
              std::to_string(migrations().size()));
    for (const char* table : {"endpoints", "client_keys", "settings", "meta", "endpoint_state",
                              "session_bindings", "events", "request_log"}) {
        EXPECT_EQ(raw_query(std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                        "AND name = '") +
                            table + "'"),
                  "1")
            << table;
    }
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                        "tbl_name = 'request_log' AND sql LIKE '%(ts)%'"),
              "1");
}

TEST_P(StoreTest, MigrationsAreIdempotentOnReopen) {
    {
        auto store = open();
        store->upsert_endpoint(full_endpoint());
        store->set_setting("strategy", "weighted");
    }
    const std::string applied = raw_query("SELECT COUNT(*) FROM schema_version");
    for (int i = 0; i < 2; ++i) {
        auto store = open();
        ASSERT_EQ(store->list_endpoints().size(), 1u);
        EXPECT_EQ(store->list_endpoints()[0].config, full_endpoint());
        EXPECT_EQ(store->get_setting("strategy"), "weighted");
        EXPECT_EQ(store->data_version(), 2);
    }
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM schema_version"), applied);
    if (is_sqlite()) {
        EXPECT_EQ(raw_query("SELECT COUNT(*) FROM schema_version"),
                  std::to_string(migrations().size()));
    }
}

TEST_P(StoreTest, RefusesSchemaFromNewerBuild) {
    { auto store = open(); }
    raw_query("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)");
    try {
        auto store = open();
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        if (is_sqlite()) {
            EXPECT_THAT(e.what(), HasSubstr(db_path_));
        }
        EXPECT_THAT(e.what(), HasSubstr("newer"));
    }
}

TEST_F(SqliteStoreTest, OpenFailureNamesPath) {
    const std::string blocker = (root_ / "file").string();
    std::ofstream(blocker) << "not a directory";
    const std::string path = blocker + "/qcc.db";
    try {
        auto store = open_sqlite(path);
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_THAT(e.what(), HasSubstr(path));
    }
    const std::string garbage = (root_ / "garbage.db").string();
    std::ofstream(garbage) << std::string(8192, 'x');
    try {
        auto store = open_sqlite(garbage);
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_THAT(e.what(), HasSubstr(garbage));
        EXPECT_THAT(e.what(), HasSubstr("not a database"));
    }
}

TEST_P(StoreTest, EndpointUpsertListRemove) {
    auto store = open();
    EXPECT_TRUE(store->list_endpoints().empty());

    const EndpointConfig full = full_endpoint();
    const EndpointRecord inserted = store->upsert_endpoint(full);
    EXPECT_EQ(inserted.id, endpoint_id(full.base_url, full.api_key));
    EXPECT_EQ(inserted.config, full);
    EXPECT_GT(inserted.created_at, 0);
    EXPECT_EQ(inserted.updated_at, inserted.created_at);

    EndpointConfig plain;
    plain.name = "a-first";
    plain.base_url = "http://127.0.0.1:8080";
    store->upsert_endpoint(plain);

    auto listed = store->list_endpoints();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].config, plain);  // ordered by name
    EXPECT_EQ(listed[0].config.api_key, "");
    EXPECT_TRUE(listed[0].config.model_map.empty());
    EXPECT_TRUE(listed[0].config.tags.empty());
    EXPECT_EQ(listed[1].config, full);
    EXPECT_EQ(listed[1].id, inserted.id);
    EXPECT_EQ(listed[1].created_at, inserted.created_at);

    // Update by name: every field replaced, creation time kept, id follows the credential.
    EndpointConfig changed = full;
    changed.api_key = "sk-rotated";
    changed.weight = 1;
    changed.model_map = {};
    changed.tags = {"only"};
    changed.connect_timeout = std::nullopt;
    changed.idle_timeout = Millis(1);
    changed.kind = EndpointKind::kAnthropic;
    changed.auth = AuthMode::kBearer;
    changed.enabled = true;
    const EndpointRecord updated = store->upsert_endpoint(changed);
    EXPECT_EQ(updated.id, endpoint_id(changed.base_url, "sk-rotated"));
    EXPECT_NE(updated.id, inserted.id);
    EXPECT_EQ(updated.created_at, inserted.created_at);
    EXPECT_GE(updated.updated_at, inserted.updated_at);
    listed = store->list_endpoints();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[1].config, changed);
    EXPECT_EQ(listed[1].id, updated.id);

    EXPECT_TRUE(store->remove_endpoint("relay-a"));
    EXPECT_FALSE(store->remove_endpoint("relay-a"));
    EXPECT_FALSE(store->remove_endpoint("never-existed"));
    listed = store->list_endpoints();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].config.name, "a-first");
}

TEST_F(SqliteStoreTest, CredentialIsSealedAtRestWithTheKeyBesideTheDatabase) {
    auto store = open_sqlite(db_path_);
    store->upsert_endpoint(full_endpoint());
    const std::string stored = raw_query("SELECT api_key FROM endpoints WHERE name = 'relay-a'");
    EXPECT_TRUE(SecretBox::is_sealed(stored)) << stored;
    EXPECT_EQ(stored.find("sk-relay-secret"), std::string::npos);
    // The store resolved its master key in the database's directory (or QCC_MASTER_KEY).
    const auto box = SecretBox::load_or_create(fs::path(db_path_).parent_path().string());
    EXPECT_EQ(box.open(stored), "sk-relay-secret");
    EXPECT_EQ(store->list_endpoints().at(0).config.api_key, "sk-relay-secret");
}

TEST_P(StoreTest, ExplicitSecretBoxIsUsedAndAWrongKeyFailsLoudly) {
    StoreOptions options;
    options.secrets = std::make_shared<const SecretBox>(SecretBox::ephemeral());
    {
        auto store = open(options);
        store->upsert_endpoint(full_endpoint());
        const std::string stored =
            raw_query("SELECT api_key FROM endpoints WHERE name = 'relay-a'");
        EXPECT_TRUE(SecretBox::is_sealed(stored)) << stored;
        EXPECT_EQ(stored.find("sk-relay-secret"), std::string::npos);
        EXPECT_EQ(options.secrets->open(stored), "sk-relay-secret");
    }
    options.secrets = std::make_shared<const SecretBox>(SecretBox::ephemeral());
    auto store = open(options);  // opening needs no credential
    EXPECT_THROW((void)store->list_endpoints(), std::runtime_error);
}

TEST_F(SqliteStoreTest, LegacyPlainCredentialsAreResealedOnOpen) {
    fs::create_directories(fs::path(db_path_).parent_path());
    const std::string id = endpoint_id("https://old.example.com", "sk-old-secret");
    testing::create_legacy_db(
        db_path_, 4,
        "INSERT INTO endpoints (name, id, base_url, api_key, kind, auth, tier, weight, enabled, "
        "tls_verify, created_at, updated_at) VALUES ('old', '" +
            id +
            "', 'https://old.example.com', 'plain:sk-old-secret', 'anthropic', 'x-api-key', 1, "
            "100, 1, 1, 5, 6);"
            "UPDATE meta SET data_version = 7;");
    {
        auto store = open_sqlite(db_path_);
        const std::string stored = raw_query("SELECT api_key FROM endpoints WHERE name = 'old'");
        EXPECT_TRUE(SecretBox::is_sealed(stored)) << stored;
        EXPECT_EQ(stored.find("sk-old-secret"), std::string::npos);
        const auto endpoints = store->list_endpoints();
        ASSERT_EQ(endpoints.size(), 1u);
        EXPECT_EQ(endpoints[0].config.api_key, "sk-old-secret");
        EXPECT_EQ(endpoints[0].id, id);
        EXPECT_EQ(endpoints[0].created_at, 5);
        EXPECT_EQ(endpoints[0].updated_at, 6);
        // Re-sealing changes no configuration: running servers need not reload.
        EXPECT_EQ(store->data_version(), 7);
    }
    // Idempotent: a second open leaves the sealed value alone.
    const std::string sealed = raw_query("SELECT api_key FROM endpoints WHERE name = 'old'");
    auto store = open_sqlite(db_path_);
    EXPECT_EQ(raw_query("SELECT api_key FROM endpoints WHERE name = 'old'"), sealed);
    EXPECT_EQ(store->list_endpoints().at(0).config.api_key, "sk-old-secret");
}

TEST_P(StoreTest, ListsAndMapsAreStoredAsJson) {
    auto store = open();
    store->upsert_endpoint(full_endpoint());
    if (is_sqlite()) {
        EXPECT_EQ(raw_query("SELECT json_extract(model_map, '$.haiku') FROM endpoints"),
                  "claude-3-5-haiku");
        EXPECT_EQ(raw_query("SELECT json_array_length(tags) FROM endpoints"), "3");
    } else {
        EXPECT_EQ(raw_query("SELECT model_map::jsonb ->> 'haiku' FROM endpoints"),
                  "claude-3-5-haiku");
        EXPECT_EQ(raw_query("SELECT jsonb_array_length(tags::jsonb) FROM endpoints"), "3");
    }
}

TEST_P(StoreTest, ClientKeysUpsertAndRevoke) {
    auto store = open();
    EXPECT_TRUE(store->list_client_keys().empty());
    store->upsert_client_key("me", "hash-1", "sk-qcc-a");
    store->upsert_client_key("ci", "hash-2", "sk-qcc-b");
    auto keys = store->list_client_keys();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].name, "ci");
    EXPECT_EQ(keys[1].name, "me");
    EXPECT_EQ(keys[1].key_hash, "hash-1");
    EXPECT_EQ(keys[1].prefix, "sk-qcc-a");
    EXPECT_GT(keys[1].created_at, 0);
    EXPECT_FALSE(keys[1].revoked);

    EXPECT_TRUE(store->revoke_client_key("me"));
    EXPECT_TRUE(store->revoke_client_key("me"));  // already revoked: still known
    EXPECT_FALSE(store->revoke_client_key("nobody"));
    keys = store->list_client_keys();
    EXPECT_TRUE(keys[1].revoked);
    EXPECT_FALSE(keys[0].revoked);

    store->upsert_client_key("me", "hash-3", "sk-qcc-c");  // replaces and un-revokes
    keys = store->list_client_keys();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[1].key_hash, "hash-3");
    EXPECT_EQ(keys[1].prefix, "sk-qcc-c");
    EXPECT_FALSE(keys[1].revoked);
}

TEST_P(StoreTest, Settings) {
    auto store = open();
    EXPECT_EQ(store->get_setting("strategy"), std::nullopt);
    store->set_setting("strategy", "latency");
    EXPECT_EQ(store->get_setting("strategy"), "latency");
    store->set_setting("strategy", "random");
    EXPECT_EQ(store->get_setting("strategy"), "random");
    store->set_setting("empty", "");
    EXPECT_EQ(store->get_setting("empty"), "");
    EXPECT_EQ(store->get_setting("Strategy"), std::nullopt);
}

TEST_P(StoreTest, DataVersionCountsEveryChange) {
    auto store = open();
    std::int64_t v = store->data_version();
    EXPECT_EQ(v, 0);
    auto expect_bump = [&](const char* what) {
        const std::int64_t now = store->data_version();
        EXPECT_EQ(now, v + 1) << what;
        v = now;
    };
    auto expect_same = [&](const char* what) { EXPECT_EQ(store->data_version(), v) << what; };

    store->upsert_endpoint(full_endpoint());
    expect_bump("insert endpoint");
    store->upsert_endpoint(full_endpoint());
    expect_same("identical endpoint");
    EndpointConfig changed = full_endpoint();
    changed.weight = 5;
    store->upsert_endpoint(changed);
    expect_bump("update endpoint");
    store->remove_endpoint("relay-a");
    expect_bump("remove endpoint");
    store->remove_endpoint("relay-a");
    expect_same("remove missing endpoint");

    store->upsert_client_key("me", "h1", "p");
    expect_bump("insert key");
    store->upsert_client_key("me", "h1", "p");
    expect_same("identical key");
    store->upsert_client_key("me", "h2", "p");
    expect_bump("replace key");
    store->revoke_client_key("me");
    expect_bump("revoke key");
    store->revoke_client_key("me");
    expect_same("revoke revoked key");
    store->revoke_client_key("nobody");
    expect_same("revoke missing key");
    store->upsert_client_key("me", "h2", "p");
    expect_bump("un-revoke key");

    store->set_setting("a", "1");
    expect_bump("insert setting");
    store->set_setting("a", "1");
    expect_same("identical setting");
    store->set_setting("a", "2");
    expect_bump("update setting");
    (void)store->get_setting("a");
    (void)store->list_endpoints();
    (void)store->list_client_keys();
    expect_same("reads");
}

TEST_P(StoreTest, DataVersionIsSharedBetweenConnections) {
    auto first = open();
    auto second = open();
    EXPECT_EQ(second->data_version(), 0);
    first->set_setting("x", "1");
    EXPECT_EQ(second->data_version(), 1);
    EXPECT_EQ(second->get_setting("x"), "1");
    second->upsert_endpoint(full_endpoint());
    EXPECT_EQ(first->data_version(), 2);
    ASSERT_EQ(first->list_endpoints().size(), 1u);
    first->upsert_client_key("me", "h", "p");
    EXPECT_EQ(second->data_version(), 3);
    EXPECT_EQ(second->list_client_keys().size(), 1u);
}

TEST_P(StoreTest, ASecondConnectionWhereTheEngineServesSeveral) {
    auto store = open();
    auto second = store->second_connection();
    if (GetParam() == Backend::kSqlite) {
        EXPECT_EQ(second, nullptr) << "SQLite takes one writer at a time: nothing to gain";
        return;
    }
    ASSERT_NE(second, nullptr);
    // The same data both ways, credentials sealed with the same key.
    store->upsert_endpoint(full_endpoint());
    ASSERT_EQ(second->list_endpoints().size(), 1u);
    EXPECT_EQ(second->list_endpoints()[0].config.api_key, full_endpoint().api_key);
    std::vector<RequestRecord> rows(3);
    for (auto& r : rows) r.ts_unix_ms = 1000;
    second->append_requests(rows);
    EXPECT_EQ(store->count_requests(), 3);
}

// Waits for an announcement, bounded (10 s): true once one arrives.
bool announced_within_10s(ChangeListener& listener) {
    for (int i = 0; i < 50; ++i) {
        if (listener.wait(std::chrono::milliseconds(200))) return true;
    }
    return false;
}

TEST_P(StoreTest, ChangesMadeElsewhereAreAnnounced) {
    auto store = open();
    auto listener = store->change_listener();
    if (is_sqlite()) {
        EXPECT_EQ(listener, nullptr) << "SQLite announces nothing: readers poll";
        return;
    }
    ASSERT_NE(listener, nullptr);
    auto other = open();  // another instance
    // A configuration change (it bumps the change counter) ...
    other->upsert_endpoint(full_endpoint());
    EXPECT_TRUE(announced_within_10s(*listener)) << "an endpoint added elsewhere";
    other->set_setting("breaker.open", "45s");
    EXPECT_TRUE(announced_within_10s(*listener)) << "a setting changed elsewhere";
    // ... and an endpoint signal (quarantine, cooldown, release, re-pin).
    SignalRecord sig;
    sig.instance = "other";
    sig.endpoint_id = other->list_endpoints().at(0).id;
    sig.kind = "quarantine";
    sig.reason = "401";
    other->append_signals({sig});
    EXPECT_TRUE(announced_within_10s(*listener)) << "a signal written elsewhere";
}

TEST_P(StoreTest, AChangeListenerReconnectsAfterLosingItsConnection) {
    if (is_sqlite()) GTEST_SKIP() << "SQLite has no change listener";
    auto store = open();
    auto listener = store->change_listener();
    ASSERT_NE(listener, nullptr);
    // The server ends every listening connection of this database (a restart, an operator).
    raw_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND query LIKE 'LISTEN qcc_changes%'");
    // The listener notices, connects again and says that it may have missed something ...
    EXPECT_TRUE(announced_within_10s(*listener)) << "a reconnect must count as a change";
    // ... and hears later changes again.
    store->set_setting("breaker.open", "50s");
    EXPECT_TRUE(announced_within_10s(*listener)) << "a change after the reconnect";
}

TEST_P(StoreTest, ConcurrentWritersLoseNoChange) {
    auto shared = open();
    auto other = open();  // a second connection contends for the write lock
    constexpr int kThreads = 4, kWrites = 25;
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Store& s = t % 2 == 0 ? *shared : *other;
            for (int i = 0; i < kWrites; ++i) {
                s.set_setting("t" + std::to_string(t) + "-" + std::to_string(i), "v");
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(shared->data_version(), kThreads * kWrites);
}

TEST_F(SqliteStoreTest, InMemoryStoreWorks) {
    auto store = open_sqlite(":memory:");
    store->upsert_endpoint(full_endpoint());
    EXPECT_EQ(store->list_endpoints().at(0).config, full_endpoint());
    EXPECT_EQ(store->data_version(), 1);
}

// --- Runtime resilience state (breakers, cooldowns, quarantine, bindings, events) ---

EndpointStateRecord open_state() {
    EndpointStateRecord s;
    s.endpoint_id = "0123456789abcdef";
    s.breaker_state = "open";
    s.opened_at_unix_ms = 1'700'000'000'000;
    s.open_for_ms = 120'000;
    s.reopens = 2;
    s.cooldown_until_unix_ms = 1'700'000'030'000;
    s.cooldown_reason = "rate_limited";
    s.quarantined = true;
    s.quarantine_reason = "auth_failed";
    s.updated_at = 1'700'000'000'500;
    return s;
}

EndpointStateRecord closed_state(std::string id) {
    EndpointStateRecord s;
    s.endpoint_id = std::move(id);
    s.breaker_state = "closed";
    s.updated_at = 42;
    return s;
}

EventRecord event(std::string endpoint, std::string kind, std::int64_t ts = 1000,
                  std::string detail = {}) {
    EventRecord e;
    e.ts_unix_ms = ts;
    e.endpoint = std::move(endpoint);
    e.kind = std::move(kind);
    e.detail = std::move(detail);
    return e;
}

std::vector<std::string> kinds(const std::vector<EventRecord>& events) {
    std::vector<std::string> out;
    out.reserve(events.size());
    for (const auto& e : events) out.push_back(e.kind);
    return out;
}

TEST_P(StoreTest, EndpointStatesRoundTripAndUpsert) {
    auto store = open();
    EXPECT_TRUE(store->load_endpoint_states().empty());
    store->save_endpoint_states({});  // nothing to do, must not fail

    const EndpointStateRecord open = open_state();
    const EndpointStateRecord closed = closed_state("aaaa000000000000");
    store->save_endpoint_states({open, closed});
    auto loaded = store->load_endpoint_states();
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded[0], open);  // ordered by endpoint id
    EXPECT_EQ(loaded[1], closed);

    // Overwrite: every field replaced, including back to "unset"; the other row untouched.
    EndpointStateRecord released = closed_state(open.endpoint_id);
    released.breaker_state = "half_open";
    released.open_for_ms = 60'000;
    released.cooldown_reason = "overloaded";
    released.cooldown_until_unix_ms = 5;
    store->save_endpoint_states({released});
    loaded = store->load_endpoint_states();
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded[0], released);
    EXPECT_FALSE(loaded[0].quarantined);
    EXPECT_EQ(loaded[0].quarantine_reason, "");
    EXPECT_EQ(loaded[0].opened_at_unix_ms, 0);
    EXPECT_EQ(loaded[1], closed);

    // Unset values are NULL in the table, like the rest of the schema.
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM endpoint_state WHERE endpoint_id = '" +
                        open.endpoint_id + "' AND opened_at IS NULL AND quarantine_reason IS NULL"),
              "1");
}

TEST_P(StoreTest, EndpointStateWithoutUpdateTimeGetsTheSaveTime) {
    auto store = open();
    EndpointStateRecord s = closed_state("x");
    s.updated_at = 0;
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    store->save_endpoint_states({s});
    const auto loaded = store->load_endpoint_states();
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_GE(loaded[0].updated_at, before);
}

TEST_P(StoreTest, BindingsRoundTripUpsertAndExpiry) {
    auto store = open();
    EXPECT_TRUE(store->load_bindings().empty());
    store->save_bindings({});
    store->save_bindings(
        {{"s-new", "ep-b", 3000}, {"s-old", "ep-a", 1000}, {"s-mid", "ep-a", 2000}});
    EXPECT_EQ(store->load_bindings(),
              (std::vector<BindingRecord>{
                  {"s-old", "ep-a", 1000}, {"s-mid", "ep-a", 2000}, {"s-new", "ep-b", 3000}}));

    // Re-pin and refresh by session key: one row per session, least recently used first.
    store->save_bindings({{"s-old", "ep-c", 4000}});
    EXPECT_EQ(store->load_bindings(),
              (std::vector<BindingRecord>{
                  {"s-mid", "ep-a", 2000}, {"s-new", "ep-b", 3000}, {"s-old", "ep-c", 4000}}));

    EXPECT_EQ(store->delete_bindings_before(2000), 0u);  // strictly before
    EXPECT_EQ(store->delete_bindings_before(3001), 2u);
    EXPECT_EQ(store->load_bindings(), (std::vector<BindingRecord>{{"s-old", "ep-c", 4000}}));
    EXPECT_EQ(store->delete_bindings_before(3001), 0u);
    EXPECT_EQ(store->delete_bindings_before(std::numeric_limits<std::int64_t>::max()), 1u);
    EXPECT_TRUE(store->load_bindings().empty());
}

TEST_P(StoreTest, InstancesHeartbeatListAndRemove) {
    auto store = open();
    EXPECT_TRUE(store->list_instances().empty());
    store->heartbeat_instance({"b2", "127.0.0.1:7001", "0.3.0", 1000, 1500});
    store->heartbeat_instance({"a1", "127.0.0.1:7000", "0.3.0", 900, 1400});
    // A heartbeat refreshes the row by id: address, version and heartbeat change, the start stays.
    store->heartbeat_instance({"b2", "10.0.0.2:7001", "0.3.1", 5555, 2500});
    EXPECT_EQ(store->list_instances(),
              (std::vector<InstanceRecord>{{"a1", "127.0.0.1:7000", "0.3.0", 900, 1400},
                                           {"b2", "10.0.0.2:7001", "0.3.1", 1000, 2500}}));
    store->remove_instance("a1");
    store->remove_instance("missing");
    EXPECT_EQ(store->list_instances(),
              (std::vector<InstanceRecord>{{"b2", "10.0.0.2:7001", "0.3.1", 1000, 2500}}));
}

TEST_P(StoreTest, SignalsAppendAndLoadSince) {
    auto store = open();
    EXPECT_TRUE(store->load_signals_since(0).empty());
    store->append_signals({});
    store->append_signals({{0, 1000, "i1", "ep-a", "quarantine", 0, "HTTP 401"},
                           {0, 3000, "i1", "ep-b", "cooldown", 63000, "HTTP 429"}});
    store->append_signals({{0, 2000, "i2", "ep-a", "release", 0, "endpoint set"}});

    // In the order they were recorded (ids grow), from the given time on (inclusive).
    const auto all = store->load_signals_since(1000);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_LT(all[0].id, all[1].id);
    EXPECT_LT(all[1].id, all[2].id);
    EXPECT_EQ(all[0], (SignalRecord{all[0].id, 1000, "i1", "ep-a", "quarantine", 0, "HTTP 401"}));
    EXPECT_EQ(all[1], (SignalRecord{all[1].id, 3000, "i1", "ep-b", "cooldown", 63000, "HTTP 429"}));
    EXPECT_EQ(all[2], (SignalRecord{all[2].id, 2000, "i2", "ep-a", "release", 0, "endpoint set"}));

    const auto later = store->load_signals_since(2000);
    ASSERT_EQ(later.size(), 2u);
    EXPECT_EQ(later[0].kind, "cooldown");
    EXPECT_EQ(later[1].kind, "release");
    EXPECT_TRUE(store->load_signals_since(3001).empty());

    // Without a time, the store stamps the signal with the time it was appended.
    const std::int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    store->append_signals({{0, 0, "i3", "ep-c", "quarantine", 0, ""}});
    const auto stamped = store->load_signals_since(before);
    ASSERT_EQ(stamped.size(), 1u);
    EXPECT_EQ(stamped[0].instance, "i3");
    EXPECT_GE(stamped[0].ts_unix_ms, before);
}

TEST_P(StoreTest, CleanupDropsOldSignalsAndSilentInstances) {
    auto store = open();
    const std::int64_t now = 400LL * 24 * 3600 * 1000;
    const std::int64_t hour = 3600LL * 1000;
    store->append_signals({{0, now - 2 * hour, "i1", "ep-a", "quarantine", 0, ""},
                           {0, now - hour / 2, "i1", "ep-a", "release", 0, ""}});
    store->heartbeat_instance({"gone", "h:1", "v", now - 30 * hour, now - 25 * hour});
    store->heartbeat_instance({"alive", "h:2", "v", now - 30 * hour, now - 1000});
    store->cleanup(now, RetentionPolicy{});
    const auto left = store->load_signals_since(0);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].kind, "release");
    const auto instances = store->list_instances();
    ASSERT_EQ(instances.size(), 1u);
    EXPECT_EQ(instances[0].id, "alive");
}

TEST_P(StoreTest, EventsAppendAndRecent) {
    auto store = open();
    EXPECT_TRUE(store->recent_events(10).empty());
    store->append_events({});
    store->append_events({event("ep-a", "breaker_open", 100, "3 consecutive failures"),
                          event("ep-b", "cooldown_start", 200, "rate_limited until 230"),
                          event("", "re_pin", 300)});
    store->append_events({event("ep-a", "breaker_half_open", 50)});  // ts out of order on purpose

    const auto all = store->recent_events(10);
    ASSERT_EQ(all.size(), 4u);
    // Newest = most recently appended, whatever the timestamps say.
    EXPECT_EQ(kinds(all), (std::vector<std::string>{"breaker_half_open", "re_pin", "cooldown_start",
                                                    "breaker_open"}));
    for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].id, all[i].id);
    EXPECT_GT(all[3].id, 0);
    EXPECT_EQ(all[3].ts_unix_ms, 100);
    EXPECT_EQ(all[3].endpoint, "ep-a");
    EXPECT_EQ(all[3].detail, "3 consecutive failures");
    EXPECT_EQ(all[1].endpoint, "");
    EXPECT_EQ(all[1].detail, "");
    EXPECT_EQ(all[0].ts_unix_ms, 50);

    EXPECT_EQ(kinds(store->recent_events(2)),
              (std::vector<std::string>{"breaker_half_open", "re_pin"}));
    EXPECT_TRUE(store->recent_events(0).empty());
    EXPECT_EQ(kinds(store->recent_events(10, "ep-a")),
              (std::vector<std::string>{"breaker_half_open", "breaker_open"}));
    EXPECT_EQ(kinds(store->recent_events(1, "ep-a")),
              (std::vector<std::string>{"breaker_half_open"}));
    EXPECT_EQ(kinds(store->recent_events(10, "ep-b")),
              (std::vector<std::string>{"cooldown_start"}));
    EXPECT_TRUE(store->recent_events(10, "ep-unknown").empty());
    EXPECT_EQ(store->recent_events(std::numeric_limits<std::size_t>::max()).size(), 4u);
}

TEST_P(StoreTest, EventWithoutTimestampGetsTheAppendTime) {
    auto store = open();
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    store->append_events({event("ep", "quarantine", 0)});
    const auto got = store->recent_events(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_GE(got[0].ts_unix_ms, before);
}

TEST_P(StoreTest, EventsAreBoundedOldestFirst) {
    StoreOptions options;
    options.max_events = 5;
    auto store = open(options);
    store->append_events({event("a", "e1"), event("a", "e2"), event("a", "e3")});
    store->append_events({event("a", "e4"), event("a", "e5"), event("a", "e6"), event("a", "e7")});
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM events"), "5");
    EXPECT_EQ(kinds(store->recent_events(100)),
              (std::vector<std::string>{"e7", "e6", "e5", "e4", "e3"}));

    // One batch larger than the bound keeps its own newest rows.
    std::vector<EventRecord> batch;
    batch.reserve(12);
    for (int i = 0; i < 12; ++i) batch.push_back(event("b", "f" + std::to_string(i)));
    store->append_events(batch);
    EXPECT_EQ(kinds(store->recent_events(100)),
              (std::vector<std::string>{"f11", "f10", "f9", "f8", "f7"}));

    // A gap left by another deletion must not make the trim drop more than needed.
    raw_query("DELETE FROM events WHERE kind = 'f9'");
    store->append_events({event("c", "g0")});
    EXPECT_EQ(kinds(store->recent_events(100)),
              (std::vector<std::string>{"g0", "f11", "f10", "f8", "f7"}));
    store->append_events({event("c", "g1")});
    EXPECT_EQ(kinds(store->recent_events(100)),
              (std::vector<std::string>{"g1", "g0", "f11", "f10", "f8"}));
}

TEST_P(StoreTest, DefaultEventBoundIsOneHundredThousand) {
    EXPECT_EQ(kDefaultMaxEvents, 100'000u);
    auto store = open_scratch();  // SQLite: no file I/O, 100k rows in one batch stay fast
    std::vector<EventRecord> batch(kDefaultMaxEvents + 3, event("ep", "k"));
    batch.front().kind = "first";
    batch.back().kind = "last";
    store->append_events(batch);
    EXPECT_EQ(store->recent_events(1).at(0).kind, "last");
    // At the bound each append drops exactly as many as it adds: ids 1..5 ("first" is id 1) go.
    store->append_events({event("ep", "one"), event("ep", "two")});
    const auto kept = store->recent_events(kDefaultMaxEvents + 10);
    ASSERT_EQ(kept.size(), kDefaultMaxEvents);
    EXPECT_EQ(kept.front().kind, "two");
    EXPECT_EQ(kept.back().id, 6);
}

TEST_P(StoreTest, ZeroEventBoundIsRejected) {
    StoreOptions options;
    options.max_events = 0;
    EXPECT_THROW((void)open(options), std::invalid_argument);
}

TEST_P(StoreTest, BatchWritesAreAllOrNothing) {
    auto store = open();
    // A trigger makes the second row of each batch fail after the first one was written.
    fail_inserts_when("session_bindings", "NEW.session_key = 'bad'");
    fail_inserts_when("endpoint_state", "NEW.endpoint_id = 'bad'");
    fail_inserts_when("events", "NEW.kind = 'bad'");
    EXPECT_THROW(store->save_bindings({{"good", "ep", 1}, {"bad", "ep", 2}}), std::runtime_error);
    EXPECT_THROW(store->save_endpoint_states({closed_state("good"), closed_state("bad")}),
                 std::runtime_error);
    EXPECT_THROW(store->append_events({event("ep", "good"), event("ep", "bad")}),
                 std::runtime_error);
    EXPECT_TRUE(store->load_bindings().empty());
    EXPECT_TRUE(store->load_endpoint_states().empty());
    EXPECT_TRUE(store->recent_events(10).empty());
    // The store stays usable after a failed batch.
    store->save_bindings({{"good", "ep", 1}});
    EXPECT_EQ(store->load_bindings().size(), 1u);
}

TEST_P(StoreTest, RuntimeStateSurvivesReopen) {
    {
        auto store = open();
        store->save_endpoint_states({open_state(), closed_state("b")});
        store->save_bindings({{"sess", "ep-a", 1234}});
        store->append_events({event("ep-a", "breaker_open", 10, "why")});
    }
    auto store = open();
    EXPECT_EQ(store->load_endpoint_states(),
              (std::vector<EndpointStateRecord>{open_state(), closed_state("b")}));
    EXPECT_EQ(store->load_bindings(), (std::vector<BindingRecord>{{"sess", "ep-a", 1234}}));
    const auto events = store->recent_events(10);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, "breaker_open");
    EXPECT_EQ(events[0].detail, "why");
    EXPECT_EQ(events[0].ts_unix_ms, 10);
    // Ids keep growing after a reopen.
    store->append_events({event("ep-a", "breaker_close")});
    EXPECT_GT(store->recent_events(1).at(0).id, events[0].id);
}

TEST_P(StoreTest, RuntimeStateDoesNotChangeDataVersion) {
    auto store = open();
    auto other = open();
    store->set_setting("a", "1");
    ASSERT_EQ(store->data_version(), 1);
    store->save_endpoint_states({open_state()});
    store->save_endpoint_states({closed_state(open_state().endpoint_id)});
    store->save_bindings({{"s", "e", 1}});
    store->save_bindings({{"s", "f", 2}});
    EXPECT_EQ(store->delete_bindings_before(10), 1u);
    store->append_events({event("e", "k")});
    (void)store->load_endpoint_states();
    (void)store->load_bindings();
    (void)store->recent_events(5);
    EXPECT_EQ(store->data_version(), 1);
    EXPECT_EQ(other->data_version(), 1);
}

TEST_F(SqliteStoreTest, UpgradesDatabaseFromSchemaVersion1) {
    ASSERT_GE(migrations().size(), 2u);
    fs::create_directories(fs::path(db_path_).parent_path());
    {
        // A database as written by a build that only knew migration 1, with state in it.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
        const std::string v1 =
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT "
            "NULL);" +
            std::string(migrations()[0]) +
            "INSERT INTO schema_version (version, applied_at) VALUES (1, 0);"
            "INSERT INTO settings (key, value, updated_at) VALUES ('strategy', 'random', 1);"
            "INSERT INTO endpoint_state (endpoint_id, breaker_state, opened_at, cooldown_until, "
            "quarantined, quarantine_reason, updated_at) "
            "VALUES ('ep-old', 'open', 111, 222, 1, 'billing', 333);"
            "INSERT INTO session_bindings (session_key, endpoint_id, last_used) "
            "VALUES ('sess', 'ep-old', 444);"
            "INSERT INTO events (ts, endpoint_id, kind, detail) "
            "VALUES (555, 'ep-old', 'quarantine', NULL);";
        char* error = nullptr;
        const int rc = sqlite3_exec(db, v1.c_str(), nullptr, nullptr, &error);
        EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
        sqlite3_free(error);
        sqlite3_close(db);
        ASSERT_EQ(rc, SQLITE_OK);
    }

    auto store = open_sqlite(db_path_);
    EXPECT_EQ(raw_query("SELECT MAX(version) FROM schema_version"),
              std::to_string(migrations().size()));
    EXPECT_EQ(store->get_setting("strategy"), "random");
    EXPECT_EQ(store->data_version(), 0);

    EndpointStateRecord expected;
    expected.endpoint_id = "ep-old";
    expected.breaker_state = "open";
    expected.opened_at_unix_ms = 111;
    expected.cooldown_until_unix_ms = 222;
    expected.quarantined = true;
    expected.quarantine_reason = "billing";
    expected.updated_at = 333;  // the new columns read as their defaults
    EXPECT_EQ(store->load_endpoint_states(), (std::vector<EndpointStateRecord>{expected}));
    EXPECT_EQ(store->load_bindings(), (std::vector<BindingRecord>{{"sess", "ep-old", 444}}));
    const auto events = store->recent_events(10, "ep-old");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, "quarantine");
    EXPECT_EQ(events[0].ts_unix_ms, 555);

    // The new columns are writable on the upgraded table.
    store->save_endpoint_states({open_state()});
    EXPECT_EQ(store->load_endpoint_states().at(0), open_state());
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                        "name = 'events_by_endpoint'"),
              "1");
}

TEST_P(PostgresStoreTest, RequiresASecretBox) {
    // Every instance sharing the database needs the same master key: there is no default.
    EXPECT_THROW((void)open_postgres(url_, StoreOptions{}), std::invalid_argument);
}

TEST(PostgresUrl, RecognizesPostgresUrls) {
    EXPECT_TRUE(is_postgres_url("postgres://qcc@db.example.com/qcc"));
    EXPECT_TRUE(is_postgres_url("postgresql://qcc@/qcc?host=/run/postgresql"));
    EXPECT_FALSE(is_postgres_url("/var/lib/qcc/qcc.db"));
    EXPECT_FALSE(is_postgres_url("qcc.db"));
    EXPECT_FALSE(is_postgres_url(":memory:"));
    EXPECT_FALSE(is_postgres_url(""));
}

TEST(PostgresUrl, UnreachableServerIsAnErrorWithoutThePassword) {
    // No server listens in a directory that does not exist: libpq fails at once.
    StoreOptions options;
    options.secrets = std::make_shared<const SecretBox>(SecretBox::ephemeral());
    const std::string url =
        "postgresql://qcc:pw-s3cret-9@/qcc?host=/nonexistent/qcc-no-server&connect_timeout=2";
    try {
        auto store = open_postgres(url, options);
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("pw-s3cret-9")));
        EXPECT_THAT(e.what(), HasSubstr("qcc-no-server"));  // names the server
    }
}

TEST(EndpointId, KnownValues) {
    // python3: hashlib.sha256(b'https://api.anthropic.com\nsk-ant-test').hexdigest()[:16]
    EXPECT_EQ(endpoint_id("https://api.anthropic.com", "sk-ant-test"), "42110860729ede9f");
    EXPECT_EQ(endpoint_id("https://relay.example.com/api", ""), "53d856f5978281af");
    EXPECT_EQ(endpoint_id("https://api.anthropic.com", "sk-ant-test").size(), 16u);
    EXPECT_NE(endpoint_id("https://a", "k"), endpoint_id("https://a", "k2"));
}

}  // namespace
}  // namespace qcc::store
