// The retry policy of one request, step by step: candidates in order, the per-request and
// per-endpoint limits, one fresh-connection retry after a stale socket, one in-place retry after a
// final 529, and the deadline.
#include "proxy/attempt_plan.hpp"

#include <gtest/gtest.h>

#include "upstream/endpoint.hpp"

namespace qcc::proxy {
namespace {

using namespace std::chrono_literals;
using upstream::Endpoint;

struct Plan {
    Endpoint a, b, c;
    AttemptPlan plan;
    explicit Plan(AttemptLimits limits = {}) : plan({&a, &b, &c}, limits) {}
    /// Takes the next step and reports `r`; returns the endpoint tried (null when done).
    const Endpoint* step(AttemptResult r, bool deadline = false) {
        auto s = plan.next(deadline, 300ms);
        if (!s) return nullptr;
        plan.record(r);
        return s->endpoint;
    }
};

TEST(AttemptPlan, WalksTheCandidatesUntilOneFinishes) {
    Plan p;
    EXPECT_EQ(p.step(AttemptResult::kFailed), &p.a);
    EXPECT_EQ(p.step(AttemptResult::kFailed), &p.b);
    EXPECT_EQ(p.step(AttemptResult::kFinished), &p.c);
    EXPECT_FALSE(p.plan.next(false, 300ms));
    EXPECT_EQ(p.plan.attempts(), 3);
}

TEST(AttemptPlan, SkippedCandidatesDoNotCountAsAttempts) {
    Plan p;
    EXPECT_EQ(p.step(AttemptResult::kSkipped), &p.a);
    EXPECT_EQ(p.step(AttemptResult::kFailed), &p.b);
    EXPECT_EQ(p.plan.attempts(), 1);
}

TEST(AttemptPlan, AStaleSocketIsRetriedOnceOnAFreshConnection) {
    Plan p;
    auto first = p.plan.next(false, 300ms);
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->fresh);
    p.plan.record(AttemptResult::kStale);
    auto again = p.plan.next(false, 300ms);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->endpoint, &p.a);
    EXPECT_TRUE(again->fresh);
    p.plan.record(AttemptResult::kStale);  // stale again on a fresh connection: move on
    EXPECT_EQ(p.step(AttemptResult::kFinished), &p.b);
}

TEST(AttemptPlan, AFinal529GetsOneJitteredRetryInPlace) {
    Plan p;
    EXPECT_EQ(p.step(AttemptResult::kFailed), &p.a);
    EXPECT_EQ(p.step(AttemptResult::kFailed), &p.b);
    EXPECT_EQ(p.step(AttemptResult::kOverloaded), &p.c);
    auto retry = p.plan.next(false, 250ms);
    ASSERT_TRUE(retry);
    EXPECT_EQ(retry->endpoint, &p.c);
    EXPECT_TRUE(retry->in_place);
    EXPECT_EQ(retry->backoff, 250ms);
    p.plan.record(AttemptResult::kOverloaded);
    EXPECT_FALSE(p.plan.next(false, 250ms)) << "only one in-place retry";
}

TEST(AttemptPlan, NoInPlaceRetryWhenTheLastFailureWasNotOverload) {
    Plan p;
    p.step(AttemptResult::kOverloaded);
    p.step(AttemptResult::kFailed);
    p.step(AttemptResult::kFailed);
    EXPECT_FALSE(p.plan.next(false, 300ms));
}

TEST(AttemptPlan, LimitsPerRequestAndPerEndpointHold) {
    Plan p(AttemptLimits{2, 2});
    p.step(AttemptResult::kFailed);
    p.step(AttemptResult::kOverloaded);
    EXPECT_FALSE(p.plan.next(false, 300ms)) << "two attempts per request";
    Plan q(AttemptLimits{5, 1});
    q.step(AttemptResult::kFailed);
    q.step(AttemptResult::kFailed);
    q.step(AttemptResult::kOverloaded);
    EXPECT_FALSE(q.plan.next(false, 300ms)) << "c already had its one attempt";
}

TEST(AttemptPlan, ThePassedDeadlineStopsNewCandidatesButNotAFreshRetry) {
    Plan p;
    p.step(AttemptResult::kStale);
    auto fresh = p.plan.next(true, 300ms);
    ASSERT_TRUE(fresh);
    EXPECT_TRUE(fresh->fresh);
    p.plan.record(AttemptResult::kFailed);
    EXPECT_FALSE(p.plan.next(true, 300ms));
}

TEST(AttemptPlan, StopEndsThePlan) {
    Plan p;
    p.step(AttemptResult::kFailed);
    p.plan.stop();
    EXPECT_FALSE(p.plan.next(false, 300ms));
}

}  // namespace
}  // namespace qcc::proxy
