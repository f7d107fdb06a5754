#include "upstream/affinity.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>

namespace qcc::upstream {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kTtl = 1'000;
constexpr std::int64_t kT0 = 1'700'000'000'000;  // a plausible Unix time in ms

AffinityPolicy policy(std::int64_t ttl_ms = kTtl, std::size_t max_sessions = 100'000) {
    return AffinityPolicy{milliseconds(ttl_ms), max_sessions};
}

std::shared_ptr<const Endpoint> make(const std::string& name, int weight = 100) {
    config::EndpointConfig cfg;
    cfg.name = name;
    cfg.base_url = "https://" + name + ".example.com";
    cfg.weight = weight;
    return std::make_shared<const Endpoint>(make_endpoint("id-" + name, cfg, {}, nullptr));
}

std::string session(int i) { return "session-" + std::to_string(i); }

// ---- AffinityTable ---------------------------------------------------------------------------

TEST(AffinityTable, LookupOfUnknownSessionMisses) {
    AffinityTable t(policy());
    EXPECT_FALSE(t.lookup("nobody", kT0).has_value());
    EXPECT_EQ(t.size(), 0u);
}

TEST(AffinityTable, BindThenLookupReturnsEndpoint) {
    AffinityTable t(policy());
    EXPECT_FALSE(t.bind("s1", "ep-a", kT0));
    EXPECT_EQ(t.lookup("s1", kT0 + 1), "ep-a");
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.repins(), 0u);
}

TEST(AffinityTable, AMoveMadeElsewhereRebindsWithoutCountingARepin) {
    AffinityTable t(policy());
    t.bind("s1", "ep-a", kT0);
    EXPECT_TRUE(t.bind("s1", "ep-b", kT0 + 1, false));  // still says it moved the session
    EXPECT_EQ(t.lookup("s1", kT0 + 2), "ep-b");
    EXPECT_EQ(t.repins(), 0u);
    EXPECT_TRUE(t.bind("s1", "ep-a", kT0 + 3));
    EXPECT_EQ(t.repins(), 1u);
}

TEST(AffinityTable, TouchRefreshesItsBindingButNeverUndoesAMoveMadeMeanwhile) {
    AffinityTable t(policy());
    t.touch("s1", "ep-a", kT0);  // no binding yet: bound
    EXPECT_EQ(t.lookup("s1", kT0 + 1), "ep-a");
    t.bind("s1", "ep-b", kT0 + 2, false);  // moved (by another instance) after the lookup
    t.touch("s1", "ep-a", kT0 + 3);        // the request that used a finishes
    EXPECT_EQ(t.lookup("s1", kT0 + 4), "ep-b");
    EXPECT_EQ(t.repins(), 0u);
}

TEST(AffinityTable, BindingExpiresAfterIdleTtl) {
    AffinityTable t(policy());
    t.bind("s1", "ep-a", kT0);
    EXPECT_EQ(t.lookup("s1", kT0 + kTtl - 1), "ep-a");
    AffinityTable u(policy());
    u.bind("s1", "ep-a", kT0);
    EXPECT_FALSE(u.lookup("s1", kT0 + kTtl).has_value());
    EXPECT_EQ(u.size(), 0u) << "an expired binding found by lookup is dropped";
}

TEST(AffinityTable, LookupRefreshesLastUse) {
    AffinityTable t(policy());
    t.bind("s1", "ep-a", kT0);
    // Each use extends the idle window: the binding outlives its first TTL.
    EXPECT_EQ(t.lookup("s1", kT0 + 900), "ep-a");
    EXPECT_EQ(t.lookup("s1", kT0 + 1800), "ep-a");
    EXPECT_EQ(t.lookup("s1", kT0 + 2700), "ep-a");
    EXPECT_FALSE(t.lookup("s1", kT0 + 2700 + kTtl).has_value());
}

