#include "upstream/adaptive_weight.hpp"

#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace qcc::upstream {
namespace {

using std::chrono::milliseconds;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Case {
    const char* name;
    double current;
    double avg_ms;
    double succ;
    double cv;
    int streak;
    int samples;
    double expected;
};

// Hand-computed from SPEC §6; the comment on each row is the arithmetic.
const Case kCases[] = {
    // resp 100, stab min(100, 50+30+20)=100, pen 1, new 10+1.9*90=181, w 30+126.7
    {"perfect", 100, 200, 100, 0, 0, 20, 156.7},
    // avg below 200 clamps resp to 100
    {"faster than 200 ms", 100, 50, 100, 0, 0, 20, 156.7},
    // resp 100-(1200-200)/10=0, stab 100, new 10+1.9*60=124, w 30+86.8
    {"slow", 100, 1200, 100, 0, 0, 20, 116.8},
    // resp 0 (clamped), as above
    {"very slow", 100, 50'000, 100, 0, 0, 20, 116.8},
    // resp 50, stab 25+15+10=50, pen 0.6, new 10+1.9*(15+20+10)*0.6=61.3, w 15+42.91
    {"middling", 50, 700, 50, 0.5, 2, 20, 57.91},
    // resp 100, stab 47.5+27+15=89.5, pen 0.8, new 10+1.9*85.9*0.8=140.568, w 30+98.3976
    {"one failure", 100, 200, 95, 0.1, 1, 20, 128.3976},
    // resp 0, stab 0+30+0=30, pen 0.2, new 10+1.9*6*0.2=12.28, w 3+8.596
    {"all failing", 10, kInf, 0, 0, 10, 20, 11.596},
    // streak 5: pen hits its 0.2 floor, stab's streak term 0; stab 50+30=80,
    // new 10+1.9*(30+40+16)*0.2=42.68, w 30+29.876
    {"penalty floor", 100, 200, 100, 0, 5, 20, 59.876},
    // cv >= 1 gives no stability credit: stab 50+0+20=70, new 10+1.9*84=169.6, w 30+118.72
    {"cv one", 100, 200, 100, 1.0, 0, 20, 148.72},
    {"cv two", 100, 200, 100, 2.0, 0, 20, 148.72},
    // new 10 exactly (everything 0 but the constant), w 0+7 -> clamped up to 10
    {"lower clamp", 0, kInf, 0, 2.0, 4, 20, 10.0},
    // w 300+126.7 -> clamped down to 200
    {"upper clamp", 1000, 200, 100, 0, 0, 20, 200.0},
    // exactly 3 samples is enough
    {"three samples", 100, 200, 100, 0, 0, 3, 156.7},
    // fewer than 3 samples: unchanged, even outside [10, 200]
    {"two samples", 50, 200, 100, 0, 0, 2, 50.0},
    {"two samples high", 500, 200, 100, 0, 0, 2, 500.0},
    {"no samples", 7, kInf, 0, 0, 9, 0, 7.0},
    // negative streak is treated as 0
    {"negative streak", 100, 200, 100, 0, -3, 20, 156.7},
};

TEST(AdaptiveWeight, FormulaTable) {
    for (const Case& c : kCases) {
        EXPECT_NEAR(next_adaptive_weight(c.current, c.avg_ms, c.succ, c.cv, c.streak, c.samples),
                    c.expected, 1e-9)
            << c.name;
    }
}

TEST(AdaptiveWeight, ConvergesToTheFixedPoint) {
    double w = 100;
    for (int i = 0; i < 50; ++i) w = next_adaptive_weight(w, 200, 100, 0, 0, 20);
    EXPECT_NEAR(w, 181.0, 1e-6);
}

TEST(AdaptiveWeight, NonFiniteCurrentWeightIsReplaced) {
    EXPECT_NEAR(next_adaptive_weight(std::numeric_limits<double>::quiet_NaN(), 200, 100, 0, 0, 20),
                181.0, 1e-9);
}

TEST(CoefficientOfVariation, Basics) {
    EXPECT_EQ(coefficient_of_variation({}), 0.0);
    const std::vector<double> one = {42};
    EXPECT_EQ(coefficient_of_variation(one), 0.0);
    const std::vector<double> flat = {100, 100, 100};
    EXPECT_DOUBLE_EQ(coefficient_of_variation(flat), 0.0);
    const std::vector<double> spread = {50, 150};  // mean 100, population sd 50
    EXPECT_DOUBLE_EQ(coefficient_of_variation(spread), 0.5);
    const std::vector<double> zeros = {0, 0};
    EXPECT_EQ(coefficient_of_variation(zeros), 0.0);
}

TEST(AdaptiveWeight, FromPassiveStats) {
    FakeClock clock;
    PassiveStats healthy;
    healthy.record({true, milliseconds(200), milliseconds(5000), 0}, clock.now());
    healthy.record({true, milliseconds(200), milliseconds(9000), 0}, clock.now());
    EXPECT_EQ(next_adaptive_weight(100, healthy), 100.0);  // 2 samples: unchanged
    healthy.record({true, milliseconds(200), milliseconds(1000), 0}, clock.now());
    // ttfb 200 everywhere: resp 100, cv 0 (the very different total latencies do not count).
    EXPECT_NEAR(next_adaptive_weight(100, healthy), 156.7, 1e-9);

    PassiveStats dead;
    for (int i = 0; i < 3; ++i)
        dead.record({false, milliseconds(0), milliseconds(0), 0}, clock.now());
    // No latency known: resp 0 (not "instant"); succ 0; stab 0+30+5=35; pen 0.4;
    // new 10+1.9*7*0.4=15.32; w 30+10.724.
    EXPECT_NEAR(next_adaptive_weight(100, dead), 40.724, 1e-9);
}

}  // namespace
}  // namespace qcc::upstream
