#include "upstream/breaker.hpp"

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace qcc::upstream {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

BreakerPolicy ratio_only() {
    BreakerPolicy p;
    p.consecutive_failures = 0;  // off, so only the ratio trigger can open
    return p;
}

// Opens a default breaker through the consecutive trigger.
void trip(CircuitBreaker& b, const FakeClock& clock) {
    for (int i = 0; i < 3; ++i) (void)b.on_failure(clock.now());
    ASSERT_EQ(b.state(clock.now()), BreakerState::kOpen);
}

TEST(BreakerState, StringsRoundTrip) {
    for (auto s : {BreakerState::kClosed, BreakerState::kOpen, BreakerState::kHalfOpen}) {
        EXPECT_EQ(breaker_state_from_string(to_string(s)), s);
    }
    EXPECT_EQ(to_string(BreakerState::kHalfOpen), "half_open");
    EXPECT_FALSE(breaker_state_from_string("half-open").has_value());
}

TEST(CircuitBreaker, StartsClosedAndAdmits) {
    FakeClock clock;
    CircuitBreaker b;
    EXPECT_EQ(b.state(clock.now()), BreakerState::kClosed);
    EXPECT_TRUE(b.would_allow(clock.now()));
    std::optional<BreakerTransition> t;
    EXPECT_TRUE(b.try_acquire(clock.now(), &t));
    EXPECT_TRUE(b.try_acquire(clock.now(), &t));
    EXPECT_FALSE(t.has_value());
    EXPECT_EQ(b.open_period(), milliseconds(60'000));
}

TEST(CircuitBreaker, OpensAfterThreeConsecutiveFailures) {
    FakeClock clock;
    CircuitBreaker b;
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    auto t = b.on_failure(clock.now());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->from, BreakerState::kClosed);
    EXPECT_EQ(t->to, BreakerState::kOpen);
    EXPECT_EQ(t->reason, "3 consecutive failures");
    EXPECT_EQ(b.state(clock.now()), BreakerState::kOpen);
    EXPECT_EQ(b.opened_at(), clock.now());
    EXPECT_FALSE(b.would_allow(clock.now()));
    EXPECT_FALSE(b.try_acquire(clock.now()));
}

TEST(CircuitBreaker, SuccessBreaksTheStreak) {
    FakeClock clock;
    CircuitBreaker b;
    (void)b.on_failure(clock.now());
    (void)b.on_failure(clock.now());
    EXPECT_FALSE(b.on_success(clock.now()).has_value());
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    EXPECT_EQ(b.state(clock.now()), BreakerState::kClosed);
}

TEST(CircuitBreaker, RatioTriggerNeedsMinimumVolume) {
    FakeClock clock;
    CircuitBreaker b(ratio_only());
    for (int i = 0; i < 9; ++i) {
        EXPECT_FALSE(b.on_failure(clock.now()).has_value()) << "attempt " << i;
    }
    EXPECT_EQ(b.state(clock.now()), BreakerState::kClosed);
    auto t = b.on_failure(clock.now());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->to, BreakerState::kOpen);
    EXPECT_EQ(t->reason, "failure ratio 100% over 10 attempts in 60s");
}

TEST(CircuitBreaker, RatioTriggerAtExactlyHalf) {
    FakeClock clock;
    CircuitBreaker b;  // default policy: alternating outcomes never reach 3 in a row
    for (int i = 0; i < 4; ++i) {
        EXPECT_FALSE(b.on_success(clock.now()).has_value());
        EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    }
    EXPECT_FALSE(b.on_success(clock.now()).has_value());
    auto t = b.on_failure(clock.now());  // 5 of 10
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->reason, "failure ratio 50% over 10 attempts in 60s");
}

TEST(CircuitBreaker, RatioBelowThresholdStaysClosed) {
    FakeClock clock;
    CircuitBreaker b(ratio_only());
    for (int i = 0; i < 6; ++i) (void)b.on_success(clock.now());
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    EXPECT_EQ(b.state(clock.now()), BreakerState::kClosed);  // 4 of 10 = 40 %
}

