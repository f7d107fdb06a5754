// Several gateways on one PostgreSQL database (QCC_TEST_POSTGRES, a throwaway cluster started by
// the test command; skipped when it is not set): an edit made through one instance's admin API
// serves traffic on the others, every instance's requests land in the one request log, the
// instances know each other, share quarantines, cooldowns and releases, and divide per-key rate
// limits among them.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>
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

/// The instances `p`'s /api/status lists (ids), and whether exactly one of them is `p` itself.
std::set<std::string> fleet_of(ProxyFixture& p, bool* self_listed_once = nullptr) {
    const auto r = admin_call(p.port(), "GET", "/api/status");
    EXPECT_EQ(r.status, 200) << r.response.body;
    std::set<std::string> ids;
    if (r.status != 200) return ids;
    int selves = 0;
    for (const auto& i : r.json.at("instances").as_array()) {
        const auto& o = i.as_object();
        ids.emplace(o.at("id").as_string());
        if (o.at("self").as_bool()) {
            ++selves;
            EXPECT_EQ(o.at("id"), r.json.at("instance_id"));
            EXPECT_EQ(o.at("address").as_string(), "127.0.0.1:" + std::to_string(p.port()));
        }
    }
    if (self_listed_once != nullptr) *self_listed_once = selves == 1;
    return ids;
}

/// Awaits every instance in `all` listing exactly `n` instances, itself among them.
bool fleet_settles(std::initializer_list<ProxyFixture*> all, std::size_t n) {
    // Heartbeats come every 5 s; an instance counts as gone once it stopped or was silent 15 s.
    return eventually(
        [&] {
            for (ProxyFixture* p : all) {
                bool self = false;
                if (fleet_of(*p, &self).size() != n || !self) return false;
            }
            return true;
        },
        std::chrono::seconds(30));
}

/// Three gateways on one database with endpoints a (tier 1) and b (tier 2).
struct ThreeOnOneDatabase {
    SharedDatabase db;
    FakeUpstream a, b;
    std::unique_ptr<ProxyFixture> p1, p2, p3;

    ThreeOnOneDatabase() {
        if (!db.available()) return;
        auto make = [&] {
            return std::make_unique<ProxyFixture>(
                std::vector{endpoint_config("a", a.base_url(), 1),
                            endpoint_config("b", b.base_url(), 2)},
                std::function<void(config::Config&)>{}, db.url());
        };
        p1 = make();
        p2 = make();
        p3 = make();
    }
};

TEST(PostgresFleet, InstancesListEachOtherAndAStoppedOneLeaves) {
    ThreeOnOneDatabase f;
    REQUIRE_POSTGRES(f.db);
    ASSERT_TRUE(fleet_settles({f.p1.get(), f.p2.get(), f.p3.get()}, 3));
    const auto ids = fleet_of(*f.p1);
    EXPECT_EQ(fleet_of(*f.p2), ids);
    EXPECT_EQ(fleet_of(*f.p3), ids);

    const auto status = admin_call(f.p3->port(), "GET", "/api/status");
    const std::string gone(status.json.at("instance_id").as_string());
    f.p3.reset();  // a clean stop removes it from the registry at once
    ASSERT_TRUE(fleet_settles({f.p1.get(), f.p2.get()}, 2));
    EXPECT_EQ(fleet_of(*f.p1).count(gone), 0u);
}

TEST(PostgresFleet, AQuarantineDecidedByOneInstanceIsKeptByAllAndAReleaseLiftsItEverywhere) {
    ThreeOnOneDatabase f;
    REQUIRE_POSTGRES(f.db);
    f.a.push(sim::Reply::error(401, "authentication_error", "invalid x-api-key"));
    EXPECT_EQ(f.p1->send_messages().header("x-qcc-endpoint"), "b");
    ASSERT_TRUE(f.p1->state("a").quarantined.load());

    for (ProxyFixture* other : {f.p2.get(), f.p3.get()}) {
        EXPECT_TRUE(eventually([&] { return other->state("a").quarantined.load(); }))
            << "instance on port " << other->port() << " still sends to the quarantined endpoint";
        EXPECT_EQ(other->state("a").quarantine_reason(), "auth_failed");
        EXPECT_EQ(other->send_messages().header("x-qcc-endpoint"), "b");
    }
    EXPECT_EQ(f.a.request_count(), 1u) << "only the first instance learned it the hard way";

    // Released through another instance (what `qcc endpoint release a` does): lifted everywhere.
    ASSERT_EQ(admin_call(f.p3->port(), "POST", "/api/endpoints/a/release").status, 200);
    for (ProxyFixture* other : {f.p1.get(), f.p2.get()}) {
        EXPECT_TRUE(eventually([&] { return !other->state("a").quarantined.load(); }));
        EXPECT_EQ(other->send_messages().header("x-qcc-endpoint"), "a");
    }
}

