// SecretBox (SPEC §10): AES-256-GCM sealing of credentials, the master key file and variable,
// and mask_secret.
#include "store/secret.hpp"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/temp_dir.hpp"

namespace qcc::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kAuthFailure =
    "credential cannot be decrypted: wrong master key or corrupted data";
// 32 bytes 0x00..0x1f in the two accepted environment forms.
constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kKeyB64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

std::array<unsigned char, SecretBox::kKeyBytes> counting_key() {
    std::array<unsigned char, SecretBox::kKeyBytes> k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(i);
    return k;
}

// The message of the std::runtime_error fn throws ("" and a test failure when it does not).
template <class F>
std::string error_of(F fn) {
    try {
        fn();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected std::runtime_error";
    return "";
}

// Flips one bit of the decoded payload of a sealed value whose payload length is a multiple of 3
// (so OpenSSL's block codec needs no padding handling).
std::string flip_payload_bit(const std::string& sealed, std::size_t byte_index) {
    const std::string b64 = sealed.substr(3);
    std::vector<unsigned char> raw(b64.size() / 4 * 3);
    const int n = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    EXPECT_EQ(n, static_cast<int>(raw.size()));
    raw.at(byte_index) ^= 0x01;
    std::string out(b64.size() + 1, '\0');
    const int m = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), raw.data(),
                                  static_cast<int>(raw.size()));
    out.resize(static_cast<std::size_t>(m));
    return "v1:" + out;
}

TEST(SecretBoxTest, RoundTripsEmptyShortLargeAndBinary) {
    const SecretBox box = SecretBox::ephemeral();
    std::string binary;
    for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
    std::string large(10 * 1024, '\0');
    for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>('a' + i % 26);
    for (const std::string& plain :
         {std::string(), std::string("sk-ant-api03-xyz"), large, binary}) {
        const std::string sealed = box.seal(plain);
        EXPECT_TRUE(sealed.starts_with("v1:"));
        EXPECT_EQ(box.open(sealed), plain);
        if (plain.size() >= 4) {
            EXPECT_EQ(sealed.find(plain), std::string::npos);
        }
    }
}

TEST(SecretBoxTest, SealedFormIsNoncePlusCiphertextPlusTagInPaddedBase64) {
    const SecretBox box = SecretBox::ephemeral();
    // 12 + 4 + 16 = 32 bytes -> 44 base64 characters with one '=' of padding.
    const std::string four = box.seal("abcd");
    ASSERT_EQ(four.size(), 3u + 44u);
    EXPECT_TRUE(four.ends_with("="));
    EXPECT_FALSE(four.ends_with("=="));
    // 31 bytes -> 44 characters, two '='.
    const std::string three = box.seal("abc");
    ASSERT_EQ(three.size(), 3u + 44u);
    EXPECT_TRUE(three.ends_with("=="));
    // 33 bytes -> 44 characters, no padding.
    const std::string five = box.seal("abcde");
    ASSERT_EQ(five.size(), 3u + 44u);
    EXPECT_FALSE(five.ends_with("="));
    EXPECT_EQ(box.open(four), "abcd");
    EXPECT_EQ(box.open(three), "abc");
    EXPECT_EQ(box.open(five), "abcde");
    // Empty plaintext: 28 bytes -> 40 characters, two '='.
    const std::string empty = box.seal("");
    ASSERT_EQ(empty.size(), 3u + 40u);
    EXPECT_TRUE(empty.ends_with("=="));
}

TEST(SecretBoxTest, TwoSealsOfTheSameValueDiffer) {
    const SecretBox box = SecretBox::ephemeral();
    const std::string a = box.seal("sk-same-secret");
    const std::string b = box.seal("sk-same-secret");
    EXPECT_NE(a, b);
    EXPECT_NE(a.substr(0, 3 + 16), b.substr(0, 3 + 16));  // different nonces
    EXPECT_EQ(box.open(a), "sk-same-secret");
    EXPECT_EQ(box.open(b), "sk-same-secret");
}

TEST(SecretBoxTest, ExplicitKeyIsDeterministicAcrossInstances) {
    const auto key = counting_key();
    const SecretBox a(key);
    const SecretBox b(key);
    EXPECT_EQ(b.open(a.seal("shared")), "shared");
    const SecretBox copy = a;  // copies keep working after the original is gone
    EXPECT_EQ(copy.open(a.seal("copied")), "copied");
}

