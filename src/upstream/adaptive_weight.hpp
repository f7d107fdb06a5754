// Adaptive weights (QCC's weight adjuster): an endpoint's effective selection weight,
// recomputed periodically from its passive statistics. Pure functions.
#pragma once
#include <span>

#include "upstream/health.hpp"

namespace qcc::upstream {

inline constexpr double kAdaptiveWeightMin = 10.0;
inline constexpr double kAdaptiveWeightMax = 200.0;
inline constexpr int kAdaptiveMinSamples = 3;

/// Population standard deviation / mean; 0 for fewer than two values or a non-positive mean.
double coefficient_of_variation(std::span<const double> values);

/// Exactly: resp = clamp(100 - (avg_ms - 200)/10, 0, 100); stab = min(100, 0.5 succ +
/// 30 max(0, 1 - cv) + max(0, 20 - 5 streak)); pen = max(0.2, 1 - 0.2 streak);
/// new = 10 + 1.9 (0.3 resp + 0.4 succ + 0.2 stab) pen; returns clamp(0.3 current + 0.7 new, 10,
/// 200), or `current` unchanged when samples < 3. succ_pct is 0..100; a negative streak counts as
/// 0.
double next_adaptive_weight(double current_weight, double avg_ms, double succ_pct, double cv,
                            int streak, int samples);

/// The same from live statistics: avg_ms = EWMA time-to-first-byte (a streamed reply's total
/// latency measures how much the model wrote, not the endpoint), succ = success % of the last 20
/// attempts, cv = CV of the recent TTFBs, streak = consecutive failures, samples = attempts in the
/// window. With no successful attempt yet there is no latency: resp counts as 0, not as instant.
double next_adaptive_weight(double current_weight, const PassiveStats& stats);

}  // namespace qcc::upstream
