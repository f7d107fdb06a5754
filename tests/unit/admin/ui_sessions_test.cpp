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

const Clock::time_point kNow{std::chrono::seconds(1'800'000'000)};

TEST(UiSessions, SyncAdoptsLoginsSavedElsewhereAndDropsLogoutsMadeElsewhere) {
    UiSessions s;
    const std::string old_cookie = "x" + std::string(63, '0');
    s.restore(UiSessions::hash_of(old_cookie), kNow + 1h);  // read at start
    const std::string theirs(64, 'a');                      // another instance's login
    s.sync({{UiSessions::hash_of(theirs), ms(kNow + 2h)}}, kNow + 1s);
    ASSERT_TRUE(s.find(theirs, kNow + 1s));
    EXPECT_EQ(*s.find(theirs, kNow + 1s), kNow + 2h);
    EXPECT_FALSE(s.find(old_cookie, kNow + 1s)) << "logged out elsewhere";
    // Expired rows are not adopted.
    s.sync({{UiSessions::hash_of(theirs), ms(kNow)}}, kNow + 2s);
    EXPECT_FALSE(s.find(theirs, kNow + 2s));
    EXPECT_EQ(s.size(), 0u);
}

TEST(UiSessions, ALoginMadeHereSurvivesSyncsThatCouldNotSeeItYet) {
    UiSessions s;
    const auto mine = s.create(kNow);
    s.sync({}, kNow + 1s);  // its save has not finished
    EXPECT_TRUE(s.find(mine, kNow + 1s));
    s.saved(mine, kNow + 2s);
    s.sync({}, kNow + 1500ms);  // a read that began before the save finished
    EXPECT_TRUE(s.find(mine, kNow + 2s));
    s.sync({{UiSessions::hash_of(mine), ms(kNow + 1h)}}, kNow + 3s);  // seen in the store
    EXPECT_TRUE(s.find(mine, kNow + 3s));
    s.sync({}, kNow + 4s);  // then gone from it: logged out elsewhere
    EXPECT_FALSE(s.find(mine, kNow + 4s));
}

TEST(UiSessions, ALoginWhoseSaveFailedIsKeptThirtySeconds) {
    UiSessions s;
    const auto mine = s.create(kNow);
    s.sync({}, kNow + 29s);
    EXPECT_TRUE(s.find(mine, kNow + 29s));
    s.sync({}, kNow + 30s);
    EXPECT_FALSE(s.find(mine, kNow + 30s));
}

TEST(UiSessions, ALogoutHereIsFinal) {
    UiSessions s;
    const auto mine = s.create(kNow);
    EXPECT_TRUE(s.erase(mine));
    s.sync({}, kNow + 1s);
    EXPECT_FALSE(s.find(mine, kNow + 1s));
}

}  // namespace
}  // namespace qcc::admin
