#include "cli/format.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace qcc::cli {

namespace json = boost::json;

namespace {

// std::cout's own buffer (the process's standard output), taken before anyone can swap it: this
// translation unit includes <iostream>, so std::cout is constructed before this initializer runs.
std::streambuf* const kStdoutBuf = std::cout.rdbuf();

std::atomic<ColorMode> g_color_mode{ColorMode::kAuto};

constexpr std::string_view kReset = "\x1b[0m";

std::string_view sgr(Tone tone) {
    switch (tone) {
        case Tone::kBold:
            return "\x1b[1m";
        case Tone::kDim:
            return "\x1b[2m";
        case Tone::kGood:
            return "\x1b[32m";
        case Tone::kWarn:
            return "\x1b[33m";
        case Tone::kBad:
            return "\x1b[31m";
        case Tone::kPlain:
            break;
    }
    return "";
}

/// Length of the SGR/CSI escape sequence starting at s[i] (0 when there is none).
std::size_t escape_length(std::string_view s, std::size_t i) {
    if (s[i] != '\x1b' || i + 1 >= s.size() || s[i + 1] != '[') return 0;
    for (std::size_t j = i + 2; j < s.size(); ++j) {
        const auto c = static_cast<unsigned char>(s[j]);
        if (c >= 0x40 && c <= 0x7E) return j - i + 1;
    }
    return s.size() - i;
}

/// Bytes of the first `cols` code points of `s` (plain text, no escapes).
std::size_t prefix_bytes(std::string_view s, std::size_t cols) {
    std::size_t i = 0;
    for (std::size_t seen = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == cols) break;
    }
    return i;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// A cell padded to `width` and painted (the padding stays unpainted).
std::string place(std::string_view text, std::size_t width, bool right, bool pad_out, Tone tone,
                  bool color) {
    const auto w = display_width(text);
    const std::string fill = pad_out && w < width ? std::string(width - w, ' ') : "";
    const auto painted = paint(text, tone, color);
    return right ? fill + painted : painted + fill;
}

}  // namespace

// ---- colour ---------------------------------------------------------------------------------

std::optional<ColorMode> parse_color_mode(std::string_view s) {
    if (s == "auto") return ColorMode::kAuto;
    if (s == "always") return ColorMode::kAlways;
    if (s == "never") return ColorMode::kNever;
    return std::nullopt;
}

bool decide_color(ColorMode mode, bool stdout_is_terminal, const char* no_color, const char* term) {
    if (mode != ColorMode::kAuto) return mode == ColorMode::kAlways;
    if (no_color != nullptr && *no_color != '\0') return false;
    if (term != nullptr && std::string_view(term) == "dumb") return false;
    return stdout_is_terminal;
}

bool stdout_is_terminal() {
    return std::cout.rdbuf() == kStdoutBuf && ::isatty(STDOUT_FILENO) != 0;
}

void set_color_mode(ColorMode mode) { g_color_mode = mode; }

bool color_enabled() {
    return decide_color(g_color_mode, stdout_is_terminal(), std::getenv("NO_COLOR"),
                        std::getenv("TERM"));
}