TEST(CircuitBreaker, RatioTriggerForgetsAttemptsOutsideTheWindow) {
    FakeClock clock;
    CircuitBreaker b(ratio_only());
    for (int i = 0; i < 9; ++i) (void)b.on_failure(clock.now());
    clock.advance(seconds(61));
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());  // the 9 old ones have left the window
    EXPECT_EQ(b.state(clock.now()), BreakerState::kClosed);
}

TEST(CircuitBreaker, RatioTriggerCountsAttemptsSpreadInsideTheWindow) {
    FakeClock clock;
    CircuitBreaker b(ratio_only());
    for (int i = 0; i < 5; ++i) (void)b.on_failure(clock.now());
    clock.advance(seconds(30));
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    clock.advance(seconds(20));
    auto t = b.on_failure(clock.now());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->to, BreakerState::kOpen);
}

TEST(CircuitBreaker, HalfOpenOnlyAfterTheOpenPeriod) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(milliseconds(59'999));
    EXPECT_FALSE(b.would_allow(clock.now()));
    EXPECT_FALSE(b.try_acquire(clock.now()));
    EXPECT_EQ(b.state(clock.now()), BreakerState::kOpen);

    clock.advance(milliseconds(1));
    // The SPEC §15 bug: selection must not filter an elapsed open breaker out.
    EXPECT_TRUE(b.would_allow(clock.now()));
    EXPECT_EQ(b.state(clock.now()), BreakerState::kOpen);  // until someone acquires

    std::optional<BreakerTransition> t;
    EXPECT_TRUE(b.try_acquire(clock.now(), &t));
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->from, BreakerState::kOpen);
    EXPECT_EQ(t->to, BreakerState::kHalfOpen);
    EXPECT_EQ(t->reason, "open period 60s elapsed");
    EXPECT_EQ(b.state(clock.now()), BreakerState::kHalfOpen);
}

TEST(CircuitBreaker, ExactlyOneTrialWhileHalfOpen) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    EXPECT_FALSE(b.would_allow(clock.now()));
    std::optional<BreakerTransition> t;
    EXPECT_FALSE(b.try_acquire(clock.now(), &t));
    EXPECT_FALSE(t.has_value());
    clock.advance(seconds(600));  // time alone does not free the slot
    EXPECT_FALSE(b.try_acquire(clock.now()));
}

TEST(CircuitBreaker, TrialSuccessCloses) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    auto t = b.on_success(clock.now());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->from, BreakerState::kHalfOpen);
    EXPECT_EQ(t->to, BreakerState::kClosed);
    EXPECT_EQ(b.state(clock.now()), BreakerState::kClosed);
    EXPECT_EQ(b.open_period(), milliseconds(60'000));
    EXPECT_TRUE(b.try_acquire(clock.now()));
    EXPECT_TRUE(b.try_acquire(clock.now()));
    // Counters start clean: two failures do not re-open.
    (void)b.on_failure(clock.now());
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());
}

TEST(CircuitBreaker, TrialFailureReopensWithDoubledPeriodUpToTheCap) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    const std::vector<long> expected = {120, 240, 480, 600, 600};
    milliseconds period = b.open_period();
    for (long secs : expected) {
        clock.advance(period);
        ASSERT_TRUE(b.try_acquire(clock.now()));
        auto t = b.on_failure(clock.now());
        ASSERT_TRUE(t.has_value());
        EXPECT_EQ(t->from, BreakerState::kHalfOpen);
        EXPECT_EQ(t->to, BreakerState::kOpen);
        EXPECT_EQ(t->reason, "trial failed; open for " + std::to_string(secs) + "s");
        period = b.open_period();
        EXPECT_EQ(period, seconds(secs));
        EXPECT_EQ(b.opened_at(), clock.now());
        clock.advance(period - milliseconds(1));
        EXPECT_FALSE(b.would_allow(clock.now()));
        clock.advance(milliseconds(1));
        EXPECT_TRUE(b.would_allow(clock.now()));
        period = milliseconds(0);  // already waited it out
    }
    // Success after many re-opens: back to the base period for the next open.
    ASSERT_TRUE(b.try_acquire(clock.now()));
    (void)b.on_success(clock.now());
    trip(b, clock);
    EXPECT_EQ(b.open_period(), seconds(60));
}

