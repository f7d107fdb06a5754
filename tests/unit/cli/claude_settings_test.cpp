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

TEST_F(ClaudeSettingsTest, ApplyThenRestoreLeavesTheFileByteIdentical) {
    write(path_, kOriginal);
    ::chmod(path_.c_str(), 0640);
    const auto r = apply_claude_settings(path_, kEnv);
    EXPECT_TRUE(r.backed_up);
    EXPECT_FALSE(r.created);
    EXPECT_NE(read(path_), kOriginal);
    EXPECT_EQ(read(claude_backup_path(path_)), kOriginal);

    EXPECT_EQ(restore_claude_settings(path_), ClaudeRestoreResult::kRestored);
    EXPECT_EQ(read(path_), kOriginal);
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(files(), std::vector<std::string>{"settings.json"});
}

TEST_F(ClaudeSettingsTest, ApplyMergesEnvAndPreservesEverythingElse) {
    write(path_, kOriginal);
    apply_claude_settings(path_, kEnv);
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
}

TEST_F(ClaudeSettingsTest, SecondApplyKeepsTheFirstBackup) {
    write(path_, kOriginal);
    apply_claude_settings(path_, kEnv);
    const auto r = apply_claude_settings(
        path_, {{"ANTHROPIC_BASE_URL", "http://127.0.0.1:9999"}, {"ANTHROPIC_AUTH_TOKEN", "k2"}});
    EXPECT_FALSE(r.backed_up);
    EXPECT_EQ(read(claude_backup_path(path_)), kOriginal);
    const auto doc = json::parse(read(path_)).as_object();
    EXPECT_EQ(doc.at("env").at("ANTHROPIC_BASE_URL"), json::value("http://127.0.0.1:9999"));
    restore_claude_settings(path_);
    EXPECT_EQ(read(path_), kOriginal);
}

TEST_F(ClaudeSettingsTest, RestoreWithoutBackupIsAClearError) {
    write(path_, kOriginal);
    try {
        restore_claude_settings(path_);
        FAIL() << "expected ClaudeSettingsError";
    } catch (const ClaudeSettingsError& e) {
        EXPECT_NE(std::string(e.what()).find(claude_backup_path(path_)), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("no backup"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read(path_), kOriginal);
}

TEST_F(ClaudeSettingsTest, MissingFileIsCreatedThenRemovedByRestore) {
    const auto claude_dir = fs::path(path_).parent_path();
    ASSERT_FALSE(fs::exists(claude_dir));
    const auto r = apply_claude_settings(path_, kEnv);
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
    EXPECT_TRUE(fs::exists(claude_marker_path(path_)));

    // A second apply still remembers that there was no file.
    apply_claude_settings(path_, kEnv);
    EXPECT_EQ(restore_claude_settings(path_), ClaudeRestoreResult::kRemoved);
    EXPECT_FALSE(fs::exists(path_));
    EXPECT_TRUE(files().empty());
}

TEST_F(ClaudeSettingsTest, InvalidJsonIsAnErrorNamingTheFileAndNothingIsWritten) {
    const std::string broken = "{\"env\": {\"A\": 1,}\n";
    write(path_, broken);
    try {
        apply_claude_settings(path_, kEnv);
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
    EXPECT_THROW(apply_claude_settings(path_, kEnv), ClaudeSettingsError);
    write(path_, R"([1, 2])");
    EXPECT_THROW(apply_claude_settings(path_, kEnv), ClaudeSettingsError);
    EXPECT_EQ(files(), std::vector<std::string>{"settings.json"});
}

TEST_F(ClaudeSettingsTest, KeyVariableFollowsWhatTheFileAlreadyUses) {
    EXPECT_EQ(claude_key_variable(path_), "ANTHROPIC_AUTH_TOKEN");  // no file
    write(path_, R"({"env": {"ANTHROPIC_API_KEY": "sk-ant-x"}})");
    EXPECT_EQ(claude_key_variable(path_), "ANTHROPIC_API_KEY");
    write(path_, R"({"env": {"ANTHROPIC_API_KEY": "a", "ANTHROPIC_AUTH_TOKEN": "b"}})");
    EXPECT_EQ(claude_key_variable(path_), "ANTHROPIC_AUTH_TOKEN");
}

TEST_F(ClaudeSettingsTest, SymlinkedSettingsStayASymlink) {
    const auto real = (dir_ / "dotfiles" / "settings.json").string();
    write(real, kOriginal);
    fs::create_directories(fs::path(path_).parent_path());
    fs::create_symlink(real, path_);
    apply_claude_settings(path_, kEnv);
    EXPECT_TRUE(fs::is_symlink(path_));
    EXPECT_NE(read(real).find("sk-qcc-abcdef0123456789"), std::string::npos);
    restore_claude_settings(path_);
    EXPECT_TRUE(fs::is_symlink(path_));
    EXPECT_EQ(read(real), kOriginal);
}

}  // namespace
}  // namespace qcc::cli
