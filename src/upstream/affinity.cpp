#include "upstream/affinity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qcc::upstream {
namespace {

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
constexpr std::uint64_t kC1 = 0x87C37B91114253D5ULL;
constexpr std::uint64_t kC2 = 0x4CF5AD432745937FULL;
// Distinct seeds so the shard choice and the rendezvous scores are unrelated functions of a key.
constexpr std::uint64_t kShardSeed = 0x51A4D5EEDULL;
constexpr std::uint64_t kSessionSeed = 0x5E551011ULL;

constexpr std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Full-avalanche finalizer: every input bit affects every output bit with probability ~1/2.
constexpr std::uint64_t fmix64(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDULL;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ULL;
    k ^= k >> 33;
    return k;
}

// Little-endian load byte by byte so the hash is the same on every host (instances must agree).
std::uint64_t load_le(const char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    }
    return v;
}

}  // namespace

std::uint64_t stable_hash64(std::string_view data, std::uint64_t seed) {
    const auto n = data.size();
    std::uint64_t h = fmix64(seed + kGolden) ^ (static_cast<std::uint64_t>(n) * kGolden);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t k = load_le(data.data() + i, 8);
        k = rotl(k * kC1, 31) * kC2;
        h = rotl(h ^ k, 27) * 5 + 0x52DCE729;
    }
    if (i < n) {
        std::uint64_t k = load_le(data.data() + i, n - i);
        k = rotl(k * kC1, 31) * kC2;
        h ^= k;
    }
    return fmix64(h ^ static_cast<std::uint64_t>(n));
}

std::size_t AffinityTable::TransparentHash::operator()(std::string_view s) const noexcept {
    return static_cast<std::size_t>(stable_hash64(s));
}

AffinityTable::AffinityTable(AffinityPolicy p) : ttl_ms_(p.ttl.count()) {
    for (std::size_t i = 0; i < kShards; ++i)
        shards_[i].capacity = shard_capacity(p.max_sessions, i);
}

std::size_t AffinityTable::shard_capacity(std::size_t max_sessions, std::size_t shard_index) {
    // Spread the bound exactly; a shard never drops to zero, or its sessions could not bind at all.
    const auto base = max_sessions / kShards;
    const auto extra = shard_index < max_sessions % kShards ? 1 : 0;
    return std::max<std::size_t>(1, base + extra);
}

void AffinityTable::set_policy(AffinityPolicy p) {
    ttl_ms_.store(p.ttl.count(), std::memory_order_relaxed);
    for (std::size_t i = 0; i < kShards; ++i) {
        std::lock_guard lock(shards_[i].mu);
        shards_[i].capacity = shard_capacity(p.max_sessions, i);
        evict_to_capacity(shards_[i]);
    }
}

AffinityTable::Shard& AffinityTable::shard_for(std::string_view session) {
    return shards_[stable_hash64(session, kShardSeed) % kShards];
}

bool AffinityTable::expired(std::int64_t last_used_ms, std::int64_t now_ms) const {
    return now_ms - last_used_ms >= ttl_ms_.load(std::memory_order_relaxed);
}

void AffinityTable::evict_to_capacity(Shard& shard) {
    while (shard.lru.size() > shard.capacity) {
        shard.index.erase(shard.lru.back().session);
        shard.lru.pop_back();
    }
}

std::optional<std::string> AffinityTable::lookup(std::string_view session,
                                                 std::int64_t now_unix_ms) {
    auto& shard = shard_for(session);
    std::lock_guard lock(shard.mu);
    const auto it = shard.index.find(session);
    if (it == shard.index.end()) return std::nullopt;
    auto entry = it->second;
    if (expired(entry->last_used_ms, now_unix_ms)) {
        shard.lru.erase(entry);
        shard.index.erase(it);
        return std::nullopt;
    }
    // Workers pass their own "now"; never move a binding's last use backwards.
    entry->last_used_ms = std::max(entry->last_used_ms, now_unix_ms);
    shard.lru.splice(shard.lru.begin(), shard.lru, entry);
    return entry->endpoint_id;
}

void AffinityTable::touch(std::string_view session, std::string_view endpoint_id,
                          std::int64_t now_unix_ms) {
    auto& shard = shard_for(session);
    std::lock_guard lock(shard.mu);
    const auto it = shard.index.find(session);
    if (it == shard.index.end()) {
        shard.lru.push_front(Entry{std::string(session), std::string(endpoint_id), now_unix_ms});
        shard.index.emplace(shard.lru.front().session, shard.lru.begin());
        evict_to_capacity(shard);
        return;
    }
    auto entry = it->second;
    if (entry->endpoint_id != endpoint_id) {
        if (!expired(entry->last_used_ms, now_unix_ms)) return;  // moved meanwhile: keep the move
        entry->endpoint_id.assign(endpoint_id);
    }
    entry->last_used_ms = std::max(entry->last_used_ms, now_unix_ms);
    shard.lru.splice(shard.lru.begin(), shard.lru, entry);
}

