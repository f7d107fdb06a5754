#include "upstream/selector.hpp"

#include <map>

#include <gtest/gtest.h>

#include "upstream/affinity.hpp"
#include "upstream/pool.hpp"

namespace qcc::upstream {
namespace {

std::shared_ptr<const Endpoint> make(const std::string& name, int tier, int weight) {
    config::EndpointConfig cfg;
    cfg.name = name;
    cfg.base_url = "https://" + name + ".example.com/prefix/";
    cfg.tier = tier;
    cfg.weight = weight;
    return std::make_shared<const Endpoint>(make_endpoint(name, cfg, {}, nullptr));
}

EndpointSet set_of(std::vector<std::shared_ptr<const Endpoint>> eps) {
    EndpointSet s;
    s.generation = 1;
    s.endpoints = std::move(eps);
    return s;
}

const SteadyTime kNow = SteadyClock::instance().now();

TEST(Endpoint, SplitsBaseUrl) {
    auto ep = make("relay", 1, 100);
    EXPECT_TRUE(ep->https);
    EXPECT_EQ(ep->host, "relay.example.com");
    EXPECT_EQ(ep->port, "443");
    EXPECT_EQ(ep->path_prefix, "/prefix");
    EXPECT_EQ(ep->host_header, "relay.example.com");
    config::EndpointConfig cfg;
    cfg.name = "v6";
    cfg.base_url = "http://[::1]:8080";
    auto v6 = make_endpoint("v6", cfg, {}, nullptr);
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.host_header, "[::1]:8080");
    EXPECT_EQ(v6.path_prefix, "");
}

TEST(Endpoint, PerEndpointTimeoutsOverrideDefaults) {
    config::EndpointConfig cfg;
    cfg.name = "x";
    cfg.base_url = "http://x";
    cfg.first_byte_timeout = std::chrono::milliseconds(1234);
    config::Timeouts defaults;
    auto ep = make_endpoint("x", cfg, defaults, nullptr);
    EXPECT_EQ(ep.first_byte_timeout.count(), 1234);
    EXPECT_EQ(ep.connect_timeout, defaults.connect);
}

Selection select(Selector& sel, const EndpointSet& set, SteadyTime now,
                 std::string_view session = {}, const Endpoint* bound = nullptr,
                 Strategy strategy = Strategy::kWeighted) {
    SelectionRequest r;
    r.set = &set;
    r.now = now;
    r.strategy = strategy;
    r.session = session;
    r.bound = bound;
    return sel.select(r);
}

TEST(Selector, BestTierFirstThenLowerTiers) {
    auto set = set_of({make("a", 1, 100), make("b", 1, 100), make("c", 2, 100)});
    Selector sel;
    auto order = select(sel, set, kNow).candidates;
    ASSERT_EQ(order.size(), 3u);
    EXPECT_EQ(order[2]->cfg.name, "c");
}

TEST(Selector, SmoothWeightedRoundRobinFollowsWeights) {
    auto set = set_of({make("a", 1, 300), make("b", 1, 100)});
    Selector sel;
    std::map<std::string, int> first;
    for (int i = 0; i < 8; ++i) first[select(sel, set, kNow).candidates[0]->cfg.name]++;
    EXPECT_EQ(first["a"], 6);
    EXPECT_EQ(first["b"], 2);
}

TEST(Selector, SkipsCoolingQuarantinedAndOpenEndpoints) {
    auto a = make("a", 1, 100), b = make("b", 1, 100), c = make("c", 2, 100), d = make("d", 2, 100);
    a->state->quarantined = true;
    b->state->cooldown_until_ns = (kNow + std::chrono::seconds(10)).time_since_epoch().count();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(d->state->breaker.try_acquire(kNow));
        d->state->breaker.on_failure(kNow);
    }
    auto set = set_of({a, b, c, d});
    Selector sel;
    auto order = select(sel, set, kNow).candidates;
    ASSERT_EQ(order.size(), 1u);
    EXPECT_EQ(order[0]->cfg.name, "c");
    // Once the cooldown has passed b is usable again; once the open period has passed, d too
    // (an open breaker must still reach half-open).
    EXPECT_EQ(select(sel, set, kNow + std::chrono::seconds(11)).candidates.size(), 2u);
    EXPECT_EQ(select(sel, set, kNow + std::chrono::seconds(61)).candidates.size(), 3u);
}

