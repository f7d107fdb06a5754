// Selection: turns the endpoint set into the ordered candidate list one request
// walks. Failover is walking that list.
#pragma once
#include <chrono>
#include <span>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "upstream/endpoint_set.hpp"
#include "upstream/strategy.hpp"

namespace qcc::upstream {

/// Usable = enabled, not quarantined, not cooling down, and the breaker would admit a request.
bool is_usable(const Endpoint& ep, SteadyTime now);

/// Healthy enough to fail over to without spending the retry budget: usable, breaker closed, its
/// last attempt succeeded (it has succeeded at least once and has no failure streak), and not
/// cutting streams.
bool is_healthy(const Endpoint& ep, SteadyTime now);

/// Stream cuts. An endpoint that cut a stream after the commit point (bytes already sent: the
/// client sees the failure) is demoted: last in every selection for a hold of 30 s, doubling on
/// each further cut up to 10 min. After the hold it is on probation: still last, except for one
/// streaming request every 10 s that gets its normal place. A stream it completes (message_stop)
/// clears it; another cut demotes it again for the doubled hold.
struct StreamCuts {
    static constexpr std::chrono::milliseconds kFirstHold{30'000}, kMaxHold{600'000};
    static constexpr std::chrono::milliseconds kTrialSpacing{10'000};
    /// Records a cut at `now`; returns the hold it starts.
    static std::chrono::milliseconds on_cut(EndpointState& s, SteadyTime now);
    /// Records a completed stream; true if that cleared the endpoint.
    static bool on_completed_stream(EndpointState& s);
    static bool cutting(const EndpointState& s) {
        return s.cut_hold_ms.load(std::memory_order_relaxed) > 0;
    }
    /// Whether a request (streaming or not) should try the endpoint only after all others. A
    /// streaming request may take the probation trial (at most one per kTrialSpacing).
    static bool demoted_for(EndpointState& s, SteadyTime now, bool streaming);
};

/// The weight selection uses now: the adaptive weight when computed, else the configured one,
/// times `soft_limit_factor` while the endpoint reports a soft rate-limit warning.
double effective_weight(const Endpoint& ep, SteadyTime now, double soft_limit_factor);

struct SelectionRequest {
    const EndpointSet* set = nullptr;
    SteadyTime now{};
    Strategy strategy = Strategy::kWeighted;
    double soft_limit_factor = 0.5;
    std::string_view session;         // "" = no affinity
    const Endpoint* bound = nullptr;  // the session's bound endpoint, if any
    /// > 0: a request makes at most this many attempts, so only that many positions per tier
    /// need ordering (the rest follow in unspecified order).
    std::size_t limit = 0;
    std::string_view model;  // the requested model ("" = none named: every endpoint serves it)
    bool streaming = false;  // the client asked for a stream (probation trials are streams)
    /// The client key's allowed tiers and endpoint names (empty: every one).
    std::span<const int> tiers = {};
    std::span<const std::string> endpoints = {};
};

/// Why a selection has no candidate at all (what the client is told depends on it).
enum class Blocked {
    kNone,            // there are candidates
    kNoEndpoint,      // the set is empty: nothing is configured
    kNoneEnabled,     // every endpoint is disabled
    kKeyNotAllowed,   // the client key may use none of the enabled endpoints
    kModelUnserved,   // no enabled endpoint the key may use serves the requested model
    kAllQuarantined,  // every enabled endpoint is quarantined (authentication, billing, operator)
    kAllCooling,      // every enabled endpoint not quarantined is cooling down
};

struct Selection {
    std::vector<const Endpoint*> candidates;
    /// True when no endpoint was usable and the list is the fail-open order.
    bool fail_open = false;
    /// With no candidates: why, and for kAllCooling the endpoint that recovers first and when.
    Blocked blocked = Blocked::kNone;
    const Endpoint* recovers_first = nullptr;
    SteadyTime recovers_at{};
};

/// One per worker thread (it holds per-worker strategy state and takes no locks).
class Selector {
  public:
    explicit Selector(std::uint64_t seed = 0) : strategy_(seed) {}

    /// Best tier first, each tier ordered by the strategy. A usable bound endpoint goes first;
    /// an unbound session's first choice is the rendezvous pick over the best tier, so instances
    /// agree without coordination. Endpoints demoted for cutting streams (StreamCuts) follow all
    /// others, in the same order among themselves. With nothing usable: fail open over the enabled
    /// endpoints whose only fault is an open breaker, the one that opened longest ago first.
    /// Quarantined endpoints (they answered that their key is bad) and cooling ones (they asked for
    /// a pause) are never tried: with only those left the selection is empty and says why.
    Selection select(const SelectionRequest& request);

  private:
    Selection fail_open(const SelectionRequest& r);

    StrategyState strategy_;
    // Reused buffers (no allocation per request).
    std::vector<const Endpoint*> usable_, demoted_, tier_;
};

}  // namespace qcc::upstream
