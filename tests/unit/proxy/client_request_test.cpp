// The client request as the session stores it: the request line, fields in arrival order with
// their spelling, lookups by enum and by name in any case (the first field wins), keep-alive from
// the version and Connection, and a body (plain or chunked) that keeps simdjson's padding.
#include "proxy/client_request.hpp"

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/anthropic/request_view.hpp"

namespace qcc::proxy {
namespace {

namespace http = boost::beast::http;

/// Parses all of `text` in pieces of `step` bytes (1 exercises every split point).
ClientRequestParser parse(std::string_view text, std::size_t step = 4096) {
    ClientRequestParser p;
    p.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    std::string carry;
    // Beast wants the unconsumed bytes again with the next ones: keep them in `carry`.
    for (int round = 0; round < 100'000 && !p.is_done(); ++round) {
        if (used < text.size()) {
            carry.append(text.substr(used, step));
            used = std::min(text.size(), used + step);
        }
        const auto n = p.put(boost::asio::buffer(carry), ec);
        carry.erase(0, n);  // (also on need_more: whole chunks may have been taken)
        if (ec == http::error::need_more) {
            ec = {};
            if (used >= text.size()) break;
            continue;
        }
        EXPECT_FALSE(ec) << ec.message();
        if (ec) break;
    }
    EXPECT_TRUE(p.is_done());
    return p;
}

constexpr std::string_view kRequest =
    "POST /v1/messages?beta=true HTTP/1.1\r\n"
    "Host: qcc.local\r\n"
    "X-Api-Key: sk-qcc-one\r\n"
    "x-stainless-os: Linux\r\n"
    "Content-Type: application/json\r\n"
    "x-api-key: sk-qcc-two\r\n"
    "Content-Length: 11\r\n"
    "\r\n"
    "{\"a\":true}\n";

TEST(ClientRequest, KeepsTheRequestLineAndTheFieldsAsSent) {
    for (const std::size_t step : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
        auto p = parse(kRequest, step);
        const auto& req = p.get();
        EXPECT_EQ(req.method(), http::verb::post);
        EXPECT_EQ(req.method_string(), "POST");
        EXPECT_EQ(req.target(), "/v1/messages?beta=true");
        EXPECT_EQ(req.version(), 11u);
        std::vector<std::string> seen;
        for (const auto f : req.fields())
            seen.push_back(std::string(f.name) + "=" + std::string(f.value));
        EXPECT_EQ(seen,
                  (std::vector<std::string>{"Host=qcc.local", "X-Api-Key=sk-qcc-one",
                                            "x-stainless-os=Linux", "Content-Type=application/json",
                                            "x-api-key=sk-qcc-two", "Content-Length=11"}))
            << "step " << step;
        EXPECT_EQ(req.field_count(), 6u);
        EXPECT_EQ(req.body(), "{\"a\":true}\n");
    }
}

TEST(ClientRequest, LooksFieldsUpByEnumOrByNameInAnyCaseAndTheFirstWins) {
    auto p = parse(kRequest);
    const auto& req = p.get();
    EXPECT_EQ(req[http::field::host], "qcc.local");
    EXPECT_EQ(req[http::field::content_type], "application/json");
    EXPECT_EQ(req["content-type"], "application/json");  // a known name, asked as a string
    EXPECT_EQ(req["x-api-key"], "sk-qcc-one");           // unknown to Beast: compared by name
    EXPECT_EQ(req["X-API-KEY"], "sk-qcc-one");
    EXPECT_EQ(req["X-Stainless-OS"], "Linux");
    EXPECT_EQ(req["x-api-ke"], "");
    EXPECT_EQ(req["x-conversation-id"], "");
    EXPECT_EQ(req[http::field::authorization], "");
    for (const auto f : req.fields()) {
        if (f.name == "x-stainless-os") {
            EXPECT_EQ(f.id, http::field::unknown);
        }
        if (f.name == "Host") {
            EXPECT_EQ(f.id, http::field::host);
        }
    }
}

TEST(ClientRequest, KeepAliveFollowsTheVersionAndConnection) {
    EXPECT_TRUE(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").get().keep_alive());
    EXPECT_FALSE(
        parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").get().keep_alive());
    EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").get().keep_alive());
    EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").get().keep_alive());
    EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n").get().version(), 10u);
}

TEST(ClientRequest, AnUnknownMethodKeepsItsSpelling) {
    auto p = parse("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(p.get().method(), http::verb::unknown);
    EXPECT_EQ(p.get().method_string(), "BREW");
}

TEST(ClientRequest, BodiesKeepRoomForTheJsonPadding) {
    auto plain = parse(kRequest, 3);
    EXPECT_GE(plain.get().body().capacity(), plain.get().body().size() + anthropic::kJsonPadding);
    // Chunked: no length known up front, the body grows piece by piece.
    std::string chunked =
        "POST /v1/messages HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string expected;
    for (int i = 0; i < 40; ++i) {
        const std::string piece(100 + i, static_cast<char>('a' + i % 26));
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        chunked += size + piece + "\r\n";
        expected += piece;
    }
    chunked += "0\r\n\r\n";
    for (const std::size_t step : {std::size_t{5}, std::size_t{4096}}) {
        auto p = parse(chunked, step);
        EXPECT_EQ(p.get().body(), expected);
        EXPECT_GE(p.get().body().capacity(), p.get().body().size() + anthropic::kJsonPadding);
    }
}

}  // namespace
}  // namespace qcc::proxy
