// `qcc backup` / `qcc restore-backup` against the real gateway: a backup restored into a fresh
// gateway gives a working one (the endpoints' credentials reach their upstreams, the old client key
// authenticates, the settings are back); wrong passphrases and other files are refused without a
// change; and POST /api/backup/restore validates the whole document before it writes anything.
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/admin_call.hpp"
#include "harness/cli_harness.hpp"

namespace qcc::test {
namespace {

namespace json = boost::json;

constexpr const char* kRelayKey = "sk-relay-0123456789abcdef";

class CliBackupTest : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        ::unsetenv("QCC_BACKUP_PASSPHRASE");
        passphrase_ = write_file("passphrase", "correct horse battery staple\n");
    }
    void TearDown() override {
        ::unsetenv("QCC_BACKUP_PASSPHRASE");
        CliTest::TearDown();
    }

    std::string write_file(const std::string& name, const std::string& text) const {
        const auto path = (home_ / name).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    static std::string read_file(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    /// The gateway with a second endpoint (bearer credential, another upstream), a client key of
    /// its own and a setting; returns the client key.
    std::string configure() {
        auto r = cli({"endpoint", "add", "relay", "--url", relay_.base_url(), "--key", kRelayKey,
                      "--auth", "bearer", "--tier", "2", "--tag", "eu", "--model-map",
                      "claude-opus-4-5=glm-4.6"});
        EXPECT_EQ(r.code, 0) << describe(r);
        r = cli({"settings", "set", "breaker.open", "45s"});
        EXPECT_EQ(r.code, 0) << describe(r);
        const auto key = cli_json({"key", "create", "laptop", "--budget-month", "50"});
        return std::string(key.at("key").as_string());
    }

    /// A fresh gateway (empty store, no endpoints) in place of the old one.
    void replace_gateway() {
        proxy_.reset();
        proxy_ = std::make_unique<ProxyFixture>(std::vector<config::EndpointConfig>{});
    }

    json::array endpoints() { return cli_json({"endpoint", "list"}).at("endpoints").as_array(); }

    FakeUpstream relay_;
    std::string passphrase_;
};

TEST_F(CliBackupTest, RestoresAWorkingGatewayIntoAFreshOne) {
    const auto laptop_key = configure();
    const auto file = (home_ / "gateway.qccbak").string();
    auto r = cli({"backup", file, "--passphrase-file", passphrase_});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("backed up 2 endpoints, 2 client keys and 2 settings"), std::string::npos)
        << r.out;
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const auto bytes = read_file(file);
    EXPECT_TRUE(bytes.starts_with("qcc-backup version=1 kdf=scrypt ")) << bytes.substr(0, 80);
    EXPECT_EQ(bytes.find(kRelayKey), std::string::npos) << "credentials are encrypted";
    EXPECT_EQ(bytes.find("relay"), std::string::npos) << "so are the names";

    replace_gateway();
    ASSERT_TRUE(endpoints().empty());
    EXPECT_EQ(send_with_key(laptop_key), 401) << "the fresh gateway does not know the key yet";

    r = cli({"restore-backup", file, "--passphrase-file", passphrase_, "--dry-run"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("with 2 endpoints, 2 client keys and 2 settings"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("would create endpoint relay\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("would create client key laptop\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("would set setting breaker.open\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nothing was changed"), std::string::npos) << r.out;
    EXPECT_TRUE(endpoints().empty()) << "a dry run changes nothing";

    r = cli({"restore-backup", file, "--passphrase-file", passphrase_});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("created endpoint up\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("created endpoint relay\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("created client key laptop\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("unchanged client key test\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("set setting breaker.open\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("restored: 4 changes"), std::string::npos) << r.out;

    // Every field came back, and the settings.
    auto relay = cli_json({"endpoint", "show", "relay"});
    EXPECT_EQ(relay["tier"], json::value(2));
    EXPECT_EQ(relay["auth"], json::value("bearer"));
    EXPECT_EQ(relay["base_url"], json::value(relay_.base_url()));
    EXPECT_EQ(relay["tags"], json::value(json::array{"eu"}));
    EXPECT_EQ(relay["model_map"].as_object().at("claude-opus-4-5"), json::value("glm-4.6"));
    r = cli({"settings", "get", "breaker.open"});
    EXPECT_EQ(r.out, "45s\n") << describe(r);

    // The key's limits came back with it.
    const auto keys = cli_json({"key", "list"});
    for (const auto& k : keys.at("keys").as_array()) {
        if (k.at("name") == json::value("laptop")) {
            EXPECT_EQ(k.at("limits"), json::parse(R"({"budget_monthly_usd":50})"));
        }
    }

    // The old client key works, and each credential reaches its upstream.
    ASSERT_EQ(cli({"endpoint", "disable", "up"}).code, 0);
    EXPECT_EQ(send_with_key(laptop_key), 200);
    ASSERT_EQ(relay_.request_count(), 1u);
    EXPECT_EQ(relay_.requests().back().header("authorization"), std::string("Bearer ") + kRelayKey);
    ASSERT_EQ(cli({"endpoint", "enable", "up"}).code, 0);
    ASSERT_EQ(cli({"endpoint", "disable", "relay"}).code, 0);
    const auto before = upstream_.request_count();
    EXPECT_EQ(send_with_key(laptop_key), 200);
    ASSERT_EQ(upstream_.request_count(), before + 1);
    EXPECT_EQ(upstream_.requests().back().header("x-api-key"), "sk-ant-up");

    // Restoring again onto the same state changes only what differs (relay is disabled now).
    r = cli({"restore-backup", file, "--passphrase-file", passphrase_});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("updated endpoint relay\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("unchanged endpoint up\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("restored: 1 change,"), std::string::npos) << r.out;
    EXPECT_EQ(cli_json({"endpoint", "show", "relay"})["enabled"], json::value(true));
}

TEST_F(CliBackupTest, WrongPassphraseChangesNothing) {
    configure();
    const auto file = (home_ / "b.qccbak").string();
    ASSERT_EQ(cli({"backup", file, "--passphrase-file", passphrase_}).code, 0);
    replace_gateway();
    const auto wrong = write_file("wrong", "Correct horse battery staple\n");
    const auto r = cli({"restore-backup", file, "--passphrase-file", wrong});
    EXPECT_EQ(r.code, 1) << describe(r);
    EXPECT_EQ(r.err, "qcc: " + file + ": wrong passphrase or damaged file\n");
    EXPECT_TRUE(endpoints().empty());

    auto damaged = read_file(file);
    damaged[damaged.size() / 2] = damaged[damaged.size() / 2] == 'x' ? 'y' : 'x';
    const auto changed = write_file("damaged.qccbak", damaged);
    const auto d = cli({"restore-backup", changed, "--passphrase-file", passphrase_});
    EXPECT_EQ(d.code, 1) << describe(d);
    EXPECT_NE(d.err.find("wrong passphrase or damaged file"), std::string::npos) << d.err;
    EXPECT_TRUE(endpoints().empty());
}

TEST_F(CliBackupTest, AFileThatIsNotABackupIsAUsageError) {
    auto r = cli({"config", "export", (home_ / "endpoints.toml").string()});
    ASSERT_EQ(r.code, 0) << describe(r);
    r = cli(
        {"restore-backup", (home_ / "endpoints.toml").string(), "--passphrase-file", passphrase_});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("not a QCC backup"), std::string::npos) << r.err;

    r = cli(
        {"restore-backup", (home_ / "absent.qccbak").string(), "--passphrase-file", passphrase_});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;

    const auto newer = write_file("newer.qccbak", "qcc-backup version=2 kdf=scrypt n=1024\nAAAA\n");
    r = cli({"restore-backup", newer, "--passphrase-file", passphrase_});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("unsupported backup version 2"), std::string::npos) << r.err;
}

TEST_F(CliBackupTest, PassphraseRules) {
    const auto file = (home_ / "b.qccbak").string();
    auto r = cli({"backup", file, "--passphrase-file", write_file("empty", "\n")});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("the first line is empty"), std::string::npos) << r.err;
    ::setenv("QCC_BACKUP_PASSPHRASE", "", 1);
    r = cli({"backup", file});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("QCC_BACKUP_PASSPHRASE is set but empty"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(file)) << "nothing is written without a passphrase";

    // The environment variable works for both commands.
    ::setenv("QCC_BACKUP_PASSPHRASE", "from the environment", 1);
    ASSERT_EQ(cli({"backup", file}).code, 0);
    r = cli({"restore-backup", file, "--dry-run"});
    EXPECT_EQ(r.code, 0) << describe(r);
}

TEST_F(CliBackupTest, NeverOverwritesWithoutForceAndNamesTheFileByDate) {
    const auto file = write_file("taken.qccbak", "keep me");
    auto r = cli({"backup", file, "--passphrase-file", passphrase_});
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find("exists (--force replaces it"), std::string::npos) << r.err;
    EXPECT_EQ(read_file(file), "keep me");
    ::chmod(file.c_str(), 0644);
    r = cli({"backup", file, "--passphrase-file", passphrase_, "--force"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_TRUE(read_file(file).starts_with("qcc-backup "));
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "a replaced file is private too";

    // Without FILE: qcc-backup-<date>-<time>.qccbak in the current directory.
    const auto old_cwd = std::filesystem::current_path();
    const auto dir = home_ / "cwd";
    std::filesystem::create_directory(dir);
    std::filesystem::current_path(dir);
    const auto j = cli_json({"backup", "--passphrase-file", passphrase_});
    std::filesystem::current_path(old_cwd);
    const std::string name(j.at("file").as_string());
    EXPECT_TRUE(name.starts_with("qcc-backup-") && name.ends_with(".qccbak")) << name;
    EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
    EXPECT_EQ(j.at("endpoints"), json::value(1));
    EXPECT_EQ(j.at("keys"), json::value(1));
}

TEST_F(CliBackupTest, JsonRestoreReportsEachAction) {
    configure();
    const auto file = (home_ / "b.qccbak").string();
    ASSERT_EQ(cli({"backup", file, "--passphrase-file", passphrase_}).code, 0);
    replace_gateway();
    const auto j = cli_json({"restore-backup", file, "--passphrase-file", passphrase_, "-n"});
    EXPECT_EQ(j.at("dry_run"), json::value(true));
    EXPECT_EQ(j.at("file"), json::value(file));
    EXPECT_EQ(json::serialize(j.at("endpoints")),
              R"([{"name":"relay","action":"create"},{"name":"up","action":"create"}])");
    EXPECT_EQ(json::serialize(j.at("keys")),
              R"([{"name":"laptop","action":"create"},{"name":"test","action":"unchanged"}])");
}

TEST_F(CliBackupTest, TheApiValidatesTheWholeDocumentBeforeWriting) {
    const auto got = admin_call(proxy_->port(), "GET", "/api/backup");
    ASSERT_EQ(got.status, 200);
    auto doc = got.json.as_object();
    EXPECT_EQ(doc.at("endpoints").as_array()[0].as_object().at("api_key"), json::value("sk-ant-up"))
        << "the backup route gives the credential in clear";
    EXPECT_EQ(admin_call(proxy_->port(), "GET", "/api/backup", {}, "wrong-token").status, 401);

    json::object fresh{
        {"name", "fresh"}, {"base_url", "https://fresh.example.com"}, {"api_key", "sk-fresh"}};
    json::object broken{{"name", "broken"}, {"base_url", "https://b.example.com"}};
    doc["endpoints"].as_array().push_back(fresh);
    doc["endpoints"].as_array().push_back(broken);
    const auto bad =
        admin_call(proxy_->port(), "POST", "/api/backup/restore", json::serialize(doc));
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.error_message(), "endpoints[2] (broken): api_key: required");
    EXPECT_EQ(endpoints().size(), 1u) << "the valid entry before it was not written either";

    // A key revoked in the backup turns off that same key here.
    doc = got.json.as_object();
    doc["keys"].as_array()[0].as_object()["revoked"] = true;
    const auto revoke = admin_call(proxy_->port(), "POST", "/api/backup/restore?dry_run=false",
                                   json::serialize(doc));
    ASSERT_EQ(revoke.status, 200) << revoke.response.body;
    EXPECT_EQ(json::serialize(revoke.json.at("keys")), R"([{"name":"test","action":"revoke"}])");
    EXPECT_EQ(send_with_key(kClientKey), 401);
    EXPECT_EQ(admin_call(proxy_->port(), "POST", "/api/backup/restore?dry_run=maybe",
                         json::serialize(doc))
                  .error_message(),
              "dry_run: expected true or false");
}

}  // namespace
}  // namespace qcc::test
