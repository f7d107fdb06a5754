#include "proxy/attempt_plan.hpp"

namespace qcc::proxy {

AttemptPlan::AttemptPlan(std::vector<const upstream::Endpoint*> candidates, AttemptLimits limits)
    : candidates_(std::move(candidates)), limits_(limits) {}

int& AttemptPlan::count_for(const upstream::Endpoint* ep) {
    for (auto& [e, n] : per_endpoint_) {
        if (e == ep) return n;
    }
    return per_endpoint_.emplace_back(ep, 0).second;
}

std::optional<AttemptPlan::Step> AttemptPlan::next(bool deadline_passed,
                                                   std::chrono::milliseconds jitter) {
    current_.reset();
    if (done_ || attempts_ >= limits_.max_attempts) return std::nullopt;
    if (retry_fresh_) {
        retry_fresh_ = false;
        const auto* ep = candidates_[index_];
        if (count_for(ep) < limits_.max_per_endpoint) {
            current_ = Step{ep, true, false, {}};
            return current_;
        }
        ++index_;
    }
    if (deadline_passed) return std::nullopt;
    while (index_ < candidates_.size()) {
        const auto* ep = candidates_[index_];
        if (count_for(ep) < limits_.max_per_endpoint) {
            current_ = Step{ep, false, false, {}};
            return current_;
        }
        ++index_;
    }
    // Every candidate failed; the last one was overloaded: one jittered retry in place.
    if (overloaded_ != nullptr && !in_place_used_ &&
        count_for(overloaded_) < limits_.max_per_endpoint) {
        in_place_used_ = true;
        current_ = Step{overloaded_, false, true, jitter};
        return current_;
    }
    return std::nullopt;
}

void AttemptPlan::record(AttemptResult result) {
    if (!current_) return;
    const auto step = *current_;
    current_.reset();
    if (result == AttemptResult::kSkipped) {
        // The breaker refused: move on (after the in-place retry there is nothing left).
        if (step.in_place) {
            done_ = true;
        } else {
            ++index_;
        }
        return;
    }
    ++attempts_;
    ++count_for(step.endpoint);
    if (result == AttemptResult::kFinished || step.in_place) {
        done_ = true;  // committed, the client left, or the last resort was used
        return;
    }
    if (result == AttemptResult::kStale && !step.fresh) {
        retry_fresh_ = true;  // same candidate, fresh connection
        return;
    }
    overloaded_ = result == AttemptResult::kOverloaded ? step.endpoint : nullptr;
    ++index_;
}

}  // namespace qcc::proxy
