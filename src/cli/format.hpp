// Output helpers shared by the management commands: one table printer for people (columns padded
// by display width, colour only on a terminal), one number format, and tolerant readers of the
// admin API's JSON (a missing or null field reads as empty/zero so that an older or newer server
// never crashes the CLI).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace CLI {
class App;
}

namespace qcc::cli {

// ---- colour ---------------------------------------------------------------------------------

/// --color: auto (the default), always or never.
enum class ColorMode { kAuto, kAlways, kNever };
/// "auto", "always", "never"; nullopt for anything else.
std::optional<ColorMode> parse_color_mode(std::string_view s);
/// The colour decision: always / never as said; auto = stdout is a terminal, NO_COLOR is unset or
/// empty (https://no-color.org) and TERM is not "dumb". `no_color` / `term` null = unset.
bool decide_color(ColorMode mode, bool stdout_is_terminal, const char* no_color, const char* term);
/// Whether std::cout writes to a terminal (never when std::cout was pointed at another buffer).
bool stdout_is_terminal();
/// This run's --color choice (auto until a command's --color says otherwise).
void set_color_mode(ColorMode mode);
/// decide_color for std::cout, this run's mode and the environment.
bool color_enabled();
/// Adds `--json` (bound to `json`) and `--color WHEN` to `cmd`; resets the mode to auto, so every
/// run starts from the default.
void add_output_flags(CLI::App* cmd, bool& json, const std::string& json_help = "JSON output");

/// How a piece of text is shown on a colour terminal.
enum class Tone { kPlain, kBold, kDim, kGood, kWarn, kBad };
/// `text` in the tone's SGR escape sequence when `color`; unchanged otherwise.
std::string paint(std::string_view text, Tone tone, bool color);
/// The tone of a state word (its first word decides): ok/closed/pass/active/yes good;
/// degraded/half-open/cooldown/cuts warn; open/quarantined/failed/unavailable/fail/error/no bad;
/// disabled/revoked/- dim; anything else (and HTTP statuses: 2xx/3xx good, others bad) by rule.
Tone state_tone(std::string_view state);

// ---- tables ---------------------------------------------------------------------------------

/// Where a table goes: colour on or off, and the terminal's width (0 = unknown / not a terminal).
struct TableStyle {
    bool color = false;
    std::size_t width = 0;
};
/// The style for std::cout (color_enabled(); the terminal's width when it is one).
TableStyle stdout_style();

/// A table printed with columns padded to their widest cell (by display width: UTF-8 code points,
/// colour escapes not counted), two spaces apart; bold headers and coloured state columns when the
/// style says colour. No trailing blanks.
class Table {
  public:
    /// `right_aligned[i]` right-aligns column i (numbers); missing entries mean left.
    explicit Table(std::vector<std::string> headers, std::vector<bool> right_aligned = {});
    void add_row(std::vector<std::string> cells);
    /// A last row (e.g. totals), printed like the header.
    void set_footer(std::vector<std::string> cells) { footer_ = std::move(cells); }
    /// Column `i` is right-aligned (numbers).
    Table& right_align(std::size_t i);
    /// Column `i` holds states (ok, open, quarantined, 200, ...): coloured by state_tone.
    Table& state_column(std::size_t i) { return tone_column(i, state_tone); }
    /// Column `i`'s cells are coloured by `tone` (of the cell's text).
    Table& tone_column(std::size_t i, Tone (*tone)(std::string_view));
    /// Column `i` is at least `min` and at most `max` (0 = no limit) wide; longer cells are cut
    /// and end in "…".
    Table& column_width(std::size_t i, std::size_t min, std::size_t max = 0);
    /// Column `i` (one, the last) wraps its cells at word boundaries into what a terminal of the
    /// style's width leaves for it, so that a row never runs past the terminal's edge.
    Table& wrap_to_terminal(std::size_t i);
    bool empty() const { return rows_.empty(); }

    /// Prints the header (none when every header is ""), the rows and the footer with
    /// stdout_style().
    void print(std::ostream& out) const;
    void print(std::ostream& out, const TableStyle& style) const;
    /// The header / one row laid out with the columns' minimum widths only, for rows printed as
    /// they come (`qcc logs -f`): give every column but the last a fixed width (min == max).
    std::string header_line(const TableStyle& style) const;
    std::string row_line(const std::vector<std::string>& cells, const TableStyle& style) const;

  private:
    struct Column {
        std::string header;
        bool right = false, wrap = false;
        Tone (*tone)(std::string_view) = nullptr;
        std::size_t min = 0, max = 0;
    };
    std::vector<std::size_t> widths(const TableStyle& style) const;
    std::vector<std::size_t> fixed_widths() const;
    std::string line(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths,
                     Tone tone, bool color) const;
    /// One row as one line, or several when its wrapping column's cell is wider than its column.
    std::string wrapped(const std::vector<std::string>& cells,
                        const std::vector<std::size_t>& widths, Tone tone, bool color) const;
    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
    std::vector<std::string> footer_;
};

/// Display width of text: UTF-8 code points, SGR escapes (ESC [ ... m) not counted; no
/// East-Asian width handling.
std::size_t display_width(std::string_view s);
/// `s` padded with spaces to `width` columns (left-aligned unless `right`).
std::string pad(std::string_view s, std::size_t width, bool right = false);
/// `s` cut to at most `width` columns, ending in "…" when cut (`width` 0: unchanged).
std::string truncate(std::string_view s, std::size_t width);
/// `s` in lines of at most `width` columns, broken at spaces (a longer word is split); one line
/// when it fits or `width` is 0.
std::vector<std::string> wrap(std::string_view s, std::size_t width);

// ---- numbers --------------------------------------------------------------------------------

/// "850 ms", "12.3 s" (>= 10 s), "-" for negative values (no byte sent).
std::string format_ms(double ms);
/// Every count the CLI shows (requests, tokens, in flight, ...): exact with thousands separators
/// below a million ("987", "61,820", "999,999"), then three significant digits: "1.23M",
/// "12.3M", "123M", "1.23B". (--json keeps the raw numbers.)
std::string format_count(std::int64_t n);
/// "$0.0123": dollars with 4 decimals (a real cost below $0.0001 keeps two significant digits).
std::string format_usd(double usd);
/// "97.5%": a ratio 0..1 as a percentage with one decimal.
std::string format_percent(double ratio);
/// Local time "2026-11-27 10:15:03" of Unix milliseconds; "-" for 0.
std::string format_time(std::int64_t unix_ms);

// ---- JSON readers ---------------------------------------------------------------------------

/// Field readers: the value at `key` when it has the right type, else the fallback.
std::string json_str(const boost::json::object& o, std::string_view key,
                     std::string_view fallback = "");
std::int64_t json_int(const boost::json::object& o, std::string_view key,
                      std::int64_t fallback = 0);
double json_num(const boost::json::object& o, std::string_view key, double fallback = 0);
bool json_bool(const boost::json::object& o, std::string_view key, bool fallback = false);
/// A time field as the server sends it (Unix ms or text) in format_time's form; "-" if absent.
std::string json_time(const boost::json::object& o, std::string_view key);
/// The object at `key`, or an empty object.
const boost::json::object& json_obj(const boost::json::object& o, std::string_view key);
/// The array at `key`, or an empty array.
const boost::json::array& json_arr(const boost::json::object& o, std::string_view key);

}  // namespace qcc::cli
