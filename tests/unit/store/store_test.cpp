#include "store/store.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/migrations.hpp"
#include "store/secret.hpp"

namespace qcc::store {
namespace {

namespace fs = std::filesystem;
using config::AuthMode;
using config::EndpointConfig;
using config::EndpointKind;
using config::Millis;
using ::testing::HasSubstr;

// A fresh directory per test, removed afterwards; the database lives two levels below it so that
// the store has to create (private) directories.
class StoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "qcc-store-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        db_path_ = (root_ / "data" / "qcc" / "qcc.db").string();
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    // Runs one SQL query on its own connection and returns the first column of the first row.
    std::string raw_query(const std::string& sql) const {
        sqlite3* db = nullptr;
        EXPECT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
        std::string result;
        sqlite3_exec(
            db, sql.c_str(),
            [](void* out, int, char** values, char**) {
                if (values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
                return 0;
            },
            &result, nullptr);
        sqlite3_close(db);
        return result;
    }

    fs::path root_;
    std::string db_path_;
};

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

TEST_F(StoreTest, CreatesPrivateDirectoryAndFile) {
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

TEST_F(StoreTest, TightensModeOfExistingFile) {
    fs::create_directories(fs::path(db_path_).parent_path());
    std::ofstream(db_path_).close();
    fs::permissions(db_path_, fs::perms::owner_read | fs::perms::owner_write |
                                  fs::perms::group_read | fs::perms::others_read);
    auto store = open_sqlite(db_path_);
    struct stat st {};
    ASSERT_EQ(::stat(db_path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, UsesWalAndRecordsSchemaVersion) {
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

TEST_F(StoreTest, MigrationsAreIdempotentOnReopen) {
    {
        auto store = open_sqlite(db_path_);
        store->upsert_endpoint(full_endpoint());
        store->set_setting("strategy", "weighted");
    }
    for (int i = 0; i < 2; ++i) {
        auto store = open_sqlite(db_path_);
        ASSERT_EQ(store->list_endpoints().size(), 1u);
        EXPECT_EQ(store->list_endpoints()[0].config, full_endpoint());
        EXPECT_EQ(store->get_setting("strategy"), "weighted");
        EXPECT_EQ(store->data_version(), 2);
    }
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM schema_version"),
              std::to_string(migrations().size()));
}

TEST_F(StoreTest, RefusesSchemaFromNewerBuild) {
    { auto store = open_sqlite(db_path_); }
    raw_query("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)");
    try {
        auto store = open_sqlite(db_path_);
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_THAT(e.what(), HasSubstr(db_path_));
        EXPECT_THAT(e.what(), HasSubstr("newer"));
    }
}

TEST_F(StoreTest, OpenFailureNamesPath) {
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

TEST_F(StoreTest, EndpointUpsertListRemove) {
    auto store = open_sqlite(db_path_);
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

TEST_F(StoreTest, CredentialGoesThroughSecretEncoding) {
    auto store = open_sqlite(db_path_);
    store->upsert_endpoint(full_endpoint());
    EXPECT_EQ(raw_query("SELECT api_key FROM endpoints WHERE name = 'relay-a'"),
              encode_secret("sk-relay-secret"));
    EXPECT_EQ(decode_secret(encode_secret("")), "");
    EXPECT_EQ(decode_secret(encode_secret("sk-x")), "sk-x");
    EXPECT_THROW((void)decode_secret("enc9:whatever"), std::runtime_error);
}

TEST_F(StoreTest, ListsAndMapsAreStoredAsJson) {
    auto store = open_sqlite(db_path_);
    store->upsert_endpoint(full_endpoint());
    EXPECT_EQ(raw_query("SELECT json_extract(model_map, '$.haiku') FROM endpoints"),
              "claude-3-5-haiku");
    EXPECT_EQ(raw_query("SELECT json_array_length(tags) FROM endpoints"), "3");
}

TEST_F(StoreTest, ClientKeysUpsertAndRevoke) {
    auto store = open_sqlite(db_path_);
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

TEST_F(StoreTest, Settings) {
    auto store = open_sqlite(db_path_);
    EXPECT_EQ(store->get_setting("strategy"), std::nullopt);
    store->set_setting("strategy", "latency");
    EXPECT_EQ(store->get_setting("strategy"), "latency");
    store->set_setting("strategy", "random");
    EXPECT_EQ(store->get_setting("strategy"), "random");
    store->set_setting("empty", "");
    EXPECT_EQ(store->get_setting("empty"), "");
    EXPECT_EQ(store->get_setting("Strategy"), std::nullopt);
}

TEST_F(StoreTest, DataVersionCountsEveryChange) {
    auto store = open_sqlite(db_path_);
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

TEST_F(StoreTest, DataVersionIsSharedBetweenConnections) {
    auto first = open_sqlite(db_path_);
    auto second = open_sqlite(db_path_);
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

TEST_F(StoreTest, ConcurrentWritersLoseNoChange) {
    auto shared = open_sqlite(db_path_);
    auto other = open_sqlite(db_path_);  // a second connection contends for the write lock
    constexpr int kThreads = 4, kWrites = 25;
    std::vector<std::thread> threads;
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

TEST_F(StoreTest, InMemoryStoreWorks) {
    auto store = open_sqlite(":memory:");
    store->upsert_endpoint(full_endpoint());
    EXPECT_EQ(store->list_endpoints().at(0).config, full_endpoint());
    EXPECT_EQ(store->data_version(), 1);
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
