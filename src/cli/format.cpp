#include "cli/format.hpp"

#include <cmath>
#include <ctime>
#include <ostream>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace qcc::cli {

namespace json = boost::json;

Table::Table(std::vector<std::string> headers, std::vector<bool> right_aligned)
    : headers_(std::move(headers)), right_(std::move(right_aligned)) {
    right_.resize(headers_.size(), false);
}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(headers_.size());
    rows_.push_back(std::move(cells));
}

void Table::print_row(std::ostream& out, const std::vector<std::string>& cells,
                      const std::vector<std::size_t>& widths) const {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
        const std::string_view cell = i < cells.size() ? std::string_view(cells[i]) : "";
        const bool last = i + 1 == widths.size();
        // No padding after the last left-aligned cell: no trailing blanks in the output.
        line += last && !right_[i] ? std::string(cell) : pad(cell, widths[i], right_[i]);
        if (!last) line += "  ";
    }
    out << line << "\n";
}

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> widths(headers_.size());
    auto measure = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < widths.size() && i < cells.size(); ++i) {
            widths[i] = std::max(widths[i], display_width(cells[i]));
        }
    };
    measure(headers_);
    for (const auto& r : rows_) measure(r);
    measure(footer_);
    print_row(out, headers_, widths);
    for (const auto& r : rows_) print_row(out, r, widths);
    if (!footer_.empty()) print_row(out, footer_, widths);
}

std::size_t display_width(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string pad(std::string_view s, std::size_t width, bool right) {
    const auto w = display_width(s);
    if (w >= width) return std::string(s);
    const std::string fill(width - w, ' ');
    return right ? fill + std::string(s) : std::string(s) + fill;
}

std::string format_ms(double ms) {
    if (ms < 0 || !std::isfinite(ms)) return "-";
    if (ms >= 10'000) return fmt::format("{:.1f} s", ms / 1000);
    return fmt::format("{:.0f} ms", ms);
}

std::string format_count(std::int64_t n) {
    const bool negative = n < 0;
    std::string digits = std::to_string(negative ? -n : n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return negative ? "-" + out : out;
}

std::string format_tokens(std::int64_t n) {
    if (n >= 10'000'000) return fmt::format("{:.2f}M", static_cast<double>(n) / 1e6);
    if (n >= 100'000) return fmt::format("{:.1f}k", static_cast<double>(n) / 1e3);
    return format_count(n);
}

std::string format_usd(double usd) {
    // A real cost below a hundredth of a cent keeps two significant digits, never "$0.0000".
    if (usd > 0 && usd < 0.0001) {
        const int decimals = std::min(10, static_cast<int>(std::ceil(-std::log10(usd))) + 1);
        return fmt::format("${:.{}f}", usd, decimals);
    }
    return fmt::format("${:.4f}", usd);
}

std::string format_percent(double ratio) { return fmt::format("{:.1f}%", ratio * 100); }

std::string format_time(std::int64_t unix_ms) {
    if (unix_ms <= 0) return "-";
    const auto t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string json_str(const json::object& o, std::string_view key, std::string_view fallback) {
    const auto* v = o.if_contains(key);
    if (v != nullptr && v->is_string()) return std::string(v->as_string());
    return std::string(fallback);
}

std::int64_t json_int(const json::object& o, std::string_view key, std::int64_t fallback) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return fallback;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
    return fallback;
}

double json_num(const json::object& o, std::string_view key, double fallback) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) return fallback;
    return v->to_number<double>();
}

bool json_bool(const json::object& o, std::string_view key, bool fallback) {
    const auto* v = o.if_contains(key);
    if (v != nullptr && v->is_bool()) return v->as_bool();
    return fallback;
}

std::string json_time(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return "-";
    if (v->is_string()) return std::string(v->as_string());
    if (v->is_number()) return format_time(v->to_number<std::int64_t>());
    return "-";
}

const json::object& json_obj(const json::object& o, std::string_view key) {
    static const json::object kEmpty;
    const auto* v = o.if_contains(key);
    if (v != nullptr && v->is_object()) return v->as_object();
    return kEmpty;
}

const json::array& json_arr(const json::object& o, std::string_view key) {
    static const json::array kEmpty;
    const auto* v = o.if_contains(key);
    if (v != nullptr && v->is_array()) return v->as_array();
    return kEmpty;
}

}  // namespace qcc::cli
