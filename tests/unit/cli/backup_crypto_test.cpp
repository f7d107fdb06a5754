// The encrypted backup file (`qcc backup`): round trip, a wrong passphrase, every changed byte and
// every cut refused, files of another kind or version told apart before decryption; and where the
// passphrase comes from.
#include "cli/backup_crypto.hpp"

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "cli/backup_cmds.hpp"
#include "cli/passphrase.hpp"
#include "config/config.hpp"
#include "support/temp_dir.hpp"

namespace qcc::cli {
namespace {

using Kind = BackupFileError::Kind;

// Cheap scrypt parameters: the format and the checks are the same as with the default.
const BackupKdf kFast{1u << 10, 8, 1};
const std::string kDoc = R"({"format":"qcc-backup","endpoints":[{"api_key":"sk-ant-secret"}]})";

/// The kind of error opening `file` raises (fails the test when it opens).
std::optional<Kind> open_error(const std::string& file, const std::string& passphrase = "pw") {
    try {
        const auto text = open_backup(file, passphrase);
        ADD_FAILURE() << "opened: " << text;
        return std::nullopt;
    } catch (const BackupFileError& e) {
        return e.kind();
    }
}

TEST(BackupCrypto, RoundTripWithAReadableHeader) {
    const auto file = seal_backup(kDoc, "correct horse", kFast);
    EXPECT_EQ(open_backup(file, "correct horse"), kDoc);
    const auto header = file.substr(0, file.find('\n'));
    EXPECT_TRUE(std::regex_match(header, std::regex("qcc-backup version=1 kdf=scrypt n=1024 r=8 "
                                                    "p=1 salt=[0-9a-f]{32} cipher=aes-256-gcm "
                                                    "nonce=[0-9a-f]{24}")))
        << header;
    EXPECT_EQ(file.find("sk-ant-secret"), std::string::npos) << "the credential is not in clear";
    for (const char c : file) {
        EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << "the file is text: " << int(c);
    }
    EXPECT_NE(seal_backup(kDoc, "correct horse", kFast), file) << "fresh salt and nonce each time";
}

TEST(BackupCrypto, EmptyAndLargePlaintextsRoundTrip) {
    EXPECT_EQ(open_backup(seal_backup("", "pw", kFast), "pw"), "");
    std::string big(100'000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
    const auto file = seal_backup(big, "pw", kFast);
    EXPECT_EQ(open_backup(file, "pw"), big);
    std::size_t lines = 0;
    for (std::size_t at = file.find('\n') + 1; at < file.size(); at = file.find('\n', at) + 1) {
        EXPECT_LE(file.find('\n', at) - at, 64u);
        ++lines;
    }
    EXPECT_GT(lines, 1000u) << "the body is wrapped at 64 columns";
}

TEST(BackupCrypto, DefaultCostIsScryptN2To17) {
    const auto file = seal_backup(kDoc, "pw");
    EXPECT_NE(file.find(" n=131072 r=8 p=1 "), std::string::npos) << file.substr(0, 120);
    EXPECT_EQ(open_backup(file, "pw"), kDoc);
}

TEST(BackupCrypto, WrongPassphraseIsRefused) {
    const auto file = seal_backup(kDoc, "right", kFast);
    try {
        open_backup(file, "wrong");
        FAIL() << "opened with a wrong passphrase";
    } catch (const BackupFileError& e) {
        EXPECT_EQ(e.kind(), Kind::kDecrypt);
        EXPECT_STREQ(e.what(), "wrong passphrase or damaged file");
    }
    EXPECT_EQ(open_error(file, "Right"), Kind::kDecrypt);
    EXPECT_EQ(open_error(file, ""), Kind::kDecrypt);
}

TEST(BackupCrypto, EveryChangedByteIsRefused) {
    const auto file = seal_backup("{}", "pw", kFast);
    for (std::size_t i = 0; i < file.size(); ++i) {
        auto tampered = file;
        tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
        EXPECT_TRUE(open_error(tampered).has_value()) << "byte " << i << " of " << file.size();
    }
}

TEST(BackupCrypto, OnlyTheExactBase64FormIsRead) {
    // 3 bytes of plaintext + the 16-byte tag = 19 bytes: the last base64 group ends in "==", and
    // the character before it carries 4 bits no decoder looks at.
    const auto file = seal_backup("{ }", "pw", kFast);
    const auto pad = file.rfind("==\n");
    ASSERT_NE(pad, std::string::npos) << file;
    static constexpr std::string_view kB64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    auto unused_bit = file;
    unused_bit[pad - 1] = kB64[kB64.find(file[pad - 1]) ^ 1];
    EXPECT_EQ(open_error(unused_bit), Kind::kDecrypt) << "a change in unused bits is a change";
    auto crlf = file;
    crlf.insert(crlf.size() - 1, "\r");
    EXPECT_EQ(open_error(crlf), Kind::kDecrypt);
    EXPECT_EQ(open_backup(file, "pw"), "{ }");
}

TEST(BackupCrypto, EveryCutIsRefused) {
    const auto file = seal_backup(kDoc, "pw", kFast);
    for (std::size_t n = 0; n < file.size(); ++n) {
        EXPECT_TRUE(open_error(file.substr(0, n)).has_value()) << "cut at " << n;
    }
    const auto header_end = file.find('\n');
    EXPECT_EQ(open_error(file.substr(0, header_end + 1)), Kind::kDecrypt);
    EXPECT_EQ(open_error(file.substr(0, file.size() - 10)), Kind::kDecrypt);
}

TEST(BackupCrypto, OtherFilesAreToldApartFromTheHeader) {
    const auto header_kind = [](const std::string& file) -> std::optional<Kind> {
        try {
            check_backup_header(file);
            return std::nullopt;
        } catch (const BackupFileError& e) {
            return e.kind();
        }
    };
    EXPECT_EQ(header_kind("# QCC endpoints\n[[endpoints]]\nname = \"a\"\n"), Kind::kNotBackup);
    EXPECT_EQ(header_kind(""), Kind::kNotBackup);
    EXPECT_EQ(header_kind("qcc-backupx version=1\n"), Kind::kNotBackup);
    EXPECT_EQ(header_kind("{\"format\":\"qcc-backup\"}"), Kind::kNotBackup);

    const auto file = seal_backup(kDoc, "pw", kFast);
    EXPECT_EQ(header_kind(file), std::nullopt);
    auto newer = file;
    newer.replace(newer.find("version=1"), 9, "version=2");
    try {
        check_backup_header(newer);
        FAIL() << "a version 2 header passed";
    } catch (const BackupFileError& e) {
        EXPECT_EQ(e.kind(), Kind::kUnsupported);
        EXPECT_NE(std::string(e.what()).find("unsupported backup version 2"), std::string::npos)
            << e.what();
    }
    auto other_kdf = file;
    other_kdf.replace(other_kdf.find("kdf=scrypt"), 10, "kdf=argon2");
    EXPECT_EQ(header_kind(other_kdf), Kind::kUnsupported);
}

TEST(BackupCrypto, HugeScryptParametersAreRefusedWithoutTrying) {
    auto file = seal_backup(kDoc, "pw", kFast);
    file.replace(file.find(" n=1024 "), 8, " n=1073741824 ");
    try {
        open_backup(file, "pw");
        FAIL() << "opened";
    } catch (const BackupFileError& e) {
        EXPECT_EQ(e.kind(), Kind::kDecrypt);
        EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
    }
}

TEST(BackupCrypto, SealRefusesAnEmptyPassphraseAndBadParameters) {
    EXPECT_THROW(seal_backup(kDoc, "", kFast), std::invalid_argument);
    EXPECT_THROW(seal_backup(kDoc, "pw", BackupKdf{1000, 8, 1}), std::invalid_argument);
    EXPECT_THROW(seal_backup(kDoc, "pw", BackupKdf{1024, 0, 1}), std::invalid_argument);
}

TEST(BackupCrypto, WipeClearsTheString) {
    std::string s = "secret";
    wipe(s);
    EXPECT_TRUE(s.empty());
}

// ---- passphrase sources ---------------------------------------------------------------------

class Passphrase : public ::testing::Test {
  protected:
    void SetUp() override { ::unsetenv(kPassphraseEnv); }
    void TearDown() override { ::unsetenv(kPassphraseEnv); }
    std::string file_with(const std::string& text) {
        const auto path = dir_.file("pass" + std::to_string(++n_));
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    test::TempDir dir_{"qcc-passphrase-test"};
    int n_ = 0;
};

TEST_F(Passphrase, FirstLineOfTheFileWithoutItsLineEnd) {
    EXPECT_EQ(backup_passphrase(file_with("s3cret words\nsecond line\n"), true), "s3cret words");
    EXPECT_EQ(backup_passphrase(file_with("crlf\r\n"), false), "crlf");
    EXPECT_EQ(backup_passphrase(file_with("no newline"), false), "no newline");
    EXPECT_EQ(first_line(" spaces kept \n"), " spaces kept ");
}

TEST_F(Passphrase, TheFileWinsOverTheEnvironment) {
    ::setenv(kPassphraseEnv, "from-env", 1);
    EXPECT_EQ(backup_passphrase(file_with("from-file\n"), true), "from-file");
    EXPECT_EQ(backup_passphrase("", true), "from-env");
}

TEST_F(Passphrase, EmptyOrMissingIsAUsageError) {
    const auto message = [](const std::string& file) {
        try {
            backup_passphrase(file, false);
            return std::string("(no error)");
        } catch (const config::ConfigError& e) {
            return std::string(e.what());
        }
    };
    EXPECT_NE(message(file_with("\nsecond")).find("the first line is empty"), std::string::npos);
    EXPECT_NE(message(file_with("")).find("the first line is empty"), std::string::npos);
    EXPECT_NE(message(dir_.file("absent")).find("cannot open"), std::string::npos);
    ::setenv(kPassphraseEnv, "", 1);
    EXPECT_NE(message("").find("QCC_BACKUP_PASSPHRASE is set but empty"), std::string::npos);
}

TEST(BackupName, DateAndTimeInTheName) {
    const auto name = default_backup_name(1'700'000'000);
    EXPECT_TRUE(std::regex_match(name, std::regex(R"(qcc-backup-\d{4}-\d{2}-\d{2}-\d{6}\.qccbak)")))
        << name;
    EXPECT_NE(default_backup_name(1'700'000'001), name);
}

}  // namespace
}  // namespace qcc::cli
