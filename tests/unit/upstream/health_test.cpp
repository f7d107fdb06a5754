#include "upstream/health.hpp"

#include <latch>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace qcc::upstream {
namespace {

using std::chrono::milliseconds;

AttemptSample ok(int ttfb_ms, int latency_ms, std::int64_t tokens = 0) {
    return {true, milliseconds(ttfb_ms), milliseconds(latency_ms), tokens};
}
AttemptSample failed(std::int64_t tokens = 0) {
    return {false, milliseconds(0), milliseconds(0), tokens};
}

TEST(PassiveStats, EmptyDefaults) {
    PassiveStats s;
    EXPECT_EQ(s.ewma_ttfb_ms(), 0.0);
    EXPECT_EQ(s.ewma_latency_ms(), 0.0);
    EXPECT_EQ(s.success_ratio_window(), 1.0);
    EXPECT_EQ(s.samples_in_window(), 0);
    EXPECT_EQ(s.consecutive_failures(), 0);
    EXPECT_EQ(s.tokens(), 0);
    EXPECT_TRUE(s.recent_latencies_ms().empty());
    EXPECT_TRUE(s.recent_ttfb_ms().empty());
}

TEST(PassiveStats, EwmaStartsAtTheFirstSampleThenUsesAlphaPointTwo) {
    FakeClock clock;
    PassiveStats s;
    s.record(ok(100, 1000), clock.now());
    EXPECT_DOUBLE_EQ(s.ewma_ttfb_ms(), 100.0);
    EXPECT_DOUBLE_EQ(s.ewma_latency_ms(), 1000.0);
    s.record(ok(200, 2000), clock.now());
    EXPECT_DOUBLE_EQ(s.ewma_ttfb_ms(), 120.0);  // 100 + 0.2 * (200 - 100)
    EXPECT_DOUBLE_EQ(s.ewma_latency_ms(), 1200.0);
    s.record(ok(50, 200), clock.now());
    EXPECT_DOUBLE_EQ(s.ewma_ttfb_ms(), 106.0);  // 120 + 0.2 * (50 - 120)
    EXPECT_DOUBLE_EQ(s.ewma_latency_ms(), 1000.0);
}

TEST(PassiveStats, ZeroFirstSampleIsASample) {
    FakeClock clock;
    PassiveStats s;
    s.record(ok(0, 0), clock.now());
    s.record(ok(100, 100), clock.now());
    EXPECT_DOUBLE_EQ(s.ewma_ttfb_ms(), 20.0);
}

TEST(PassiveStats, FailuresDoNotMoveLatency) {
    FakeClock clock;
    PassiveStats s;
    s.record(ok(300, 900), clock.now());
    s.record(failed(), clock.now());
    s.record(failed(), clock.now());
    EXPECT_DOUBLE_EQ(s.ewma_ttfb_ms(), 300.0);
    EXPECT_EQ(s.recent_latencies_ms(), std::vector<double>({900.0}));
}

TEST(PassiveStats, SuccessWindowCoversTheLastTwentyAttempts) {
    FakeClock clock;
    PassiveStats s;
    s.record(failed(), clock.now());
    EXPECT_EQ(s.samples_in_window(), 1);
    EXPECT_DOUBLE_EQ(s.success_ratio_window(), 0.0);
    s.record(ok(1, 1), clock.now());
    EXPECT_DOUBLE_EQ(s.success_ratio_window(), 0.5);
    for (int i = 0; i < 3; ++i) s.record(failed(), clock.now());
    for (int i = 0; i < 20; ++i) s.record(ok(1, 1), clock.now());
    EXPECT_EQ(s.samples_in_window(), 20);
    EXPECT_DOUBLE_EQ(s.success_ratio_window(), 1.0);  // the early failures slid out
    for (int i = 0; i < 5; ++i) s.record(failed(), clock.now());
    EXPECT_EQ(s.samples_in_window(), 20);
    EXPECT_DOUBLE_EQ(s.success_ratio_window(), 0.75);
}

TEST(PassiveStats, ConsecutiveFailuresResetOnSuccess) {
    FakeClock clock;
    PassiveStats s;
    for (int i = 0; i < 4; ++i) s.record(failed(), clock.now());
    EXPECT_EQ(s.consecutive_failures(), 4);
    s.record(ok(1, 1), clock.now());
    EXPECT_EQ(s.consecutive_failures(), 0);
    s.record(failed(), clock.now());
    EXPECT_EQ(s.consecutive_failures(), 1);
}

TEST(PassiveStats, TokensAndLastSampleTime) {
    FakeClock clock;
    PassiveStats s;
    s.record(ok(1, 1, 1500), clock.now());
    clock.advance(milliseconds(10));
    s.record(failed(20), clock.now());
    EXPECT_EQ(s.tokens(), 1520);
    EXPECT_EQ(s.last_sample_at(), clock.now());
}

TEST(PassiveStats, RecentLatenciesKeepTheLastTwentyOldestFirst) {
    FakeClock clock;
    PassiveStats s;
    for (int i = 1; i <= 25; ++i) s.record(ok(i, 10 * i), clock.now());
    const auto lat = s.recent_latencies_ms();
    const auto ttfb = s.recent_ttfb_ms();
    ASSERT_EQ(lat.size(), 20U);
    ASSERT_EQ(ttfb.size(), 20U);
    EXPECT_EQ(lat.front(), 60.0);
    EXPECT_EQ(lat.back(), 250.0);
    EXPECT_EQ(ttfb.front(), 6.0);
    EXPECT_EQ(ttfb.back(), 25.0);
}

TEST(PassiveStats, ConcurrentRecordsAreAllCounted) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 2000;
    FakeClock clock;
    PassiveStats s;
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            for (int i = 0; i < kPerThread; ++i) s.record(ok(100, 100, 3), clock.now());
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(s.tokens(), std::int64_t{3} * kThreads * kPerThread);
    EXPECT_EQ(s.samples_in_window(), 20);
    EXPECT_DOUBLE_EQ(s.success_ratio_window(), 1.0);
    EXPECT_DOUBLE_EQ(s.ewma_ttfb_ms(), 100.0);
    EXPECT_EQ(s.recent_latencies_ms().size(), 20U);
}

}  // namespace
}  // namespace qcc::upstream
