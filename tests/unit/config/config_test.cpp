#include "config/config.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

namespace qcc::config {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Sets (or unsets) an environment variable for the lifetime of the object.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    const char* name_;
    std::optional<std::string> old_;
};

class ConfigTest : public ::testing::Test {
  protected:
    // The runner's environment must not leak into expectations about admin_token.
    ScopedEnv no_token_{"QCC_ADMIN_TOKEN", nullptr};
    ScopedEnv no_store_{"QCC_STORE", nullptr};
};

std::string error_of(std::string_view text) {
    try {
        (void)load_string(text, "t.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<no error>";
}

constexpr std::string_view kFullFile = R"(# every key QCC understands
listen = "0.0.0.0:9000"
data_dir = "/var/lib/qcc"
admin_token = "admin-secret"
workers = 4
max_body_bytes = 1048576
max_header_bytes = 32768
drain_timeout = "45s"
log_level = "debug"
log_format = "json"

[timeouts]
connect = 5
first_byte = "2m"
idle = "90s"
total = "1h"

[pool]
max_per_endpoint = 32
max_idle = 8
idle_expiry = "20s"
dns_ttl = 0

[[keys]]
name = "me"
key = "sk-qcc-0123456789abcdef"

[[keys]]
name = "ci"
key = "sk-qcc-fedcba9876543210"

[[endpoints]]
name = "relay-a"
base_url = "https://relay.example.com/api/anthropic/"
api_key = "sk-relay"
kind = "anthropic"
auth = "both"
tier = 2
weight = 250
enabled = false
tls_verify = false
connect_timeout = "3s"
first_byte_timeout = 120
idle_timeout = "500ms"
tags = ["cheap", "eu"]
models = ["claude-sonnet-*", "haiku"]
model_map = { haiku = "claude-3-5-haiku-latest", "claude-opus-4" = "claude-sonnet-4" }

[[endpoints]]
name = "local_llm.1"
base_url = "http://127.0.0.1:8080"
kind = "openai"
)";

TEST_F(ConfigTest, FullFileLoadsEveryKey) {
    Config expected;
    expected.listen = "0.0.0.0:9000";
    expected.data_dir = "/var/lib/qcc";
    expected.admin_token = "admin-secret";
    expected.workers = 4;
    expected.max_body_bytes = 1048576;
    expected.max_header_bytes = 32768;
    expected.drain_timeout = seconds(45);
    expected.log_level = "debug";
    expected.log_format = "json";
    expected.timeouts = {seconds(5), minutes(2), seconds(90), hours(1)};
    expected.pool = {32, 8, seconds(20), Millis(0)};
    expected.keys = {{"me", "sk-qcc-0123456789abcdef"}, {"ci", "sk-qcc-fedcba9876543210"}};
    EndpointConfig a;
    a.name = "relay-a";
    a.base_url = "https://relay.example.com/api/anthropic";  // one trailing '/' stripped
    a.api_key = "sk-relay";
    a.kind = EndpointKind::kAnthropic;
    a.auth = AuthMode::kBoth;
    a.tier = 2;
    a.weight = 250;
    a.enabled = false;
    a.tls_verify = false;
    a.connect_timeout = seconds(3);
    a.first_byte_timeout = seconds(120);
    a.idle_timeout = Millis(500);
    a.tags = {"cheap", "eu"};
    a.models = {"claude-sonnet-*", "haiku"};
    // toml++ keeps table keys sorted, so the map comes back in key order.
    a.model_map = {{"claude-opus-4", "claude-sonnet-4"}, {"haiku", "claude-3-5-haiku-latest"}};
    EndpointConfig b;
    b.name = "local_llm.1";
    b.base_url = "http://127.0.0.1:8080";
    b.kind = EndpointKind::kOpenAI;
    b.auth = AuthMode::kBearer;  // the default for OpenAI-compatible endpoints
    expected.endpoints = {a, b};
    expected.source = "full.toml";

    EXPECT_EQ(load_string(kFullFile, "full.toml"), expected);
}

TEST_F(ConfigTest, LoadFileReadsFromDiskAndRecordsSource) {
    const auto dir = std::filesystem::temp_directory_path();
    const std::string path = (dir / ("qcc-config-test-" + std::to_string(::getpid()) + ".toml"));
    {
        std::ofstream out(path);
        out << kFullFile;
    }
    const Config cfg = load_file(path);
    std::filesystem::remove(path);
    EXPECT_EQ(cfg.source, path);
    Config from_string = load_string(kFullFile, path);
    EXPECT_EQ(cfg, from_string);
}

TEST_F(ConfigTest, MissingFileNamesPathAndReason) {
    try {
        (void)load_file("/nonexistent/qcc.toml");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "/nonexistent/qcc.toml: cannot open: No such file or directory");
    }
}

TEST_F(ConfigTest, ASmallPoolCapsTheDefaultIdleCount) {
    // Only max_per_endpoint set: the default max_idle shrinks to it instead of failing the load.
    const Config cfg = load_string("[pool]\nmax_per_endpoint = 8\n", "t.toml");
    EXPECT_EQ(cfg.pool.max_per_endpoint, 8);
    EXPECT_EQ(cfg.pool.max_idle, 8);
    const Config set = load_string("[pool]\nmax_per_endpoint = 8\nmax_idle = 3\n", "t.toml");
    EXPECT_EQ(set.pool.max_idle, 3);
}