TEST(SecretBoxTest, WrongKeyThrowsTheDocumentedMessage) {
    const SecretBox a = SecretBox::ephemeral();
    const SecretBox b = SecretBox::ephemeral();
    const std::string sealed = a.seal("sk-secret-value");
    const std::string message = error_of([&] { (void)b.open(sealed); });
    EXPECT_EQ(message, kAuthFailure);
    EXPECT_THAT(message, Not(HasSubstr("sk-secret")));
}

TEST(SecretBoxTest, TamperedNonceCiphertextOrTagFailsAuthentication) {
    const SecretBox box = SecretBox::ephemeral();
    // 12 + 20 + 16 = 48 bytes: nonce 0..11, ciphertext 12..31, tag 32..47.
    const std::string sealed = box.seal("01234567890123456789");
    ASSERT_EQ(flip_payload_bit(flip_payload_bit(sealed, 5), 5), sealed);  // the helper is exact
    for (const std::size_t index : {0u, 11u, 12u, 25u, 31u, 32u, 47u}) {
        const std::string tampered = flip_payload_bit(sealed, index);
        ASSERT_NE(tampered, sealed);
        EXPECT_EQ(error_of([&] { (void)box.open(tampered); }), kAuthFailure) << "byte " << index;
    }
}

TEST(SecretBoxTest, TruncatedOrInvalidBase64Throws) {
    const SecretBox box = SecretBox::ephemeral();
    // 12 + 15 + 16 = 43 bytes -> 60 characters ending in "==".
    const std::string sealed = box.seal("sk-secret-value");
    ASSERT_TRUE(sealed.ends_with("=="));
    std::vector<std::string> malformed = {
        "v1:",                                  // nothing
        "v1:AAAA",                              // too short for nonce + tag
        sealed.substr(0, sealed.size() - 1),    // not a multiple of 4
        sealed.substr(0, 3 + 36),               // 27 bytes: shorter than nonce + tag
        sealed + "AAAA",                        // data after the padding
        sealed + "\n",                          // stray whitespace
        "v1:" + std::string(40, '*'),           // outside the alphabet
        "v1:" + std::string(40, '-'),           // base64url alphabet is not accepted
        "v1:" + std::string(38, 'A') + "B=",    // non-zero unused bits (non-canonical)
        "v1:" + std::string(36, 'A') + "A=AA",  // padding in the middle
        "v1:" + std::string(40, '='),           // padding only
    };
    std::string mid = sealed;
    mid[10] = '!';
    malformed.push_back(mid);
    for (const std::string& s : malformed) {
        const std::string message = error_of([&] { (void)box.open(s); });
        EXPECT_THAT(message, HasSubstr("credential cannot be decrypted")) << s;
        EXPECT_THAT(message, HasSubstr("malformed")) << s;
    }
    // Still valid base64 and long enough, but the tag is cut short: authentication fails.
    EXPECT_EQ(error_of([&] { (void)box.open(sealed.substr(0, sealed.size() - 4)); }), kAuthFailure);
}

TEST(SecretBoxTest, UnknownEncodingThrowsWithoutEchoingTheValue) {
    const SecretBox box = SecretBox::ephemeral();
    for (const std::string s : {"sk-ant-raw-credential", "v2:c2stYW50", "", "PLAIN:x", "v1"}) {
        const std::string message = error_of([&] { (void)box.open(s); });
        EXPECT_THAT(message, HasSubstr("unknown encoding")) << s;
        if (!s.empty()) {
            EXPECT_THAT(message, Not(HasSubstr(s)));
        }
    }
}

TEST(SecretBoxTest, ReadsLegacyPlainForm) {
    const SecretBox box = SecretBox::ephemeral();
    EXPECT_EQ(box.open("plain:sk-relay-secret"), "sk-relay-secret");
    EXPECT_EQ(box.open("plain:"), "");
    EXPECT_EQ(box.open("plain:v1:not-sealed"), "v1:not-sealed");
}

TEST(SecretBoxTest, IsSealed) {
    const SecretBox box = SecretBox::ephemeral();
    EXPECT_TRUE(SecretBox::is_sealed(box.seal("x")));
    EXPECT_TRUE(SecretBox::is_sealed("v1:"));
    EXPECT_FALSE(SecretBox::is_sealed("plain:x"));
    EXPECT_FALSE(SecretBox::is_sealed("plain:v1:x"));
    EXPECT_FALSE(SecretBox::is_sealed(""));
    EXPECT_FALSE(SecretBox::is_sealed("v1"));
    EXPECT_FALSE(SecretBox::is_sealed("V1:x"));
}