TEST(PostgresFleet, ACooldownFromA429OnOneInstanceIsHonouredByTheOthers) {
    ThreeOnOneDatabase f;
    REQUIRE_POSTGRES(f.db);
    auto limited = sim::Reply::error(429, "rate_limit_error", "slow down");
    limited.headers.emplace_back("retry-after", "120");
    f.a.push(limited);
    EXPECT_EQ(f.p2->send_messages().header("x-qcc-endpoint"), "b");
    const auto until = f.p2->state("a").cooldown_until_ns.load();
    ASSERT_GT(until, 0);

    for (ProxyFixture* other : {f.p1.get(), f.p3.get()}) {
        EXPECT_TRUE(eventually([&] { return other->state("a").cooldown_until_ns.load() > 0; }))
            << "instance on port " << other->port() << " never learned of the cooldown";
        EXPECT_EQ(other->send_messages().header("x-qcc-endpoint"), "b");
        EXPECT_FALSE(other->state("a").quarantined.load()) << "a 429 is not a quarantine";
    }
    EXPECT_EQ(f.a.request_count(), 1u) << "the other instances did not hit the limited endpoint";

    ASSERT_EQ(admin_call(f.p1->port(), "POST", "/api/endpoints/a/release").status, 200);
    EXPECT_TRUE(eventually([&] { return f.p3->state("a").cooldown_until_ns.load() == 0; }));
    EXPECT_EQ(f.p3->send_messages().header("x-qcc-endpoint"), "a");
}

TEST(PostgresFleet, ASessionAlternatingBetweenInstancesStaysOnOneEndpointAfterARepin) {
    ThreeOnOneDatabase f;
    REQUIRE_POSTGRES(f.db);
    const std::string session = "5b1c2d3e-0000-4000-8000-00000000f1ee";
    // Unbound, every instance picks the same endpoint for the session.
    for (ProxyFixture* p : {f.p1.get(), f.p2.get(), f.p3.get()}) {
        EXPECT_EQ(p->send_messages(session).header("x-qcc-endpoint"), "a");
    }
    // One failure on the instance that happens to get the next request moves the session to b.
    f.a.push(sim::Reply::error(503, "api_error", "once"));
    EXPECT_EQ(f.p1->send_messages(session).header("x-qcc-endpoint"), "b");
    EXPECT_EQ(f.p1->gateway().health().counters().repins.load(), 1u);

    // The others follow the move although a works again for them.
    for (ProxyFixture* other : {f.p2.get(), f.p3.get()}) {
        EXPECT_TRUE(eventually([&] {
            return other->send_messages(session).header("x-qcc-endpoint") == "b";
        })) << "instance on port "
            << other->port() << " keeps the session on a";
    }
    for (int round = 0; round < 3; ++round) {
        for (ProxyFixture* p : {f.p1.get(), f.p2.get(), f.p3.get()}) {
            EXPECT_EQ(p->send_messages(session).header("x-qcc-endpoint"), "b");
        }
    }
    // Following another instance's move is not a re-pin of one's own.
    EXPECT_EQ(f.p2->gateway().health().counters().repins.load(), 0u);
}

TEST(PostgresFleet, ADashboardLoginWorksOnEveryInstanceAndALogoutEndsItEverywhere) {
    ThreeOnOneDatabase f;
    REQUIRE_POSTGRES(f.db);
    ASSERT_TRUE(fleet_settles({f.p1.get(), f.p2.get(), f.p3.get()}, 3));
    // The balancer's address is the page's origin on every instance; here each instance's own.
    auto call = [](ProxyFixture& p, std::string_view method, std::string_view target,
                   const std::string& cookie, std::string body = {}) {
        const std::string host = "127.0.0.1:" + std::to_string(p.port());
        std::vector<std::pair<std::string, std::string>> h{{"host", host},
                                                           {"origin", "http://" + host}};
        if (!cookie.empty()) h.emplace_back("cookie", "qcc_session=" + cookie);
        TestClient client(p.port());
        return client.request(method, target, h, std::move(body));
    };
    const auto login =
        call(*f.p1, "POST", "/api/login", "", std::string(R"({"token":")") + kAdminToken + "\"}");
    ASSERT_EQ(login.status, 200) << login.body;
    const auto set = login.header("set-cookie");
    const auto start = set.find("qcc_session=");
    ASSERT_NE(start, std::string::npos) << set;
    const auto cookie = set.substr(start + 12, 64);

    for (ProxyFixture* other : {f.p2.get(), f.p3.get()}) {
        EXPECT_TRUE(eventually([&] {
            return call(*other, "GET", "/api/session", cookie).status == 200;
        })) << "instance on port "
            << other->port() << " does not know the login";
        EXPECT_EQ(call(*other, "GET", "/api/status", cookie).status, 200);
    }
    EXPECT_EQ(call(*f.p1, "GET", "/api/session", cookie).status, 200);

    // Logged out through another instance: the session ends on all of them.
    ASSERT_EQ(call(*f.p3, "POST", "/api/logout", cookie).status, 200);
    for (ProxyFixture* other : {f.p1.get(), f.p2.get()}) {
        EXPECT_TRUE(eventually([&] {
            return call(*other, "GET", "/api/session", cookie).status == 401;
        })) << "instance on port "
            << other->port() << " still accepts the logged-out session";
        EXPECT_EQ(call(*other, "GET", "/api/status", cookie).status, 401);
    }
}

