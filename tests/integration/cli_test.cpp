// The management CLI (SPEC §13, contract §7) against the real gateway in-process: every command
// runs through qcc::cli::run with stdout/stderr captured, and the tests check output and exit
// codes (0 ok, 1 failed, 2 usage/validation, 3 unreachable/unauthorized, 4 not found).
#include "cli/cli.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "cli/logs_cmd.hpp"
#include "common/version.hpp"
#include "harness/cli_harness.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

TEST_F(CliTest, EndpointLifecycle) {
    auto r = cli({"endpoint", "add", "relay", "--url", "https://relay.example.com/", "--key",
                  "sk-ant-relay-0123456789abcdef", "--tier", "2", "--weight", "300", "--model-map",
                  "claude-opus-4-5=glm-4.6", "--tag", "eu", "--tag", "cheap"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("added endpoint relay (tier 2, weight 300"), std::string::npos) << r.out;

    r = cli({"endpoint", "list"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("NAME"), std::string::npos);
    EXPECT_NE(r.out.find("relay "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("https://relay.example.com\n"), std::string::npos) << r.out;

    auto ep = cli_json({"endpoint", "show", "relay"});
    EXPECT_EQ(ep["tier"], json::value(2));
    EXPECT_EQ(ep["weight"], json::value(300));
    EXPECT_EQ(ep["base_url"], json::value("https://relay.example.com"));
    EXPECT_EQ(ep["model_map"].as_object().at("claude-opus-4-5"), json::value("glm-4.6"));
    EXPECT_EQ(ep["tags"].as_array().size(), 2u);
    EXPECT_EQ(json::serialize(ep).find("0123456789abcdef"), std::string::npos)
        << "the credential never comes back in clear";

    r = cli({"endpoint", "show", "relay"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("model_map             claude-opus-4-5=glm-4.6"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("recent events:"), std::string::npos);

    r = cli({"endpoint", "set", "relay", "--tier", "3", "--tag", ""});
    ASSERT_EQ(r.code, 0) << describe(r);
    ep = cli_json({"endpoint", "show", "relay"});
    EXPECT_EQ(ep["tier"], json::value(3));
    EXPECT_TRUE(ep["tags"].as_array().empty());
    EXPECT_EQ(ep["weight"], json::value(300)) << "set changes only the fields given";

    r = cli({"endpoint", "disable", "relay"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("disabled endpoint relay"), std::string::npos) << r.out;
    EXPECT_EQ(cli_json({"endpoint", "show", "relay"})["enabled"], json::value(false));
    r = cli({"endpoint", "list"});
    EXPECT_NE(r.out.find("disabled"), std::string::npos) << r.out;
    r = cli({"endpoint", "enable", "relay"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(cli_json({"endpoint", "show", "relay"})["enabled"], json::value(true));

    r = cli({"endpoint", "rm", "relay"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("deleted endpoint relay"), std::string::npos);
    r = cli({"endpoint", "show", "relay"});
    EXPECT_EQ(r.code, 4) << describe(r);
    EXPECT_NE(r.err.find("no endpoint named 'relay'"), std::string::npos) << r.err;
}

TEST_F(CliTest, EndpointErrorsMapToExitCodesWithTheServersMessage) {
    // Validation: exit 2, the message names the field; not raw JSON.
    auto r =
        cli({"endpoint", "add", "bad", "--url", "https://x.example", "--key", "k", "--tier", "12"});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("tier"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("\"type\""), std::string::npos) << "prints the message, not the JSON";
    r = cli({"endpoint", "add", "bad", "--url", "ftp://x.example", "--key", "k"});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("base_url"), std::string::npos) << r.err;
    // Duplicate name: 409 → exit 2.
    r = cli({"endpoint", "add", "up", "--url", "https://x.example", "--key", "k"});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
    // Unknown endpoint: exit 4.
    for (const auto* verb : {"show", "rm", "enable", "disable"}) {
        r = cli({"endpoint", verb, "nope"});
        EXPECT_EQ(r.code, 4) << verb << ": " << describe(r);
    }
    r = cli({"endpoint", "set", "nope", "--weight", "5"});
    EXPECT_EQ(r.code, 4) << describe(r);
    // Usage errors: nothing to set, a malformed --model-map, a missing required flag.
    EXPECT_EQ(cli({"endpoint", "set", "up"}).code, 2);
    r = cli({"endpoint", "set", "up", "--model-map", "nofrom"});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("from=to"), std::string::npos) << r.err;
    EXPECT_EQ(cli({"endpoint", "add", "x", "--url", "https://x.example"}).code, 2);
    // Nothing was created by the failed attempts.
    const auto list = cli_json({"endpoint", "list"});
    EXPECT_EQ(list.at("endpoints").as_array().size(), 1u);
}

TEST_F(CliTest, KeyCreateListRevoke) {
    const auto created = cli_json({"key", "create", "ci"});
    const std::string key =
        created.contains("key") ? std::string(created.at("key").as_string()) : std::string();
    ASSERT_FALSE(key.empty());
    EXPECT_TRUE(eventually([&] { return send_with_key(key) == 200; }))
        << "the created key authenticates a request";
    EXPECT_GE(upstream_.request_count(), 1u);

    auto r = cli({"key", "list"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("ci "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("active"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(key), std::string::npos) << "list never shows a key";

    r = cli({"key", "create", "ci"});
    EXPECT_EQ(r.code, 2) << describe(r);

    r = cli({"key", "revoke", "ci"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("revoked client key ci"), std::string::npos);
    EXPECT_TRUE(eventually([&] { return send_with_key(key) == 401; }));
    EXPECT_EQ(cli({"key", "revoke", "nobody"}).code, 4);

    r = cli({"key", "create", "human"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("sk-"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("shown only this once"), std::string::npos) << r.out;
}

TEST_F(CliTest, StatsAndLogsAfterSomeRequests) {
    for (int i = 0; i < 3; ++i) ASSERT_EQ(proxy_->send_messages().status, 200);
    // A request is logged just after its response went out: await the rows, not just a flush.
    auto& writer = proxy_->gateway().writer();
    ASSERT_TRUE(eventually([&] {
        writer.flush();
        return writer.written() >= 3;
    }));

    const auto stats = cli_json({"stats", "--window", "1h", "--by", "endpoint"});
    ASSERT_TRUE(stats.contains("rows")) << json::serialize(stats);
    const auto& rows = stats.at("rows").as_array();
    ASSERT_EQ(rows.size(), 1u) << json::serialize(stats);
    EXPECT_EQ(rows[0].at("group"), json::value("up"));
    EXPECT_EQ(rows[0].at("count").to_number<std::int64_t>(), 3);
    EXPECT_EQ(stats.at("totals").at("count").to_number<std::int64_t>(), 3);

    auto r = cli({"stats", "--window", "1h"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("ENDPOINT"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("100.0%"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("TOTAL"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("$"), std::string::npos) << r.out;

    r = cli({"stats", "--window", "forever"});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("window"), std::string::npos) << r.err;

    const auto logs = cli_json({"logs", "--limit", "2"});
    ASSERT_TRUE(logs.contains("requests")) << json::serialize(logs);
    const auto& reqs = logs.at("requests").as_array();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_EQ(reqs[0].at("endpoint"), json::value("up"));
    EXPECT_EQ(reqs[0].at("status").to_number<int>(), 200);
    EXPECT_EQ(reqs[0].at("client_key"), json::value("test"));

    r = cli({"logs"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("ENDPOINT"), std::string::npos) << r.out;
    std::size_t lines = 0;
    for (std::size_t p = r.out.find(" up "); p != std::string::npos;
         p = r.out.find(" up ", p + 1)) {
        ++lines;
    }
    EXPECT_EQ(lines, 3u) << r.out;
    EXPECT_NE(r.out.find("claude-sonnet-4-5"), std::string::npos) << r.out;

    r = cli({"logs", "--errors"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("no requests logged"), std::string::npos) << r.out;
}

TEST_F(CliTest, LogsFollowPrintsRequestAndStateEvents) {
    LockedBuf out, err;
    int code = -1;
    std::thread follower([&] {
        code = run_cli_into(with_target({"logs", "-f", "--limit", "1"}), &out, &err);
    });
    auto& hub = proxy_->gateway().hub();
    const bool subscribed = eventually([&] { return hub.subscribers() > 0; });
    if (subscribed) {
        EXPECT_EQ(proxy_->send_messages().status, 200);
        TestClient admin(proxy_->port());
        const auto q = admin.request("POST", "/api/endpoints/up/quarantine",
                                     {{"authorization", std::string("Bearer ") + kAdminToken},
                                      {"content-type", "application/json"}},
                                     R"({"reason":"cli test"})");
        EXPECT_EQ(q.status, 200) << q.body;
        EXPECT_TRUE(eventually([&] {
            const auto text = out.text();
            return text.find("== state: up quarantine cli test") != std::string::npos &&
                   text.find("claude-sonnet-4-5") != std::string::npos;
        })) << out.text()
            << err.text();
    }
    cli::stop_following_logs();
    follower.join();
    ASSERT_TRUE(subscribed) << out.text() << err.text();
    EXPECT_EQ(code, 0) << err.text();
    // The request line: endpoint, model, status.
    const auto text = out.text();
    const auto line_start = text.rfind('\n', text.find("claude-sonnet-4-5"));
    const auto line = text.substr(line_start + 1, text.find('\n', line_start + 1) - line_start);
    EXPECT_NE(line.find(" up "), std::string::npos) << line;
    EXPECT_NE(line.find(" 200 "), std::string::npos) << line;
}

TEST_F(CliTest, ConfigExportImportRoundTrip) {
    auto r = cli({"endpoint", "add", "second", "--url", "https://second.example/v1", "--key",
                  "sk-ant-second-0123456789", "--tier", "2", "--model-map", "claude-x=glm", "--tag",
                  "b"});
    ASSERT_EQ(r.code, 0) << describe(r);
    const auto before = cli_json({"endpoint", "list"});
    const auto file = (home_ / "export.toml").string();
    r = cli({"config", "export", file});
    ASSERT_EQ(r.code, 0) << describe(r);
    std::stringstream text;
    text << std::ifstream(file).rdbuf();
    EXPECT_NE(text.str().find("[[endpoints]]"), std::string::npos) << text.str();
    EXPECT_NE(text.str().find("name = \"second\""), std::string::npos) << text.str();
    EXPECT_EQ(text.str().find("\napi_key"), std::string::npos) << text.str();
    EXPECT_EQ(text.str().find("sk-ant"), std::string::npos) << text.str();
    r = cli({"config", "export"});  // stdout
    EXPECT_EQ(r.out, text.str());

    // Importing the export changes nothing.
    r = cli({"config", "import", file});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("0 created, 0 updated, 2 unchanged"), std::string::npos) << r.out;

    // Drift the server, then import: the file wins, the credential stays.
    ASSERT_EQ(cli({"endpoint", "set", "second", "--tier", "5", "--weight", "7"}).code, 0);
    r = cli({"config", "import", "--dry-run", file});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("would update second: tier 5 -> 2; weight 7 -> 100"), std::string::npos)
        << r.out;
    EXPECT_EQ(cli_json({"endpoint", "show", "second"})["tier"], json::value(5)) << "dry run";
    r = cli({"config", "import", file});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("updated second: tier 5 -> 2; weight 7 -> 100"), std::string::npos)
        << r.out;
    auto after = cli_json({"endpoint", "list"});
    for (auto* doc : {&after}) {
        for (auto& v : (*doc)["endpoints"].as_array()) {
            v.as_object().erase("updated_at");
            v.as_object().erase("state");
        }
    }
    auto expected = before;
    for (auto& v : expected["endpoints"].as_array()) {
        v.as_object().erase("updated_at");
        v.as_object().erase("state");
    }
    EXPECT_EQ(after, expected) << "round trip restores every field, credential included";
    EXPECT_EQ(proxy_->send_messages().status, 200);
    EXPECT_EQ(upstream_.requests().back().header("x-api-key"), "sk-ant-up")
        << "an import without api_key keeps the stored credential";

    // A new endpoint in the file needs an api_key: exit 2, the file and entry are named, and
    // nothing is applied.
    ASSERT_EQ(cli({"endpoint", "rm", "second"}).code, 0);
    ASSERT_EQ(cli({"endpoint", "set", "up", "--weight", "9"}).code, 0);
    r = cli({"config", "import", file});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find(file + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("\"second\""), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("api_key"), std::string::npos) << r.err;
    EXPECT_EQ(cli_json({"endpoint", "show", "up"})["weight"], json::value(9));

    // A syntax error is reported with file:line.
    std::ofstream(file) << "[[endpoints]]\nname = \"x\"\nbase_url = 42\n";
    r = cli({"config", "import", file});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find(file + ":3:"), std::string::npos) << r.err;
}

TEST_F(CliTest, KeyFromStandardInputStaysOutOfArgv) {
    std::istringstream in("sk-ant-from-stdin-123456\n");
    auto* old = std::cin.rdbuf(in.rdbuf());
    const auto r = cli({"endpoint", "add", "piped", "--url", "http://127.0.0.1:9", "--key", "-"});
    std::cin.rdbuf(old);
    ASSERT_EQ(r.code, 0) << describe(r);
    // Stored as read (shown masked); never the literal "-".
    const auto shown = cli({"endpoint", "show", "piped"});
    EXPECT_NE(shown.out.find("****3456"), std::string::npos) << describe(shown);

    std::istringstream empty("");
    old = std::cin.rdbuf(empty.rdbuf());
    const auto none = cli({"endpoint", "set", "piped", "--key", "-"});
    std::cin.rdbuf(old);
    EXPECT_EQ(none.code, 2) << describe(none);
    EXPECT_NE(none.err.find("no key on standard input"), std::string::npos) << describe(none);

    // From a file (first line), and an add without any key source says what it needs.
    const auto file = home_ / "upstream.key";
    std::ofstream(file) << "sk-ant-from-file-654321\n";
    const auto from_file = cli({"endpoint", "set", "piped", "--key-file", file.string()});
    ASSERT_EQ(from_file.code, 0) << describe(from_file);
    EXPECT_NE(cli({"endpoint", "show", "piped"}).out.find("****4321"), std::string::npos);
    const auto keyless = cli({"endpoint", "add", "nokey", "--url", "http://127.0.0.1:9"});
    EXPECT_EQ(keyless.code, 2) << describe(keyless);
    EXPECT_NE(keyless.err.find("--key-file FILE"), std::string::npos) << describe(keyless);
}

TEST_F(CliTest, UnreachableServerAndWrongTokenExit3) {
    auto r = run_cli({"endpoint", "list", "--listen", "127.0.0.1:1", "--token", "x"});
    EXPECT_EQ(r.code, 3) << describe(r);
    EXPECT_NE(r.err.find("cannot reach QCC"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("boost"), std::string::npos) << "no library source locations: " << r.err;

    r = run_cli(with_target({"endpoint", "list"}, "wrong-token"));
    EXPECT_EQ(r.code, 3) << describe(r);
    EXPECT_NE(r.err.find("admin token"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("{\"type\""), std::string::npos) << r.err;

    r = run_cli(with_target({"stats"}, "wrong-token"));
    EXPECT_EQ(r.code, 3) << describe(r);
    r = run_cli({"logs", "-f", "--listen", "127.0.0.1:1"});
    EXPECT_EQ(r.code, 3) << describe(r);
}

TEST_F(CliTest, SettingsEventsChecksAndOperatorActionsAreTheRunningServers) {
    // One channel: what the CLI changes, the running server applies before the command returns.
    auto r = cli({"settings", "set", "breaker.open", "45s"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_EQ(proxy_->gateway().snapshots().policy()->breaker.open_base, 45s);
    r = cli({"settings", "get", "breaker.open"});
    EXPECT_EQ(r.out, "45s\n") << describe(r);
    r = cli({"settings", "set", "breaker.open", "soon"});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("breaker.open: expected a duration"), std::string::npos) << r.err;
    r = cli({"settings", "list"});
    EXPECT_NE(r.out.find("breaker.open"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("45s"), std::string::npos) << r.out;

    r = cli({"endpoint", "quarantine", "up", "--reason", "maintenance"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_TRUE(proxy_->state("up").quarantined.load());
    EXPECT_EQ(proxy_->state("up").quarantine_reason(), "maintenance");
    r = cli({"endpoint", "release", "up"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_FALSE(proxy_->state("up").quarantined.load());
    r = cli({"endpoint", "quarantine", "nope"});
    EXPECT_EQ(r.code, 4) << describe(r);

    proxy_->gateway().tick();  // persists the queued state changes, as the control loop does
    const auto events = cli_json({"events", "--endpoint", "up"});
    std::vector<std::string> kinds;
    for (const auto& e : events.at("events").as_array()) {
        kinds.emplace_back(e.at("kind").as_string());
    }
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "quarantine"), kinds.end());
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "release"), kinds.end());
    r = cli({"events"});
    EXPECT_NE(r.out.find("maintenance"), std::string::npos) << r.out;

    r = cli({"checks"});
    EXPECT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("no health checks recorded"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace qcc::test

namespace qcc::test {
namespace {

TEST(CliUsage, TyposGetTheNearestCommandAndBareQccItsHelp) {
    const auto bare = run_cli({});
    EXPECT_EQ(bare.code, 2);
    EXPECT_NE(bare.out.find("Usage: qcc [OPTIONS] SUBCOMMAND"), std::string::npos)
        << describe(bare);
    const auto typo = run_cli({"statsu"});
    EXPECT_EQ(typo.code, 2);
    EXPECT_NE(typo.err.find("unknown command 'qcc statsu' (did you mean 'stats'?)"),
              std::string::npos)
        << describe(typo);
    const auto option = run_cli({"--verison"});
    EXPECT_EQ(option.code, 2);
    EXPECT_NE(option.err.find("did you mean '--version'?"), std::string::npos) << describe(option);
    const auto nested = run_cli({"endpoint", "ad", "x"});
    EXPECT_NE(nested.err.find("unknown command 'qcc endpoint ad' (did you mean 'add'?)"),
              std::string::npos)
        << describe(nested);
    const auto synonym = run_cli({"key", "rm", "laptop"});
    EXPECT_NE(synonym.err.find("(did you mean 'revoke'?)"), std::string::npos) << describe(synonym);
    const auto missing = run_cli({"endpoint"});
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("'qcc endpoint' needs a command: "), std::string::npos)
        << describe(missing);
    const auto version = run_cli({"--version"});
    EXPECT_EQ(version.code, 0);
    EXPECT_EQ(version.out, "qcc " + std::string(kVersion) + "\n");
}

}  // namespace
}  // namespace qcc::test

namespace qcc::test {
namespace {

TEST(CliEmpty, StatusAndHealthWithoutEndpointsSayWhatToDo) {
    ProxyFixture proxy({});
    const std::string listen = "127.0.0.1:" + std::to_string(proxy.port());
    const auto status = run_cli({"status", "--listen", listen, "--token", kAdminToken});
    EXPECT_EQ(status.code, 0) << describe(status);
    EXPECT_NE(status.out.find("no endpoints configured: add one with `qcc endpoint add"),
              std::string::npos)
        << describe(status);
    EXPECT_EQ(status.out.find("ENDPOINT"), std::string::npos) << "no empty table";
    const auto health = run_cli({"health", "--listen", listen, "--token", kAdminToken});
    EXPECT_EQ(health.code, 0) << describe(health);
    EXPECT_NE(health.out.find("no enabled endpoint to check"), std::string::npos)
        << describe(health);
}

TEST(CliEmpty, KeysAreToldApartByTheirPrefix) {
    ProxyFixture proxy({});
    const std::string listen = "127.0.0.1:" + std::to_string(proxy.port());
    const auto a = run_cli({"key", "create", "a", "--listen", listen, "--token", kAdminToken});
    const auto b = run_cli({"key", "create", "b", "--listen", listen, "--token", kAdminToken});
    ASSERT_EQ(a.code, 0) << describe(a);
    ASSERT_EQ(b.code, 0) << describe(b);
    const auto list = run_cli({"key", "list", "--listen", listen, "--token", kAdminToken});
    const auto key_of = [](const std::string& out) {
        const auto at = out.find("sk-qcc-");
        return out.substr(at, 55);
    };
    const auto ka = key_of(a.out), kb = key_of(b.out);
    EXPECT_NE(list.out.find(ka.substr(0, 13)), std::string::npos) << list.out;
    EXPECT_NE(list.out.find(kb.substr(0, 13)), std::string::npos) << list.out;
    EXPECT_NE(ka.substr(0, 13), kb.substr(0, 13));
}

}  // namespace
}  // namespace qcc::test
