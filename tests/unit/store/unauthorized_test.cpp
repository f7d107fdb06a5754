// Requests refused for a bad client key: counted per minute apart from the request log, summed over
// a window, deleted with the roll-ups' retention.
#include <gtest/gtest.h>

#include "backends.hpp"
#include "store/store.hpp"

namespace qcc::store {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kT0 = 1'767'225'600'000;  // a minute boundary

class Unauthorized : public testing::BackendTest {};
QCC_INSTANTIATE_BACKENDS(Unauthorized);

TEST_P(Unauthorized, CountedPerMinuteAndSummedOverTheWindow) {
    auto st = open_scratch();
    EXPECT_EQ(st->count_unauthorized(kT0 - kMinute, kT0 + kMinute), 0);
    st->add_unauthorized(kT0 + 1'000, 3);
    st->add_unauthorized(kT0 + 59'000, 2);  // same minute: added up
    st->add_unauthorized(kT0 + 5 * kMinute, 4);
    st->add_unauthorized(kT0 + 6 * kMinute, 0);  // nothing to count
    EXPECT_EQ(st->count_unauthorized(kT0, kT0 + 10 * kMinute), 9);
    EXPECT_EQ(st->count_unauthorized(kT0 + 30'000, kT0 + kMinute), 5)  // the minute overlaps
        << "a window starting inside a minute counts that minute";
    EXPECT_EQ(st->count_unauthorized(kT0 + kMinute, kT0 + 5 * kMinute), 0);
    EXPECT_EQ(st->count_unauthorized(kT0 + kMinute, kT0 + 5 * kMinute + 1), 4);
    EXPECT_EQ(st->count_requests(), 0) << "no request rows";
    EXPECT_TRUE(st->stats(StatsQuery{kT0, kT0 + 10 * kMinute, GroupBy::kNone, 0}).empty())
        << "never in the request statistics";
}

TEST_P(Unauthorized, KeptAsLongAsTheRollups) {
    auto st = open_scratch();
    st->add_unauthorized(kT0, 1);
    st->add_unauthorized(kT0 + 10 * kMinute, 2);
    RetentionPolicy keep;
    keep.rollups_ms = 5 * kMinute;
    st->cleanup(kT0 + 12 * kMinute, keep);
    EXPECT_EQ(st->count_unauthorized(kT0 - kMinute, kT0 + 20 * kMinute), 2);
    keep.rollups_ms = 0;  // kept forever
    st->cleanup(kT0 + 1'000 * kMinute, keep);
    EXPECT_EQ(st->count_unauthorized(kT0 - kMinute, kT0 + 20 * kMinute), 2);
}

}  // namespace
}  // namespace qcc::store
