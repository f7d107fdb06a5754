// Several gateways on one PostgreSQL database (QCC_TEST_POSTGRES, a throwaway cluster started by
// the test command; skipped when it is not set): an edit made through one instance's admin API
// serves traffic on the others, and every instance's requests land in the one request log.
#include <atomic>
#include <cstdlib>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include "harness/admin_call.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"
#include "store/copy.hpp"
#include "store/secret.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

namespace qcc::test {
namespace {

// A fresh schema per test on the test cluster, dropped afterwards; url() reaches only it.
class SharedDatabase {
  public:
    SharedDatabase() {
        const char* base = std::getenv("QCC_TEST_POSTGRES");
        if (base == nullptr || *base == '\0') return;
        static std::atomic<int> counter{0};
        schema_ = "qcc_fleet_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
        run(base, "CREATE SCHEMA " + schema_);
        base_ = base;
        url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") +
               "options=-csearch_path%3D" + schema_;
    }
    ~SharedDatabase() {
        if (!base_.empty()) run(base_, "DROP SCHEMA " + schema_ + " CASCADE");
    }
    SharedDatabase(const SharedDatabase&) = delete;
    SharedDatabase& operator=(const SharedDatabase&) = delete;

    bool available() const { return !url_.empty(); }
    const std::string& url() const { return url_; }

  private:
    static void run(const std::string& url, const std::string& sql) {
        PGconn* c = PQconnectdb(url.c_str());
        ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
        PGresult* r = PQexec(c, sql.c_str());
        EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(c);
        PQclear(r);
        PQfinish(c);
    }

    std::string base_, schema_, url_;
};

#define REQUIRE_POSTGRES(db)                                                            \
    if (!(db).available()) {                                                            \
        GTEST_SKIP() << "QCC_TEST_POSTGRES is not set: PostgreSQL fleet tests skipped"; \
    }

TEST(PostgresFleet, AnEndpointAddedThroughOneInstanceServesOnTheOthers) {
    SharedDatabase db;
    REQUIRE_POSTGRES(db);
    FakeUpstream up;
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    ProxyFixture a({}, {}, db.url());
    ProxyFixture b({}, {}, db.url());
    ProxyFixture c({}, {}, db.url());

    // No endpoint yet: every instance answers without an upstream.
    EXPECT_NE(b.send_messages().status, 200);

    const std::string body = boost::json::serialize(boost::json::object{
        {"name", "shared"}, {"base_url", up.base_url()}, {"api_key", "sk-ant-shared-0123456789"}});
    const auto added = admin_call(a.port(), "POST", "/api/endpoints", body);
    ASSERT_EQ(added.status, 201) << added.response.body;

    // Picked up by the other instances from the database (within about a second).
    std::int64_t answered = 0;
    for (ProxyFixture* other : {&b, &c}) {
        EXPECT_TRUE(eventually([&] {
            const bool ok = other->send_messages().status == 200;
            answered += ok ? 1 : 0;
            return ok;
        })) << "instance on port "
            << other->port() << " never served through the new endpoint";
    }
    // The upstream got the credential stored through instance a, decrypted by the others.
    const auto seen = up.requests();
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().header("x-api-key"), "sk-ant-shared-0123456789");

    // Every instance's requests are in the one request log, visible from any instance.
    ASSERT_EQ(a.send_messages().status, 200);
    ++answered;
    // (A row is queued as its request ends, just after the client has the answer.)
    auto served_by_shared = [&] {
        for (ProxyFixture* p : {&a, &b, &c}) p->gateway().writer().flush();
        const auto stats = admin_call(c.port(), "GET", "/api/stats?window=1h&by=endpoint");
        EXPECT_EQ(stats.status, 200) << stats.response.body;
        std::int64_t n = 0;
        if (stats.status != 200) return n;
        for (const auto& row : stats.json.at("rows").as_array()) {
            if (row.at("group").as_string() == "shared") {
                n = row.at("count").to_number<std::int64_t>();
            }
        }
        return n;
    };
    EXPECT_TRUE(eventually([&] { return served_by_shared() == answered; }))
        << served_by_shared() << " rows for " << answered << " answered requests";
}

TEST(PostgresFleet, AKeyCreatedOnOneInstanceAuthenticatesOnAnotherAndRevokingItEverywhere) {
    SharedDatabase db;
    REQUIRE_POSTGRES(db);
    FakeUpstream up;
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    ProxyFixture a({endpoint_config("up", up.base_url())}, {}, db.url());
    ProxyFixture b({endpoint_config("up", up.base_url())}, {}, db.url());

    const auto created = admin_call(a.port(), "POST", "/api/keys", R"({"name":"alice"})");
    ASSERT_EQ(created.status, 201) << created.response.body;
    const std::string key(created.json.at("key").as_string());

    auto send_with = [&](ProxyFixture& p) {
        TestClient client(p.port());
        auto headers = ProxyFixture::client_headers(false);
        headers.emplace_back("x-api-key", key);
        return client.request("POST", "/v1/messages", headers, ProxyFixture::messages_body(false))
            .status;
    };
    EXPECT_TRUE(eventually([&] { return send_with(b) == 200; }));

    ASSERT_EQ(admin_call(a.port(), "DELETE", "/api/keys/alice").status, 200);
    EXPECT_TRUE(eventually([&] { return send_with(b) == 401; }));
    EXPECT_EQ(send_with(a), 401);
}

TEST(PostgresFleet, MigrateCopiesAWorkingSqliteStoreIntoAnEmptyDatabase) {
    SharedDatabase db;
    REQUIRE_POSTGRES(db);
    const TempDir dir("qcc-migrate");
    const auto file = dir.file("qcc.sqlite");
    FakeUpstream up;
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    std::string key;
    {
        ProxyFixture single({endpoint_config("up", up.base_url())}, {}, file);
        const auto created = admin_call(single.port(), "POST", "/api/keys",
                                        R"({"name":"alice","limits":{"requests_per_minute":50}})");
        ASSERT_EQ(created.status, 201) << created.response.body;
        key = std::string(created.json.at("key").as_string());
        ASSERT_EQ(admin_call(single.port(), "PUT", "/api/settings/breaker.consecutive_failures",
                             R"({"value":"7"})")
                      .status,
                  200);
        for (int i = 0; i < 4; ++i) ASSERT_EQ(single.send_messages({}, true).status, 200);
    }

    auto box = std::make_shared<const store::SecretBox>(store::SecretBox::ephemeral());
    store::StoreOptions to_options;
    to_options.secrets = box;
    {
        auto from = store::open_sqlite(file);
        auto to = store::open_postgres(db.url(), to_options);
        const auto report =
            store::copy_store(*from, *to, {"breaker.consecutive_failures", "breaker.open"});
        for (const auto& t : report) EXPECT_EQ(t.source, t.target) << t.name;
        EXPECT_EQ(to->count_requests(), 4);
        EXPECT_EQ(to->get_setting("breaker.consecutive_failures"), "7");
        const auto keys = to->list_client_keys();
        ASSERT_EQ(keys.size(), 2u);  // "test" from the fixture's config, and alice
        EXPECT_NE(keys[0].limits.find("requests_per_minute"), std::string::npos);
        ASSERT_EQ(to->list_endpoints().size(), 1u);
        EXPECT_EQ(to->list_endpoints()[0].config.api_key, "sk-ant-up");
        // A second run refuses: the target is no longer empty.
        EXPECT_THROW(store::copy_store(*from, *to, {}), std::runtime_error);
    }
}

}  // namespace
}  // namespace qcc::test
