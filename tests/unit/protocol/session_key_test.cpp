#include "protocol/anthropic/session_key.hpp"

#include <gtest/gtest.h>

namespace qcc::anthropic {
namespace {

constexpr std::string_view kSession = "3f0c2a4e-9b1d-4c7e-8a55-2d6e1f0b7c91";
constexpr std::string_view kDevice =
    "e2e0000000000000000000000000000000000000000000000000000000000001";

std::string legacy(std::string_view account, std::string_view session) {
    return "user_" + std::string(kDevice) + "_account_" + std::string(account) + "_session_" +
           std::string(session);
}

TEST(SessionKey, HeaderWinsOverEverything) {
    EXPECT_EQ(session_key("hdr-session", legacy("", kSession), "conv"), "hdr-session");
    EXPECT_EQ(session_key("  hdr-session \t", "", ""), "hdr-session");
}

TEST(SessionKey, BlankHeaderIsAbsent) {
    EXPECT_EQ(session_key("   ", legacy("", kSession), "conv"), kSession);
}

TEST(SessionKey, LegacyUserIdWithEmptyAccount) {
    EXPECT_EQ(session_key("", legacy("", kSession), "conv"), kSession);
}

TEST(SessionKey, LegacyUserIdWithAccount) {
    EXPECT_EQ(session_key("", legacy("0a1b2c3d-0000-4000-8000-00000000abcd", kSession), ""),
              kSession);
    EXPECT_EQ(
        session_key("", "user_ABCDEF_account__session_3F0C2A4E-9B1D-4C7E-8A55-2D6E1F0B7C91", ""),
        "3F0C2A4E-9B1D-4C7E-8A55-2D6E1F0B7C91");
}

TEST(SessionKey, LegacyUserIdWithAnyUserToken) {
    // Relays and other clients put their own user hash there: the session uuid still counts.
    EXPECT_EQ(session_key("", "user_soak-client-17_account__session_" + std::string(kSession), ""),
              kSession);
}

TEST(SessionKey, JsonUserId) {
    const std::string user_id = R"({"device_id":")" + std::string(kDevice) +
                                R"(","account_uuid":"","session_id":")" + std::string(kSession) +
                                R"("})";
    EXPECT_EQ(session_key("", user_id, "conv"), kSession);
    // Key order does not matter, nor whitespace.
    EXPECT_EQ(session_key("", R"( { "session_id" : "abc", "device_id" : "d" } )", "conv"), "abc");
}

TEST(SessionKey, JsonUserIdWithoutUsableSessionFallsThrough) {
    EXPECT_EQ(session_key("", R"({"device_id":"d","account_uuid":""})", "conv"), "conv");
    EXPECT_EQ(session_key("", R"({"session_id":""})", "conv"), "conv");
    EXPECT_EQ(session_key("", R"({"session_id":42})", "conv"), "conv");
    EXPECT_EQ(session_key("", R"({"session_id":"abc")", "conv"), "conv");
    EXPECT_EQ(session_key("", R"({"session_id":"abc"} x)", "conv"), "conv");
}

TEST(SessionKey, MalformedLegacyFallsThroughToConversationHeader) {
    const std::vector<std::string> bad = {
        "user_",
        "user_abc",
        "user__account__session_" + std::string(kSession),      // device is empty
        "user_a_b_account__session_" + std::string(kSession),   // '_' inside the user token
        "user_ab+c_account__session_" + std::string(kSession),  // neither letter, digit nor '-'
        "user_abc_account__session_",
        "user_abc_account__session_not-a-uuid",
        "user_abc_account__session_" + std::string(kSession) + "_extra",
        "user_abc_account_garbage_session_" + std::string(kSession),
        "user_abc_session_" + std::string(kSession),
        "customer_abc_account__session_" + std::string(kSession),
        "3f0c2a4e-9b1d-4c7e-8a55-2d6e1f0b7c9",
        "random-opaque-user-id",
    };
    for (const std::string& user_id : bad) {
        SCOPED_TRACE(user_id);
        EXPECT_EQ(session_key("", user_id, " conv-1 "), "conv-1");
    }
}

TEST(SessionKey, NoneWhenNothingPresent) {
    EXPECT_EQ(session_key("", "", ""), "");
    EXPECT_EQ(session_key("", "garbage", ""), "");
}

}  // namespace
}  // namespace qcc::anthropic