TEST(Selector, FailsOpenOldestOpenedFirstWhenNothingIsUsable) {
    auto a = make("a", 1, 100), b = make("b", 2, 100);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(b->state->breaker.try_acquire(kNow));
        b->state->breaker.on_failure(kNow);
    }
    const auto later = kNow + std::chrono::seconds(1);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(a->state->breaker.try_acquire(later));
        a->state->breaker.on_failure(later);
    }
    auto set = set_of({a, b});
    Selector sel;
    auto selection = select(sel, set, later);
    EXPECT_TRUE(selection.fail_open);
    ASSERT_EQ(selection.candidates.size(), 2u);
    EXPECT_EQ(selection.candidates[0]->cfg.name, "b") << "b's breaker opened longest ago";
}

TEST(Selector, NeverFailsOpenOntoQuarantinedOrCoolingEndpointsAndSaysWhy) {
    auto a = make("a", 1, 100), b = make("b", 2, 100);
    auto set = set_of({a, b});
    Selector sel;
    a->state->quarantined = true;
    b->state->cooldown_until_ns = (kNow + std::chrono::seconds(7)).time_since_epoch().count();
    auto selection = select(sel, set, kNow);
    EXPECT_TRUE(selection.candidates.empty());
    EXPECT_EQ(selection.blocked, Blocked::kAllCooling);
    EXPECT_EQ(selection.recovers_first, b.get());
    EXPECT_EQ(selection.recovers_at, kNow + std::chrono::seconds(7));

    b->state->quarantined = true;
    selection = select(sel, set, kNow);
    EXPECT_EQ(selection.blocked, Blocked::kAllQuarantined);
    EXPECT_EQ(selection.recovers_first, nullptr);

    // An open breaker is no reason to refuse: fail open onto it, skipping the quarantined one.
    b->state->quarantined = false;
    b->state->cooldown_until_ns = 0;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(b->state->breaker.try_acquire(kNow));
        b->state->breaker.on_failure(kNow);
    }
    selection = select(sel, set, kNow);
    EXPECT_TRUE(selection.fail_open);
    EXPECT_EQ(selection.blocked, Blocked::kNone);
    ASSERT_EQ(selection.candidates.size(), 1u);
    EXPECT_EQ(selection.candidates[0], b.get());

    EXPECT_EQ(select(sel, set_of({}), kNow).blocked, Blocked::kNoEndpoint);
}

