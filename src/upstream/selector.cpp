#include "upstream/selector.hpp"

#include <algorithm>

#include "upstream/affinity.hpp"
#include "upstream/breaker.hpp"

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

bool is_healthy(const Endpoint& ep, SteadyTime now) {
    const auto& s = *ep.state;
    return is_usable(ep, now) && s.breaker.state(now) == BreakerState::kClosed &&
           s.successes.load(std::memory_order_relaxed) > 0 && s.stats.consecutive_failures() == 0 &&
           !StreamCuts::cutting(s);
}

std::chrono::milliseconds StreamCuts::on_cut(EndpointState& s, SteadyTime now) {
    auto hold = s.cut_hold_ms.load(std::memory_order_relaxed);
    std::int64_t next = 0;
    do {
        next = hold == 0 ? kFirstHold.count() : std::min<std::int64_t>(hold * 2, kMaxHold.count());
    } while (!s.cut_hold_ms.compare_exchange_weak(hold, next, std::memory_order_relaxed));
    const auto until = now + std::chrono::milliseconds(next);
    s.cut_demoted_until_ns.store(until.time_since_epoch().count(), std::memory_order_relaxed);
    s.stream_cuts.fetch_add(1, std::memory_order_relaxed);
    return std::chrono::milliseconds(next);
}

bool StreamCuts::on_completed_stream(EndpointState& s) {
    if (s.cut_hold_ms.load(std::memory_order_relaxed) == 0) return false;
    if (s.cut_hold_ms.exchange(0, std::memory_order_relaxed) == 0) return false;
    s.cut_demoted_until_ns.store(0, std::memory_order_relaxed);
    return true;
}

bool StreamCuts::demoted_for(EndpointState& s, SteadyTime now, bool streaming) {
    if (!cutting(s)) return false;
    const auto now_ns = now.time_since_epoch().count();
    if (now_ns < s.cut_demoted_until_ns.load(std::memory_order_relaxed)) return true;
    if (!streaming) return true;
    auto after = s.cut_trial_after_ns.load(std::memory_order_relaxed);
    const auto next = now_ns + std::chrono::nanoseconds(kTrialSpacing).count();
    // One streaming request per kTrialSpacing wins the trial and keeps its normal place.
    return !(after <= now_ns &&
             s.cut_trial_after_ns.compare_exchange_strong(after, next, std::memory_order_relaxed));
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

static bool key_may_use(const Endpoint& ep, const SelectionRequest& r) {
    const bool tier_ok =
        r.tiers.empty() || std::find(r.tiers.begin(), r.tiers.end(), ep.cfg.tier) != r.tiers.end();
    const bool name_ok = r.endpoints.empty() || std::find(r.endpoints.begin(), r.endpoints.end(),
                                                          ep.cfg.name) != r.endpoints.end();
    return tier_ok && name_ok;
}

Selection Selector::fail_open(const SelectionRequest& r) {
    Selection out;
    const auto now_ns = r.now.time_since_epoch().count();
    bool any_enabled = false, any_allowed = false, any_serving = false, any_unquarantined = false;
    for (const auto& ep : r.set->endpoints) {
        if (!ep->cfg.enabled) continue;
        any_enabled = true;
        if (!key_may_use(*ep, r)) continue;
        any_allowed = true;
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
                      : !any_allowed           ? Blocked::kKeyNotAllowed
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
    auto& demoted = demoted_;
    demoted.clear();
    for (const auto& ep : all) {
        if (!is_usable(*ep, r.now) || !config::serves_model(ep->cfg, r.model) ||
            !key_may_use(*ep, r)) {
            continue;
        }
        if (StreamCuts::demoted_for(*ep->state, r.now, r.streaming)) {
            demoted.push_back(ep.get());
        } else {
            usable.push_back(ep.get());
        }
    }
    if (usable.empty()) std::swap(usable, demoted);  // nothing better: order them as usual
    if (usable.empty()) return fail_open(r);

    const auto ttfb = [](const Endpoint& ep) { return ep.state->stats.ewma_ttfb_ms(); };
    const auto weight = [&](const Endpoint& ep) {
        return effective_weight(ep, r.now, r.soft_limit_factor);
    };
    const Endpoint* first = nullptr;
    if (r.bound != nullptr && std::find(usable.begin(), usable.end(), r.bound) != usable.end()) {
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
    out.candidates.insert(out.candidates.end(), demoted.begin(), demoted.end());
    return out;
}

}  // namespace qcc::upstream