TEST(AffinityTable, LookupWithOlderTimeDoesNotMoveLastUseBackwards) {
    AffinityTable t(policy());
    t.bind("s1", "ep-a", kT0 + 500);
    EXPECT_EQ(t.lookup("s1", kT0), "ep-a");
    EXPECT_EQ(t.lookup("s1", kT0 + 500 + kTtl - 1), "ep-a");
}

TEST(AffinityTable, RebindToDifferentEndpointCountsRepin) {
    AffinityTable t(policy());
    EXPECT_FALSE(t.bind("s1", "ep-a", kT0));
    EXPECT_FALSE(t.bind("s1", "ep-a", kT0 + 1)) << "same endpoint is a refresh, not a re-pin";
    EXPECT_EQ(t.repins(), 0u);
    EXPECT_TRUE(t.bind("s1", "ep-b", kT0 + 2));
    EXPECT_EQ(t.repins(), 1u);
    EXPECT_EQ(t.lookup("s1", kT0 + 3), "ep-b");
    EXPECT_TRUE(t.bind("s1", "ep-a", kT0 + 4));
    EXPECT_EQ(t.repins(), 2u);
    EXPECT_EQ(t.size(), 1u);
}

TEST(AffinityTable, RebindAfterExpiryIsNotARepin) {
    AffinityTable t(policy());
    t.bind("s1", "ep-a", kT0);
    EXPECT_FALSE(t.bind("s1", "ep-b", kT0 + kTtl));
    EXPECT_EQ(t.repins(), 0u);
    EXPECT_EQ(t.lookup("s1", kT0 + kTtl + 1), "ep-b");
}

TEST(AffinityTable, EraseForgetsBinding) {
    AffinityTable t(policy());
    t.bind("s1", "ep-a", kT0);
    t.bind("s2", "ep-a", kT0);
    t.erase("s1");
    t.erase("never-bound");
    EXPECT_FALSE(t.lookup("s1", kT0).has_value());
    EXPECT_EQ(t.lookup("s2", kT0), "ep-a");
    EXPECT_EQ(t.size(), 1u);
}

TEST(AffinityTable, SizeIsBoundedAndLeastRecentlyUsedGoesFirst) {
    AffinityTable t(policy(1'000'000, 64));
    t.bind("hot", "ep-hot", kT0);
    for (int i = 0; i < 2000; ++i) {
        t.bind(session(i), "ep-a", kT0 + i);
        // Used after every bind: it stays the most recent of its shard, so it is never evicted.
        ASSERT_EQ(t.lookup("hot", kT0 + i), "ep-hot") << "after bind " << i;
    }
    EXPECT_EQ(t.size(), 64u);
    EXPECT_FALSE(t.lookup(session(0), kT0 + 2000).has_value()) << "the oldest binding was evicted";
    EXPECT_EQ(t.lookup(session(1999), kT0 + 2000), "ep-a") << "the newest binding is kept";
}

TEST(AffinityTable, BoundNeverGoesBelowOnePerShard) {
    AffinityTable t(policy(1'000'000, 1));
    for (int i = 0; i < 500; ++i) t.bind(session(i), "ep-a", kT0);
    EXPECT_EQ(t.size(), AffinityTable::kShards);
    EXPECT_EQ(t.lookup(session(499), kT0), "ep-a");
}

