// Process metrics and their Prometheus text exposition. Handles are resolved once at
// configuration time; updating one on the request path is a relaxed atomic operation, no lock.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qcc::metrics {

/// Label name/value pairs, rendered in the order given.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count.
class Counter {
  public:
    /// Adds n. Lock-free.
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    /// Current value.
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down.
class Gauge {
  public:
    /// Replaces the value. Lock-free.
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    /// Adds d (negative to subtract). Lock-free (compare-and-swap loop).
    void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
    /// Current value.
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0.0};
};

/// Distribution of observations over fixed upper bounds (Prometheus `le`, inclusive).
class Histogram {
  public:
    /// `bounds` must be finite and strictly increasing (a trailing +Inf is implied and dropped);
    /// throws std::invalid_argument otherwise.
    explicit Histogram(std::span<const double> bounds);
    Histogram(const Histogram&) = delete;
    Histogram& operator=(const Histogram&) = delete;

    /// Counts v in the first bucket whose bound is >= v (+Inf bucket past the last). Lock-free.
    /// NaN is ignored: one would poison the sum for the life of the process.
    void observe(double v) noexcept;

    /// A point-in-time copy. `cumulative[i]` counts observations <= bounds[i]; the extra last
    /// element is the +Inf bucket and always equals `count`.
    struct Snapshot {
        std::vector<double> bounds;
        std::vector<std::uint64_t> cumulative;
        double sum = 0;
        std::uint64_t count = 0;
    };
    Snapshot snapshot() const;

    /// The upper bounds (without +Inf).
    const std::vector<double>& bounds() const { return bounds_; }

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (last: +Inf)
    std::atomic<double> sum_{0.0};
};

/// Default latency buckets in seconds: 5 ms .. 600 s (21 bounds), wide enough for long streams.
std::span<const double> latency_buckets_seconds();

/// Owns every metric of the process. Thread-safe: creation and render() take a mutex, the returned
/// objects are updated without one. Objects live as long as the registry; asking again for the
/// same name and label set (in any order) returns the same object.
class Registry {
  public:
    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    /// Counter series `name{labels}`. hide_zero: omitted from render() while its value is 0 (for
    /// label combinations that rarely happen). Throws std::invalid_argument on a bad metric or
    /// label name, a duplicate label name, or a name already used by a metric of another type.
    Counter& counter(std::string_view name, std::string_view help, Labels labels = {},
                     bool hide_zero = false);
    /// Gauge series `name{labels}`; throws like counter().
    Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
    /// Histogram series `name{labels}`; every series of a family must use the same bounds, and
    /// "le" is not allowed as a label. Throws like counter() and on bad or mismatched bounds.
    Histogram& histogram(std::string_view name, std::string_view help,
                         std::span<const double> bounds, Labels labels = {});

    /// Called once per series at scrape time by a *_func family.
    using Emit = std::function<void(const Labels&, double)>;
    /// Gauge family computed at scrape time: fn(emit) calls emit(labels, value) per series. fn
    /// runs under the registry lock (it must not call back into the registry). Registering the
    /// same name again replaces fn (config reload). Series whose labels are invalid are skipped.
    void gauge_func(std::string_view name, std::string_view help,
                    std::function<void(const Emit&)> fn);
    /// Same for counters computed at scrape time (values read from existing atomics).
    void counter_func(std::string_view name, std::string_view help,
                      std::function<void(const Emit&)> fn);

    /// Prometheus text exposition format 0.0.4: one # HELP and # TYPE per family, families sorted
    /// by name, series in creation order, label values escaped (\\, \", \n), histograms as
    /// _bucket{le=...} (incl. +Inf), _sum, _count. Families with nothing to show print nothing.
    std::string render() const;

  private:
    enum class Kind { kCounter, kGauge, kHistogram, kGaugeFunc, kCounterFunc };
    struct Series;
    struct Family;

    Family& family_locked(std::string_view name, std::string_view help, Kind kind);
    Series& series_locked(Family& family, Labels&& labels, bool* created);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;  // sorted by name
};

/// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool valid_metric_name(std::string_view name) noexcept;
/// Whether `name` is a valid, non-reserved label name ([a-zA-Z_][a-zA-Z0-9_]*, not "__...").
bool valid_label_name(std::string_view name) noexcept;
/// A sample value as the exposition format writes it: integers without exponent, other finite
/// values in the shortest form that reads back exactly, "NaN", "+Inf", "-Inf".
std::string format_value(double v);

}  // namespace qcc::metrics
