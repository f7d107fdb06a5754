#include "upstream/retry_budget.hpp"

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace qcc::upstream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

/// The defaults without the burst allowance: the ratio and the floor alone.
RetryBudgetPolicy no_burst() {
    RetryBudgetPolicy p;
    p.burst = 0;
    return p;
}

/// 8 threads start together and each asks for 100 retries; returns how many were granted.
int spend_from_threads(RetryBudget& b, SteadyTime now) {
    constexpr int kThreads = 8;
    std::atomic<int> granted{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            for (int i = 0; i < 100; ++i) {
                if (b.try_spend_retry(now)) granted.fetch_add(1);
            }
        });
    }
    for (auto& th : threads) th.join();
    return granted.load();
}

int spend_until_denied(RetryBudget& b, SteadyTime now, int limit = 100'000) {
    int granted = 0;
    while (granted < limit && b.try_spend_retry(now)) ++granted;
    return granted;
}

TEST(RetryBudget, MinimumPerSecondWithoutTraffic) {
    FakeClock clock;
    RetryBudget b(no_burst());
    EXPECT_EQ(spend_until_denied(b, clock.now()), 10);
    EXPECT_EQ(b.denied(), 1U);
    EXPECT_FALSE(b.try_spend_retry(clock.now()));
    EXPECT_EQ(b.denied(), 2U);
    clock.advance(seconds(1));
    EXPECT_EQ(spend_until_denied(b, clock.now()), 10);  // a new second, a new floor
    EXPECT_EQ(b.retries_in_window(clock.now()), 20U);
}

TEST(RetryBudget, RatioOfRequestsOverTheWindow) {
    FakeClock clock;
    RetryBudget b(no_burst());
    for (int i = 0; i < 1000; ++i) b.on_request(clock.now());
    EXPECT_EQ(b.requests_in_window(clock.now()), 1000U);
    EXPECT_EQ(spend_until_denied(b, clock.now()), 200);  // 20 % of 1000
    EXPECT_EQ(b.denied(), 1U);
}

TEST(RetryBudget, RatioCountsRetriesAcrossTheWholeWindow) {
    FakeClock clock;
    RetryBudget b(no_burst());
    for (int i = 0; i < 500; ++i) b.on_request(clock.now());  // allows 100
    EXPECT_EQ(spend_until_denied(b, clock.now(), 60), 60);
    clock.advance(seconds(3));
    EXPECT_EQ(spend_until_denied(b, clock.now()), 40);  // 60 already spent in this window
    clock.advance(seconds(1));
    // Ratio exhausted; only this second's floor is left.
    EXPECT_EQ(spend_until_denied(b, clock.now()), 10);
}

TEST(RetryBudget, FloorIsNotAddedToTheRatio) {
    FakeClock clock;
    RetryBudget b(no_burst());
    for (int i = 0; i < 100; ++i) b.on_request(clock.now());  // ratio allows 20
    EXPECT_EQ(spend_until_denied(b, clock.now()), 20);
}

TEST(RetryBudget, RequestsAndRetriesExpireWithTheWindow) {
    FakeClock clock;
    RetryBudget b(no_burst());
    for (int i = 0; i < 1000; ++i) b.on_request(clock.now());
    EXPECT_EQ(spend_until_denied(b, clock.now()), 200);
    clock.advance(milliseconds(9'999));
    EXPECT_EQ(b.requests_in_window(clock.now()), 1000U);
    EXPECT_EQ(spend_until_denied(b, clock.now()), 10);  // window full of retries: floor only
    clock.advance(milliseconds(1));
    EXPECT_EQ(b.requests_in_window(clock.now()), 0U);
    EXPECT_EQ(b.retries_in_window(clock.now()), 10U);  // the floor spend a moment ago
    EXPECT_EQ(spend_until_denied(b, clock.now()), 10);
    clock.advance(seconds(20));
    EXPECT_EQ(b.retries_in_window(clock.now()), 0U);
    for (int i = 0; i < 250; ++i) b.on_request(clock.now());
    EXPECT_EQ(spend_until_denied(b, clock.now()), 50);
}

TEST(RetryBudget, CustomPolicy) {
    FakeClock clock;
    RetryBudget b({0.5, seconds(20), 1, 0});  // 2 s buckets: floor of 2 per bucket
    EXPECT_EQ(spend_until_denied(b, clock.now()), 2);
    for (int i = 0; i < 10; ++i) b.on_request(clock.now());
    EXPECT_EQ(spend_until_denied(b, clock.now()), 3);  // 5 in total
    clock.advance(seconds(19));
    EXPECT_EQ(b.requests_in_window(clock.now()), 10U);
    clock.advance(seconds(1));
    EXPECT_EQ(b.requests_in_window(clock.now()), 0U);
}

TEST(RetryBudget, BurstAllowanceStartsFullAndRefillsOverTheWindow) {
    FakeClock clock;
    RetryBudget b;  // defaults: floor 10 per 1 s bucket, burst 50 refilled 50 per 10 s
    // A start-up burst: no request in the window yet to take a ratio of.
    EXPECT_EQ(spend_until_denied(b, clock.now()), 10 + 50);
    clock.advance(milliseconds(400));  // 2 units refilled (one per 200 ms); same floor bucket
    EXPECT_EQ(spend_until_denied(b, clock.now()), 2);
    clock.advance(seconds(10));  // full again (and a new floor)
    EXPECT_EQ(spend_until_denied(b, clock.now()), 10 + 50);
}

TEST(RetryBudget, BurstZeroMeansNone) {
    FakeClock clock;
    RetryBudgetPolicy p;
    p.burst = 0;
    RetryBudget b(p);
    EXPECT_EQ(spend_until_denied(b, clock.now()), 10);
}

TEST(RetryBudget, ConcurrentSpendersNeverOverdrawTheBurstEither) {
    FakeClock clock;
    RetryBudget b;
    for (int i = 0; i < 500; ++i) b.on_request(clock.now());  // ratio 100, then burst 50
    EXPECT_EQ(spend_from_threads(b, clock.now()), 150);
}

TEST(RetryBudget, ConcurrentSpendersNeverOverdraw) {
    FakeClock clock;
    RetryBudget b(no_burst());
    for (int i = 0; i < 500; ++i) b.on_request(clock.now());  // allows exactly 100
    EXPECT_EQ(spend_from_threads(b, clock.now()), 100);
    EXPECT_EQ(b.denied(), 700U);
}

}  // namespace
}  // namespace qcc::upstream
