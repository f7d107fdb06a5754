// Session affinity: the session -> endpoint bindings shared by all workers, and the
// rendezvous hash that lets every instance agree on an unbound session's first choice.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "upstream/endpoint.hpp"

namespace qcc::upstream {

/// How long an idle binding lives and how many bindings the table holds at most.
struct AffinityPolicy {
    std::chrono::milliseconds ttl{std::chrono::hours(5)};
    std::size_t max_sessions = 100'000;
};

/// One binding as persisted (times are Unix milliseconds so they survive restarts).
struct Binding {
    std::string session_key;
    std::string endpoint_id;
    std::int64_t last_used_unix_ms = 0;
};

/// Session -> endpoint bindings shared by all workers. Sharded (each shard: a mutex, an LRU list
/// and a hash map) so workers rarely contend; bounded by LRU eviction per shard; idle bindings
/// expire. Thread-safe. The bound is max(max_sessions, kShards): every shard keeps room for one
/// binding.
class AffinityTable {
  public:
    static constexpr std::size_t kShards = 16;

    /// An empty table governed by `p`.
    explicit AffinityTable(AffinityPolicy p = {});

    /// Applies a new TTL and bound now, evicting least recently used bindings above the new bound.
    void set_policy(AffinityPolicy p);

    /// The bound endpoint id if the binding exists and has not expired (idle >= ttl); a hit
    /// refreshes its last use (LRU position and time), a miss on an expired binding drops it.
    std::optional<std::string> lookup(std::string_view session, std::int64_t now_unix_ms);

    /// Binds (or re-binds) the session and refreshes it. Returns true when this replaced a live
    /// binding to a DIFFERENT endpoint (a re-pin: it costs prompt-cache writes, so it is counted
    /// unless `count_repin` is false, as for a move another instance made and counted).
    bool bind(std::string_view session, std::string_view endpoint_id, std::int64_t now_unix_ms,
              bool count_repin = true);

    /// A use of the binding to `endpoint_id`: refreshes it while the session is still bound there,
    /// binds it afresh when it has no binding (expired, evicted), and leaves a binding to another
    /// endpoint alone (it changed since the caller looked it up). Never a re-pin.
    void touch(std::string_view session, std::string_view endpoint_id, std::int64_t now_unix_ms);

    /// Forgets the session's binding, if any.
    void erase(std::string_view session);

    /// Drops every expired binding and returns how many (the control thread calls it periodically).
    std::size_t sweep(std::int64_t now_unix_ms);

    /// Number of bindings held, expired ones not yet swept included.
    std::size_t size() const;

    /// How many re-pins bind() has counted since construction.
    std::uint64_t repins() const;

    /// Every unexpired binding, least recently used first (so load() restores the LRU order).
    std::vector<Binding> snapshot(std::int64_t now_unix_ms) const;

    /// Bulk-loads persisted bindings (at start), skipping expired ones; an existing binding that
    /// was used more recently than the loaded one is kept. Never counts re-pins.
    void load(const std::vector<Binding>& bindings, std::int64_t now_unix_ms);

  private:
    struct Entry {
        std::string session;
        std::string endpoint_id;
        std::int64_t last_used_ms;
    };
    struct TransparentHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept;
    };
    using Lru = std::list<Entry>;  // front = most recently used
    struct Shard {
        mutable std::mutex mu;
        Lru lru;
        std::unordered_map<std::string, Lru::iterator, TransparentHash, std::equal_to<>> index;
        std::size_t capacity = 1;
    };

    Shard& shard_for(std::string_view session);
    bool expired(std::int64_t last_used_ms, std::int64_t now_ms) const;
    static void evict_to_capacity(Shard& shard);
    static std::size_t shard_capacity(std::size_t max_sessions, std::size_t shard_index);

    std::atomic<std::int64_t> ttl_ms_;
    std::atomic<std::uint64_t> repins_{0};
    std::array<Shard, kShards> shards_;
};

/// A fixed-seed 64-bit hash of `data` (stable across processes and machines, so instances agree).
std::uint64_t stable_hash64(std::string_view data, std::uint64_t seed = 0);

/// Rendezvous (highest-random-weight) hashing, weight-aware (score -w/ln(u), w = cfg.weight): the
/// candidate with the highest score for `session`. Removing one candidate only moves the sessions
/// it had. Order of `candidates` does not matter; null when empty.
const Endpoint* rendezvous_pick(std::string_view session,
                                const std::vector<const Endpoint*>& candidates);

}  // namespace qcc::upstream