TEST(MaskSecretTest, KeepsSixAndFourCharactersOfLongSecrets) {
    // At most 4 characters shown, never more than a third of the secret.
    EXPECT_EQ(mask_secret("sk-ant-api03-0123456789wxyz"), "****wxyz");
    EXPECT_EQ(mask_secret("abcdefghijkl"), "****ijkl");  // 12: the shortest shown
    EXPECT_EQ(mask_secret("abcdefghijk"), "****");       // 11
    EXPECT_EQ(mask_secret("abc"), "****");
    EXPECT_EQ(mask_secret(""), "****");
}

TEST(MaskSecretTest, CountsCharactersNotBytes) {
    // 12 two-byte characters: cut between characters, never inside one.
    const std::string s =
        "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e0\u00e0\u00e8\u00e8\u00e8\u00e8";
    EXPECT_EQ(mask_secret(s), "****\u00e8\u00e8\u00e8\u00e8");
    // 11 characters but 22 bytes: still too short.
    EXPECT_EQ(mask_secret(s.substr(2)), "****");
}

// A fresh directory per test, and QCC_MASTER_KEY unset for the test and restored afterwards.
class MasterKeyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (const char* v = std::getenv("QCC_MASTER_KEY")) saved_env_ = v;
        ::unsetenv("QCC_MASTER_KEY");
    }
    void TearDown() override {
        if (saved_env_) {
            ::setenv("QCC_MASTER_KEY", saved_env_->c_str(), 1);
        } else {
            ::unsetenv("QCC_MASTER_KEY");
        }
    }

    static mode_t mode_of(const fs::path& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
        return st.st_mode & 07777;
    }
    static void write_file(const fs::path& p, const std::string& content, mode_t mode) {
        {
            std::ofstream out(p, std::ios::binary | std::ios::trunc);
            out << content;
        }
        ASSERT_EQ(::chmod(p.c_str(), mode), 0);
    }

    test::TempDir tmp_{"qcc-secret-test"};
    fs::path root_ = tmp_.path();
    std::optional<std::string> saved_env_;
};

TEST_F(MasterKeyTest, CreatesAPrivateKeyFileInAPrivateDirectory) {
    const fs::path dir = root_ / "data" / "qcc";
    const SecretBox box = SecretBox::load_or_create(dir.string());
    const fs::path file = dir / "master.key";
    ASSERT_TRUE(fs::is_regular_file(file));
    EXPECT_EQ(mode_of(file), 0600u);
    EXPECT_EQ(mode_of(dir), 0700u);
    EXPECT_EQ(mode_of(root_ / "data"), 0700u);

    std::ifstream in(file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(text.size(), 65u);
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), 64u);
    // No temporary file left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
    EXPECT_EQ(box.open(box.seal("x")), "x");
}

TEST_F(MasterKeyTest, SecondCallReadsTheSameKey) {
    const SecretBox first = SecretBox::load_or_create(root_.string());
    const SecretBox second = SecretBox::load_or_create(root_.string());
    EXPECT_EQ(second.open(first.seal("sk-persisted")), "sk-persisted");
    EXPECT_EQ(first.open(second.seal("sk-other-way")), "sk-other-way");
    // A different directory gets a different key.
    const SecretBox other = SecretBox::load_or_create((root_ / "elsewhere").string());
    EXPECT_EQ(error_of([&] { (void)other.open(first.seal("x")); }), kAuthFailure);
}

TEST_F(MasterKeyTest, ConcurrentCreatorsAgreeOnOneKey) {
    const std::string dir = (root_ / "race").string();
    constexpr int kThreads = 8;
    std::vector<std::string> sealed(kThreads);
    std::vector<std::string> errors(kThreads);
    {
        std::vector<std::jthread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&, i] {
                try {
                    sealed[static_cast<std::size_t>(i)] =
                        SecretBox::load_or_create(dir).seal("v" + std::to_string(i));
                } catch (const std::exception& e) {
                    errors[static_cast<std::size_t>(i)] = e.what();
                }
            });
        }
    }
    const SecretBox box = SecretBox::load_or_create(dir);
    for (int i = 0; i < kThreads; ++i) {
        const auto idx = static_cast<std::size_t>(i);
        ASSERT_EQ(errors[idx], "");
        EXPECT_EQ(box.open(sealed[idx]), "v" + std::to_string(i));
    }
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST_F(MasterKeyTest, ReadsAnExistingFileWithOrWithoutNewline) {
    const auto key = counting_key();
    const SecretBox expected(key);
    const std::string upper = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
    for (const std::string& content : {std::string(kKeyHex), std::string(kKeyHex) + "\n",
                                       std::string(kKeyHex) + "\r\n", upper}) {
        write_file(root_ / "master.key", content, 0600);
        const SecretBox box = SecretBox::load_or_create(root_.string());
        EXPECT_EQ(expected.open(box.seal("k")), "k") << content.size();
    }
    write_file(root_ / "master.key", kKeyHex, 0400);  // read-only for the owner is fine too
    EXPECT_EQ(expected.open(SecretBox::load_or_create(root_.string()).seal("r")), "r");
}