void add_output_flags(CLI::App* cmd, bool& json, const std::string& json_help) {
    set_color_mode(ColorMode::kAuto);
    cmd->add_flag("--json", json, json_help);
    cmd->add_option_function<std::string>(
           "--color", [](const std::string& v) { set_color_mode(*parse_color_mode(v)); },
           "Colour the tables: auto (on a terminal, unless NO_COLOR is set), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
}

std::string paint(std::string_view text, Tone tone, bool color) {
    if (!color || tone == Tone::kPlain || text.empty()) return std::string(text);
    return std::string(sgr(tone)) + std::string(text) + std::string(kReset);
}

Tone state_tone(std::string_view state) {
    auto s = lower(state);
    for (std::string_view prefix : {"breaker ", "breaker_"}) {
        if (s.starts_with(prefix)) s.erase(0, prefix.size());
    }
    const auto end = s.find_first_of(" ,:(");
    const std::string word = s.substr(0, end);
    const bool more = end != std::string::npos;
    if (!word.empty() && std::all_of(word.begin(), word.end(), ::isdigit)) {
        const int status = std::atoi(word.c_str());  // an HTTP status, maybe with an error class
        return status >= 200 && status < 400 && !more ? Tone::kGood : Tone::kBad;
    }
    static const std::pair<std::string_view, Tone> kWords[] = {
        {"ok", Tone::kGood},
        {"closed", Tone::kGood},
        {"close", Tone::kGood},
        {"pass", Tone::kGood},
        {"passed", Tone::kGood},
        {"active", Tone::kGood},
        {"yes", Tone::kGood},
        {"release", Tone::kGood},
        {"released", Tone::kGood},
        {"streams_recovered", Tone::kGood},
        {"cooldown_end", Tone::kGood},
        {"degraded", Tone::kWarn},
        {"half-open", Tone::kWarn},
        {"half_open", Tone::kWarn},
        {"cooldown", Tone::kWarn},
        {"cooldown_start", Tone::kWarn},
        {"cuts", Tone::kWarn},
        {"stream_cut", Tone::kWarn},
        {"timeout", Tone::kWarn},
        {"repin", Tone::kWarn},
        {"open", Tone::kBad},
        {"quarantined", Tone::kBad},
        {"quarantine", Tone::kBad},
        {"failed", Tone::kBad},
        {"fail", Tone::kBad},
        {"error", Tone::kBad},
        {"unavailable", Tone::kBad},
        {"unusable", Tone::kBad},
        {"no", Tone::kBad},
        {"disabled", Tone::kDim},
        {"revoked", Tone::kDim},
        {"-", Tone::kDim},
    };
    for (const auto& [w, tone] : kWords) {
        if (w == word) return tone;
    }
    return Tone::kPlain;
}

// ---- tables ---------------------------------------------------------------------------------

TableStyle stdout_style() {
    TableStyle style;
    style.color = color_enabled();
    winsize ws{};
    if (stdout_is_terminal() && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        style.width = ws.ws_col;
    return style;
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right_aligned) {
    for (std::size_t i = 0; i < headers.size(); ++i) {
        Column c;
        c.header = std::move(headers[i]);
        c.right = i < right_aligned.size() && right_aligned[i];
        columns_.push_back(std::move(c));
    }
}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(columns_.size());
    rows_.push_back(std::move(cells));
}

Table& Table::right_align(std::size_t i) {
    if (i < columns_.size()) columns_[i].right = true;
    return *this;
}

Table& Table::tone_column(std::size_t i, Tone (*tone)(std::string_view)) {
    if (i < columns_.size()) columns_[i].tone = tone;
    return *this;
}

Table& Table::column_width(std::size_t i, std::size_t min, std::size_t max) {
    if (i < columns_.size()) {
        columns_[i].min = min;
        columns_[i].max = max;
    }
    return *this;
}

Table& Table::wrap_to_terminal(std::size_t i) {
    if (i < columns_.size()) columns_[i].wrap = true;
    return *this;
}

std::vector<std::size_t> Table::widths(const TableStyle& style) const {
    std::vector<std::size_t> w(columns_.size());
    auto measure = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < w.size() && i < cells.size(); ++i) {
            w[i] = std::max(w[i], display_width(cells[i]));
        }
    };
    for (const auto& r : rows_) measure(r);
    measure(footer_);
    std::size_t total = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const auto& c = columns_[i];
        if (c.max > 0) w[i] = std::min(w[i], c.max);
        w[i] = std::max({w[i], c.min, display_width(c.header)});
        total += w[i] + (i > 0 ? 2 : 0);
    }
    for (std::size_t i = 0; i < w.size() && style.width > 0 && total > style.width; ++i) {
        if (!columns_[i].wrap) continue;
        // What the other columns leave, but never narrower than its header or 12 columns.
        const auto floor = std::max<std::size_t>(display_width(columns_[i].header), 12);
        const auto cut = std::min(total - style.width, w[i] > floor ? w[i] - floor : 0);
        w[i] -= cut;
        total -= cut;
    }
    return w;
}