TEST(CircuitBreaker, ResetClosesAndRestoresTheBasePeriod) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    (void)b.on_failure(clock.now());
    ASSERT_EQ(b.open_period(), seconds(120));

    auto t = b.reset(clock.now());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->from, BreakerState::kOpen);
    EXPECT_EQ(t->to, BreakerState::kClosed);
    EXPECT_EQ(t->reason, "reset");
    EXPECT_EQ(b.state(clock.now()), BreakerState::kClosed);
    EXPECT_EQ(b.open_period(), seconds(60));
    EXPECT_TRUE(b.try_acquire(clock.now()));

    EXPECT_FALSE(b.reset(clock.now()).has_value());  // already closed: no transition
}

TEST(CircuitBreaker, ResetClearsTheFailureStreak) {
    FakeClock clock;
    CircuitBreaker b;
    (void)b.on_failure(clock.now());
    (void)b.on_failure(clock.now());
    EXPECT_FALSE(b.reset(clock.now()).has_value());
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    EXPECT_EQ(b.state(clock.now()), BreakerState::kClosed);
}

TEST(CircuitBreaker, ResetFromHalfOpenFreesTheTrial) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    auto t = b.reset(clock.now());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->from, BreakerState::kHalfOpen);
    EXPECT_TRUE(b.try_acquire(clock.now()));
}

TEST(CircuitBreaker, ReleaseFreesTheTrialSlot) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    ASSERT_FALSE(b.try_acquire(clock.now()));
    b.release(clock.now());
    EXPECT_EQ(b.state(clock.now()), BreakerState::kHalfOpen);
    EXPECT_TRUE(b.would_allow(clock.now()));
    std::optional<BreakerTransition> t;
    EXPECT_TRUE(b.try_acquire(clock.now(), &t));
    EXPECT_FALSE(t.has_value());  // already half-open
    EXPECT_FALSE(b.try_acquire(clock.now()));
}

TEST(CircuitBreaker, OutcomesWhileOpenAreIgnored) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    const SteadyTime opened = b.opened_at();
    clock.advance(seconds(10));
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    EXPECT_FALSE(b.on_success(clock.now()).has_value());
    EXPECT_EQ(b.state(clock.now()), BreakerState::kOpen);
    EXPECT_EQ(b.opened_at(), opened);
    EXPECT_EQ(b.open_period(), seconds(60));
}

TEST(CircuitBreaker, HalfOpenOutcomeWithoutATrialIsIgnored) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    b.release(clock.now());
    EXPECT_FALSE(b.on_failure(clock.now()).has_value());
    EXPECT_FALSE(b.on_success(clock.now()).has_value());
    EXPECT_EQ(b.state(clock.now()), BreakerState::kHalfOpen);
}

TEST(CircuitBreaker, StalePermitCannotDecideTheTrial) {
    FakeClock clock;
    CircuitBreaker b;
    BreakerPermit old_permit;
    ASSERT_TRUE(b.try_acquire(clock.now(), nullptr, &old_permit));  // a long request, sent closed
    EXPECT_FALSE(old_permit.trial);
    trip(b, clock);
    clock.advance(seconds(60));
    BreakerPermit trial;
    ASSERT_TRUE(b.try_acquire(clock.now(), nullptr, &trial));
    EXPECT_TRUE(trial.trial);

    // The old request times out now: it must neither re-open nor free the trial slot.
    EXPECT_FALSE(b.on_failure(clock.now(), &old_permit).has_value());
    b.release(clock.now(), &old_permit);
    EXPECT_EQ(b.state(clock.now()), BreakerState::kHalfOpen);
    EXPECT_FALSE(b.try_acquire(clock.now()));

    auto t = b.on_success(clock.now(), &trial);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->to, BreakerState::kClosed);
    EXPECT_FALSE(b.on_success(clock.now(), &trial).has_value());  // used up
}

TEST(CircuitBreaker, NonTrialPermitDoesNotReleaseTheTrial) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    BreakerPermit trial;
    ASSERT_TRUE(b.try_acquire(clock.now(), nullptr, &trial));
    BreakerPermit other{trial.epoch, false};
    b.release(clock.now(), &other);
    EXPECT_FALSE(b.try_acquire(clock.now()));
    b.release(clock.now(), &trial);
    EXPECT_TRUE(b.try_acquire(clock.now()));
}

