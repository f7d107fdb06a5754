#include "upstream/selector.hpp"

#include <algorithm>

#include "upstream/affinity.hpp"

namespace qcc::upstream {

bool is_usable(const Endpoint& ep, SteadyTime now) {
    if (!ep.cfg.enabled) return false;
    if (ep.state->quarantined.load(std::memory_order_relaxed)) return false;
    if (ep.state->cooldown_until_ns.load(std::memory_order_relaxed) >
        now.time_since_epoch().count()) {
        return false;
    }
    return ep.state->breaker.would_allow(now);
}

double effective_weight(const Endpoint& ep, SteadyTime now, double soft_limit_factor) {
    const double adaptive = ep.state->adaptive_weight.load(std::memory_order_relaxed);
    double w = adaptive > 0 ? adaptive : static_cast<double>(ep.cfg.weight);
    if (ep.state->soft_limited_until_ns.load(std::memory_order_relaxed) >
        now.time_since_epoch().count()) {
        w *= soft_limit_factor;
    }
    return std::max(w, 0.001);
}

Selection Selector::fail_open(const SelectionRequest& r) {
    Selection out;
    const auto now_ns = r.now.time_since_epoch().count();
    bool any_enabled = false, any_serving = false, any_unquarantined = false;
    for (const auto& ep : r.set->endpoints) {
        if (!ep->cfg.enabled) continue;
        any_enabled = true;
        if (!config::serves_model(ep->cfg, r.model)) continue;
        any_serving = true;
        if (ep->state->quarantined.load(std::memory_order_relaxed)) continue;
        any_unquarantined = true;
        const auto until = ep->state->cooldown_until_ns.load(std::memory_order_relaxed);
        if (until > now_ns) {
            const SteadyTime at{SteadyTime::duration(until)};
            if (out.recovers_first == nullptr || at < out.recovers_at) {
                out.recovers_first = ep.get();
                out.recovers_at = at;
            }
            continue;
        }
        out.candidates.push_back(ep.get());
    }
    if (out.candidates.empty()) {
        out.blocked = r.set->endpoints.empty() ? Blocked::kNoEndpoint
                      : !any_enabled           ? Blocked::kNoneEnabled
                      : !any_serving           ? Blocked::kModelUnserved
                      : !any_unquarantined     ? Blocked::kAllQuarantined
                                               : Blocked::kAllCooling;
        if (out.blocked != Blocked::kAllCooling) out.recovers_first = nullptr;
        return out;
    }
    out.recovers_first = nullptr;
    std::stable_sort(
        out.candidates.begin(), out.candidates.end(), [](const Endpoint* a, const Endpoint* b) {
            return a->state->breaker.fail_open_key() < b->state->breaker.fail_open_key();
        });
    out.fail_open = true;
    return out;
}

Selection Selector::select(const SelectionRequest& r) {
    Selection out;
    const auto& all = r.set->endpoints;
    auto& usable = usable_;
    usable.clear();
    for (const auto& ep : all) {
        if (is_usable(*ep, r.now) && config::serves_model(ep->cfg, r.model)) {
            usable.push_back(ep.get());
        }
    }
    if (usable.empty()) return fail_open(r);

    const auto ttfb = [](const Endpoint& ep) { return ep.state->stats.ewma_ttfb_ms(); };
    const auto weight = [&](const Endpoint& ep) {
        return effective_weight(ep, r.now, r.soft_limit_factor);
    };
    const Endpoint* first = nullptr;
    if (r.bound != nullptr && is_usable(*r.bound, r.now) &&
        config::serves_model(r.bound->cfg, r.model)) {
        first = r.bound;
    }
    out.candidates.reserve(usable.size());
    auto& tier = tier_;
    // The set is sorted by tier, so `usable` is grouped by tier already.
    for (std::size_t begin = 0; begin < usable.size();) {
        const int t = usable[begin]->cfg.tier;
        std::size_t end = begin;
        while (end < usable.size() && usable[end]->cfg.tier == t) ++end;
        tier.assign(usable.begin() + static_cast<std::ptrdiff_t>(begin),
                    usable.begin() + static_cast<std::ptrdiff_t>(end));
        strategy_.order(r.strategy, tier, ttfb, weight, r.limit);
        if (begin == 0 && first == nullptr && !r.session.empty()) {
            first = rendezvous_pick(r.session, tier);
        }
        if (first != nullptr && out.candidates.empty()) out.candidates.push_back(first);
        for (const auto* ep : tier) {
            if (ep != first) out.candidates.push_back(ep);
        }
        begin = end;
    }
    return out;
}

}  // namespace qcc::upstream
