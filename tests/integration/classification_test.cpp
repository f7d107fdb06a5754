// SPEC §4, one row at a time, end to end: the first endpoint answers with the row's outcome, the
// second is healthy. Asserts what the client received and what the first endpoint became.
#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"

namespace qcc::test {
namespace {

struct Row {
    int status;
    const char* error_type;
    bool moves_on;  // the request goes to the next endpoint
    bool breaker_failure;
    bool quarantined;
    bool cooled_down;
};

class ClassificationRow : public ::testing::TestWithParam<Row> {};

TEST_P(ClassificationRow, ClientAndEndpointStateFollowTheTable) {
    const Row row = GetParam();
    FakeUpstream a, b;
    ProxyFixture proxy(
        {endpoint_config("a", a.base_url(), 1), endpoint_config("b", b.base_url(), 2)});
    a.push(sim::Reply::error(row.status, row.error_type, "row under test"));
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false));
    auto& s = proxy.state("a");
    if (row.moves_on) {
        EXPECT_EQ(res.status, 200);
        EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    } else {
        EXPECT_EQ(res.status, row.status) << "returned to the client as is";
        EXPECT_NE(res.body.find("row under test"), std::string::npos);
        EXPECT_EQ(b.request_count(), 0u);
    }
    EXPECT_EQ(s.failures.load(), row.breaker_failure ? 1u : 0u);
    EXPECT_EQ(s.quarantined.load(), row.quarantined);
    const auto now = proxy.gateway().health().now().time_since_epoch().count();
    EXPECT_EQ(s.cooldown_until_ns.load() > now, row.cooled_down);
}

INSTANTIATE_TEST_SUITE_P(
    Spec4, ClassificationRow,
    ::testing::Values(Row{400, "invalid_request_error", false, false, false, false},
                      Row{404, "not_found_error", false, false, false, false},
                      Row{413, "request_too_large", false, false, false, false},
                      Row{422, "invalid_request_error", false, false, false, false},
                      Row{401, "authentication_error", true, false, true, false},
                      Row{403, "permission_error", true, false, true, false},
                      Row{402, "billing_error", true, false, true, false},
                      Row{429, "billing_error", true, false, true, false},
                      Row{429, "rate_limit_error", true, false, false, true},
                      Row{529, "overloaded_error", true, true, false, true},
                      Row{500, "api_error", true, true, false, false},
                      Row{502, "api_error", true, true, false, false},
                      Row{503, "api_error", true, true, false, false},
                      Row{504, "api_error", true, true, false, false}),
    [](const ::testing::TestParamInfo<Row>& row_info) {
        return std::to_string(row_info.param.status) + "_" + row_info.param.error_type;
    });

TEST(ClassificationTransport, ResetBeforeAnyResponseByteMovesOn) {
    FakeUpstream a, b;
    ProxyFixture proxy(
        {endpoint_config("a", a.base_url(), 1), endpoint_config("b", b.base_url(), 2)});
    sim::Reply drop;
    drop.close_without_response = true;
    a.push(drop);
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(proxy.state("a").failures.load(), 1u) << "a fresh connection reset is a failure";
}

TEST(ClassificationTransport, DnsFailureMovesOn) {
    FakeUpstream b;
    ProxyFixture proxy({endpoint_config("a", "http://qcc-test-host.invalid:8080", 1),
                        endpoint_config("b", b.base_url(), 2)});
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-endpoint"), "b");
    EXPECT_EQ(proxy.state("a").failures.load(), 1u);
}

TEST(ClassificationTransport, OverloadedWithNoOtherCandidateRetriesInPlaceOnce) {
    FakeUpstream a;
    ProxyFixture proxy({endpoint_config("a", a.base_url())});
    a.push(sim::Reply::error(529, "overloaded_error", "Overloaded"));
    TestClient client(proxy.port());
    auto res = client.request("POST", "/v1/messages", ProxyFixture::client_headers(),
                              ProxyFixture::messages_body(false));
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("x-qcc-attempts"), "2");
    EXPECT_EQ(a.request_count(), 2u);
}

}  // namespace
}  // namespace qcc::test