TEST_F(ConfigTest, EmptyFileGivesDefaults) {
    const Config cfg = load_string("", "empty.toml");
    EXPECT_EQ(cfg.listen, "127.0.0.1:7860");
    EXPECT_EQ(cfg.data_dir, "~/.qcc");
    EXPECT_EQ(cfg.admin_token, "");
    EXPECT_EQ(cfg.workers, 0);
    EXPECT_EQ(cfg.max_body_bytes, 32u * 1024 * 1024);
    EXPECT_EQ(cfg.max_header_bytes, 64u * 1024);
    EXPECT_EQ(cfg.timeouts.connect, seconds(10));
    EXPECT_EQ(cfg.timeouts.first_byte, seconds(300));
    EXPECT_EQ(cfg.timeouts.idle, seconds(120));
    EXPECT_EQ(cfg.timeouts.total, seconds(600));
    EXPECT_EQ(cfg.pool.max_per_endpoint, 4096);  // sized for thousands of streams
    EXPECT_EQ(cfg.pool.max_idle, 256);           // a burst's connections are kept for the next
    EXPECT_EQ(cfg.pool.idle_expiry, seconds(30));
    EXPECT_EQ(cfg.pool.dns_ttl, seconds(300));
    EXPECT_EQ(cfg.drain_timeout, seconds(30));
    EXPECT_EQ(cfg.log_level, "info");
    EXPECT_EQ(cfg.log_format, "text");
    EXPECT_TRUE(cfg.keys.empty());
    EXPECT_TRUE(cfg.endpoints.empty());
    EXPECT_EQ(cfg.source, "empty.toml");
    Config defaults;
    defaults.source = "empty.toml";
    EXPECT_EQ(cfg, defaults);
}

TEST_F(ConfigTest, EndpointDefaults) {
    const Config cfg =
        load_string("[[endpoints]]\nname = \"a\"\nbase_url = \"https://x.example\"\n", "t.toml");
    ASSERT_EQ(cfg.endpoints.size(), 1u);
    const EndpointConfig& e = cfg.endpoints[0];
    EXPECT_EQ(e.api_key, "");  // allowed: some local relays need no credential
    EXPECT_EQ(e.kind, EndpointKind::kAnthropic);
    EXPECT_EQ(e.auth, AuthMode::kXApiKey);
    EXPECT_EQ(e.tier, 1);
    EXPECT_EQ(e.weight, 100);
    EXPECT_TRUE(e.enabled);
    EXPECT_TRUE(e.tls_verify);
    EXPECT_TRUE(e.model_map.empty());
    EXPECT_TRUE(e.tags.empty());
    EXPECT_FALSE(e.connect_timeout.has_value());
    EXPECT_FALSE(e.first_byte_timeout.has_value());
    EXPECT_FALSE(e.idle_timeout.has_value());
}

TEST_F(ConfigTest, ExplicitAuthWinsForOpenAI) {
    const Config cfg = load_string(
        "[[endpoints]]\nname = \"o\"\nbase_url = \"https://x\"\nkind = \"openai\"\n"
        "auth = \"x-api-key\"\n",
        "t.toml");
    EXPECT_EQ(cfg.endpoints.at(0).auth, AuthMode::kXApiKey);
}

TEST_F(ConfigTest, InlineTableArrayFormIsAccepted) {
    const Config cfg = load_string(
        "endpoints = [ { name = \"a\", base_url = \"https://a\" }, "
        "{ name = \"b\", base_url = \"https://b/\" } ]\n",
        "t.toml");
    ASSERT_EQ(cfg.endpoints.size(), 2u);
    EXPECT_EQ(cfg.endpoints[1].base_url, "https://b");
}

TEST_F(ConfigTest, BaseUrlNormalization) {
    auto url_of = [](std::string_view url) {
        return load_string("[[endpoints]]\nname = \"a\"\nbase_url = \"" + std::string(url) + "\"\n",
                           "t.toml")
            .endpoints.at(0)
            .base_url;
    };
    EXPECT_EQ(url_of("https://relay.example.com/"), "https://relay.example.com");
    EXPECT_EQ(url_of("https://relay.example.com"), "https://relay.example.com");
    EXPECT_EQ(url_of("https://x.example/api/anthropic/"), "https://x.example/api/anthropic");
    // Every trailing slash goes (normalizing twice must not change the result: found by fuzzing).
    EXPECT_EQ(url_of("http://127.0.0.1:8080/v1//"), "http://127.0.0.1:8080/v1");
    EXPECT_EQ(url_of("http://[::1]:8080"), "http://[::1]:8080");
}

// Durations: integer seconds or "<n>ms|s|m|h".
struct DurationCase {
    std::string value;  // TOML text of the value
    long long expected_ms;
};

class DurationTest : public ConfigTest, public ::testing::WithParamInterface<DurationCase> {};