TEST_F(MasterKeyTest, EnvironmentVariableHexAndBase64) {
    const SecretBox expected(counting_key());
    for (const std::string& value : {std::string(kKeyHex), std::string(kKeyB64),
                                     std::string(kKeyHex) + "\n", " " + std::string(kKeyB64)}) {
        ASSERT_EQ(::setenv("QCC_MASTER_KEY", value.c_str(), 1), 0);
        const SecretBox box = SecretBox::load_or_create((root_ / "unused").string());
        EXPECT_EQ(expected.open(box.seal("env")), "env") << value;
    }
    // The variable wins over the file and nothing is created.
    EXPECT_FALSE(fs::exists(root_ / "unused"));
}

TEST_F(MasterKeyTest, MalformedEnvironmentVariableIsNamedButNotEchoed) {
    const std::vector<std::string> bad = {
        "not-a-key-at-all-zzzz",
        std::string(kKeyHex).substr(0, 63),              // one hex digit short
        std::string(kKeyHex).substr(0, 62) + "zz",       // 64 characters, not hex
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",  // base64 of 31 bytes
        std::string(kKeyHex) + "00",                     // 33 bytes of hex
        "   ",
    };
    for (const std::string& value : bad) {
        ASSERT_EQ(::setenv("QCC_MASTER_KEY", value.c_str(), 1), 0);
        const std::string message =
            error_of([&] { (void)SecretBox::load_or_create(root_.string()); });
        EXPECT_THAT(message, HasSubstr("QCC_MASTER_KEY")) << value;
        const std::string trimmed = value.substr(0, value.find_last_not_of(' ') + 1);
        if (!trimmed.empty()) {
            EXPECT_THAT(message, Not(HasSubstr(trimmed)));
        }
        EXPECT_THAT(message, Not(HasSubstr("zzzz")));
    }
    EXPECT_FALSE(fs::exists(root_ / "master.key"));
}

TEST_F(MasterKeyTest, RefusesAKeyFileOthersCanRead) {
    const fs::path file = root_ / "master.key";
    for (const mode_t mode : {0640, 0604, 0660, 0601}) {
        write_file(file, std::string(kKeyHex) + "\n", mode);
        const std::string message =
            error_of([&] { (void)SecretBox::load_or_create(root_.string()); });
        EXPECT_THAT(message, HasSubstr(file.string()));
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
        EXPECT_THAT(message, HasSubstr(octal));
        EXPECT_THAT(message, HasSubstr("chmod 600 " + file.string()));
        EXPECT_THAT(message, Not(HasSubstr(kKeyHex)));
    }
    // The refusal never rewrites the file.
    EXPECT_EQ(mode_of(file), 0601u);
}

TEST_F(MasterKeyTest, RefusesAMalformedKeyFile) {
    const fs::path file = root_ / "master.key";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "empty"},
        {std::string(kKeyHex).substr(0, 40) + "\n", "found 40 characters"},
        {std::string(kKeyHex).substr(0, 60) + "wxyz\n", "non-hex character at offset 60"},
        {std::string(kKeyHex) + std::string(kKeyHex), "too long"},
        {std::string(kKeyHex) + "\n\n", "found 65 characters"},
        {std::string(kKeyB64) + "\n", "found 44 characters"},  // base64 is for the variable only
    };
    for (const auto& [content, why] : cases) {
        write_file(file, content, 0600);
        const std::string message =
            error_of([&] { (void)SecretBox::load_or_create(root_.string()); });
        EXPECT_THAT(message, HasSubstr(file.string()));
        EXPECT_THAT(message, HasSubstr("malformed"));
        EXPECT_THAT(message, HasSubstr(why));
        EXPECT_THAT(message, Not(HasSubstr(std::string(kKeyHex).substr(0, 40))));
    }
}

TEST_F(MasterKeyTest, DataDirectoryThatIsAFileIsAnError) {
    write_file(root_ / "file", "x", 0600);
    const std::string message =
        error_of([&] { (void)SecretBox::load_or_create((root_ / "file").string()); });
    EXPECT_THAT(message, HasSubstr((root_ / "file").string()));
}

}  // namespace
}  // namespace qcc::store