TEST(PostgresFleet, APerKeyRateLimitHoldsForTheFleetWithRequestsSpreadEvenly) {
    ThreeOnOneDatabase f;
    REQUIRE_POSTGRES(f.db);
    ASSERT_TRUE(fleet_settles({f.p1.get(), f.p2.get(), f.p3.get()}, 3));
    std::vector<ProxyFixture*> all{f.p1.get(), f.p2.get(), f.p3.get()};
    auto send_with = [](ProxyFixture& p, const std::string& key) {
        TestClient client(p.port());
        auto headers = ProxyFixture::client_headers(false);
        headers.emplace_back("x-api-key", key);
        return client.request("POST", "/v1/messages", headers, ProxyFixture::messages_body(false));
    };
    auto minute = [] {
        return std::chrono::duration_cast<std::chrono::minutes>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    // 30 requests per minute for the fleet: 10 on each instance. Should the minute turn during
    // an attempt, its counts start over: try again with a fresh key (the next attempt starts
    // right after the turn).
    for (int attempt = 0; attempt < 2; ++attempt) {
        const std::string name = "fleet-" + std::to_string(attempt);
        const auto created =
            admin_call(f.p1->port(), "POST", "/api/keys",
                       R"({"name":")" + name + R"(","limits":{"requests_per_minute":30}})");
        ASSERT_EQ(created.status, 201) << created.response.body;
        const std::string key(created.json.at("key").as_string());
        const auto first_minute = minute();
        int ok = 0, limited = 0;
        std::string message;
        for (ProxyFixture* p : all) {  // known everywhere (a 401 does not count)
            ASSERT_TRUE(eventually([&] { return send_with(*p, key).status == 200; }));
            ++ok;
        }
        for (int round = 0; round < 12; ++round) {  // a load balancer spreading requests evenly
            for (ProxyFixture* p : all) {
                const auto r = send_with(*p, key);
                if (r.status == 200) ++ok;
                if (r.status == 429) {
                    ++limited;
                    message = r.body;
                }
            }
        }
        if (minute() != first_minute) continue;
        EXPECT_EQ(ok, 30);
        EXPECT_EQ(limited, 3 * 13 - 30);
        EXPECT_NE(message.find("limited to 30 requests per minute (10 on each of 3 instances)"),
                  std::string::npos)
            << message;
        return;
    }
    FAIL() << "two attempts crossed a minute boundary";
}

TEST(PostgresFleet, EveryInstanceShowsAKeysSpendAcrossTheFleet) {
    ThreeOnOneDatabase f;
    REQUIRE_POSTGRES(f.db);
    ASSERT_TRUE(fleet_settles({f.p1.get(), f.p2.get(), f.p3.get()}, 3));
    // A key without limits or budget, used through one instance only.
    const auto created = admin_call(f.p1->port(), "POST", "/api/keys", R"({"name":"member"})");
    ASSERT_EQ(created.status, 201) << created.response.body;
    const std::string key(created.json.at("key").as_string());
    for (int i = 0; i < 3; ++i) {
        TestClient client(f.p1->port());
        auto headers = ProxyFixture::client_headers(false);
        headers.emplace_back("x-api-key", key);
        ASSERT_EQ(
            client.request("POST", "/v1/messages", headers, ProxyFixture::messages_body(false))
                .status,
            200);
    }
    auto spent_on = [](ProxyFixture& p) {
        const auto keys = admin_call(p.port(), "GET", "/api/keys");
        for (const auto& k : keys.json.at("keys").as_array()) {
            const auto& o = k.as_object();
            if (o.at("name").as_string() != "member" || o.at("usage").is_null()) continue;
            return o.at("usage").at("spent_today_usd").to_number<double>();
        }
        return -1.0;
    };
    double here = 0;
    ASSERT_TRUE(eventually([&] {
        here = spent_on(*f.p1);
        return here > 0;
    }));
    // The others read it from the shared request log: the same spend, not their own zero share.
    for (ProxyFixture* p : {f.p2.get(), f.p3.get()}) {
        EXPECT_TRUE(eventually([&] { return std::abs(spent_on(*p) - here) < 1e-9; }))
            << "instance on port " << p->port() << " shows " << spent_on(*p) << ", expected "
            << here;
    }
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
