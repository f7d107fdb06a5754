#include "metrics/metrics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace qcc::metrics {
namespace {

constexpr std::array<double, 21> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                    1,     2.5,  5,     10,   15,  20,   30,
                                                    45,    60,   90,    120,  180, 300,  600};

constexpr std::array<std::string_view, 3> kHistogramSuffixes = {"_bucket", "_sum", "_count"};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

void escape_label_value(std::string& out, std::string_view v) {
    for (char c : v) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

// HELP text escapes only backslash and newline (quotes are literal there).
void escape_help(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

// `a="x",b="y"` (no braces) — rendered once at creation, not per scrape.
std::string render_labels(const Labels& labels) {
    std::string out;
    for (const auto& [name, value] : labels) {
        if (!out.empty()) out += ',';
        out += name;
        out += "=\"";
        escape_label_value(out, value);
        out += '"';
    }
    return out;
}

// Identity of a label set regardless of the order it was given in.
std::string label_key(const Labels& labels) {
    Labels sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    std::string key;
    for (const auto& [name, value] : sorted) {
        key += name;
        key += '=';
        key += std::to_string(value.size());
        key += ':';
        key += value;
    }
    return key;
}

// Empty string when the labels are usable, else the reason.
std::string check_labels(const Labels& labels, bool histogram) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::string& name = labels[i].first;
        if (!valid_label_name(name)) return "invalid label name \"" + name + "\"";
        if (histogram && name == "le") return "label \"le\" is reserved for histogram buckets";
        for (std::size_t j = 0; j < i; ++j) {
            if (labels[j].first == name) return "duplicate label name \"" + name + "\"";
        }
    }
    return {};
}

std::vector<double> normalized_bounds(std::span<const double> bounds) {
    std::vector<double> out(bounds.begin(), bounds.end());
    if (!out.empty() && std::isinf(out.back()) && out.back() > 0) out.pop_back();
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (!std::isfinite(out[i])) {
            throw std::invalid_argument("histogram bounds must be finite");
        }
        if (i > 0 && !(out[i - 1] < out[i])) {
            throw std::invalid_argument("histogram bounds must be strictly increasing");
        }
    }
    return out;
}

void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   std::string_view value) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    if (!is_alpha(name[0]) && name[0] != '_' && name[0] != ':') return false;
    return std::all_of(name.begin() + 1, name.end(),
                       [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == ':'; });
}

bool valid_label_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    if (!is_alpha(name[0]) && name[0] != '_') return false;
    if (name.starts_with("__")) return false;  // reserved for Prometheus internals
    return std::all_of(name.begin() + 1, name.end(),
                       [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == 0) return "0";       // also turns -0 into 0
    std::array<char, 400> buf{};  // fixed notation of the largest double needs 309 digits
    // Integral values are written without exponent or fraction; others in the shortest form
    // that parses back to the same double.
    const bool integral = std::trunc(v) == v;
    const auto [end, ec] =
        integral ? std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed)
                 : std::to_chars(buf.data(), buf.data() + buf.size(), v);
    if (ec != std::errc{}) return "NaN";  // unreachable with this buffer size
    return std::string(buf.data(), end);
}

std::span<const double> latency_buckets_seconds() { return kLatencyBuckets; }

