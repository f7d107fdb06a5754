// `qcc claude apply|restore` against a running gateway: the key it writes works, a second apply
// reuses it, restore takes back only QCC's settings and revokes the key apply created, and --key
// is checked with the server.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "harness/cli_harness.hpp"
#include "support/eventually.hpp"

namespace qcc::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class CliClaudeTest : public CliTest {
  protected:
    std::string settings() const { return (home_ / ".claude" / "settings.json").string(); }
    json::object read_settings() const {
        std::stringstream text;
        text << std::ifstream(settings()).rdbuf();
        return json::parse(text.str()).as_object();
    }
    void write_settings(const json::object& doc) const {
        fs::create_directories(fs::path(settings()).parent_path());
        std::ofstream(settings()) << json::serialize(doc);
    }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(proxy_->port()); }
};

TEST_F(CliClaudeTest, ApplyReusesItsKeyAndRestoreTakesBackOnlyItsSettingsAndRevokesTheKey) {
    write_settings(json::parse(R"({"permissions": {"allow": ["Read"]}})").as_object());
    auto r = cli({"claude", "apply"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("client key claude-code (created)"), std::string::npos) << r.out;
    const auto env = read_settings().at("env").as_object();
    EXPECT_EQ(env.at("ANTHROPIC_BASE_URL"), json::value(base_url()));
    const std::string key(env.at("ANTHROPIC_AUTH_TOKEN").as_string());
    EXPECT_TRUE(eventually([&] { return send_with_key(key) == 200; }));

    // A second apply reuses the key it wrote: no claude-code-2.
    const auto again = cli_json({"claude", "apply"});
    EXPECT_EQ(again.at("key"), json::value("reused"));
    EXPECT_EQ(again.at("key_name"), json::value("claude-code"));
    EXPECT_EQ(read_settings().at("env").at("ANTHROPIC_AUTH_TOKEN"), json::value(key));
    EXPECT_EQ(cli_json({"key", "list"}).at("keys").as_array().size(), 2u);  // test, claude-code

    // The user adds a permission after apply; restore keeps it.
    auto doc = read_settings();
    doc["permissions"].as_object()["allow"].as_array().emplace_back("Bash(make:*)");
    write_settings(doc);
    r = cli({"claude", "restore"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("revoked client key claude-code"), std::string::npos) << r.out;
    EXPECT_EQ(read_settings(),
              json::parse(R"j({"permissions": {"allow": ["Read", "Bash(make:*)"]}})j"));
    EXPECT_TRUE(eventually([&] { return send_with_key(key) == 401; }));
    EXPECT_FALSE(fs::exists(settings() + ".qcc-state"));
    EXPECT_FALSE(fs::exists(settings() + ".qcc-backup"));

    r = cli({"claude", "restore"});
    EXPECT_EQ(r.code, 1) << describe(r);
    EXPECT_NE(r.err.find("nothing to restore"), std::string::npos) << r.err;
}

TEST_F(CliClaudeTest, AGivenKeyIsCheckedAndNotRevokedByRestore) {
    auto r = cli({"claude", "apply", "--key", "sk-qcc-bogus"});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("--key: not a client key of this QCC server"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(settings()));

    const std::string key(cli_json({"key", "create", "mine"}).at("key").as_string());
    const auto applied = cli_json({"claude", "apply", "--key", key});
    EXPECT_EQ(applied.at("key"), json::value("given"));
    EXPECT_EQ(applied.at("key_name"), json::value("mine"));
    const auto restored = cli_json({"claude", "restore"});
    EXPECT_EQ(restored.at("file"), json::value("removed"));
    EXPECT_TRUE(restored.at("revoked_keys").as_array().empty());
    EXPECT_FALSE(fs::exists(settings()));
    EXPECT_TRUE(eventually([&] { return send_with_key(key) == 200; }));

    ASSERT_EQ(cli({"key", "revoke", "mine"}).code, 0);
    r = cli({"claude", "apply", "--key", key});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("client key 'mine' is revoked"), std::string::npos) << r.err;
}

TEST_F(CliClaudeTest, RestoreWithTheServerDownRestoresTheFileAndKeepsTheKeyToRevokeLater) {
    ASSERT_EQ(cli({"claude", "apply"}).code, 0);
    const auto port = proxy_->port();
    proxy_.reset();
    const auto r = run_cli({"claude", "restore", "--token", kAdminToken});
    EXPECT_EQ(r.code, 1) << describe(r);
    EXPECT_FALSE(fs::exists(settings()));
    EXPECT_NE(r.err.find("client key claude-code is not revoked yet"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
    // The key is remembered for the next restore.
    std::stringstream state;
    state << std::ifstream(settings() + ".qcc-state").rdbuf();
    EXPECT_EQ(json::parse(state.str()).at("created_keys"), json::parse(R"(["claude-code"])"));
}

}  // namespace
}  // namespace qcc::test
