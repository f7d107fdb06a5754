#include <chrono>

#include <gtest/gtest.h>

#include "admin/ui.hpp"

namespace qcc::admin {
namespace {

using namespace std::chrono_literals;
using Clock = UiSessions::Clock;

std::int64_t ms(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TEST(UiSessions, SyncAdoptsLoginsSavedElsewhereAndDropsLogoutsButKeepsItsUnsavedOnes) {
    UiSessions s;
    const Clock::time_point now{std::chrono::seconds(1'800'000'000)};
    const auto mine = s.create(now);  // not saved yet when the sync reads the store
    s.restore(UiSessions::hash_of("x" + std::string(63, '0')), now + 1h);  // read at start
    const std::string theirs(64, 'a');                                     // another instance's
    s.sync({{UiSessions::hash_of(theirs), ms(now + 2h)}}, now + 1s);
    EXPECT_TRUE(s.find(theirs, now + 1s));
    EXPECT_EQ(*s.find(theirs, now + 1s), now + 2h);
    EXPECT_TRUE(s.find(mine, now + 1s)) << "created here moments ago: perhaps not saved yet";
    EXPECT_FALSE(s.find("x" + std::string(63, '0'), now + 1s)) << "logged out elsewhere";
    EXPECT_EQ(s.size(), 2u);

    // Once the store has shown a session made here, its absence is a logout elsewhere.
    s.sync({{UiSessions::hash_of(theirs), ms(now + 2h)}, {UiSessions::hash_of(mine), ms(now + 1h)}},
           now + 2s);
    EXPECT_TRUE(s.find(mine, now + 2s));
    s.sync({{UiSessions::hash_of(theirs), ms(now + 2h)}}, now + 3s);
    EXPECT_FALSE(s.find(mine, now + 3s));
    const auto unsaved = s.create(now + 3s);

    // Expired rows are not adopted; a session made here that the store never showed is taken
    // for logged out after 30 s.
    s.sync({{UiSessions::hash_of(theirs), ms(now)}}, now + 32s);
    EXPECT_TRUE(s.find(unsaved, now + 32s));
    s.sync({{UiSessions::hash_of(theirs), ms(now)}}, now + 34s);
    EXPECT_FALSE(s.find(theirs, now + 34s));
    EXPECT_FALSE(s.find(unsaved, now + 34s));
    EXPECT_EQ(s.size(), 0u);
}

TEST(UiSessions, ALogoutHereIsNotUndoneBySessionsCreatedHere) {
    UiSessions s;
    const Clock::time_point now{std::chrono::seconds(1'800'000'000)};
    const auto mine = s.create(now);
    EXPECT_TRUE(s.erase(mine));
    s.sync({}, now + 1s);
    EXPECT_FALSE(s.find(mine, now + 1s));
}

}  // namespace
}  // namespace qcc::admin
