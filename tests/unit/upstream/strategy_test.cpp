#include "upstream/strategy.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

namespace qcc::upstream {
namespace {

std::shared_ptr<const Endpoint> make(const std::string& name, int weight = 100, int tier = 1) {
    config::EndpointConfig cfg;
    cfg.name = name;
    cfg.base_url = "https://" + name + ".example.com";
    cfg.weight = weight;
    cfg.tier = tier;
    return std::make_shared<const Endpoint>(make_endpoint(name, cfg, {}, nullptr));
}

std::vector<const Endpoint*> raw(const std::vector<std::shared_ptr<const Endpoint>>& eps) {
    std::vector<const Endpoint*> out;
    for (const auto& e : eps) out.push_back(e.get());
    return out;
}

std::string names(const std::vector<const Endpoint*>& order) {
    std::string s;
    for (const auto* ep : order) s += ep->cfg.name;
    return s;
}

const std::function<double(const Endpoint&)> kNoTtfb;
const std::function<double(const Endpoint&)> kConfigWeight;

// Runs `calls` orderings of a fresh copy of `tier` and counts who came first.
std::map<std::string, int> first_picks(StrategyState& st, Strategy s,
                                       const std::vector<const Endpoint*>& tier, int calls,
                                       const std::function<double(const Endpoint&)>& ttfb = {},
                                       const std::function<double(const Endpoint&)>& weight = {}) {
    std::map<std::string, int> count;
    for (int i = 0; i < calls; ++i) {
        auto order = tier;
        st.order(s, order, ttfb, weight);
        count[order.front()->cfg.name]++;
    }
    return count;
}

void expect_permutation(std::vector<const Endpoint*> order, std::vector<const Endpoint*> tier) {
    std::sort(order.begin(), order.end());
    std::sort(tier.begin(), tier.end());
    EXPECT_EQ(order, tier);
}

TEST(Strategy, ParsesAndPrintsEveryName) {
    for (auto s : {Strategy::kWeighted, Strategy::kRoundRobin, Strategy::kLeastInflight,
                   Strategy::kLatency, Strategy::kRandom}) {
        EXPECT_EQ(parse_strategy(to_string(s)), s) << to_string(s);
    }
    EXPECT_EQ(parse_strategy("round-robin"), Strategy::kRoundRobin);
    EXPECT_EQ(parse_strategy("least-inflight"), Strategy::kLeastInflight);
    EXPECT_FALSE(parse_strategy("").has_value());
    EXPECT_FALSE(parse_strategy("Weighted").has_value());
    EXPECT_FALSE(parse_strategy("fastest").has_value());
}

TEST(Strategy, EmptyAndSingleTiersAreLeftAlone) {
    StrategyState st(1);
    for (auto s : {Strategy::kWeighted, Strategy::kRoundRobin, Strategy::kLeastInflight,
                   Strategy::kLatency, Strategy::kRandom}) {
        std::vector<const Endpoint*> none;
        st.order(s, none, kNoTtfb, kConfigWeight);
        EXPECT_TRUE(none.empty());
        auto a = make("a");
        std::vector<const Endpoint*> one{a.get()};
        st.order(s, one, kNoTtfb, kConfigWeight);
        ASSERT_EQ(one.size(), 1u);
        EXPECT_EQ(one[0], a.get());
    }
}

TEST(StrategyWeighted, SmoothSequenceFollowsWeights) {
    auto eps = std::vector{make("a", 300), make("b", 100)};
    StrategyState st;
    std::string sequence;
    for (int i = 0; i < 8; ++i) {
        auto order = raw(eps);
        st.order(Strategy::kWeighted, order, kNoTtfb, kConfigWeight);
        sequence += order.front()->cfg.name;
    }
    EXPECT_EQ(sequence, "aabaaaba");  // nginx SWRR: the heavy endpoint never bursts past its share
}

TEST(StrategyWeighted, ProportionsOverManyCalls) {
    auto eps = std::vector{make("a", 500), make("b", 300), make("c", 200)};
    StrategyState st;
    auto count = first_picks(st, Strategy::kWeighted, raw(eps), 10'000);
    EXPECT_EQ(count["a"], 5000);
    EXPECT_EQ(count["b"], 3000);
    EXPECT_EQ(count["c"], 2000);
}

TEST(StrategyWeighted, FallbacksFollowByWeightDescending) {
    auto eps = std::vector{make("s", 50), make("m", 200), make("l", 300)};
    StrategyState st;
    for (int i = 0; i < 20; ++i) {
        auto order = raw(eps);
        st.order(Strategy::kWeighted, order, kNoTtfb, kConfigWeight);
        ASSERT_EQ(order.size(), 3u);
        std::string rest = names({order.begin() + 1, order.end()});
        std::string expected = "lms";
        expected.erase(expected.find(order.front()->cfg.name), 1);
        EXPECT_EQ(rest, expected);
    }
}

TEST(StrategyWeighted, EffectiveWeightOverridesConfigAndNonPositiveFallsBack) {
    auto eps = std::vector{make("a", 300), make("b", 100)};
    StrategyState st;
    // a's weight is reduced to b's (say, a soft rate-limit warning): now an even split.
    auto halved = [](const Endpoint& ep) { return ep.cfg.name == "a" ? 100.0 : 0.0; };
    auto count = first_picks(st, Strategy::kWeighted, raw(eps), 1000, {}, halved);
    EXPECT_EQ(count["a"], 500);
    EXPECT_EQ(count["b"], 500);
    // Fractional weights work too.
    auto frac = [](const Endpoint& ep) { return ep.cfg.name == "a" ? 0.5 : 1.5; };
    StrategyState st2;
    auto count2 = first_picks(st2, Strategy::kWeighted, raw(eps), 1000, {}, frac);
    EXPECT_EQ(count2["a"], 250);
    EXPECT_EQ(count2["b"], 750);
}

TEST(StrategyWeighted, StateIsKeyedByEndpointIdSoTheListMayChange) {
    auto a = make("a", 500);
    auto b = make("b", 300);
    auto c = make("c", 200);
    StrategyState st;
    // The list arrives in a different order every call: state kept by position would drift.
    std::map<std::string, int> count;
    for (int i = 0; i < 10'000; ++i) {
        std::vector<const Endpoint*> order{a.get(), b.get(), c.get()};
        std::rotate(order.begin(), order.begin() + i % 3, order.end());
        st.order(Strategy::kWeighted, order, kNoTtfb, kConfigWeight);
        count[order.front()->cfg.name]++;
    }
    EXPECT_NEAR(count["a"], 5000, 10);
    EXPECT_NEAR(count["b"], 3000, 10);
    EXPECT_NEAR(count["c"], 2000, 10);
    // b drops out for a while (cooling down), then returns: the shares recover.
    count.clear();
    for (int i = 0; i < 700; ++i) {
        std::vector<const Endpoint*> order{a.get(), c.get()};
        st.order(Strategy::kWeighted, order, kNoTtfb, kConfigWeight);
        count[order.front()->cfg.name]++;
    }
    EXPECT_NEAR(count["a"], 500, 10);
    EXPECT_NEAR(count["c"], 200, 10);
    count.clear();
    for (int i = 0; i < 10'000; ++i) {
        std::vector<const Endpoint*> order{a.get(), b.get(), c.get()};
        st.order(Strategy::kWeighted, order, kNoTtfb, kConfigWeight);
        count[order.front()->cfg.name]++;
    }
    EXPECT_NEAR(count["a"], 5000, 10);
    EXPECT_NEAR(count["b"], 3000, 10);
    EXPECT_NEAR(count["c"], 2000, 10);
}

TEST(StrategyRoundRobin, RotatesOneStepPerCall) {
    auto eps = std::vector{make("a"), make("b"), make("c")};
    StrategyState st;
    std::vector<std::string> orders;
    for (int i = 0; i < 4; ++i) {
        auto order = raw(eps);
        st.order(Strategy::kRoundRobin, order, kNoTtfb, kConfigWeight);
        orders.push_back(names(order));
    }
    EXPECT_EQ(orders, (std::vector<std::string>{"abc", "bca", "cab", "abc"}));
}

TEST(StrategyRoundRobin, EachTierHasItsOwnCursor) {
    auto t1 = std::vector{make("a", 100, 1), make("b", 100, 1)};
    auto t2 = std::vector{make("x", 100, 2), make("y", 100, 2), make("z", 100, 2)};
    StrategyState st;
    std::string first1, first2;
    for (int i = 0; i < 6; ++i) {
        auto o1 = raw(t1);
        auto o2 = raw(t2);
        st.order(Strategy::kRoundRobin, o1, kNoTtfb, kConfigWeight);
        st.order(Strategy::kRoundRobin, o2, kNoTtfb, kConfigWeight);
        first1 += o1.front()->cfg.name;
        first2 += o2.front()->cfg.name;
    }
    EXPECT_EQ(first1, "ababab");
    EXPECT_EQ(first2, "xyzxyz");
}

TEST(StrategyLeastInflight, OrdersByInFlightAscending) {
    auto eps = std::vector{make("a"), make("b"), make("c")};
    eps[0]->state->in_flight = 5;
    eps[1]->state->in_flight = 1;
    eps[2]->state->in_flight = 3;
    StrategyState st;
    auto order = raw(eps);
    st.order(Strategy::kLeastInflight, order, kNoTtfb, kConfigWeight);
    EXPECT_EQ(names(order), "bca");
    eps[1]->state->in_flight = 9;
    order = raw(eps);
    st.order(Strategy::kLeastInflight, order, kNoTtfb, kConfigWeight);
    EXPECT_EQ(names(order), "cab");
}

TEST(StrategyLeastInflight, TiesGoToTheHeavierEndpoint) {
    auto eps = std::vector{make("a", 100), make("b", 300), make("c", 200)};
    for (const auto& e : eps) e->state->in_flight = 2;
    StrategyState st;
    for (int i = 0; i < 5; ++i) {
        auto order = raw(eps);
        st.order(Strategy::kLeastInflight, order, kNoTtfb, kConfigWeight);
        EXPECT_EQ(names(order), "bca");
    }
    // The effective weight decides, not the configured one.
    auto boost_a = [](const Endpoint& ep) { return ep.cfg.name == "a" ? 1000.0 : 0.0; };
    auto order = raw(eps);
    st.order(Strategy::kLeastInflight, order, kNoTtfb, boost_a);
    EXPECT_EQ(names(order), "abc");
}

TEST(StrategyLeastInflight, FullTiesRotateSoAnIdleTierSpreads) {
    auto eps = std::vector{make("a"), make("b"), make("c")};
    StrategyState st;
    auto count = first_picks(st, Strategy::kLeastInflight, raw(eps), 300);
    EXPECT_EQ(count["a"], 100);
    EXPECT_EQ(count["b"], 100);
    EXPECT_EQ(count["c"], 100);
}

TEST(StrategyLatency, PowerOfTwoChoicesPrefersLowerTtfb) {
    auto eps = std::vector{make("fast"), make("mid"), make("slow")};
    std::map<std::string, double> ttfb{{"fast", 100}, {"mid", 200}, {"slow", 400}};
    auto ttfb_of = [&](const Endpoint& ep) { return ttfb[ep.cfg.name]; };
    StrategyState st(42);
    auto count = first_picks(st, Strategy::kLatency, raw(eps), 6000, ttfb_of);
    EXPECT_GT(count["fast"], count["mid"]);
    EXPECT_GT(count["mid"], 0) << "P2C still spreads some load to the second best";
    EXPECT_EQ(count["slow"], 0) << "the slowest of three never wins a pair";
    EXPECT_NEAR(count["fast"], 4000, 300);  // in 2 of the 3 equally likely pairs
}

TEST(StrategyLatency, UnknownTtfbCountsAsBestSoNewEndpointsGetTraffic) {
    auto eps = std::vector{make("a"), make("b"), make("c"), make("new")};
    std::map<std::string, double> ttfb{{"a", 100}, {"b", 200}, {"c", 300}, {"new", 0}};
    auto ttfb_of = [&](const Endpoint& ep) { return ttfb[ep.cfg.name]; };
    StrategyState st(7);
    auto count = first_picks(st, Strategy::kLatency, raw(eps), 4000, ttfb_of);
    // "new" wins every pair it is drawn into: half of the 6 equally likely pairs.
    EXPECT_NEAR(count["new"], 2000, 200);
    EXPECT_EQ(count["c"], 0);
}

TEST(StrategyLatency, FallbacksAreUnknownFirstThenAscendingTtfb) {
    auto eps = std::vector{make("d"), make("b"), make("new"), make("a"), make("c")};
    std::map<std::string, double> ttfb{{"a", 100}, {"b", 200}, {"c", 300}, {"d", 400}, {"new", 0}};
    auto ttfb_of = [&](const Endpoint& ep) { return ttfb[ep.cfg.name]; };
    StrategyState st(3);
    for (int i = 0; i < 50; ++i) {
        auto order = raw(eps);
        st.order(Strategy::kLatency, order, ttfb_of, kConfigWeight);
        expect_permutation(order, raw(eps));
        std::string rest = names({order.begin() + 1, order.end()});
        std::string expected = "newabcd";
        const auto pos = expected.find(order.front()->cfg.name);
        expected.erase(pos, order.front()->cfg.name.size());
        EXPECT_EQ(rest, expected);
    }
}

TEST(StrategyLatency, WithoutTtfbDataEveryEndpointGetsTraffic) {
    auto eps = std::vector{make("a"), make("b"), make("c")};
    StrategyState st(9);
    auto count = first_picks(st, Strategy::kLatency, raw(eps), 3000);
    for (const auto* n : {"a", "b", "c"}) EXPECT_GT(count[n], 600) << n;
}

TEST(StrategyRandom, FirstPickRespectsWeights) {
    auto eps = std::vector{make("light", 100), make("heavy", 300)};
    StrategyState st(11);
    auto count = first_picks(st, Strategy::kRandom, raw(eps), 20'000);
    EXPECT_NEAR(count["light"] / 20'000.0, 0.25, 0.05);
}

TEST(StrategyRandom, ProducesAPermutationAndVaries) {
    auto eps = std::vector{make("a", 100), make("b", 200), make("c", 300), make("d", 400)};
    StrategyState st(5);
    std::set<std::string> seen;
    for (int i = 0; i < 500; ++i) {
        auto order = raw(eps);
        st.order(Strategy::kRandom, order, kNoTtfb, kConfigWeight);
        expect_permutation(order, raw(eps));
        seen.insert(names(order));
    }
    EXPECT_GT(seen.size(), 10u);
}

TEST(StrategyRandom, SameSeedSameSequence) {
    auto eps = std::vector{make("a"), make("b"), make("c"), make("d")};
    StrategyState s1(99), s2(99), s3(100);
    std::string o1, o2, o3;
    for (int i = 0; i < 50; ++i) {
        auto a = raw(eps), b = raw(eps), c = raw(eps);
        s1.order(Strategy::kRandom, a, kNoTtfb, kConfigWeight);
        s2.order(Strategy::kRandom, b, kNoTtfb, kConfigWeight);
        s3.order(Strategy::kRandom, c, kNoTtfb, kConfigWeight);
        o1 += names(a);
        o2 += names(b);
        o3 += names(c);
    }
    EXPECT_EQ(o1, o2);
    EXPECT_NE(o1, o3);
}

}  // namespace
}  // namespace qcc::upstream
