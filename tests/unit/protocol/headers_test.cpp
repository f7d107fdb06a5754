#include "protocol/http/headers.hpp"

#include <gtest/gtest.h>

namespace qcc::http {
namespace {

TEST(Headers, IEquals) {
    EXPECT_TRUE(iequals("Content-Length", "content-length"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("content-length", "content-lengt"));
    EXPECT_FALSE(iequals("a", "b"));
    // Only ASCII letters fold: '[' (0x5B) is not 'a' shifted wrongly, and '@' is not '`'.
    EXPECT_FALSE(iequals("[", "{"));
    EXPECT_FALSE(iequals("@", "`"));
}

TEST(Headers, HopByHop) {
    for (std::string_view name :
         {"Connection", "keep-alive", "Proxy-Authenticate", "proxy-authorization",
          "PROXY-CONNECTION", "TE", "Trailer", "transfer-encoding", "Upgrade"}) {
        EXPECT_TRUE(is_hop_by_hop(name)) << name;
    }
    for (std::string_view name : {"content-length", "x-api-key", "authorization", "trailers",
                                  "anthropic-beta", "", "te "}) {
        EXPECT_FALSE(is_hop_by_hop(name)) << name;
    }
}

TEST(Headers, ConnectionLists) {
    EXPECT_TRUE(connection_lists("keep-alive, X-Secret", "x-secret"));
    EXPECT_TRUE(connection_lists("X-Secret", "x-secret"));
    EXPECT_TRUE(connection_lists(" close ,\tupgrade ", "Upgrade"));
    EXPECT_TRUE(connection_lists(",,x-a,,", "X-A"));
    EXPECT_FALSE(connection_lists("keep-alive", "x-secret"));
    EXPECT_FALSE(connection_lists("x-secrets", "x-secret"));
    EXPECT_FALSE(connection_lists("", "x-secret"));
    EXPECT_FALSE(connection_lists("a, ,b", ""));
}

TEST(Headers, BearerToken) {
    EXPECT_EQ(bearer_token("Bearer sk-qcc-1"), "sk-qcc-1");
    EXPECT_EQ(bearer_token("bearer   sk-qcc-1"), "sk-qcc-1");
    EXPECT_EQ(bearer_token("BEARER x"), "x");
    EXPECT_EQ(bearer_token("Basic dXNlcg=="), "");
    EXPECT_EQ(bearer_token("Bearer "), "");
    EXPECT_EQ(bearer_token(""), "");
}

}  // namespace
}  // namespace qcc::http