TEST(CircuitBreaker, FailOpenAdmitsOneTrialBeforeThePeriodEnds) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(5));
    EXPECT_FALSE(b.try_acquire(clock.now()));
    std::optional<BreakerTransition> t;
    BreakerPermit permit;
    EXPECT_TRUE(b.try_acquire_fail_open(clock.now(), &t, &permit));
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->to, BreakerState::kHalfOpen);
    EXPECT_EQ(t->reason, "fail-open trial");
    EXPECT_TRUE(permit.trial);
    EXPECT_FALSE(b.try_acquire_fail_open(clock.now()));
    auto failed = b.on_failure(clock.now(), &permit);
    ASSERT_TRUE(failed.has_value());
    EXPECT_EQ(b.state(clock.now()), BreakerState::kOpen);
    EXPECT_EQ(b.open_period(), seconds(60)) << "a fail-open trial does not double the period";
    EXPECT_EQ(b.opened_at(), clock.now() - seconds(5)) << "nor restart it";
    EXPECT_EQ(b.fail_open_key(), clock.now());  // moves to the back of the fail-open order
}

TEST(CircuitBreaker, ThePeriodDoublesAtMostOncePerOpenPeriod) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    // A burst of fail-open trials failing within milliseconds (every endpoint down at once).
    for (int i = 0; i < 50; ++i) {
        BreakerPermit permit;
        ASSERT_TRUE(b.try_acquire_fail_open(clock.now(), nullptr, &permit));
        ASSERT_TRUE(b.on_failure(clock.now(), &permit).has_value());
        clock.advance(milliseconds(1));
    }
    EXPECT_EQ(b.open_period(), seconds(60));
    // The period ends; its regular trial fails: doubled once.
    clock.advance(seconds(60));
    BreakerPermit trial;
    ASSERT_TRUE(b.try_acquire(clock.now(), nullptr, &trial));
    ASSERT_TRUE(b.on_failure(clock.now(), &trial).has_value());
    EXPECT_EQ(b.open_period(), seconds(120));
    // More fail-open failures in this period leave it at 120 s.
    for (int i = 0; i < 10; ++i) {
        BreakerPermit permit;
        ASSERT_TRUE(b.try_acquire_fail_open(clock.now(), nullptr, &permit));
        ASSERT_TRUE(b.on_failure(clock.now(), &permit).has_value());
    }
    EXPECT_EQ(b.open_period(), seconds(120));
    EXPECT_FALSE(b.try_acquire(clock.now() + seconds(119)));
    EXPECT_TRUE(b.try_acquire(clock.now() + seconds(120)));
}