TEST_P(DurationTest, Parses) {
    const Config cfg = load_string("[timeouts]\nconnect = " + GetParam().value + "\n", "t.toml");
    EXPECT_EQ(cfg.timeouts.connect.count(), GetParam().expected_ms);
}

INSTANTIATE_TEST_SUITE_P(
    Values, DurationTest,
    ::testing::Values(DurationCase{"10", 10'000}, DurationCase{"1", 1'000},
                      DurationCase{"\"500ms\"", 500}, DurationCase{"\"10s\"", 10'000},
                      DurationCase{"\"5m\"", 300'000}, DurationCase{"\"1h\"", 3'600'000},
                      DurationCase{"\"168h\"", 604'800'000}, DurationCase{"604800", 604'800'000}));

TEST_F(ConfigTest, InvalidDurationsAreRejectedAtTheirPosition) {
    for (const std::string bad : {"\"10\"", "\"1.5s\"", "\"-1s\"", "\"10 s\"", "\"10S\"", "\"1d\"",
                                  "\"169h\"", "\"\"", "-1", "604801"}) {
        const std::string err = error_of("[timeouts]\nidle = " + bad + "\n");
        EXPECT_THAT(err, StartsWith("t.toml:2:8: timeouts.idle: invalid duration")) << bad;
    }
    EXPECT_EQ(error_of("[timeouts]\nidle = 1.5\n"),
              "t.toml:2:8: timeouts.idle: expected a duration (integer seconds or a string like "
              "\"500ms\", \"10s\", \"5m\", \"1h\"), got a floating-point number");
    EXPECT_EQ(error_of("[timeouts]\nconnect = 0\n"),
              "t.toml:2:11: timeouts.connect: must be greater than zero");
    EXPECT_EQ(error_of("drain_timeout = \"0s\"\n"), "<no error>");  // 0 = close at once
    EXPECT_EQ(error_of("[pool]\ndns_ttl = 0\n"), "<no error>");     // 0 = no DNS caching
}

TEST(ParseDuration, Direct) {
    EXPECT_EQ(parse_duration("250ms"), Millis(250));
    EXPECT_EQ(parse_duration("0s"), Millis(0));
    EXPECT_EQ(parse_duration("2h"), hours(2));
    EXPECT_EQ(parse_duration("10"), std::nullopt);
    EXPECT_EQ(parse_duration("ms"), std::nullopt);
    EXPECT_EQ(parse_duration("99999999999999s"), std::nullopt);
    EXPECT_EQ(parse_duration("5 m"), std::nullopt);
}

// Every validation error names file, line, column and key path.
struct ErrorCase {
    std::string name;
    std::string toml;
    std::string expected;  // exact what(), or a prefix when it ends with "..."
};

class ValidationTest : public ConfigTest, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(ValidationTest, NamesLineAndKey) {
    const std::string err = error_of(GetParam().toml);
    const std::string& expected = GetParam().expected;
    if (expected.size() > 3 && expected.ends_with("...")) {
        EXPECT_THAT(err, StartsWith(expected.substr(0, expected.size() - 3)));
    } else {
        EXPECT_EQ(err, expected);
    }
}

// Three endpoints so errors in the third one must say endpoints[2] and its line.
const std::string kTwoEndpoints =
    "[[endpoints]]\n"                     // 1
    "name = \"a\"\n"                      // 2
    "base_url = \"https://a.example\"\n"  // 3
    "[[endpoints]]\n"                     // 4
    "name = \"b\"\n"                      // 5
    "base_url = \"https://b.example\"\n"  // 6
    "[[endpoints]]\n";                    // 7

std::string third(std::string_view lines) { return kTwoEndpoints + std::string(lines); }

INSTANTIATE_TEST_SUITE_P(
    Errors, ValidationTest,
    ::testing::Values(
        ErrorCase{"SyntaxError", "listen = \n", "t.toml:1:10: ..."},
        ErrorCase{"UnknownTopLevelKey", "workers = 2\nlisen = \"x:1\"\n",
                  "t.toml:2:1: lisen: unknown key (did you mean \"listen\"?)"},
        ErrorCase{"UnknownKeyNoSuggestion", "frobnicate = 1\n",
                  "t.toml:1:1: frobnicate: unknown key"},
        ErrorCase{"UnknownTimeoutKey", "[timeouts]\nconect = 5\n",
                  "t.toml:2:1: timeouts.conect: unknown key (did you mean \"connect\"?)"},
        ErrorCase{"UnknownPoolKey", "[pool]\nmax = 5\n", "t.toml:2:1: pool.max: unknown key"},
        ErrorCase{"UnknownEndpointKey",
                  third("name = \"c\"\nbase_url = \"https://c\"\nwieght = 5\n"),
                  "t.toml:10:1: endpoints[2].wieght: unknown key (did you mean \"weight\"?)"},
        ErrorCase{"UnknownKeysKey",
                  "[[keys]]\nname = \"a\"\nkey = \"0123456789abcdef\"\nrole = 1\n",
                  "t.toml:4:1: keys[0].role: unknown key"},
        ErrorCase{"WrongTypeTopLevel", "workers = \"4\"\n",
                  "t.toml:1:11: workers: expected an integer, got a string"},
        ErrorCase{"WrongTypeListen", "listen = 7860\n",
                  "t.toml:1:10: listen: expected a string, got an integer"},
        ErrorCase{"WrongTypeBool",
                  third("name = \"c\"\nbase_url = \"https://c\"\nenabled = \"yes\"\n"),
                  "t.toml:10:11: endpoints[2].enabled: expected a boolean, got a string"},
        ErrorCase{"TimeoutsNotATable", "timeouts = 5\n",
                  "t.toml:1:12: timeouts: expected a table, got an integer"},
        ErrorCase{"EndpointsNotAnArray", "[endpoints]\nname = \"a\"\n",
                  "t.toml:1:1: endpoints: expected an array of tables ([[endpoints]]), got a "
                  "table"},
        ErrorCase{"EndpointsArrayOfStrings", "endpoints = [\"a\"]\n",
                  "t.toml:1:14: endpoints[0]: expected a table, got a string"},
        ErrorCase{"WeightTooHigh", third("name = \"c\"\nbase_url = \"https://c\"\nweight = 1001\n"),
                  "t.toml:10:10: endpoints[2].weight: must be between 1 and 1000"},
        ErrorCase{"WeightZero", third("name = \"c\"\nbase_url = \"https://c\"\nweight = 0\n"),
                  "t.toml:10:10: endpoints[2].weight: must be between 1 and 1000"},
        ErrorCase{"WeightFloat", third("name = \"c\"\nbase_url = \"https://c\"\nweight = 1.5\n"),
                  "t.toml:10:10: endpoints[2].weight: expected an integer, got a floating-point "
                  "number"},
        ErrorCase{"TierZero", third("name = \"c\"\nbase_url = \"https://c\"\ntier = 0\n"),
                  "t.toml:10:8: endpoints[2].tier: must be between 1 and 9"},
        ErrorCase{"TierTen", third("name = \"c\"\nbase_url = \"https://c\"\ntier = 10\n"),
                  "t.toml:10:8: endpoints[2].tier: must be between 1 and 9"},
        ErrorCase{"BadKind", third("name = \"c\"\nbase_url = \"https://c\"\nkind = \"gemini\"\n"),
                  "t.toml:10:8: endpoints[2].kind: must be one of \"anthropic\", \"openai\""},
        ErrorCase{"BadAuth", third("name = \"c\"\nbase_url = \"https://c\"\nauth = \"Bearer\"\n"),
                  "t.toml:10:8: endpoints[2].auth: must be one of \"x-api-key\", \"bearer\", "
                  "\"both\""},
        ErrorCase{"BaseUrlScheme", third("name = \"c\"\nbase_url = \"ftp://c.example\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: scheme must be http or https"},
        ErrorCase{"BaseUrlNoScheme", third("name = \"c\"\nbase_url = \"relay.example.com\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: not a valid absolute URL..."},
        ErrorCase{"BaseUrlGarbage", third("name = \"c\"\nbase_url = \"https://a b\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: not a valid absolute URL..."},
        ErrorCase{"BaseUrlNoHost", third("name = \"c\"\nbase_url = \"https:///v1\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: must have a host"},
        ErrorCase{"BaseUrlNoAuthority", third("name = \"c\"\nbase_url = \"https:relay\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: must have a host"},
        ErrorCase{"BaseUrlQuery", third("name = \"c\"\nbase_url = \"https://c/?a=1\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: must not have a query string"},
        ErrorCase{"BaseUrlFragment", third("name = \"c\"\nbase_url = \"https://c/#x\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: must not have a fragment"},
        ErrorCase{"BaseUrlUserinfo", third("name = \"c\"\nbase_url = \"https://u:p@c\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: must not contain credentials (use "
                  "api_key)"},
        ErrorCase{"BaseUrlEmpty", third("name = \"c\"\nbase_url = \"\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: must not be empty"},
        ErrorCase{"BaseUrlMissing", third("name = \"c\"\n"),
                  "t.toml:7:1: endpoints[2].base_url: missing required key"},
        ErrorCase{"NameMissing", third("base_url = \"https://c\"\n"),
                  "t.toml:7:1: endpoints[2].name: missing required key"},
        ErrorCase{"NameEmpty", third("name = \"\"\nbase_url = \"https://c\"\n"),
                  "t.toml:8:8: endpoints[2].name: must not be empty"},
        ErrorCase{"NameBadChars", third("name = \"relay a\"\nbase_url = \"https://c\"\n"),
                  "t.toml:8:8: endpoints[2].name: may contain only letters, digits, '.', '_' and "
                  "'-'"},
        ErrorCase{"NameTooLong",
                  third("name = \"" + std::string(65, 'x') + "\"\nbase_url = \"https://c\"\n"),
                  "t.toml:8:8: endpoints[2].name: must be at most 64 characters"},
        ErrorCase{"DuplicateEndpoint", third("name = \"a\"\nbase_url = \"https://c\"\n"),
                  "t.toml:8:8: endpoints[2].name: duplicate endpoint name \"a\" (first defined at "
                  "line 2)"},
        ErrorCase{"EndpointTimeoutOverride",
                  third("name = \"c\"\nbase_url = \"https://c\"\nidle_timeout = \"soon\"\n"),
                  "t.toml:10:16: endpoints[2].idle_timeout: invalid duration..."},
        ErrorCase{
            "ApiKeyWithNewline",
            third("name = \"c\"\nbase_url = \"https://c\"\napi_key = \"sk-x\\r\\nx-evil: 1\"\n"),
            "t.toml:10:11: endpoints[2].api_key: must not contain control characters "
            "(found 0x0d)"},
        ErrorCase{"ClientKeyWithNewline",
                  "[[keys]]\nname = \"me\"\nkey = \"sk-qcc-0123456789abcdef\\n\"\n",
                  "t.toml:3:7: keys[0].key: must not contain control characters (found 0x0a)"},
        ErrorCase{"PortZero", third("name = \"c\"\nbase_url = \"http://c:0\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: port 0 is not between 1 and 65535"},
        ErrorCase{"PortTooBig", third("name = \"c\"\nbase_url = \"http://c:99999\"\n"),
                  "t.toml:9:12: endpoints[2].base_url: port 99999 is not between 1 and 65535"},
        ErrorCase{"UnknownLimitsKey", "[limits]\nmax_conections = 5\n",
                  "t.toml:2:1: limits.max_conections: unknown key (did you mean "
                  "\"max_connections\"?)"},
        ErrorCase{"ModelMapValueType",
                  third("name = \"c\"\nbase_url = \"https://c\"\nmodel_map = { haiku = 3 }\n"),
                  "t.toml:10:23: endpoints[2].model_map.haiku: expected a string, got an integer"},
        ErrorCase{"ModelMapQuotedKey",
                  third("name = \"c\"\nbase_url = \"https://c\"\n"
                        "model_map = { \"claude.opus\" = \"\" }\n"),
                  "t.toml:10:31: endpoints[2].model_map.\"claude.opus\": target model must not be "
                  "empty"},
        ErrorCase{"ModelMapNotTable",
                  third("name = \"c\"\nbase_url = \"https://c\"\nmodel_map = \"haiku\"\n"),
                  "t.toml:10:13: endpoints[2].model_map: expected a table, got a string"},
        ErrorCase{"TagsNotArray", third("name = \"c\"\nbase_url = \"https://c\"\ntags = \"eu\"\n"),
                  "t.toml:10:8: endpoints[2].tags: expected an array of strings, got a string"},
        ErrorCase{"ModelPatternStarInside",
                  third("name = \"c\"\nbase_url = \"https://c\"\nmodels = [\"claude-*-4\"]\n"),
                  "t.toml:10:11: endpoints[2].models[0]: '*' may only end a pattern (a prefix)"},
        ErrorCase{"ModelPatternEmpty",
                  third("name = \"c\"\nbase_url = \"https://c\"\nmodels = [\"haiku\", \"\"]\n"),
                  "t.toml:10:20: endpoints[2].models[1]: must not be empty"},
        ErrorCase{"TagNotString",
                  third("name = \"c\"\nbase_url = \"https://c\"\ntags = [\"eu\", 3]\n"),
                  "t.toml:10:15: endpoints[2].tags[1]: expected a string, got an integer"},
        ErrorCase{"KeyTooShort", "[[keys]]\nname = \"me\"\nkey = \"short\"\n",
                  "t.toml:3:7: keys[0].key: must be at least 16 characters"},
        ErrorCase{"KeyNameEmpty", "[[keys]]\nname = \"\"\nkey = \"0123456789abcdef\"\n",
                  "t.toml:2:8: keys[0].name: must not be empty"},
        ErrorCase{"KeyMissing", "[[keys]]\nname = \"me\"\n",
                  "t.toml:1:1: keys[0].key: missing required key"},
        ErrorCase{"DuplicateKeyName",
                  "[[keys]]\nname = \"me\"\nkey = \"0123456789abcdef\"\n"
                  "[[keys]]\nname = \"me\"\nkey = \"fedcba9876543210\"\n",
                  "t.toml:5:8: keys[1].name: duplicate key name \"me\" (first defined at line 2)"},
        ErrorCase{"DuplicateKeyValue",
                  "[[keys]]\nname = \"me\"\nkey = \"0123456789abcdef\"\n"
                  "[[keys]]\nname = \"you\"\nkey = \"0123456789abcdef\"\n",
                  "t.toml:6:7: keys[1].key: same key as the one defined at line 3"},
        ErrorCase{"ListenNoPort", "listen = \"localhost\"\n",
                  "t.toml:1:10: listen: expected host:port"},
        ErrorCase{"ListenBareIpv6", "listen = \"::1:7860\"\n",
                  "t.toml:1:10: listen: IPv6 addresses must be in brackets, e.g. [::1]:7860"},
        ErrorCase{"ListenBadPort", "listen = \"127.0.0.1:65536\"\n",
                  "t.toml:1:10: listen: invalid port"},
        ErrorCase{"WorkersTooMany", "workers = 257\n",
                  "t.toml:1:11: workers: must be between 0 and 256"},
        ErrorCase{"WorkersNegative", "workers = -1\n",
                  "t.toml:1:11: workers: must be between 0 and 256"},
        ErrorCase{
            "LogLevel", "log_level = \"verbose\"\n",
            "t.toml:1:13: log_level: must be one of \"trace\", \"debug\", \"info\", \"warn\", "
            "\"error\""},
        ErrorCase{"LogFormat", "log_format = \"xml\"\n",
                  "t.toml:1:14: log_format: must be one of \"text\", \"json\""},
        ErrorCase{"DataDirEmpty", "data_dir = \"\"\n", "t.toml:1:12: data_dir: must not be empty"},
        ErrorCase{"MaxBodyZero", "max_body_bytes = 0\n",
                  "t.toml:1:18: max_body_bytes: must be between 1 and 1073741824"},
        ErrorCase{"MaxHeaderTiny", "max_header_bytes = 100\n",
                  "t.toml:1:20: max_header_bytes: must be between 1024 and 1048576"},
        ErrorCase{"PoolIdleAboveMax", "[pool]\nmax_per_endpoint = 4\nmax_idle = 5\n",
                  "t.toml:3:12: pool.max_idle: must not exceed pool.max_per_endpoint (4)"},
        ErrorCase{"PoolMaxZero", "[pool]\nmax_per_endpoint = 0\n",
                  "t.toml:2:20: pool.max_per_endpoint: must be between 1 and 4096"}),
    [](const ::testing::TestParamInfo<ErrorCase>& p) { return p.param.name; });

TEST_F(ConfigTest, AdminTokenFromFile) {
    EXPECT_EQ(load_string("admin_token = \"from-file\"\n", "t.toml").admin_token, "from-file");
}

TEST_F(ConfigTest, AdminTokenEnvOverridesFile) {
    ScopedEnv token("QCC_ADMIN_TOKEN", "from-env");
    EXPECT_EQ(load_string("admin_token = \"from-file\"\n", "t.toml").admin_token, "from-env");
    EXPECT_EQ(load_string("", "t.toml").admin_token, "from-env");
}

TEST_F(ConfigTest, EmptyAdminTokenEnvIsIgnored) {
    ScopedEnv token("QCC_ADMIN_TOKEN", "");
    EXPECT_EQ(load_string("admin_token = \"from-file\"\n", "t.toml").admin_token, "from-file");
}

TEST_F(ConfigTest, StoreIsSqliteByDefaultOrAPostgresUrl) {
    const auto plain = load_string("data_dir = \"/var/lib/qcc\"\n", "t.toml");
    EXPECT_EQ(plain.store, "");
    EXPECT_EQ(store_location(plain, false), "/var/lib/qcc/qcc.sqlite");
    const auto pg = load_string(
        "data_dir = \"/var/lib/qcc\"\nstore = \"postgres://qcc:pw@db:5432/qcc?sslmode=require\"\n",
        "t.toml");
    EXPECT_EQ(store_location(pg, false), "postgres://qcc:pw@db:5432/qcc?sslmode=require");
    // The demo never touches the configured store.
    EXPECT_EQ(store_location(pg, true), "/var/lib/qcc/demo.sqlite");
    EXPECT_EQ(store_location(load_string("store = \"sqlite\"\n", "t.toml"), false),
              expand_home("~/.qcc") + "/qcc.sqlite");
}

TEST_F(ConfigTest, MalformedStoreIsAnErrorWithItsPosition) {
    EXPECT_EQ(error_of("\nstore = \"mysql://x\"\n"),
              "t.toml:2:9: store: expected \"sqlite\" or a PostgreSQL URL "
              "(postgres://user:password@host:5432/db)");
    EXPECT_EQ(error_of("store = \"postgres://a b\"\n"),
              "t.toml:1:9: store: a PostgreSQL URL has no spaces or line breaks");
}

TEST_F(ConfigTest, StoreEnvOverridesTheFileAndIsChecked) {
    {
        ScopedEnv store("QCC_STORE", "postgresql://h/db");
        EXPECT_EQ(load_string("store = \"sqlite\"\n", "t.toml").store, "postgresql://h/db");
    }
    ScopedEnv bad("QCC_STORE", "oracle://x");
    EXPECT_NE(error_of("").find("QCC_STORE: expected"), std::string::npos) << error_of("");
}

TEST(ExpandHome, UsesHome) {
    ScopedEnv home("HOME", "/home/tester");
    EXPECT_EQ(expand_home("~"), "/home/tester");
    EXPECT_EQ(expand_home("~/"), "/home/tester/");
    EXPECT_EQ(expand_home("~/.qcc"), "/home/tester/.qcc");
    EXPECT_EQ(expand_home("/var/lib/qcc"), "/var/lib/qcc");
    EXPECT_EQ(expand_home("relative/~"), "relative/~");
    EXPECT_EQ(expand_home("~other/x"), "~other/x");
    EXPECT_EQ(expand_home(""), "");
}

TEST(ExpandHome, TrailingSlashInHomeIsNotDoubled) {
    ScopedEnv home("HOME", "/home/tester/");
    EXPECT_EQ(expand_home("~/.qcc"), "/home/tester/.qcc");
}

TEST(ExpandHome, FallsBackToPasswdWithoutHome) {
    ScopedEnv home("HOME", nullptr);
    const std::string expanded = expand_home("~/.qcc");
    EXPECT_THAT(expanded, ::testing::EndsWith("/.qcc"));
    EXPECT_NE(expanded.front(), '~');
}

TEST(ParseListen, Valid) {
    using P = std::pair<std::string, std::uint16_t>;
    EXPECT_EQ(parse_listen("127.0.0.1:7860"), (P{"127.0.0.1", 7860}));
    EXPECT_EQ(parse_listen("0.0.0.0:80"), (P{"0.0.0.0", 80}));
    EXPECT_EQ(parse_listen("localhost:0"), (P{"localhost", 0}));
    EXPECT_EQ(parse_listen("[::1]:8080"), (P{"::1", 8080}));
    EXPECT_EQ(parse_listen("[::]:65535"), (P{"::", 65535}));
    EXPECT_EQ(parse_listen("[fe80::1:2]:1"), (P{"fe80::1:2", 1}));
}

TEST(ParseListen, Invalid) {
    for (std::string_view bad :
         {"", "7860", ":7860", "::1:7860", "[::1]", "[::1]:", "[::1]8080", "[zz]:80", "[::1:80",
          "host:65536", "host:-1", "host:80x", "host:", "ho st:80", "host:123456"}) {
        EXPECT_THROW((void)parse_listen(bad), ConfigError) << bad;
    }
    try {
        (void)parse_listen("::1:7860");
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("\"::1:7860\""));
        EXPECT_THAT(e.what(), HasSubstr("brackets"));
    }
}

TEST(Enums, RoundTrip) {
    for (auto k : {EndpointKind::kAnthropic, EndpointKind::kOpenAI}) {
        EXPECT_EQ(parse_endpoint_kind(to_string(k)), k);
    }
    for (auto a : {AuthMode::kXApiKey, AuthMode::kBearer, AuthMode::kBoth}) {
        EXPECT_EQ(parse_auth_mode(to_string(a)), a);
    }
    EXPECT_EQ(to_string(EndpointKind::kOpenAI), "openai");
    EXPECT_EQ(to_string(AuthMode::kXApiKey), "x-api-key");
    EXPECT_EQ(parse_endpoint_kind("Anthropic"), std::nullopt);
    EXPECT_EQ(parse_auth_mode("api-key"), std::nullopt);
}

TEST(ValidateEndpoint, NormalizesAndRejects) {
    EndpointConfig e;
    e.name = "api";
    e.base_url = "https://api.anthropic.com/";
    validate_endpoint(e);
    EXPECT_EQ(e.base_url, "https://api.anthropic.com");
    EndpointConfig slashes = e;
    slashes.base_url = "https://relay.example//api//";  // found by fuzzing: not idempotent
    validate_endpoint(slashes);
    EXPECT_EQ(slashes.base_url, "https://relay.example//api");
    const auto once = slashes;
    validate_endpoint(slashes);
    EXPECT_EQ(slashes, once);

    auto error = [](EndpointConfig bad) -> std::string {
        try {
            validate_endpoint(bad);
        } catch (const ConfigError& err) {
            return err.what();
        }
        return "<no error>";
    };
    EndpointConfig bad = e;
    bad.weight = 0;
    EXPECT_EQ(error(bad), "weight: must be between 1 and 1000");
    bad = e;
    bad.tier = 12;
    EXPECT_EQ(error(bad), "tier: must be between 1 and 9");
    bad = e;
    bad.name = "a/b";
    EXPECT_THAT(error(bad), StartsWith("name: may contain only"));
    bad = e;
    bad.base_url = "https://x?y=1";
    EXPECT_EQ(error(bad), "base_url: must not have a query string");
    bad = e;
    bad.idle_timeout = Millis(0);
    EXPECT_THAT(error(bad), StartsWith("idle_timeout: "));
    bad = e;
    bad.model_map = {{"haiku", ""}};
    EXPECT_THAT(error(bad), StartsWith("model_map: "));
    bad = e;
    bad.api_key = "sk-ant-key\r\nx-injected: 1";
    EXPECT_EQ(error(bad), "api_key: must not contain control characters (found 0x0d)");
    bad = e;
    bad.base_url = "https://h:65536";
    EXPECT_EQ(error(bad), "base_url: port 65536 is not between 1 and 65535");
}

TEST(CheckHeaderValue, RefusesEveryControlCharacter) {
    EXPECT_EQ(check_header_value("sk-ant-api03-AbC_d-9 é"), "");
    for (const char* bad : {"a\rb", "a\nb", "a\tb", "\x01", "a\x7f"}) {
        EXPECT_NE(check_header_value(bad), "") << bad;
    }
    EXPECT_NE(check_header_value(std::string("a\0b", 3)), "");
}

TEST_F(ConfigTest, LimitsLoad) {
    const auto cfg = load_string(
        "[limits]\nmax_connections = 100\nmax_unauthenticated = 10\nheader_timeout = \"2s\"\n"
        "body_timeout = 30\nkeepalive_timeout = \"5m\"\nauth_free_failures = 3\n"
        "auth_max_delay = \"500ms\"\n",
        "t.toml");
    EXPECT_EQ(cfg.limits.max_connections, 100);
    EXPECT_EQ(cfg.limits.max_unauthenticated, 10);
    EXPECT_EQ(cfg.limits.header_timeout, Millis(2000));
    EXPECT_EQ(cfg.limits.body_timeout, Millis(30000));
    EXPECT_EQ(cfg.limits.keepalive_timeout, Millis(300000));
    EXPECT_EQ(cfg.limits.auth_free_failures, 3);
    EXPECT_EQ(cfg.limits.auth_max_delay, Millis(500));
}

// The documented example must stay loadable: docs/configuration.md is the user's reference.
TEST(Models, PatternsMatchExactFamilyAndPrefix) {
    EXPECT_TRUE(model_matches("claude-sonnet-4-5", "claude-sonnet-4-5"));
    EXPECT_FALSE(model_matches("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"));
    EXPECT_TRUE(model_matches("claude-sonnet-4-*", "claude-sonnet-4-5-20250929"));
    EXPECT_FALSE(model_matches("claude-sonnet-4-*", "claude-opus-4-8"));
    EXPECT_TRUE(model_matches("haiku", "claude-haiku-4-5"));
    EXPECT_FALSE(model_matches("haiku", "claude-opus-4-8"));
    EXPECT_FALSE(model_matches("claude", "claude-opus-4-8")) << "only the three families";

    EndpointConfig e;
    EXPECT_TRUE(serves_model(e, "anything")) << "no list: every model";
    e.models = {"claude-sonnet-*"};
    EXPECT_TRUE(serves_model(e, "claude-sonnet-4-5"));
    EXPECT_FALSE(serves_model(e, "claude-opus-4-8"));
    EXPECT_TRUE(serves_model(e, "")) << "a request naming no model";
    e.model_map = {{"opus", "glm-4.6"}};
    EXPECT_TRUE(serves_model(e, "claude-opus-4-8")) << "a model it rewrites";

    EXPECT_EQ(*mapped_model(e, "claude-opus-4-8"), "glm-4.6");
    EXPECT_EQ(mapped_model(e, "claude-sonnet-4-5"), nullptr);
    // "*" maps every other model (the default of an OpenAI-compatible target), whatever its
    // position: exact entries, families and prefixes win over it.
    EndpointConfig d;
    d.models = {"claude-haiku-*"};
    d.model_map = {{"*", "deepseek-chat"}, {"opus", "deepseek-reasoner"}};
    EXPECT_EQ(*mapped_model(d, "claude-opus-4-8"), "deepseek-reasoner");
    EXPECT_EQ(*mapped_model(d, "claude-sonnet-4-5"), "deepseek-chat");
    EXPECT_TRUE(serves_model(d, "claude-sonnet-4-5")) << "\"*\" serves every model";
    EXPECT_FALSE(model_matches("*", "claude-sonnet-4-5")) << "not a models pattern";

    // The health check asks for a model the endpoint serves.
    EndpointConfig c;
    EXPECT_EQ(check_model_for(c, "claude-haiku-4-5"), "claude-haiku-4-5");
    c.models = {"claude-sonnet-*", "claude-sonnet-4-5"};
    EXPECT_EQ(check_model_for(c, "claude-haiku-4-5"), "claude-sonnet-4-5");
    c.model_map = {{"haiku", "glm-4.5-air"}};
    EXPECT_EQ(check_model_for(c, "claude-haiku-4-5"), "glm-4.5-air");

    EXPECT_EQ(check_model_pattern("claude-sonnet-*"), "");
    EXPECT_NE(check_model_pattern("*"), "");
    EXPECT_NE(check_model_pattern("claude sonnet"), "");
    EXPECT_NE(check_model_pattern("a*b"), "");
}

TEST_F(ConfigTest, DocumentedExampleLoads) {
    std::ifstream in(std::string(QCC_SOURCE_DIR) + "/docs/configuration.md");
    ASSERT_TRUE(in) << "docs/configuration.md not found";
    const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto section = doc.find("## Example");
    ASSERT_NE(section, std::string::npos);
    const auto begin = doc.find("```toml\n", section);
    ASSERT_NE(begin, std::string::npos);
    const auto end = doc.find("```", begin + 8);
    ASSERT_NE(end, std::string::npos);
    const Config cfg = load_string(doc.substr(begin + 8, end - begin - 8), "configuration.md");
    ASSERT_EQ(cfg.endpoints.size(), 3u);
    EXPECT_EQ(cfg.endpoints[1].auth, AuthMode::kBoth);
    EXPECT_EQ(cfg.endpoints[2].auth, AuthMode::kBearer);
    EXPECT_EQ(cfg.keys.size(), 1u);
}

}  // namespace
}  // namespace qcc::config