std::string Table::line(const std::vector<std::string>& cells,
                        const std::vector<std::size_t>& widths, Tone tone, bool color) const {
    std::string out;
    for (std::size_t i = 0; i < widths.size(); ++i) {
        const auto& c = columns_[i];
        const std::string_view cell = i < cells.size() ? std::string_view(cells[i]) : "";
        const bool last = i + 1 == widths.size();
        const Tone t = tone != Tone::kPlain ? tone
                       : c.tone != nullptr  ? c.tone(cell)
                                            : Tone::kPlain;
        // Only a column with a maximum cuts its cells.
        const auto text = c.max > 0 ? truncate(cell, widths[i]) : std::string(cell);
        if (i > 0) out += "  ";
        // No padding after the last left-aligned cell: no trailing blanks in the output.
        out += place(text, widths[i], c.right, !last || c.right, t, color);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();  // blank cells at the end
    return out;
}

std::string Table::wrapped(const std::vector<std::string>& cells,
                           const std::vector<std::size_t>& widths, Tone tone, bool color) const {
    std::size_t i = 0;
    while (i < columns_.size() && !columns_[i].wrap) ++i;
    if (i == columns_.size() || i >= cells.size()) return line(cells, widths, tone, color) + "\n";
    std::string out;
    auto row = cells;
    for (auto& part : wrap(cells[i], widths[i])) {
        row[i] = std::move(part);
        out += line(row, widths, tone, color) + "\n";
        row.assign(row.size(), "");  // continuation lines: only the wrapped column
    }
    return out;
}

void Table::print(std::ostream& out) const { print(out, stdout_style()); }

void Table::print(std::ostream& out, const TableStyle& style) const {
    const auto w = widths(style);
    std::vector<std::string> headers;
    bool titled = false;  // a table of empty headers (field / value) prints none
    for (const auto& c : columns_) {
        headers.push_back(c.header);
        titled = titled || !c.header.empty();
    }
    if (titled) out << line(headers, w, Tone::kBold, style.color) << "\n";
    for (const auto& r : rows_) out << wrapped(r, w, Tone::kPlain, style.color);
    if (!footer_.empty()) out << wrapped(footer_, w, Tone::kBold, style.color);
}

std::string Table::header_line(const TableStyle& style) const {
    std::vector<std::string> headers;
    for (const auto& c : columns_) headers.push_back(c.header);
    return line(headers, fixed_widths(), Tone::kBold, style.color);
}

std::string Table::row_line(const std::vector<std::string>& cells, const TableStyle& style) const {
    return line(cells, fixed_widths(), Tone::kPlain, style.color);
}

std::vector<std::size_t> Table::fixed_widths() const {
    std::vector<std::size_t> w;
    for (const auto& c : columns_) w.push_back(std::max(c.min, display_width(c.header)));
    return w;
}

// ---- text -----------------------------------------------------------------------------------

std::size_t display_width(std::string_view s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size();) {
        if (const auto esc = escape_length(s, i); esc > 0) {
            i += esc;
            continue;
        }
        n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 ? 1 : 0;
        ++i;
    }
    return n;
}

std::string pad(std::string_view s, std::size_t width, bool right) {
    const auto w = display_width(s);
    if (w >= width) return std::string(s);
    const std::string fill(width - w, ' ');
    return right ? fill + std::string(s) : std::string(s) + fill;
}

std::string truncate(std::string_view s, std::size_t width) {
    if (width == 0 || display_width(s) <= width) return std::string(s);
    return std::string(s.substr(0, prefix_bytes(s, width - 1))) + "…";
}

std::vector<std::string> wrap(std::string_view s, std::size_t width) {
    if (width == 0 || display_width(s) <= width) return {std::string(s)};
    std::vector<std::string> lines;
    std::string current;
    auto flush = [&] {
        if (!current.empty()) lines.push_back(std::move(current));
        current.clear();
    };
    for (std::size_t start = 0; start < s.size();) {
        const auto end = std::min(s.find(' ', start), s.size());
        auto word = s.substr(start, end - start);
        start = end + 1;
        while (display_width(word) > width) {  // longer than a line: split it
            flush();
            const auto n = prefix_bytes(word, width);
            lines.emplace_back(word.substr(0, n));
            word.remove_prefix(n);
        }
        if (word.empty()) continue;
        if (!current.empty() && display_width(current) + 1 + display_width(word) > width) flush();
        if (!current.empty()) current += ' ';
        current += word;
    }
    flush();
    return lines;
}

// ---- numbers --------------------------------------------------------------------------------

std::string format_ms(double ms) {
    if (ms < 0 || !std::isfinite(ms)) return "-";
    if (ms >= 10'000) return fmt::format("{:.1f} s", ms / 1000);
    return fmt::format("{:.0f} ms", ms);
}

std::string format_count(std::int64_t n) {
    if (n < 0) return "-" + format_count(n == INT64_MIN ? INT64_MAX : -n);
    if (n >= 1'000'000) {
        double v = static_cast<double>(n) / 1e6;
        for (const char* unit : {"M", "B", "T"}) {
            if (v < 999.5 || std::string_view(unit) == "T") return fmt::format("{:.3g}{}", v, unit);
            v /= 1000;
        }
    }
    const std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
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

// ---- JSON readers ---------------------------------------------------------------------------

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