bool AffinityTable::bind(std::string_view session, std::string_view endpoint_id,
                         std::int64_t now_unix_ms, bool count_repin) {
    auto& shard = shard_for(session);
    std::lock_guard lock(shard.mu);
    const auto it = shard.index.find(session);
    if (it != shard.index.end()) {
        auto entry = it->second;
        // An expired binding's prompt cache is long gone, so replacing it is not a re-pin.
        const bool repin =
            entry->endpoint_id != endpoint_id && !expired(entry->last_used_ms, now_unix_ms);
        if (entry->endpoint_id != endpoint_id) entry->endpoint_id.assign(endpoint_id);
        entry->last_used_ms = std::max(entry->last_used_ms, now_unix_ms);
        shard.lru.splice(shard.lru.begin(), shard.lru, entry);
        if (repin && count_repin) repins_.fetch_add(1, std::memory_order_relaxed);
        return repin;
    }
    shard.lru.push_front(Entry{std::string(session), std::string(endpoint_id), now_unix_ms});
    shard.index.emplace(shard.lru.front().session, shard.lru.begin());
    evict_to_capacity(shard);
    return false;
}

void AffinityTable::erase(std::string_view session) {
    auto& shard = shard_for(session);
    std::lock_guard lock(shard.mu);
    const auto it = shard.index.find(session);
    if (it == shard.index.end()) return;
    shard.lru.erase(it->second);
    shard.index.erase(it);
}

std::size_t AffinityTable::sweep(std::int64_t now_unix_ms) {
    std::size_t dropped = 0;
    for (auto& shard : shards_) {
        std::lock_guard lock(shard.mu);
        // A full scan, not just the LRU tail: loaded or concurrently refreshed bindings need not be
        // in strict time order, and a shard holds only max_sessions / kShards entries.
        for (auto it = shard.lru.begin(); it != shard.lru.end();) {
            if (expired(it->last_used_ms, now_unix_ms)) {
                shard.index.erase(it->session);
                it = shard.lru.erase(it);
                ++dropped;
            } else {
                ++it;
            }
        }
    }
    return dropped;
}

std::size_t AffinityTable::size() const {
    std::size_t n = 0;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard.mu);
        n += shard.lru.size();
    }
    return n;
}

std::uint64_t AffinityTable::repins() const { return repins_.load(std::memory_order_relaxed); }

std::vector<Binding> AffinityTable::snapshot(std::int64_t now_unix_ms) const {
    std::vector<Binding> out;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard.mu);
        for (const auto& e : shard.lru) {
            if (!expired(e.last_used_ms, now_unix_ms)) {
                out.push_back(Binding{e.session, e.endpoint_id, e.last_used_ms});
            }
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) {
        return a.last_used_unix_ms < b.last_used_unix_ms;
    });
    return out;
}

void AffinityTable::load(const std::vector<Binding>& bindings, std::int64_t now_unix_ms) {
    // Oldest first, so the most recently used bindings end up at the LRU front and survive the
    // bound.
    std::vector<const Binding*> order;
    order.reserve(bindings.size());
    for (const auto& b : bindings) {
        if (!b.session_key.empty() && !expired(b.last_used_unix_ms, now_unix_ms)) {
            order.push_back(&b);
        }
    }
    std::stable_sort(order.begin(), order.end(), [](const Binding* a, const Binding* b) {
        return a->last_used_unix_ms < b->last_used_unix_ms;
    });
    for (const auto* b : order) {
        auto& shard = shard_for(b->session_key);
        std::lock_guard lock(shard.mu);
        const auto it = shard.index.find(b->session_key);
        if (it != shard.index.end()) {
            auto entry = it->second;
            if (entry->last_used_ms >= b->last_used_unix_ms) continue;
            entry->endpoint_id = b->endpoint_id;
            entry->last_used_ms = b->last_used_unix_ms;
            shard.lru.splice(shard.lru.begin(), shard.lru, entry);
            continue;
        }
        shard.lru.push_front(Entry{b->session_key, b->endpoint_id, b->last_used_unix_ms});
        shard.index.emplace(shard.lru.front().session, shard.lru.begin());
        evict_to_capacity(shard);
    }
}

const Endpoint* rendezvous_pick(std::string_view session,
                                const std::vector<const Endpoint*>& candidates) {
    const std::uint64_t session_hash = stable_hash64(session, kSessionSeed);
    const Endpoint* best = nullptr;
    double best_score = -std::numeric_limits<double>::infinity();
    for (const auto* ep : candidates) {
        if (ep == nullptr) continue;
        const std::uint64_t h = stable_hash64(ep->id, session_hash);
        // u uniform in (0, 1) from the top 53 bits; -w/ln(u) makes P(pick) proportional to w.
        const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
        const double w = ep->cfg.weight > 0 ? static_cast<double>(ep->cfg.weight) : 1.0;
        const double score = -w / std::log(u);
        // Ties (practically impossible) go to the smaller id so the order of candidates is
        // irrelevant.
        if (best == nullptr || score > best_score || (score == best_score && ep->id < best->id)) {
            best = ep;
            best_score = score;
        }
    }
    return best;
}

}  // namespace qcc::upstream
