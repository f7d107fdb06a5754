// Output helpers shared by the management commands: aligned tables for people, human units, and
// tolerant readers of the admin API's JSON (a missing or null field reads as empty/zero so that an
// older or newer server never crashes the CLI).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace qcc::cli {

/// A table printed with columns padded to their widest cell (UTF-8 aware), two spaces apart.
class Table {
  public:
    /// `right_aligned[i]` right-aligns column i (numbers); missing entries mean left.
    explicit Table(std::vector<std::string> headers, std::vector<bool> right_aligned = {});
    void add_row(std::vector<std::string> cells);
    /// Prints the header and rows; a trailing `footer` row (e.g. totals) after a blank line.
    void print(std::ostream& out) const;
    void set_footer(std::vector<std::string> cells) { footer_ = std::move(cells); }
    bool empty() const { return rows_.empty(); }

  private:
    void print_row(std::ostream& out, const std::vector<std::string>& cells,
                   const std::vector<std::size_t>& widths) const;
    std::vector<std::string> headers_;
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;
    std::vector<std::string> footer_;
};

/// Display width of UTF-8 text (code points; no East-Asian width handling).
std::size_t display_width(std::string_view s);
/// `s` padded with spaces to `width` columns (left-aligned unless `right`).
std::string pad(std::string_view s, std::size_t width, bool right = false);

/// "850 ms", "12.3 s" (>= 10 s), "-" for negative values (no byte sent).
std::string format_ms(double ms);
/// "987", "12,345", "123.4k" (>= 100,000), "12.35M" (>= 10,000,000).
std::string format_tokens(std::int64_t n);
/// "1,234,567": thousands separators.
std::string format_count(std::int64_t n);
/// "$0.0123": dollars with 4 decimals.
std::string format_usd(double usd);
/// "97.5%": a ratio 0..1 as a percentage with one decimal.
std::string format_percent(double ratio);
/// Local time "2026-11-27 10:15:03" of Unix milliseconds; "-" for 0.
std::string format_time(std::int64_t unix_ms);

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
