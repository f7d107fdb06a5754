#include "cli/config_io.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace qcc::cli {
namespace {

namespace json = boost::json;
using config::EndpointConfig;
using config::Millis;

std::vector<EndpointConfig> sample_endpoints() {
    EndpointConfig a;
    a.name = "relay-a";
    a.base_url = "https://relay.example.com/prefix";
    a.tier = 1;
    a.weight = 250;
    a.model_map = {{"claude-3.5-sonnet", "glm-4.6"}, {"claude-opus-4-5", "we\"ird\\model"}};
    a.tags = {"eu", "paid tier"};
    a.connect_timeout = Millis(1500);
    a.first_byte_timeout = Millis(120'000);
    a.idle_timeout = Millis(2 * 3'600'000);
    EndpointConfig b;
    b.name = "open.b";
    b.base_url = "http://127.0.0.1:9000";
    b.kind = config::EndpointKind::kOpenAI;
    b.auth = config::AuthMode::kBoth;
    b.tier = 3;
    b.weight = 1;
    b.enabled = false;
    b.tls_verify = false;
    return {a, b};
}

std::vector<std::pair<std::string, std::string>> sorted_map(
    std::vector<std::pair<std::string, std::string>> m) {
    std::sort(m.begin(), m.end());
    return m;
}

TEST(ConfigIo, ExportImportRoundTripGivesTheSameEndpoints) {
    const auto endpoints = sample_endpoints();
    const auto toml = endpoints_to_toml(endpoints);
    EXPECT_EQ(toml.find("\napi_key"), std::string::npos) << toml;
    EXPECT_NE(toml.find("Credentials stay in the store"), std::string::npos);

    const auto entries = parse_import(toml, "export.toml");
    ASSERT_EQ(entries.size(), endpoints.size());
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        auto got = entries[i].endpoint;
        EXPECT_FALSE(entries[i].has_api_key);
        got.model_map = sorted_map(got.model_map);
        auto want = endpoints[i];
        want.model_map = sorted_map(want.model_map);
        EXPECT_EQ(got, want) << "endpoint " << i << "\n" << toml;
    }
    // Importing the export against the same endpoints changes nothing.
    auto existing = endpoints;
    for (auto& e : existing) e.api_key = "sk-ant…abcd";  // what the server shows
    for (const auto& a : plan_import(entries, existing)) {
        EXPECT_EQ(a.kind, ImportAction::Kind::kUnchanged) << a.name;
        EXPECT_TRUE(a.body.empty());
    }
}

TEST(ConfigIo, EndpointJsonRoundTrip) {
    for (const auto& e : sample_endpoints()) {
        auto body = endpoint_create_body(e);
        EXPECT_FALSE(body.contains("api_key"));
        body["api_key"] = "sk-ant…abcd";
        body["state"] = nullptr;
        auto back = endpoint_from_json(body);
        EXPECT_EQ(back.api_key, "sk-ant…abcd");
        back.api_key.clear();
        EXPECT_EQ(back, e);
    }
}

TEST(ConfigIo, ImportKeepsTheCredentialOfAnExistingEndpoint) {
    const std::string file = R"(# hand-written
[[endpoints]]
name = "relay-a"
base_url = "https://relay.example.com/v2/"
tier = 2

[[endpoints]]
name = "fresh"
base_url = "https://fresh.example.com"
api_key = "sk-ant-fresh-0123456789"
)";
    auto existing = sample_endpoints();
    const auto plan = plan_import(parse_import(file, "setup.toml"), existing);
    ASSERT_EQ(plan.size(), 2u);
    EXPECT_EQ(plan[0].kind, ImportAction::Kind::kUpdate);
    EXPECT_FALSE(plan[0].body.contains("api_key"));
    EXPECT_EQ(plan[0].body.at("base_url"), json::value("https://relay.example.com/v2"));
    EXPECT_EQ(plan[0].body.at("tier"), json::value(2));
    EXPECT_EQ(plan[0].body.at("weight"), json::value(100));        // file default, declarative
    EXPECT_TRUE(plan[0].body.at("connect_timeout_ms").is_null());  // cleared
    EXPECT_FALSE(plan[0].body.contains("kind"));                   // unchanged
    const auto& changes = plan[0].changes;
    EXPECT_NE(std::find(changes.begin(), changes.end(), "tier 1 -> 2"), changes.end());
    EXPECT_EQ(plan[1].kind, ImportAction::Kind::kCreate);
    EXPECT_EQ(plan[1].body.at("api_key"), json::value("sk-ant-fresh-0123456789"));
    EXPECT_EQ(plan[1].body.at("name"), json::value("fresh"));
}

TEST(ConfigIo, NewEndpointWithoutApiKeyNamesFileLineAndEntry) {
    const std::string file =
        "listen = \"127.0.0.1:7860\"\n\n[[endpoints]]\nname = \"relay-a\"\n"
        "base_url = \"https://a.example\"\n\n[[endpoints]]\n"
        "name = \"newbie\"\nbase_url = \"https://n.example\"\n";
    try {
        plan_import(parse_import(file, "team.toml"), sample_endpoints());
        FAIL() << "expected ConfigError";
    } catch (const config::ConfigError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("team.toml:7:"), std::string::npos) << msg;
        EXPECT_NE(msg.find("endpoints[1]"), std::string::npos) << msg;
        EXPECT_NE(msg.find("newbie"), std::string::npos) << msg;
        EXPECT_NE(msg.find("api_key"), std::string::npos) << msg;
    }
}

TEST(ConfigIo, ImportValidatesLikeTheConfigLoader) {
    const std::string file = "[[endpoints]]\nname = \"x\"\nbase_url = \"https://x\"\ntier = 12\n";
    try {
        parse_import(file, "bad.toml");
        FAIL() << "expected ConfigError";
    } catch (const config::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.toml:4:"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("endpoints[0].tier"), std::string::npos) << e.what();
    }
}

TEST(ConfigIo, ApiKeyInTheFileReplacesTheStoredOne) {
    const std::string file =
        "[[endpoints]]\nname = \"open.b\"\nbase_url = "
        "\"http://127.0.0.1:9000\"\napi_key = \"sk-new-0123456789\"\n"
        "kind = \"openai\"\nauth = \"both\"\ntier = 3\nweight = 1\n"
        "enabled = false\ntls_verify = false\n";
    const auto plan = plan_import(parse_import(file, "k.toml"), sample_endpoints());
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].kind, ImportAction::Kind::kUpdate);
    EXPECT_EQ(plan[0].changes.size(), 1u);
    EXPECT_EQ(plan[0].body.at("api_key"), json::value("sk-new-0123456789"));
}

TEST(ConfigIo, DurationsUseTheLargestExactUnit) {
    EXPECT_EQ(format_duration(Millis(250)), "250ms");
    EXPECT_EQ(format_duration(Millis(1500)), "1500ms");
    EXPECT_EQ(format_duration(Millis(10'000)), "10s");
    EXPECT_EQ(format_duration(Millis(300'000)), "5m");
    EXPECT_EQ(format_duration(Millis(7'200'000)), "2h");
}

}  // namespace
}  // namespace qcc::cli
