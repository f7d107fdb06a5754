#include "upstream/selector.hpp"

#include <gtest/gtest.h>

#include <map>

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

TEST(WeightedSelector, BestTierFirstThenLowerTiers) {
    auto set = set_of({make("a", 1, 100), make("b", 1, 100), make("c", 2, 100)});
    WeightedSelector sel;
    auto order = sel.order(set, kNow);
    ASSERT_EQ(order.size(), 3u);
    EXPECT_EQ(order[2]->cfg.name, "c");
}

TEST(WeightedSelector, SmoothWeightedRoundRobinFollowsWeights) {
    auto set = set_of({make("a", 1, 300), make("b", 1, 100)});
    WeightedSelector sel;
    std::map<std::string, int> first;
    std::string sequence;
    for (int i = 0; i < 8; ++i) {
        auto order = sel.order(set, kNow);
        first[order[0]->cfg.name]++;
        sequence += order[0]->cfg.name;
    }
    EXPECT_EQ(first["a"], 6);
    EXPECT_EQ(first["b"], 2);
    EXPECT_EQ(sequence, "aabaaaba");  // smooth: never bursts of the heavy endpoint beyond its share
}

TEST(WeightedSelector, SkipsCoolingAndQuarantinedEndpoints) {
    auto a = make("a", 1, 100), b = make("b", 1, 100), c = make("c", 2, 100);
    a->state->quarantined = true;
    b->state->cooldown_until_ns = (kNow + std::chrono::seconds(10)).time_since_epoch().count();
    auto set = set_of({a, b, c});
    WeightedSelector sel;
    auto order = sel.order(set, kNow);
    ASSERT_EQ(order.size(), 1u);
    EXPECT_EQ(order[0]->cfg.name, "c");
    // Once the cooldown has passed, b is usable again.
    auto later = sel.order(set, kNow + std::chrono::seconds(11));
    EXPECT_EQ(later.size(), 2u);
}

TEST(WeightedSelector, FailsOpenWhenNothingIsUsable) {
    auto a = make("a", 1, 100), b = make("b", 2, 100);
    a->state->quarantined = true;
    b->state->quarantined = true;
    auto set = set_of({a, b});
    WeightedSelector sel;
    EXPECT_EQ(sel.order(set, kNow).size(), 2u);
}

TEST(WeightedSelector, DisabledEndpointsAreNeverSelected) {
    config::EndpointConfig cfg;
    cfg.name = "off";
    cfg.base_url = "http://off";
    cfg.enabled = false;
    auto off = std::make_shared<const Endpoint>(make_endpoint("off", cfg, {}, nullptr));
    auto set = set_of({off});
    WeightedSelector sel;
    EXPECT_TRUE(sel.order(set, kNow).empty());
}

TEST(WeightedSelector, PreferredEndpointLeadsWhenUsable) {
    auto a = make("a", 1, 100), b = make("b", 1, 100), c = make("c", 2, 100);
    auto set = set_of({a, b, c});
    WeightedSelector sel;
    auto order = sel.order(set, kNow, c.get());
    ASSERT_EQ(order.size(), 3u);
    EXPECT_EQ(order[0], c.get());
    EXPECT_EQ(std::count(order.begin(), order.end(), c.get()), 1);
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