// ---------------------------------------------------------------------------------------------
// Histogram

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(normalized_bounds(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double v) noexcept {
    if (std::isnan(v)) return;
    // First bound >= v: Prometheus buckets are inclusive upper bounds.
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1,
                                                                       std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    s.bounds = bounds_;
    s.cumulative.resize(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        s.cumulative[i] = running;
    }
    // The count is the bucket total (not a separate atomic) so that +Inf == _count always holds,
    // even while observations race with the scrape.
    s.count = running;
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

// ---------------------------------------------------------------------------------------------
// Registry

struct Registry::Series {
    Labels labels;
    std::string label_text;
    bool hide_zero = false;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
};

struct Registry::Family {
    std::string name;
    std::string help;
    Kind kind = Kind::kCounter;
    std::vector<double> bounds;                       // histograms
    std::vector<std::unique_ptr<Series>> series;      // creation order
    std::unordered_map<std::string, Series*> by_key;  // label_key() -> series
    std::function<void(const Emit&)> fn;              // *_func families
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family_locked(std::string_view name, std::string_view help, Kind kind) {
    if (!valid_metric_name(name)) {
        throw std::invalid_argument("invalid metric name \"" + std::string(name) + "\"");
    }
    if (auto it = families_.find(name); it != families_.end()) {
        if (it->second->kind != kind) {
            throw std::invalid_argument("metric \"" + std::string(name) +
                                        "\" is already registered with another type");
        }
        return *it->second;
    }
    // A histogram's derived sample names must not collide with another family.
    for (std::string_view suffix : kHistogramSuffixes) {
        if (name.ends_with(suffix)) {
            auto it = families_.find(name.substr(0, name.size() - suffix.size()));
            if (it != families_.end() && it->second->kind == Kind::kHistogram) {
                throw std::invalid_argument("metric \"" + std::string(name) +
                                            "\" collides with histogram \"" + it->first + "\"");
            }
        }
        if (kind == Kind::kHistogram) {
            std::string derived = std::string(name) + std::string(suffix);
            if (families_.contains(derived)) {
                throw std::invalid_argument("histogram \"" + std::string(name) +
                                            "\" collides with metric \"" + derived + "\"");
            }
        }
    }
    auto family = std::make_unique<Family>();
    family->name = std::string(name);
    family->help = std::string(help);
    family->kind = kind;
    Family& ref = *family;
    families_.emplace(family->name, std::move(family));
    return ref;
}

Registry::Series& Registry::series_locked(Family& family, Labels&& labels, bool* created) {
    if (std::string problem = check_labels(labels, family.kind == Kind::kHistogram);
        !problem.empty()) {
        throw std::invalid_argument("metric \"" + family.name + "\": " + problem);
    }
    std::string key = label_key(labels);
    if (auto it = family.by_key.find(key); it != family.by_key.end()) {
        *created = false;
        return *it->second;
    }
    auto series = std::make_unique<Series>();
    series->label_text = render_labels(labels);
    series->labels = std::move(labels);
    Series& ref = *series;
    family.series.push_back(std::move(series));
    family.by_key.emplace(std::move(key), &ref);
    *created = true;
    return ref;
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels,
                           bool hide_zero) {
    std::lock_guard lock(mutex_);
    Family& family = family_locked(name, help, Kind::kCounter);
    bool created = false;
    Series& series = series_locked(family, std::move(labels), &created);
    if (created) {
        series.counter = std::make_unique<Counter>();
        series.hide_zero = hide_zero;
    }
    return *series.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
    std::lock_guard lock(mutex_);
    Family& family = family_locked(name, help, Kind::kGauge);
    bool created = false;
    Series& series = series_locked(family, std::move(labels), &created);
    if (created) series.gauge = std::make_unique<Gauge>();
    return *series.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::span<const double> bounds, Labels labels) {
    std::vector<double> normalized = normalized_bounds(bounds);
    std::lock_guard lock(mutex_);
    const bool is_new = !families_.contains(name);
    Family& family = family_locked(name, help, Kind::kHistogram);
    if (is_new) {
        family.bounds = normalized;
    } else if (family.bounds != normalized) {
        throw std::invalid_argument("histogram \"" + std::string(name) +
                                    "\" is already registered with other bounds");
    }
    bool created = false;
    Series& series = series_locked(family, std::move(labels), &created);
    if (created) series.histogram = std::make_unique<Histogram>(family.bounds);
    return *series.histogram;
}

void Registry::gauge_func(std::string_view name, std::string_view help,
                          std::function<void(const Emit&)> fn) {
    std::lock_guard lock(mutex_);
    Family& family = family_locked(name, help, Kind::kGaugeFunc);
    family.help = std::string(help);
    family.fn = std::move(fn);
}

void Registry::counter_func(std::string_view name, std::string_view help,
                            std::function<void(const Emit&)> fn) {
    std::lock_guard lock(mutex_);
    Family& family = family_locked(name, help, Kind::kCounterFunc);
    family.help = std::string(help);
    family.fn = std::move(fn);
}

std::string Registry::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    std::string body;
    for (const auto& [name, family] : families_) {
        body.clear();
        std::string_view type;
        switch (family->kind) {
            case Kind::kCounter:
                type = "counter";
                for (const auto& s : family->series) {
                    const std::uint64_t v = s->counter->value();
                    if (s->hide_zero && v == 0) continue;
                    append_sample(body, name, s->label_text, std::to_string(v));
                }
                break;
            case Kind::kGauge:
                type = "gauge";
                for (const auto& s : family->series) {
                    append_sample(body, name, s->label_text, format_value(s->gauge->value()));
                }
                break;
            case Kind::kHistogram: {
                type = "histogram";
                const std::string bucket = name + "_bucket";
                const std::string sum = name + "_sum";
                const std::string count = name + "_count";
                std::string labels;
                for (const auto& s : family->series) {
                    const Histogram::Snapshot snap = s->histogram->snapshot();
                    const std::string prefix = s->label_text.empty() ? "" : s->label_text + ",";
                    for (std::size_t i = 0; i <= snap.bounds.size(); ++i) {
                        labels = prefix + "le=\"" +
                                 (i < snap.bounds.size() ? format_value(snap.bounds[i]) : "+Inf") +
                                 "\"";
                        append_sample(body, bucket, labels, std::to_string(snap.cumulative[i]));
                    }
                    append_sample(body, sum, s->label_text, format_value(snap.sum));
                    append_sample(body, count, s->label_text, std::to_string(snap.count));
                }
                break;
            }
            case Kind::kGaugeFunc:
            case Kind::kCounterFunc: {
                type = family->kind == Kind::kGaugeFunc ? "gauge" : "counter";
                if (!family->fn) break;
                const Emit emit = [&body, &name](const Labels& labels, double value) {
                    if (!check_labels(labels, false).empty()) return;
                    append_sample(body, name, render_labels(labels), format_value(value));
                };
                try {
                    family->fn(emit);
                } catch (...) {
                    // A broken callback loses its own family, not the whole scrape.
                    body.clear();
                }
                break;
            }
        }
        if (body.empty()) continue;
        out += "# HELP ";
        out += name;
        out += ' ';
        escape_help(out, family->help);
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type;
        out += '\n';
        out += body;
    }
    return out;
}

}  // namespace qcc::metrics
