#include "upstream/selector.hpp"

#include <algorithm>

namespace qcc::upstream {

bool is_usable(const Endpoint& ep, SteadyTime now) {
    if (!ep.cfg.enabled) return false;
    if (ep.state->quarantined.load(std::memory_order_relaxed)) return false;
    const auto until = ep.state->cooldown_until_ns.load(std::memory_order_relaxed);
    return until <= now.time_since_epoch().count();
}

std::vector<const Endpoint*> WeightedSelector::order(const EndpointSet& set, SteadyTime now,
                                                     const Endpoint* preferred) {
    const auto n = set.endpoints.size();
    if (generation_ != set.generation || current_.size() != n) {
        generation_ = set.generation;
        current_.assign(n, 0);
    }
    std::vector<const Endpoint*> out;
    out.reserve(n);
    std::vector<std::size_t> usable;
    usable.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (is_usable(*set.endpoints[i], now)) usable.push_back(i);
    }
    if (usable.empty()) {
        // Fail open: better to try a cooling or quarantined endpoint than to refuse outright.
        for (const auto& ep : set.endpoints) {
            if (ep->cfg.enabled) out.push_back(ep.get());
        }
        return out;
    }
    if (preferred != nullptr && is_usable(*preferred, now)) out.push_back(preferred);
    // The set is sorted by tier, so `usable` is grouped by tier already.
    for (std::size_t begin = 0; begin < usable.size();) {
        const int tier = set.endpoints[usable[begin]]->cfg.tier;
        std::size_t end = begin;
        std::int64_t total = 0;
        while (end < usable.size() && set.endpoints[usable[end]]->cfg.tier == tier) {
            total += set.endpoints[usable[end]]->cfg.weight;
            ++end;
        }
        // One smooth-weighted-round-robin pick leads the tier; the rest follow by weight.
        std::size_t best = usable[begin];
        for (std::size_t k = begin; k < end; ++k) {
            const auto i = usable[k];
            current_[i] += set.endpoints[i]->cfg.weight;
            if (current_[i] > current_[best]) best = i;
        }
        current_[best] -= total;
        std::vector<std::size_t> rest(usable.begin() + static_cast<std::ptrdiff_t>(begin),
                                      usable.begin() + static_cast<std::ptrdiff_t>(end));
        std::stable_sort(rest.begin(), rest.end(), [&](std::size_t a, std::size_t b) {
            if (a == best || b == best) return a == best && b != best;
            return set.endpoints[a]->cfg.weight > set.endpoints[b]->cfg.weight;
        });
        for (auto i : rest) {
            if (set.endpoints[i].get() != preferred) out.push_back(set.endpoints[i].get());
        }
        begin = end;
    }
    return out;
}

}  // namespace qcc::upstream