TEST(Selector, EndpointsThatDoNotServeTheModelAreSkipped) {
    config::EndpointConfig cfg;
    cfg.name = "sonnet-only";
    cfg.base_url = "http://s";
    cfg.models = {"claude-sonnet-*"};
    auto s = std::make_shared<const Endpoint>(make_endpoint("s", cfg, {}, nullptr));
    cfg.name = "mapped";
    cfg.base_url = "http://m";
    cfg.models = {"claude-haiku-4-5"};
    cfg.model_map = {{"opus", "glm-4.6"}};
    auto m = std::make_shared<const Endpoint>(make_endpoint("m", cfg, {}, nullptr));
    auto any = make("any", 2, 100);
    auto set = set_of({s, m, any});
    Selector sel;
    auto pick = [&](std::string_view model) {
        SelectionRequest r;
        r.set = &set;
        r.now = kNow;
        r.model = model;
        std::vector<std::string> names;
        const auto selection = sel.select(r);
        for (const auto* ep : selection.candidates) names.push_back(ep->cfg.name);
        return std::pair{names, selection.blocked};
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(pick("claude-sonnet-4-5").first, (V{"sonnet-only", "any"}));
    EXPECT_EQ(pick("claude-opus-4-8").first, (V{"mapped", "any"})) << "a mapped model is served";
    EXPECT_EQ(pick("").first.size(), 3u) << "no model named: every endpoint";

    auto only = set_of({s});
    SelectionRequest r;
    r.set = &only;
    r.now = kNow;
    r.model = "claude-opus-4-8";
    const auto none = sel.select(r);
    EXPECT_TRUE(none.candidates.empty());
    EXPECT_EQ(none.blocked, Blocked::kModelUnserved);
}

TEST(Selector, DisabledEndpointsAreNeverSelected) {
    config::EndpointConfig cfg;
    cfg.name = "off";
    cfg.base_url = "http://off";
    cfg.enabled = false;
    auto off = std::make_shared<const Endpoint>(make_endpoint("off", cfg, {}, nullptr));
    auto set = set_of({off});
    Selector sel;
    EXPECT_TRUE(select(sel, set, kNow).candidates.empty());
    EXPECT_EQ(select(sel, set, kNow).blocked, Blocked::kNoneEnabled);
}

TEST(Selector, BoundEndpointLeadsWhenUsableEvenFromALowerTier) {
    auto a = make("a", 1, 100), b = make("b", 1, 100), c = make("c", 2, 100);
    auto set = set_of({a, b, c});
    Selector sel;
    auto order = select(sel, set, kNow, "session-1", c.get()).candidates;
    ASSERT_EQ(order.size(), 3u);
    EXPECT_EQ(order[0], c.get());
    EXPECT_EQ(std::count(order.begin(), order.end(), c.get()), 1);
    c->state->quarantined = true;
    EXPECT_NE(select(sel, set, kNow, "session-1", c.get()).candidates[0], c.get());
}

TEST(Selector, UnboundSessionStartsOnItsRendezvousPick) {
    auto a = make("a", 1, 100), b = make("b", 1, 100), c = make("c", 1, 100);
    auto set = set_of({a, b, c});
    Selector sel;
    for (const std::string session : {"s1", "s2", "s3", "s4", "s5", "s6"}) {
        const auto* expected = rendezvous_pick(session, {a.get(), b.get(), c.get()});
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ(select(sel, set, kNow, session).candidates[0], expected) << session;
        }
    }
}

TEST(Selector, SoftRateLimitWarningLowersEffectiveWeight) {
    auto a = make("a", 1, 100);
    EXPECT_DOUBLE_EQ(effective_weight(*a, kNow, 0.5), 100.0);
    a->state->soft_limited_until_ns = (kNow + std::chrono::seconds(5)).time_since_epoch().count();
    EXPECT_DOUBLE_EQ(effective_weight(*a, kNow, 0.5), 50.0);
    a->state->adaptive_weight = 180.0;
    EXPECT_DOUBLE_EQ(effective_weight(*a, kNow + std::chrono::seconds(6), 0.5), 180.0);
}

TEST(ProxySettings, NoProxyMatchesHostsAndSuffixes) {
    ProxySettings p;
    p.host = "proxy.local";
    p.port = "3128";
    p.no_proxy = "localhost, .internal.example,api.example.com";
    EXPECT_TRUE(p.applies_to("relay.example.com"));
    EXPECT_FALSE(p.applies_to("localhost"));
    EXPECT_FALSE(p.applies_to("a.internal.example"));
    EXPECT_FALSE(p.applies_to("api.example.com"));
    EXPECT_TRUE(p.applies_to("notapi.example.com"));
    p.no_proxy = "*";
    EXPECT_FALSE(p.applies_to("anything"));
    ProxySettings none;
    EXPECT_FALSE(none.applies_to("relay.example.com"));
}

TEST(ProxySettings, ReadsHttpsProxyFromEnvironment) {
    setenv("HTTPS_PROXY", "http://user:pw@10.1.2.3:3128/", 1);
    setenv("NO_PROXY", "localhost", 1);
    auto p = ProxySettings::from_env();
    unsetenv("HTTPS_PROXY");
    unsetenv("NO_PROXY");
    EXPECT_EQ(p.host, "10.1.2.3");
    EXPECT_EQ(p.port, "3128");
    EXPECT_EQ(p.no_proxy, "localhost");
}

}  // namespace
}  // namespace qcc::upstream
