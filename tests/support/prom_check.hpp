// A strict checker for the Prometheus text exposition format 0.0.4, shared by the metrics unit
// tests and the integration tests that scrape the real /metrics. Header-only test support.
#pragma once
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace qcc::test::prom {

// ---------------------------------------------------------------------------------------------
// A strict checker for the Prometheus text format 0.0.4 as QCC emits it. Returns one message per
// violation (empty = valid).

inline const std::regex kHelpLine(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ((?:[^\\\n]|\\[\\n])*)$)");
inline const std::regex kTypeLine(
    R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
inline const std::regex kSampleLine(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^\n]*)\})? ([^ ]+)$)");
inline const std::regex kLabelPair(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)")re");
inline const std::regex kValue(
    R"(^(?:[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)$)");
inline const std::regex kInteger(R"(^[0-9]+$)");

inline double parse_value(const std::string& s) {
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "+Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
    return std::strtod(s.c_str(), nullptr);
}

struct FamilyState {
    std::string type;
    bool help = false;
    bool samples = false;
    bool closed = false;  // another family started after this one's lines
};

struct HistogramSeries {
    std::vector<std::pair<double, double>> buckets;  // (le, cumulative)
    bool has_sum = false, has_count = false;
    double count = -1;
};

inline std::vector<std::string> check_exposition(const std::string& text) {
    std::vector<std::string> errors;
    auto fail = [&](std::size_t line_no, const std::string& what) {
        errors.push_back("line " + std::to_string(line_no) + ": " + what);
    };
    if (!text.empty() && text.back() != '\n') errors.push_back("text does not end with newline");

    std::map<std::string, FamilyState> families;
    std::string current;        // family whose lines we are in
    std::string last_declared;  // for the sort order check
    std::set<std::string> series_seen;
    std::map<std::string, HistogramSeries> histograms;  // family + labels without le

    auto enter = [&](std::size_t line_no, const std::string& family) {
        if (family == current) return;
        if (!current.empty()) families[current].closed = true;
        if (families[family].closed) fail(line_no, "family " + family + " is not contiguous");
        current = family;
    };

    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        const std::string line = text.substr(pos, end == std::string::npos ? end : end - pos);
        pos = end == std::string::npos ? text.size() : end + 1;
        ++line_no;
        std::smatch m;
        if (line.empty()) {
            fail(line_no, "empty line");
        } else if (line.starts_with("# HELP ")) {
            if (!std::regex_match(line, m, kHelpLine)) {
                fail(line_no, "malformed HELP: " + line);
                continue;
            }
            const std::string family = m[1];
            enter(line_no, family);
            FamilyState& f = families[family];
            if (f.help) fail(line_no, "second HELP for " + family);
            if (!f.type.empty() || f.samples) fail(line_no, "HELP after TYPE/samples: " + family);
            f.help = true;
        } else if (line.starts_with("# TYPE ")) {
            if (!std::regex_match(line, m, kTypeLine)) {
                fail(line_no, "malformed TYPE: " + line);
                continue;
            }
            const std::string family = m[1];
            enter(line_no, family);
            FamilyState& f = families[family];
            if (!f.type.empty()) fail(line_no, "second TYPE for " + family);
            if (f.samples) fail(line_no, "TYPE after samples: " + family);
            if (!last_declared.empty() && !(last_declared < family)) {
                fail(line_no, "families not sorted: " + last_declared + " then " + family);
            }
            last_declared = family;
            f.type = m[2];
        } else if (line[0] == '#') {
            fail(line_no, "unexpected comment: " + line);
        } else {
            if (!std::regex_match(line, m, kSampleLine)) {
                fail(line_no, "malformed sample: " + line);
                continue;
            }
            const std::string name = m[1];
            const std::string label_text = m[2];
            const std::string value = m[3];
            if (!std::regex_match(value, kValue)) fail(line_no, "bad value: " + value);

            // Labels: name="value" pairs separated by commas, nothing else.
            std::vector<std::pair<std::string, std::string>> labels;
            auto it = label_text.cbegin();
            while (it != label_text.cend()) {
                std::smatch lm;
                if (!std::regex_search(it, label_text.cend(), lm, kLabelPair,
                                       std::regex_constants::match_continuous)) {
                    fail(line_no, "malformed labels: " + label_text);
                    break;
                }
                labels.emplace_back(lm[1], lm[2]);
                it = lm[0].second;
                if (it != label_text.cend()) {
                    if (*it != ',') {
                        fail(line_no, "expected ',' in labels: " + label_text);
                        break;
                    }
                    ++it;
                    if (it == label_text.cend()) fail(line_no, "trailing comma: " + label_text);
                }
            }
            std::set<std::string> names;
            for (const auto& [n, v] : labels) {
                if (!names.insert(n).second) fail(line_no, "duplicate label " + n);
            }

            // Which declared family does this sample belong to?
            std::string family;
            std::string suffix;
            if (auto f = families.find(name);
                f != families.end() && !f->second.type.empty() && f->second.type != "histogram") {
                family = name;
            } else {
                for (std::string s : {"_bucket", "_sum", "_count"}) {
                    if (name.size() > s.size() && name.ends_with(s)) {
                        const std::string base = name.substr(0, name.size() - s.size());
                        auto b = families.find(base);
                        if (b != families.end() && b->second.type == "histogram") {
                            family = base;
                            suffix = s;
                        }
                    }
                }
            }
            if (family.empty()) {
                fail(line_no, "sample without a preceding TYPE: " + name);
                continue;
            }
            enter(line_no, family);
            FamilyState& f = families[family];
            f.samples = true;

            auto sorted = labels;
            std::sort(sorted.begin(), sorted.end());
            std::string key = name;
            for (const auto& [n, v] : sorted) key += "|" + n + "=" + v;
            if (!series_seen.insert(key).second) fail(line_no, "duplicate series: " + line);

            const double v = parse_value(value);
            if (f.type == "counter" && !(v >= 0)) fail(line_no, "counter not >= 0: " + line);
            if (f.type != "histogram") continue;

            std::string le;
            std::string group = family;
            for (const auto& [n, lv] : sorted) {
                if (n == "le") {
                    le = lv;
                } else {
                    group += "|" + n + "=" + lv;
                }
            }
            HistogramSeries& h = histograms[group];
            if (suffix == "_bucket") {
                if (le.empty()) {
                    fail(line_no, "bucket without le: " + line);
                    continue;
                }
                if (!std::regex_match(le, kValue) || le == "NaN") fail(line_no, "bad le: " + le);
                if (!std::regex_match(value, kInteger)) fail(line_no, "bucket not integer");
                if (h.has_sum || h.has_count) fail(line_no, "bucket after _sum/_count: " + line);
                const double bound = parse_value(le);
                if (!h.buckets.empty()) {
                    if (!(h.buckets.back().first < bound)) fail(line_no, "le not increasing");
                    if (v < h.buckets.back().second) fail(line_no, "buckets not cumulative");
                }
                h.buckets.emplace_back(bound, v);
            } else {
                if (!le.empty()) fail(line_no, "le on " + suffix);
                if (suffix == "_sum") {
                    h.has_sum = true;
                } else {
                    if (!std::regex_match(value, kInteger)) fail(line_no, "_count not integer");
                    h.has_count = true;
                    h.count = v;
                }
            }
        }
    }
    for (const auto& [name, f] : families) {
        if (f.type.empty()) errors.push_back("family without TYPE: " + name);
        if (!f.samples) errors.push_back("family without samples: " + name);
    }
    for (const auto& [group, h] : histograms) {
        if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
            errors.push_back("histogram without +Inf bucket: " + group);
        } else if (h.buckets.back().second != h.count) {
            errors.push_back("+Inf bucket != _count: " + group);
        }
        if (!h.has_sum || !h.has_count) errors.push_back("histogram missing _sum/_count: " + group);
    }
    return errors;
}

}  // namespace qcc::test::prom
