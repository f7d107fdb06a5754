#include "protocol/anthropic/pricing.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace qcc::anthropic {
namespace {

// Anthropic list prices, USD per million tokens: input, output, 5-minute cache write, 1-hour
// cache write, cache read. Checked against platform.claude.com/docs/en/about-claude/pricing and
// the per-model overview pages. Prefix lookup makes every dated id ("-20250929") and alias
// ("-latest", "-0") of a model find its entry, so each newer point release needs its own row:
// "claude-opus-4-8" would otherwise match "claude-opus-4" and be priced 3x too high.
// Claude Haiku 5.5 is left out on purpose: its price depends on the prompt length.
const PriceTable& make_builtin() {
    static const PriceTable table({
        {"claude-opus-5-5", {4, 20, 5, 8, 0.20}},
        {"claude-opus-5", {5, 25, 6.25, 10, 0.50}},
        {"claude-opus-4-8", {5, 25, 6.25, 10, 0.50}},
        {"claude-opus-4-7", {5, 25, 6.25, 10, 0.50}},
        {"claude-opus-4-6", {5, 25, 6.25, 10, 0.50}},
        {"claude-opus-4-5", {5, 25, 6.25, 10, 0.50}},
        {"claude-opus-4-1", {15, 75, 18.75, 30, 1.50}},
        {"claude-opus-4", {15, 75, 18.75, 30, 1.50}},
        {"claude-sonnet-5-5", {2, 10, 2.50, 4, 0.20}},
        {"claude-sonnet-5", {2, 10, 2.50, 4, 0.20}},
        {"claude-sonnet-4-6", {3, 15, 3.75, 6, 0.30}},
        {"claude-sonnet-4-5", {3, 15, 3.75, 6, 0.30}},
        {"claude-sonnet-4", {3, 15, 3.75, 6, 0.30}},
        {"claude-3-7-sonnet", {3, 15, 3.75, 6, 0.30}},
        {"claude-haiku-4-5", {1, 5, 1.25, 2, 0.10}},
        {"claude-3-5-haiku", {0.80, 4, 1, 1.6, 0.08}},
        {"claude-3-5-sonnet", {3, 15, 3.75, 6, 0.30}},
        {"claude-3-opus", {15, 75, 18.75, 30, 1.50}},
        {"claude-3-haiku", {0.25, 1.25, 0.30, 0.50, 0.03}},
    });
    return table;
}

struct Field {
    std::string_view name;
    double Price::*member;
};
constexpr std::array<Field, 5> kFields = {{
    {"input", &Price::input},
    {"output", &Price::output},
    {"cache_write_5m", &Price::cache_write_5m},
    {"cache_write_1h", &Price::cache_write_1h},
    {"cache_read", &Price::cache_read},
}};
constexpr std::string_view kFieldList = "input, output, cache_write_5m, cache_write_1h, cache_read";

bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
}

std::string quoted(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

// The offending value as the user wrote it, near enough: numbers in plain shortest form (Boost
// would write -0.5 as -5E-1), anything else as JSON.
std::string describe(const boost::json::value& v) {
    if (v.is_double()) {
        std::array<char, 32> buf{};
        const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v.get_double());
        if (ec == std::errc{}) return std::string(buf.data(), end);
    }
    return boost::json::serialize(v);
}

// Applies one model's override object onto `price`; false + *error when it is invalid.
bool apply_override(std::string_view model, const boost::json::value& spec, Price& price,
                    std::string* error) {
    const std::string where = "pricing override for model " + quoted(model);
    if (!spec.is_object()) {
        return fail(error, where + ": expected an object with any of " + std::string(kFieldList) +
                               ", got " + describe(spec));
    }
    for (const auto& [key, value] : spec.as_object()) {
        const std::string_view name = key;  // (clang 14 cannot capture a structured binding)
        const auto field = std::find_if(kFields.begin(), kFields.end(),
                                        [&](const Field& f) { return f.name == name; });
        if (field == kFields.end()) {
            return fail(error, where + ": unknown field " + quoted(key) + " (expected " +
                                   std::string(kFieldList) + ")");
        }
        double number = -1;
        if (value.is_int64()) {
            number = static_cast<double>(value.get_int64());
        } else if (value.is_uint64()) {
            number = static_cast<double>(value.get_uint64());
        } else if (value.is_double()) {
            number = value.get_double();
        }
        if (!value.is_number() || number < 0) {
            return fail(error, where + ": field " + quoted(key) +
                                   " must be a non-negative number (USD per million tokens), got " +
                                   describe(value));
        }
        price.*(field->member) = number;
    }
    return true;
}

}  // namespace

PriceTable::PriceTable(std::vector<std::pair<std::string, Price>> entries) {
    // Stable sort keeps insertion order among equal keys, so the last duplicate can win.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& entry : entries) {
        if (!entries_.empty() && entries_.back().first == entry.first) {
            entries_.back().second = entry.second;
        } else {
            entries_.push_back(std::move(entry));
        }
    }
}

const PriceTable& PriceTable::builtin() { return make_builtin(); }

const Price* PriceTable::find(std::string_view model) const {
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), model,
                                     [](const auto& e, std::string_view m) { return e.first < m; });
    if (it != entries_.end() && it->first == model) return &it->second;
    // Every prefix of `model` sorts before it, so only the entries before `it` can match.
    const Price* best = nullptr;
    std::size_t best_len = 0;
    for (auto e = entries_.begin(); e != it; ++e) {
        if (e->first.size() > best_len && model.starts_with(e->first)) {
            best = &e->second;
            best_len = e->first.size();
        }
    }
    return best;
}

std::optional<PriceTable> PriceTable::with_overrides(std::string_view json,
                                                     std::string* error) const {
    if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return *this;
    boost::json::parser parser;
    boost::system::error_code ec;
    const std::size_t consumed = parser.write(json.data(), json.size(), ec);
    if (ec) {
        fail(error, "pricing overrides: invalid JSON at offset " + std::to_string(consumed) + ": " +
                        ec.message());
        return std::nullopt;
    }
    const boost::json::value root = parser.release();
    if (!root.is_object()) {
        fail(error,
             "pricing overrides: expected a JSON object mapping model ids (or prefixes) to "
             "prices, got " +
                 boost::json::serialize(root));
        return std::nullopt;
    }
    std::vector<std::pair<std::string, Price>> entries = entries_;
    for (const auto& [key, spec] : root.as_object()) {
        if (key.empty()) {
            fail(error, "pricing overrides: empty model id");
            return std::nullopt;
        }
        const Price* inherited = find(key);
        Price price = inherited ? *inherited : Price{};
        if (!apply_override(key, spec, price, error)) return std::nullopt;
        entries.emplace_back(std::string(key), price);  // replaces an existing entry (see ctor)
    }
    return PriceTable(std::move(entries));
}

double cost_usd(const Price& price, const Usage& usage) {
    const std::int64_t split = usage.cache_creation_5m + usage.cache_creation_1h;
    const std::int64_t unsplit =
        std::max<std::int64_t>(0, usage.cache_creation_input_tokens - split);
    const double write_5m = static_cast<double>(usage.cache_creation_5m + unsplit);
    const double write_1h = static_cast<double>(usage.cache_creation_1h);
    const double micro_usd = static_cast<double>(usage.input_tokens) * price.input +
                             static_cast<double>(usage.output_tokens) * price.output +
                             write_5m * price.cache_write_5m + write_1h * price.cache_write_1h +
                             static_cast<double>(usage.cache_read_input_tokens) * price.cache_read;
    return micro_usd / 1e6;
}

}  // namespace qcc::anthropic
