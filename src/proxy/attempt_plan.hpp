// AttemptPlan: the retry policy of one request as a pure object. It walks the ordered candidate
// list and decides the next attempt from the outcomes reported so far: the next candidate, one
// retry on a fresh connection after a stale pooled socket, and — when every candidate failed and
// the last answered 529 — one jittered retry in place. Limits: attempts per request and per
// endpoint, and the request's deadline. The caller asks the retry budget and the breaker before
// each attempt and reports what happened; the plan touches nothing else.
#pragma once
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

namespace qcc::upstream {
struct Endpoint;
}

namespace qcc::proxy {

/// How one attempt ended, as far as the plan cares.
enum class AttemptResult {
    kSkipped,     // not made: the breaker refused admission (does not count as an attempt)
    kStale,       // a reused connection was closed before any response byte
    kFailed,      // failed; the next candidate may serve the request
    kOverloaded,  // failed with 529 / overloaded_error (an in-place retry may follow at the end)
    kFinished,    // committed, or the client left: nothing more to do
};

struct AttemptLimits {
    int max_attempts = 5;      // per request
    int max_per_endpoint = 2;  // per request and endpoint
};

class AttemptPlan {
  public:
    /// One step: try `endpoint` (on a fresh connection if `fresh`), after waiting `backoff`.
    struct Step {
        const upstream::Endpoint* endpoint = nullptr;
        bool fresh = false;
        bool in_place = false;  // the 529 retry on the endpoint that just failed
        std::chrono::milliseconds backoff{0};
    };

    AttemptPlan(std::vector<const upstream::Endpoint*> candidates, AttemptLimits limits);

    /// The next step, or nullopt when the request is done or out of options. `deadline_passed`
    /// stops new candidates and the in-place retry (a fresh-connection retry still runs).
    /// `jitter` (100..500 ms) is the in-place retry's backoff.
    std::optional<Step> next(bool deadline_passed, std::chrono::milliseconds jitter);
    /// Reports how the step returned by next() ended.
    void record(AttemptResult result);
    /// Ends the plan (e.g. the retry budget refused the next attempt).
    void stop() { done_ = true; }

    /// Attempts made so far (skipped ones excluded).
    int attempts() const { return attempts_; }

  private:
    int& count_for(const upstream::Endpoint* ep);

    std::vector<const upstream::Endpoint*> candidates_;
    AttemptLimits limits_;
    std::size_t index_ = 0;
    std::vector<std::pair<const upstream::Endpoint*, int>> per_endpoint_;  // a handful at most
    int attempts_ = 0;
    std::optional<Step> current_;
    bool retry_fresh_ = false;  // the current candidate gets one more try on a fresh connection
    const upstream::Endpoint* overloaded_ = nullptr;  // the last failure was a 529 from it
    bool in_place_used_ = false;
    bool done_ = false;
};

}  // namespace qcc::proxy
