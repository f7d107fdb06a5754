#include "cli/claude_settings.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/temp_dir.hpp"

namespace qcc::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using Env = std::vector<std::pair<std::string, std::string>>;

const std::string kServer = "127.0.0.1:7860";
const Env kEnv{{"ANTHROPIC_BASE_URL", "http://127.0.0.1:7860"},
               {"ANTHROPIC_AUTH_TOKEN", "sk-qcc-abcdef0123456789"}};

// Odd formatting (tabs, CRLF, no final newline), unicode, escapes, numbers Boost would reformat,
// other env vars and other top-level keys: everything restore must bring back byte for byte.
const std::string kOriginal =
    "{\r\n\t\"model\" :\"opus\",  \"env\": {\"FOO\": \"bär ✓ \\u00e9\", \"ANTHROPIC_BASE_URL\": "
    "\"https://old.example\"},\n\"permissions\": {\"allow\": [\"Bash(ls:*)\", \"Read\"], "
    "\"deny\": []},\n  \"ratio\": 0.5, \"big\": 12345678901234, \"nested\": {\"a\": [1, 2.25, "
    "true, null, {}]}\t}";

class ClaudeSettingsTest : public ::testing::Test {
  protected:
    void SetUp() override { path_ = (dir_ / ".claude" / "settings.json").string(); }
    void write(const std::string& path, const std::string& bytes) {
        fs::create_directories(fs::path(path).parent_path());
        std::ofstream out(path, std::ios::binary);
        out << bytes;
    }
    static std::string read(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    /// Names of every file in the settings directory.
    std::vector<std::string> files() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(fs::path(path_).parent_path())) {
            out.push_back(e.path().filename().string());
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    test::TempDir tmp_{"qcc-claude-test"};
    fs::path dir_ = tmp_.path();
    std::string path_;
};

TEST_F(ClaudeSettingsTest, RestoreOfAnUntouchedFileBringsBackItsBytes) {
    write(path_, kOriginal);
    ::chmod(path_.c_str(), 0640);
    const auto r = apply_claude_settings(path_, kEnv, kServer);
    EXPECT_TRUE(r.backed_up);
    EXPECT_FALSE(r.created);
    EXPECT_NE(read(path_), kOriginal);
    EXPECT_EQ(read(claude_backup_path(path_)), kOriginal);
    struct stat st {};
    ASSERT_EQ(::stat(claude_state_path(path_).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    const auto restored = restore_claude_settings(path_);
    EXPECT_EQ(restored.file, ClaudeFileRestore::kRestoredBytes);
    EXPECT_EQ(restored.restored,
              (std::vector<std::string>{"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"}));
    EXPECT_EQ(read(path_), kOriginal);
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(files(), std::vector<std::string>{"settings.json"});
}

TEST_F(ClaudeSettingsTest, ApplyMergesEnvAndPreservesEverythingElse) {
    write(path_, kOriginal);
    apply_claude_settings(path_, kEnv, kServer);
    const auto merged = read(path_);
    const auto doc = json::parse(merged).as_object();
    const auto before = json::parse(kOriginal).as_object();
    // Every top-level key but env is unchanged, in the original order.
    std::vector<std::string> keys;
    for (const auto& [k, v] : doc) keys.emplace_back(k);
    EXPECT_EQ(keys,
              (std::vector<std::string>{"model", "env", "permissions", "ratio", "big", "nested"}));
    for (const auto& [k, v] : before) {
        if (k != "env") {
            EXPECT_EQ(doc.at(k), v) << k;
        }
    }
    const auto& env = doc.at("env").as_object();
    EXPECT_EQ(env.at("FOO"), json::value("bär ✓ é"));
    EXPECT_EQ(env.at("ANTHROPIC_BASE_URL"), json::value("http://127.0.0.1:7860"));
    EXPECT_EQ(env.at("ANTHROPIC_AUTH_TOKEN"), json::value("sk-qcc-abcdef0123456789"));
    EXPECT_EQ(env.size(), 3u);
    // Pretty-printed with 2-space indents; unicode kept as UTF-8; 0.5 not written as 5E-1.
    EXPECT_NE(merged.find("\n  \"model\": \"opus\",\n"), std::string::npos) << merged;
    EXPECT_NE(merged.find("bär ✓ é"), std::string::npos);
    EXPECT_NE(merged.find("\"ratio\": 0.5,"), std::string::npos) << merged;
    EXPECT_EQ(merged.back(), '\n');
    // The state records what each variable was before.
    const auto state = load_claude_state(path_);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->server, kServer);
    ASSERT_EQ(state->vars.size(), 2u);
    EXPECT_EQ(state->vars[0].name, "ANTHROPIC_BASE_URL");
    EXPECT_EQ(state->vars[0].previous, json::value("https://old.example"));
    EXPECT_EQ(state->vars[1].name, "ANTHROPIC_AUTH_TOKEN");
    EXPECT_FALSE(state->vars[1].previous);
}

TEST_F(ClaudeSettingsTest, RestoreTakesBackOnlyQccsVariablesAndKeepsLaterEdits) {
    write(path_, kOriginal);
    apply_claude_settings(path_, kEnv, kServer);
    // After apply the user (or Claude Code) adds a permission and a variable of their own.
    auto doc = json::parse(read(path_)).as_object();
    doc["permissions"].as_object()["allow"].as_array().emplace_back("Bash(git status)");
    doc["env"].as_object()["MY_VAR"] = "mine";
    write(path_, json::serialize(doc));

    const auto r = restore_claude_settings(path_);
    EXPECT_EQ(r.file, ClaudeFileRestore::kEdited);
    EXPECT_EQ(r.restored, (std::vector<std::string>{"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"}));
    EXPECT_TRUE(r.kept.empty());
    const auto after = json::parse(read(path_)).as_object();
    EXPECT_EQ(after.at("permissions").at("allow"),
              json::parse(R"j(["Bash(ls:*)", "Read", "Bash(git status)"])j"));
    const auto& env = after.at("env").as_object();
    EXPECT_EQ(env.at("MY_VAR"), json::value("mine"));
    EXPECT_EQ(env.at("FOO"), json::value("bär ✓ é"));
    EXPECT_EQ(env.at("ANTHROPIC_BASE_URL"), json::value("https://old.example"));  // as before
    EXPECT_FALSE(env.contains("ANTHROPIC_AUTH_TOKEN"));                           // was not there
    EXPECT_EQ(after.at("model"), json::value("opus"));
    EXPECT_EQ(files(), std::vector<std::string>{"settings.json"});
}

TEST_F(ClaudeSettingsTest, AVariableChangedSinceApplyIsLeftAlone) {
    write(path_, kOriginal);
    apply_claude_settings(path_, kEnv, kServer);
    auto doc = json::parse(read(path_)).as_object();
    doc["env"].as_object()["ANTHROPIC_AUTH_TOKEN"] = "the user's own";
    write(path_, json::serialize(doc));

    const auto r = restore_claude_settings(path_);
    EXPECT_EQ(r.file, ClaudeFileRestore::kEdited);
    EXPECT_EQ(r.restored, std::vector<std::string>{"ANTHROPIC_BASE_URL"});
    EXPECT_EQ(r.kept, std::vector<std::string>{"ANTHROPIC_AUTH_TOKEN"});
    const auto env = json::parse(read(path_)).at("env").as_object();
    EXPECT_EQ(env.at("ANTHROPIC_AUTH_TOKEN"), json::value("the user's own"));
    EXPECT_EQ(env.at("ANTHROPIC_BASE_URL"), json::value("https://old.example"));
}

TEST_F(ClaudeSettingsTest, SecondApplyKeepsTheOriginalValuesAndRecordsCreatedKeys) {
    write(path_, kOriginal);
    apply_claude_settings(path_, kEnv, kServer, "claude-code");
    const auto r = apply_claude_settings(
        path_, {{"ANTHROPIC_BASE_URL", "http://127.0.0.1:9999"}, {"ANTHROPIC_AUTH_TOKEN", "k2"}},
        "127.0.0.1:9999");
    EXPECT_FALSE(r.backed_up);
    EXPECT_EQ(read(claude_backup_path(path_)), kOriginal);
    const auto doc = json::parse(read(path_)).as_object();
    EXPECT_EQ(doc.at("env").at("ANTHROPIC_BASE_URL"), json::value("http://127.0.0.1:9999"));
    const auto state = load_claude_state(path_);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->vars[0].previous, json::value("https://old.example"));
    EXPECT_EQ(state->created_keys, std::vector<std::string>{"claude-code"});
    const auto restored = restore_claude_settings(path_);
    EXPECT_EQ(restored.created_keys, std::vector<std::string>{"claude-code"});
    EXPECT_EQ(read(path_), kOriginal);
}

TEST_F(ClaudeSettingsTest, AnEditBetweenTwoAppliesSurvivesRestore) {
    write(path_, kOriginal);
    apply_claude_settings(path_, kEnv, kServer);
    auto doc = json::parse(read(path_)).as_object();
    doc["permissions"].as_object()["allow"].as_array().emplace_back("Bash(git status)");
    write(path_, json::serialize(doc));
    apply_claude_settings(path_, kEnv, kServer);  // e.g. qcc code, or apply again
    EXPECT_EQ(read(claude_backup_path(path_)), kOriginal) << "the first original stays backed up";

    const auto r = restore_claude_settings(path_);
    EXPECT_EQ(r.file, ClaudeFileRestore::kEdited) << "not the backup's bytes: they lack the edit";
    const auto after = json::parse(read(path_)).as_object();
    EXPECT_EQ(after.at("permissions").at("allow"),
              json::parse(R"j(["Bash(ls:*)", "Read", "Bash(git status)"])j"));
    EXPECT_EQ(after.at("env").at("ANTHROPIC_BASE_URL"), json::value("https://old.example"));
    EXPECT_FALSE(after.at("env").as_object().contains("ANTHROPIC_AUTH_TOKEN"));
}

TEST_F(ClaudeSettingsTest, RestoreWithoutApplyIsAClearError) {
    write(path_, kOriginal);
    try {
        restore_claude_settings(path_);
        FAIL() << "expected ClaudeSettingsError";
    } catch (const ClaudeSettingsError& e) {
        EXPECT_NE(std::string(e.what()).find(path_), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("nothing to restore"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read(path_), kOriginal);
}

TEST_F(ClaudeSettingsTest, MissingFileIsCreatedThenRemovedByRestore) {
    const auto claude_dir = fs::path(path_).parent_path();
    ASSERT_FALSE(fs::exists(claude_dir));
    const auto r = apply_claude_settings(path_, kEnv, kServer);
    EXPECT_TRUE(r.created);
    ASSERT_TRUE(fs::exists(path_));
    struct stat st {};
    ASSERT_EQ(::stat(claude_dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const auto doc = json::parse(read(path_)).as_object();
    EXPECT_EQ(doc.size(), 1u);
    EXPECT_EQ(doc.at("env").at("ANTHROPIC_AUTH_TOKEN"), json::value("sk-qcc-abcdef0123456789"));

    // A second apply still remembers that there was no file.
    EXPECT_TRUE(apply_claude_settings(path_, kEnv, kServer).created);
    EXPECT_EQ(restore_claude_settings(path_).file, ClaudeFileRestore::kRemoved);
    EXPECT_FALSE(fs::exists(path_));
    EXPECT_TRUE(files().empty());
}

TEST_F(ClaudeSettingsTest, ACreatedFileTheUserAddedToIsKeptWithoutQccsEnv) {
    apply_claude_settings(path_, kEnv, kServer);
    auto doc = json::parse(read(path_)).as_object();
    doc["model"] = "opus";
    write(path_, json::serialize(doc));
    EXPECT_EQ(restore_claude_settings(path_).file, ClaudeFileRestore::kEdited);
    EXPECT_EQ(json::parse(read(path_)), json::parse(R"({"model": "opus"})"));
}

TEST_F(ClaudeSettingsTest, InvalidJsonIsAnErrorNamingTheFileAndNothingIsWritten) {
    const std::string broken = "{\"env\": {\"A\": 1,}\n";
    write(path_, broken);
    try {
        apply_claude_settings(path_, kEnv, kServer);
        FAIL() << "expected ClaudeSettingsError";
    } catch (const ClaudeSettingsError& e) {
        EXPECT_NE(std::string(e.what()).find(path_), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("invalid JSON"), std::string::npos) << e.what();
    }
    EXPECT_THROW(check_claude_settings(path_), ClaudeSettingsError);
    EXPECT_EQ(read(path_), broken);
    EXPECT_EQ(files(), std::vector<std::string>{"settings.json"});
}

TEST_F(ClaudeSettingsTest, NonObjectEnvIsRejected) {
    write(path_, R"({"env": ["x"]})");
    EXPECT_THROW(apply_claude_settings(path_, kEnv, kServer), ClaudeSettingsError);
    write(path_, R"([1, 2])");
    EXPECT_THROW(apply_claude_settings(path_, kEnv, kServer), ClaudeSettingsError);
    EXPECT_EQ(files(), std::vector<std::string>{"settings.json"});
}

TEST_F(ClaudeSettingsTest, KeyVariableFollowsWhatTheFileAlreadyUses) {
    EXPECT_EQ(claude_key_variable(path_), "ANTHROPIC_AUTH_TOKEN");  // no file
    write(path_, R"({"env": {"ANTHROPIC_API_KEY": "sk-ant-x"}})");
    EXPECT_EQ(claude_key_variable(path_), "ANTHROPIC_API_KEY");
    write(path_, R"({"env": {"ANTHROPIC_API_KEY": "a", "ANTHROPIC_AUTH_TOKEN": "b"}})");
    EXPECT_EQ(claude_key_variable(path_), "ANTHROPIC_AUTH_TOKEN");
    // After an apply, the variable it used stays the one used.
    write(path_, R"({"env": {"ANTHROPIC_API_KEY": "sk-ant-x"}})");
    apply_claude_settings(path_, {{"ANTHROPIC_API_KEY", "sk-qcc-1"}}, kServer);
    EXPECT_EQ(claude_key_variable(path_), "ANTHROPIC_API_KEY");
    EXPECT_EQ(claude_env_value(path_, "ANTHROPIC_API_KEY"), "sk-qcc-1");
    EXPECT_EQ(claude_env_value(path_, "MISSING"), std::nullopt);
}

TEST_F(ClaudeSettingsTest, SymlinkedSettingsStayASymlink) {
    const auto real = (dir_ / "dotfiles" / "settings.json").string();
    write(real, kOriginal);
    fs::create_directories(fs::path(path_).parent_path());
    fs::create_symlink(real, path_);
    apply_claude_settings(path_, kEnv, kServer);
    EXPECT_TRUE(fs::is_symlink(path_));
    EXPECT_NE(read(real).find("sk-qcc-abcdef0123456789"), std::string::npos);
    restore_claude_settings(path_);
    EXPECT_TRUE(fs::is_symlink(path_));
    EXPECT_EQ(read(real), kOriginal);
}

}  // namespace
}  // namespace qcc::cli