TEST(CircuitBreaker, SnapshotRestoreKeepsElapsedTimeAcrossARestart) {
    constexpr std::int64_t kUnixOpened = 1'700'000'000'000;
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    (void)b.on_failure(clock.now());  // re-open: 120 s
    clock.advance(seconds(20));
    const BreakerSnapshot s = b.snapshot(clock.now(), kUnixOpened + 20'000);
    EXPECT_EQ(s.state, BreakerState::kOpen);
    EXPECT_EQ(s.opened_at_unix_ms, kUnixOpened);
    EXPECT_EQ(s.open_for_ms, 120'000);
    EXPECT_EQ(s.reopens, 1);

    // The new process has an unrelated steady clock; 30 s of wall time passed while it was down.
    FakeClock clock2;
    clock2.advance(seconds(12'345));
    CircuitBreaker restored;
    restored.restore(s, clock2.now(), kUnixOpened + 50'000);
    EXPECT_EQ(restored.state(clock2.now()), BreakerState::kOpen);
    EXPECT_EQ(restored.open_period(), seconds(120));
    EXPECT_EQ(restored.opened_at(), clock2.now() - seconds(50));
    clock2.advance(milliseconds(69'999));
    EXPECT_FALSE(restored.would_allow(clock2.now()));
    clock2.advance(milliseconds(1));
    EXPECT_TRUE(restored.would_allow(clock2.now()));
    ASSERT_TRUE(restored.try_acquire(clock2.now()));
    (void)restored.on_failure(clock2.now());
    EXPECT_EQ(restored.open_period(), seconds(240));  // the re-open count survived

    const BreakerSnapshot again = restored.snapshot(clock2.now(), 1'800'000'000'000);
    EXPECT_EQ(again.opened_at_unix_ms, 1'800'000'000'000);
    EXPECT_EQ(again.reopens, 2);
}

TEST(CircuitBreaker, RestoredHalfOpenIsOpenWithItsPeriodElapsed) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    clock.advance(seconds(60));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    const BreakerSnapshot s = b.snapshot(clock.now(), 1'000'000'060'000);
    EXPECT_EQ(s.state, BreakerState::kHalfOpen);
    EXPECT_EQ(s.opened_at_unix_ms, 1'000'000'000'000);

    CircuitBreaker restored;
    // Even if the wall clock says less than the period has passed (it stepped back), the trial
    // that made it half-open died with the process: the next request may be the new trial.
    restored.restore(s, clock.now(), 1'000'000'010'000);
    EXPECT_EQ(restored.state(clock.now()), BreakerState::kOpen);
    EXPECT_TRUE(restored.would_allow(clock.now()));
    std::optional<BreakerTransition> t;
    EXPECT_TRUE(restored.try_acquire(clock.now(), &t));
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->to, BreakerState::kHalfOpen);
}

TEST(CircuitBreaker, RestoreClosedAndWallClockSteppingBack) {
    FakeClock clock;
    CircuitBreaker b;
    const BreakerSnapshot closed = b.snapshot(clock.now(), 5'000);
    EXPECT_EQ(closed.state, BreakerState::kClosed);
    EXPECT_EQ(closed.opened_at_unix_ms, 0);

    CircuitBreaker restored;
    trip(restored, clock);
    restored.restore(closed, clock.now(), 5'000);
    EXPECT_EQ(restored.state(clock.now()), BreakerState::kClosed);
    EXPECT_TRUE(restored.try_acquire(clock.now()));

    // Opened "in the future" by the wall clock: treated as just opened, never as longer.
    BreakerSnapshot future{BreakerState::kOpen, 10'000, 60'000, 0};
    restored.restore(future, clock.now(), 5'000);
    EXPECT_EQ(restored.opened_at(), clock.now());
    clock.advance(milliseconds(59'999));
    EXPECT_FALSE(restored.would_allow(clock.now()));
}

TEST(CircuitBreaker, SetPolicyAppliesToTheCurrentOpenPeriod) {
    FakeClock clock;
    CircuitBreaker b;
    trip(b, clock);
    BreakerPolicy p;
    p.open_base = seconds(5);
    p.consecutive_failures = 1;
    b.set_policy(p);
    EXPECT_EQ(b.open_period(), seconds(5));
    clock.advance(seconds(5));
    EXPECT_TRUE(b.would_allow(clock.now()));
    ASSERT_TRUE(b.try_acquire(clock.now()));
    (void)b.on_success(clock.now());
    auto t = b.on_failure(clock.now());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->reason, "1 consecutive failures");
    EXPECT_EQ(b.policy().consecutive_failures, 1);
}

TEST(CircuitBreaker, ConcurrentTryAcquireAdmitsExactlyOneTrial) {
    constexpr int kThreads = 8;
    constexpr int kRounds = 50;
    FakeClock clock;
    CircuitBreaker b;
    for (int round = 0; round < kRounds; ++round) {
        (void)b.reset(clock.now());
        trip(b, clock);
        clock.advance(seconds(60));  // elapsed: the racers also race the open -> half-open move
        std::atomic<int> admitted{0};
        std::atomic<int> transitions{0};
        std::latch start(kThreads);
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&] {
                start.arrive_and_wait();
                for (int k = 0; k < 100; ++k) {
                    std::optional<BreakerTransition> t;
                    if (b.try_acquire(clock.now(), &t)) admitted.fetch_add(1);
                    if (t) transitions.fetch_add(1);
                }
            });
        }
        for (auto& th : threads) th.join();
        ASSERT_EQ(admitted.load(), 1) << "round " << round;
        ASSERT_EQ(transitions.load(), 1) << "round " << round;
        ASSERT_EQ(b.state(clock.now()), BreakerState::kHalfOpen);
    }
}

}  // namespace
}  // namespace qcc::upstream
