// Micro-benchmarks of the per-request selection cost (candidate choice for each request) — not
// tests; run with `cmake --build --preset release --target qcc_micro_bench &&
// build/release/bench/qcc_micro_bench`.
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "upstream/affinity.hpp"
#include "upstream/endpoint.hpp"
#include "upstream/selector.hpp"

namespace {

using namespace qcc::upstream;

EndpointSet make_set(int n, int tiers) {
    EndpointSet set;
    set.generation = 1;
    for (int i = 0; i < n; ++i) {
        qcc::config::EndpointConfig cfg;
        cfg.name = "ep" + std::to_string(i);
        cfg.base_url = "https://relay" + std::to_string(i) + ".example.com";
        cfg.tier = 1 + i % tiers;
        cfg.weight = 50 + (i * 37) % 150;
        set.endpoints.push_back(std::make_shared<const Endpoint>(
            make_endpoint(cfg.name, cfg, {}, std::make_shared<EndpointState>())));
    }
    std::stable_sort(set.endpoints.begin(), set.endpoints.end(),
                     [](const auto& a, const auto& b) { return a->cfg.tier < b->cfg.tier; });
    return set;
}

void BM_Select(benchmark::State& state) {
    const auto set = make_set(static_cast<int>(state.range(0)), 3);
    const auto strategy = static_cast<Strategy>(state.range(1));
    Selector selector(42);
    SelectionRequest r;
    r.set = &set;
    r.strategy = strategy;
    r.limit = 5;  // as the forwarder asks: at most retry.max_attempts candidates are used
    for (auto _ : state) {
        r.now = qcc::SteadyClock::instance().now();
        auto s = selector.select(r);
        benchmark::DoNotOptimize(s.candidates.data());
    }
}
BENCHMARK(BM_Select)->ArgsProduct({{3, 50}, {0, 1, 2, 3, 4}})->ArgNames({"endpoints", "strategy"});

void BM_SelectWithSession(benchmark::State& state) {
    const auto set = make_set(static_cast<int>(state.range(0)), 3);
    Selector selector(42);
    AffinityTable table;
    SelectionRequest r;
    r.set = &set;
    r.limit = 5;
    int i = 0;
    for (auto _ : state) {
        const std::string session = "session-" + std::to_string(i++ % 1000);
        r.now = qcc::SteadyClock::instance().now();
        r.session = session;
        r.bound = nullptr;
        if (auto id = table.lookup(session, 1'000'000)) {
            for (const auto& ep : set.endpoints) {
                if (ep->id == *id) r.bound = ep.get();
            }
        }
        auto s = selector.select(r);
        table.bind(session, s.candidates[0]->id, 1'000'000);
        benchmark::DoNotOptimize(s.candidates.data());
    }
}
BENCHMARK(BM_SelectWithSession)->Arg(3)->Arg(50)->ArgName("endpoints");

}  // namespace

BENCHMARK_MAIN();
