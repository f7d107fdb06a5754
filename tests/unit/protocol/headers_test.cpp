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

TEST(Headers, PathProblems) {
    EXPECT_EQ(path_problem("/v1/messages?beta=true"), "");
    EXPECT_EQ(path_problem("/v1/models/claude-3-5%20x"), "");
    EXPECT_EQ(path_problem("/v1/a..b/c.d"), "") << "dots inside a segment are fine";
    for (const char* bad :
         {"/v1/../x", "/v1/./x", "/v1/x/..", "/v1/%2e%2e/x", "/v1/%2E%2e/x", "/v1/.%2e/x",
          "/v1/a\\b", "/v1/%5cx", "/v1/%5C", "/v1/..%2fx", "/v1/%00", "/v1/a\tb", "/v1/%2e"}) {
        EXPECT_NE(path_problem(bad), "") << bad;
    }
    EXPECT_EQ(path_problem("/v1/x?q=../../etc"), "") << "the query is the upstream's business";
}

TEST(Headers, TransferEncodingProblems) {
    EXPECT_EQ(transfer_encoding_problem(""), "");
    EXPECT_EQ(transfer_encoding_problem("chunked"), "");
    EXPECT_EQ(transfer_encoding_problem(" Chunked "), "");
    EXPECT_NE(transfer_encoding_problem("xchunked"), "");
    EXPECT_NE(transfer_encoding_problem("gzip, chunked"), "");
    EXPECT_NE(transfer_encoding_problem("chunked, chunked"), "");
    EXPECT_NE(transfer_encoding_problem("identity"), "");
}

}  // namespace
}  // namespace qcc::http
