// Credentials never reach stored payloads (SPEC §10, §11): anything shaped like an API key is
// redacted; short "sk-" words are left alone.
#include "control/observer.hpp"

#include <gtest/gtest.h>

namespace qcc::control {
namespace {

TEST(RedactCredentials, ReplacesKeyShapedTokens) {
    std::string s =
        R"({"k":"sk-ant-api03-AbCdEfGhIjKlMnOpQrSt_uv-wx","note":"sk-qcc-0123456789abcdefXYZ end"})";
    redact_credentials(s);
    EXPECT_EQ(s, R"({"k":"sk-[redacted]","note":"sk-[redacted] end"})");
}

TEST(RedactCredentials, LeavesShortOrUnrelatedTextAlone) {
    std::string s = "ask-me sk-short risk-free task-list-0123456789abcdefghij";
    redact_credentials(s);
    // "task-list-…" contains "sk-" inside a word followed by 16+ key characters: redacted too,
    // because a key glued to text is still a key.
    EXPECT_EQ(s, "ask-me sk-short risk-free task-[redacted]");
    std::string none = "no keys here";
    redact_credentials(none);
    EXPECT_EQ(none, "no keys here");
}

}  // namespace
}  // namespace qcc::control
