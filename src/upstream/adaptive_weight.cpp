#include "upstream/adaptive_weight.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace qcc::upstream {

double coefficient_of_variation(std::span<const double> values) {
    if (values.size() < 2) return 0.0;
    double sum = 0.0;
    for (double v : values) sum += v;
    const double n = static_cast<double>(values.size());
    const double mean = sum / n;
    if (!(mean > 0.0)) return 0.0;
    double sq = 0.0;
    for (double v : values) sq += (v - mean) * (v - mean);
    return std::sqrt(sq / n) / mean;
}

double next_adaptive_weight(double current_weight, double avg_ms, double succ_pct, double cv,
                            int streak, int samples) {
    if (samples < kAdaptiveMinSamples) return current_weight;
    const double s = std::max(0, streak);
    const double succ = std::clamp(succ_pct, 0.0, 100.0);
    const double resp = std::clamp(100.0 - (avg_ms - 200.0) / 10.0, 0.0, 100.0);
    const double stab = std::min(
        100.0, 0.5 * succ + 30.0 * std::max(0.0, 1.0 - cv) + std::max(0.0, 20.0 - 5.0 * s));
    const double pen = std::max(0.2, 1.0 - 0.2 * s);
    const double fresh = 10.0 + 1.9 * (0.3 * resp + 0.4 * succ + 0.2 * stab) * pen;
    // A corrupt persisted weight must not poison every later value.
    const double current = std::isfinite(current_weight) ? current_weight : fresh;
    return std::clamp(0.3 * current + 0.7 * fresh, kAdaptiveWeightMin, kAdaptiveWeightMax);
}

double next_adaptive_weight(double current_weight, const PassiveStats& stats) {
    const std::vector<double> ttfbs = stats.recent_ttfb_ms();
    const double avg_ms =
        ttfbs.empty() ? std::numeric_limits<double>::infinity() : stats.ewma_ttfb_ms();
    return next_adaptive_weight(current_weight, avg_ms, 100.0 * stats.success_ratio_window(),
                                coefficient_of_variation(ttfbs), stats.consecutive_failures(),
                                stats.samples_in_window());
}

}  // namespace qcc::upstream