TEST(AffinityTable, ShrinkingThePolicyEvictsDownToTheNewBound) {
    AffinityTable t(policy(1'000'000, 10'000));
    for (int i = 0; i < 3000; ++i) t.bind(session(i), "ep-a", kT0 + i);
    EXPECT_EQ(t.size(), 3000u);
    t.set_policy(policy(1'000'000, 160));
    EXPECT_EQ(t.size(), 160u);
    EXPECT_EQ(t.lookup(session(2999), kT0 + 3000), "ep-a");
    EXPECT_FALSE(t.lookup(session(0), kT0 + 3000).has_value());
}

TEST(AffinityTable, ChangingTtlAppliesToExistingBindings) {
    AffinityTable t(policy(kTtl));
    t.bind("s1", "ep-a", kT0);
    t.set_policy(policy(10 * kTtl));
    EXPECT_EQ(t.lookup("s1", kT0 + 5 * kTtl), "ep-a");
    t.set_policy(policy(kTtl));
    EXPECT_FALSE(t.lookup("s1", kT0 + 6 * kTtl + 1).has_value());
}

TEST(AffinityTable, SweepDropsOnlyExpiredBindings) {
    AffinityTable t(policy());
    for (int i = 0; i < 100; ++i) t.bind(session(i), "ep-a", kT0);
    for (int i = 100; i < 130; ++i) t.bind(session(i), "ep-b", kT0 + 600);
    t.lookup(session(5), kT0 + 500);  // refreshed: survives
    EXPECT_EQ(t.sweep(kT0 + 999), 0u);
    EXPECT_EQ(t.sweep(kT0 + kTtl), 99u);
    EXPECT_EQ(t.size(), 31u);
    EXPECT_EQ(t.lookup(session(5), kT0 + kTtl), "ep-a");
    EXPECT_EQ(t.lookup(session(120), kT0 + kTtl), "ep-b");
    EXPECT_EQ(t.sweep(kT0 + 100 * kTtl), 31u);
    EXPECT_EQ(t.size(), 0u);
}

TEST(AffinityTable, SnapshotLoadRoundTrip) {
    AffinityTable t(policy(1'000'000));
    for (int i = 0; i < 500; ++i) {
        t.bind(session(i), i % 3 == 0 ? "ep-a" : "ep-b", kT0 + 1000 * (i % 50));
    }
    const auto snap = t.snapshot(kT0 + 50'000);
    ASSERT_EQ(snap.size(), 500u);
    EXPECT_TRUE(std::is_sorted(snap.begin(), snap.end(), [](const Binding& a, const Binding& b) {
        return a.last_used_unix_ms < b.last_used_unix_ms;
    })) << "least recently used first";

    AffinityTable restored(policy(1'000'000));
    restored.load(snap, kT0 + 50'000);
    EXPECT_EQ(restored.size(), 500u);
    EXPECT_EQ(restored.repins(), 0u);
    for (int i = 0; i < 500; ++i) {
        EXPECT_EQ(restored.lookup(session(i), kT0 + 50'000), i % 3 == 0 ? "ep-a" : "ep-b");
    }
    // Times survive too: a binding loaded with last use kT0 expires on the original schedule.
    AffinityTable again(policy(1'000'000));
    again.load(snap, kT0 + 50'000);
    const auto snap2 = again.snapshot(kT0 + 50'000);
    ASSERT_EQ(snap2.size(), snap.size());
    std::map<std::string, std::pair<std::string, std::int64_t>> a, b;
    for (const auto& x : snap) a[x.session_key] = {x.endpoint_id, x.last_used_unix_ms};
    for (const auto& x : snap2) b[x.session_key] = {x.endpoint_id, x.last_used_unix_ms};
    EXPECT_EQ(a, b);
}

TEST(AffinityTable, SnapshotAndLoadSkipExpiredBindings) {
    AffinityTable t(policy());
    t.bind("old", "ep-a", kT0);
    t.bind("new", "ep-b", kT0 + 900);
    const auto snap = t.snapshot(kT0 + kTtl);
    ASSERT_EQ(snap.size(), 1u);
    EXPECT_EQ(snap[0].session_key, "new");

    AffinityTable u(policy());
    u.load({Binding{"old", "ep-a", kT0}, Binding{"new", "ep-b", kT0 + 900}}, kT0 + kTtl);
    EXPECT_EQ(u.size(), 1u);
    EXPECT_EQ(u.lookup("new", kT0 + kTtl), "ep-b");
}

TEST(AffinityTable, LoadKeepsANewerExistingBinding) {
    AffinityTable t(policy());
    t.bind("s1", "ep-live", kT0 + 500);
    t.bind("s2", "ep-live", kT0 + 100);
    t.load({Binding{"s1", "ep-disk", kT0 + 400}, Binding{"s2", "ep-disk", kT0 + 200}}, kT0 + 500);
    EXPECT_EQ(t.lookup("s1", kT0 + 500), "ep-live");
    EXPECT_EQ(t.lookup("s2", kT0 + 500), "ep-disk");
    EXPECT_EQ(t.repins(), 0u);
}

TEST(AffinityTable, LoadBeyondTheBoundKeepsTheMostRecent) {
    std::vector<Binding> many;
    for (int i = 0; i < 1000; ++i) many.push_back(Binding{session(i), "ep-a", kT0 + i});
    std::shuffle(many.begin(), many.end(), std::mt19937(7));
    AffinityTable t(policy(1'000'000, 64));
    t.load(many, kT0 + 1000);
    EXPECT_EQ(t.size(), 64u);
    EXPECT_EQ(t.lookup(session(999), kT0 + 1000), "ep-a");
    EXPECT_FALSE(t.lookup(session(0), kT0 + 1000).has_value());
}

TEST(AffinityTable, ConcurrentWorkersOnDifferentSessions) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 3000;
    AffinityTable t(policy(1'000'000));
    std::vector<int> mismatches(kThreads, 0);
    {
        std::vector<std::jthread> workers;
        for (int w = 0; w < kThreads; ++w) {
            workers.emplace_back([&t, &mismatches, w] {
                const std::string ep = "ep-" + std::to_string(w);
                for (int i = 0; i < kPerThread; ++i) {
                    const auto key = std::to_string(w) + "/" + session(i);
                    t.bind(key, ep, kT0 + i);
                    if (t.lookup(key, kT0 + i) != ep) ++mismatches[static_cast<std::size_t>(w)];
                }
                // Second round: every session moves to another endpoint (one re-pin each).
                for (int i = 0; i < kPerThread; ++i) {
                    const auto key = std::to_string(w) + "/" + session(i);
                    if (!t.bind(key, ep + "-b", kT0 + kPerThread + i)) {
                        ++mismatches[static_cast<std::size_t>(w)];
                    }
                }
                if (w % 2 == 0) t.sweep(kT0);  // sweeping concurrently drops nothing live
            });
        }
    }
    for (int w = 0; w < kThreads; ++w) EXPECT_EQ(mismatches[static_cast<std::size_t>(w)], 0);
    EXPECT_EQ(t.size(), static_cast<std::size_t>(kThreads * kPerThread));
    EXPECT_EQ(t.repins(), static_cast<std::uint64_t>(kThreads * kPerThread));
    EXPECT_EQ(t.lookup("2/" + session(17), kT0 + 2 * kPerThread), "ep-2-b");
}

// ---- hashing and rendezvous -------------------------------------------------------------------

TEST(StableHash, IsPinnedSoInstancesAndVersionsAgree) {
    // Changing the hash re-maps every unbound session across a fleet: these values must not move.
    EXPECT_EQ(stable_hash64(""), stable_hash64(""));
    EXPECT_NE(stable_hash64("a"), stable_hash64("b"));
    EXPECT_NE(stable_hash64("abc", 1), stable_hash64("abc", 2));
    EXPECT_NE(stable_hash64(std::string_view("a\0", 2)), stable_hash64("a"));
    EXPECT_EQ(stable_hash64("0123456789abcdef-session"), 11853383186472224385ULL);
    EXPECT_EQ(stable_hash64(""), 7175312947680778460ULL);
    EXPECT_EQ(stable_hash64("abc", 42), 3322078234449254787ULL);
}

std::vector<const Endpoint*> raw(const std::vector<std::shared_ptr<const Endpoint>>& eps) {
    std::vector<const Endpoint*> out;
    for (const auto& e : eps) out.push_back(e.get());
    return out;
}

TEST(Rendezvous, EmptyCandidatesPickNothing) { EXPECT_EQ(rendezvous_pick("s", {}), nullptr); }

TEST(Rendezvous, SameInputSamePickWhateverTheCandidateOrder) {
    auto eps = std::vector{make("a"), make("b"), make("c"), make("d")};
    auto cands = raw(eps);
    std::mt19937 rng(1);
    for (int i = 0; i < 200; ++i) {
        const auto* first = rendezvous_pick(session(i), cands);
        ASSERT_NE(first, nullptr);
        auto shuffled = cands;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        EXPECT_EQ(rendezvous_pick(session(i), shuffled), first);
        EXPECT_EQ(rendezvous_pick(session(i), cands), first);
    }
}

TEST(Rendezvous, SpreadsEvenlyOverEqualEndpoints) {
    auto eps = std::vector{make("a"), make("b"), make("c")};
    auto cands = raw(eps);
    std::map<std::string, int> count;
    constexpr int kSessions = 30'000;
    for (int i = 0; i < kSessions; ++i) count[rendezvous_pick(session(i), cands)->id]++;
    ASSERT_EQ(count.size(), 3u);
    for (const auto& [id, n] : count) {
        EXPECT_NEAR(n, kSessions / 3, kSessions / 3 * 0.05) << id;
    }
}

TEST(Rendezvous, RemovingAnEndpointMovesOnlyItsSessions) {
    auto eps = std::vector{make("a"), make("b"), make("c"), make("d")};
    const auto all = raw(eps);
    const std::vector<const Endpoint*> without_b{all[0], all[2], all[3]};
    int moved = 0;
    for (int i = 0; i < 30'000; ++i) {
        const auto* before = rendezvous_pick(session(i), all);
        const auto* after = rendezvous_pick(session(i), without_b);
        ASSERT_NE(after, all[1]);
        if (before == all[1]) {
            ++moved;
        } else {
            ASSERT_EQ(after, before) << session(i);
        }
    }
    EXPECT_GT(moved, 0);
}

TEST(Rendezvous, AddingAnEndpointOnlyTakesSessionsToIt) {
    auto eps = std::vector{make("a"), make("b"), make("c")};
    const auto three = raw(eps);
    auto d = make("d");
    auto four = three;
    four.push_back(d.get());
    int to_d = 0;
    for (int i = 0; i < 30'000; ++i) {
        const auto* before = rendezvous_pick(session(i), three);
        const auto* after = rendezvous_pick(session(i), four);
        if (after == d.get()) {
            ++to_d;
        } else {
            ASSERT_EQ(after, before) << session(i);
        }
    }
    EXPECT_NEAR(to_d, 30'000 / 4, 30'000 / 4 * 0.05);
}

TEST(Rendezvous, PicksInProportionToWeight) {
    auto eps = std::vector{make("light", 100), make("heavy", 300)};
    auto cands = raw(eps);
    int light = 0;
    constexpr int kSessions = 30'000;
    for (int i = 0; i < kSessions; ++i) {
        if (rendezvous_pick(session(i), cands) == cands[0]) ++light;
    }
    EXPECT_NEAR(static_cast<double>(light) / kSessions, 0.25, 0.05);
}

TEST(Rendezvous, WeightedRemovalStillMovesOnlyItsSessions) {
    auto eps = std::vector{make("a", 100), make("b", 500), make("c", 250)};
    const auto all = raw(eps);
    const std::vector<const Endpoint*> without_c{all[0], all[1]};
    for (int i = 0; i < 10'000; ++i) {
        const auto* before = rendezvous_pick(session(i), all);
        if (before == all[2]) continue;
        ASSERT_EQ(rendezvous_pick(session(i), without_c), before) << session(i);
    }
}

}  // namespace
}  // namespace qcc::upstream
