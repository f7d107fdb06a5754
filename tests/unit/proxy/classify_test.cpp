// SPEC §4, row by row.
#include "proxy/classify.hpp"

#include <gtest/gtest.h>

namespace qcc::proxy {
namespace {

using EE = EndpointEffect;
using RE = RequestEffect;

TEST(ClassifyTransport, ConnectFailuresAreBreakerFailuresAndMoveOn) {
    for (auto kind : {ErrorKind::kConnectRefused, ErrorKind::kTlsFailure, ErrorKind::kDnsFailure,
                      ErrorKind::kConnectTimeout, ErrorKind::kFirstByteTimeout}) {
        const auto v = classify_transport(kind, false);
        EXPECT_EQ(v.endpoint, EE::kFailure) << to_string(kind);
        EXPECT_EQ(v.request, RE::kNextCandidate) << to_string(kind);
        EXPECT_EQ(v.error_class, to_string(kind));
    }
}

TEST(ClassifyTransport, ResetOnFreshConnectionIsAFailure) {
    const auto v = classify_transport(ErrorKind::kConnectionReset, false);
    EXPECT_EQ(v.endpoint, EE::kFailure);
    EXPECT_EQ(v.request, RE::kNextCandidate);
}

TEST(ClassifyTransport, StalePooledConnectionRetriesFreshWithoutBlame) {
    for (auto v : {classify_transport(ErrorKind::kConnectionReset, true),
                   classify_transport(ErrorKind::kStaleConnection, false)}) {
        EXPECT_EQ(v.endpoint, EE::kNone);
        EXPECT_EQ(v.request, RE::kRetryFresh);
        EXPECT_EQ(v.error_class, "stale_connection");
    }
}

TEST(ClassifyTransport, ClientDisconnectIsNeverAnEndpointFailure) {
    EXPECT_EQ(classify_transport(ErrorKind::kClientDisconnected, false).endpoint, EE::kNone);
}

TEST(ClassifyTransport, QccsOwnLimitsAreNeverTheEndpointsFault) {
    for (const auto kind : {ErrorKind::kLocalOverload, ErrorKind::kLocalResource}) {
        const auto v = classify_transport(kind, false);
        EXPECT_EQ(v.endpoint, EndpointEffect::kNone) << to_string(kind);
        EXPECT_EQ(v.request, RequestEffect::kNextCandidate) << to_string(kind);
        EXPECT_EQ(v.error_class, to_string(kind));
    }
}

TEST(ClassifyResponse, SuccessCommits) {
    for (int s : {200, 201, 204}) {
        EXPECT_EQ(classify_response(s, ""), (Verdict{EE::kSuccess, RE::kCommit, ""}));
    }
}

TEST(ClassifyResponse, ClientErrorsReturnAsIsAndLeaveTheEndpointAlone) {
    for (int s : {400, 404, 405, 409, 413, 422}) {
        const auto v = classify_response(s, "invalid_request_error");
        EXPECT_EQ(v.endpoint, EE::kNone) << s;
        EXPECT_EQ(v.request, RE::kCommit) << s;
    }
}

TEST(ClassifyResponse, AuthFailuresQuarantine) {
    for (int s : {401, 403}) {
        const auto v = classify_response(s, "authentication_error");
        EXPECT_EQ(v.endpoint, EE::kQuarantine);
        EXPECT_EQ(v.request, RE::kNextCandidate);
    }
}

TEST(ClassifyResponse, BillingQuarantinesEvenAs429) {
    EXPECT_EQ(classify_response(402, "").endpoint, EE::kQuarantine);
    EXPECT_EQ(classify_response(429, "billing_error").endpoint, EE::kQuarantine);
    EXPECT_EQ(classify_response(429, "enforced_spend_limit").endpoint, EE::kQuarantine);
}

TEST(ClassifyResponse, RateLimitCoolsDown) {
    const auto v = classify_response(429, "rate_limit_error");
    EXPECT_EQ(v.endpoint, EE::kRateLimited);
    EXPECT_EQ(v.request, RE::kNextCandidate);
}

TEST(ClassifyResponse, OverloadedIsAFailureWithShortCooldownNotAuth) {
    EXPECT_EQ(classify_response(529, "overloaded_error").endpoint, EE::kOverloaded);
    EXPECT_EQ(classify_response(529, "").endpoint, EE::kOverloaded);
    EXPECT_EQ(
        classify_response(status_for_sse_error("overloaded_error"), "overloaded_error").request,
        RE::kNextCandidate);
}

TEST(ClassifyResponse, ServerErrorsAreFailures) {
    for (int s : {500, 502, 503, 504}) {
        EXPECT_EQ(classify_response(s, "api_error"),
                  (Verdict{EE::kFailure, RE::kNextCandidate, "upstream_5xx"}));
    }
}

TEST(SseErrorStatus, MapsAnthropicErrorTypes) {
    EXPECT_EQ(status_for_sse_error("overloaded_error"), 529);
    EXPECT_EQ(status_for_sse_error("rate_limit_error"), 429);
    EXPECT_EQ(status_for_sse_error("api_error"), 500);
    EXPECT_EQ(status_for_sse_error("something_new"), 500);
}

TEST(RateLimitCooldown, PrefersRetryAfterSeconds) {
    EXPECT_EQ(rate_limit_cooldown("7", {}, 0), std::chrono::milliseconds(7000));
    EXPECT_EQ(rate_limit_cooldown("1.5", {}, 0), std::chrono::milliseconds(1500));
}

TEST(RateLimitCooldown, UsesEarliestFutureReset) {
    const auto now = *parse_rfc3339_ms("2026-11-26T22:00:00Z");
    EXPECT_EQ(rate_limit_cooldown("", {"2026-11-26T22:00:40Z", "2026-11-26T22:00:12.5Z", ""}, now),
              std::chrono::milliseconds(12500));
    // Resets in the past are ignored; with nothing usable the default applies.
    EXPECT_EQ(rate_limit_cooldown("", {"2026-11-26T21:00:00Z"}, now), kDefaultRateLimitCooldown);
    EXPECT_EQ(rate_limit_cooldown("soon", {}, now), kDefaultRateLimitCooldown);
}

TEST(RateLimitCooldown, OpenAiResetDurationsOfTheExhaustedLimit) {
    using std::chrono::milliseconds;
    EXPECT_EQ(parse_duration_ms("1s"), 1000);
    EXPECT_EQ(parse_duration_ms("6m0s"), 360000);
    EXPECT_EQ(parse_duration_ms("59.6s"), 59600);
    EXPECT_EQ(parse_duration_ms("20ms"), 20);
    EXPECT_EQ(parse_duration_ms("1h2m3s"), 3723000);
    EXPECT_FALSE(parse_duration_ms(""));
    EXPECT_FALSE(parse_duration_ms("soon"));
    EXPECT_FALSE(parse_duration_ms("5"));
    EXPECT_FALSE(parse_duration_ms("-1s"));
    const milliseconds fallback{30'000};
    // retry-after wins; then the reset of the limit whose remaining count is 0.
    EXPECT_EQ(openai_rate_limit_cooldown("3", "6m0s", "0", "1s", "0", fallback),
              milliseconds(3000));
    EXPECT_EQ(openai_rate_limit_cooldown("", "6m0s", "0", "1s", "900", fallback),
              milliseconds(360000));
    EXPECT_EQ(openai_rate_limit_cooldown("", "6m0s", "12", "1s", "0", fallback),
              milliseconds(1000));
    EXPECT_EQ(openai_rate_limit_cooldown("", "6m0s", "0", "1s", "0", fallback),
              milliseconds(360000));
    // Neither exhausted: the earlier reset; nothing usable: the fallback.
    EXPECT_EQ(openai_rate_limit_cooldown("", "6m0s", "5", "2s", "5", fallback), milliseconds(2000));
    EXPECT_EQ(openai_rate_limit_cooldown("", "", "", "", "", fallback), fallback);
}

TEST(Rfc3339, ParsesZuluFractionsAndOffsets) {
    EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:01.250Z"), 1250);
    EXPECT_EQ(parse_rfc3339_ms("1970-01-01T01:00:00+01:00"), 0);
    EXPECT_EQ(parse_rfc3339_ms("2000-03-01T00:00:00Z"), 951868800000);
    EXPECT_FALSE(parse_rfc3339_ms("2026-13-01T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339_ms("yesterday"));
    EXPECT_FALSE(parse_rfc3339_ms("2026-11-26T22:00:00"));
}

}  // namespace
}  // namespace qcc::proxy
