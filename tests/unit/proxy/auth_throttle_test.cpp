// Bad keys on repeat: free failures, then growing delays up to a cap; other addresses unaffected;
// the window forgets; a success clears; the table stays bounded.
#include "proxy/auth_throttle.hpp"

#include <gtest/gtest.h>

namespace qcc::proxy {
namespace {

using namespace std::chrono_literals;

TEST(AuthThrottle, FreeFailuresThenDoublingDelaysUpToTheCap) {
    AuthThrottle t({3, 60s, 100ms, 400ms, 16});
    const SteadyTime now{};
    EXPECT_EQ(t.on_failure("a", now), 0ms);
    EXPECT_EQ(t.on_failure("a", now), 0ms);
    EXPECT_EQ(t.on_failure("a", now), 0ms);
    EXPECT_EQ(t.on_failure("a", now), 100ms);
    EXPECT_EQ(t.on_failure("a", now), 200ms);
    EXPECT_EQ(t.on_failure("a", now), 400ms);
    EXPECT_EQ(t.on_failure("a", now), 400ms);
    EXPECT_EQ(t.throttled(), 4u);
    EXPECT_EQ(t.on_failure("b", now), 0ms) << "other addresses are not affected";
    EXPECT_GT(t.remaining("a", now + 10s), 0ms);
    EXPECT_EQ(t.remaining("b", now), 0ms);
}

TEST(AuthThrottle, TheWindowForgetsAndASuccessClears) {
    AuthThrottle t({1, 10s, 100ms, 1s, 16});
    const SteadyTime now{};
    t.on_failure("a", now);
    EXPECT_EQ(t.on_failure("a", now + 1s), 100ms);
    EXPECT_EQ(t.on_failure("a", now + 20s), 0ms) << "a new window";
    EXPECT_EQ(t.on_failure("a", now + 21s), 100ms);
    t.on_success("a");
    EXPECT_EQ(t.on_failure("a", now + 22s), 0ms);
}

TEST(AuthThrottle, TheTableIsBounded) {
    AuthThrottle t({1, 60s, 100ms, 1s, 2});
    const SteadyTime now{};
    t.on_failure("a", now);
    t.on_failure("b", now);
    t.on_failure("c", now);  // evicts a
    EXPECT_EQ(t.on_failure("a", now), 0ms) << "a was forgotten";
    EXPECT_EQ(t.on_failure("c", now), 100ms);
}

}  // namespace
}  // namespace qcc::proxy
