#include "proxy/key_limits.hpp"

#include <chrono>
#include <cmath>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace qcc::proxy {

namespace json = boost::json;

namespace {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kDayMs = 86'400'000;
constexpr double kMicro = 1e6;
constexpr double kWarnShare = 0.8;

std::int64_t micro(double usd) { return static_cast<std::int64_t>(std::llround(usd * kMicro)); }

// "$10.00", "$0.0042": cents for amounts of a dollar or more, four significant digits below.
std::string usd(double v) {
    return v >= 1 || v == 0 ? fmt::format("${:.2f}", v) : fmt::format("${:.4g}", v);
}

std::int64_t seconds_until(std::int64_t end_ms, std::int64_t now_ms) {
    return std::max<std::int64_t>(1, (end_ms - now_ms + 999) / 1000);
}

// "tiers": [1, 2] / "endpoints": ["a", "b"] (null or []: every one).
bool parse_allowed(const std::string& field, const json::value& v, KeyLimits& l,
                   std::string* error) {
    if (v.is_null()) return true;
    if (!v.is_array()) {
        *error = field + ": expected a list (null or []: every " +
                 (field == "tiers" ? "tier" : "endpoint") + ")";
        return false;
    }
    for (const auto& item : v.as_array()) {
        if (field == "tiers") {
            if (!item.is_int64() || item.as_int64() < 1 || item.as_int64() > 100) {
                *error = "tiers: expected tier numbers between 1 and 100";
                return false;
            }
            l.tiers.push_back(static_cast<int>(item.as_int64()));
        } else {
            if (!item.is_string() || item.as_string().empty() || item.as_string().size() > 64) {
                *error = "endpoints: expected endpoint names";
                return false;
            }
            l.endpoints.emplace_back(item.as_string());
        }
    }
    return true;
}

}  // namespace

std::int64_t KeyMeter::Window::add(std::int64_t period, std::int64_t delta) {
    auto seen = start.load(std::memory_order_acquire);
    if (seen < period && start.compare_exchange_strong(seen, period, std::memory_order_acq_rel)) {
        value.store(0, std::memory_order_release);
    }
    if (start.load(std::memory_order_acquire) > period) return 0;  // a stale caller
    return value.fetch_add(delta, std::memory_order_acq_rel) + delta;
}

std::int64_t KeyMeter::Window::get(std::int64_t period) const {
    return start.load(std::memory_order_acquire) == period ? value.load(std::memory_order_acquire)
                                                           : 0;
}

std::int64_t KeyMeter::minute_start(std::int64_t unix_ms) { return unix_ms - unix_ms % kMinuteMs; }
std::int64_t KeyMeter::day_start(std::int64_t unix_ms) { return unix_ms - unix_ms % kDayMs; }

std::int64_t KeyMeter::month_start(std::int64_t unix_ms) {
    using namespace std::chrono;
    const year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(unix_ms)))};
    const sys_days first{ymd.year() / ymd.month() / 1};
    return duration_cast<milliseconds>(first.time_since_epoch()).count();
}

std::int64_t KeyMeter::next_month_start(std::int64_t unix_ms) {
    using namespace std::chrono;
    const year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(unix_ms)))};
    const sys_days first{(ymd.year() / ymd.month() / 1) + months(1)};
    return duration_cast<milliseconds>(first.time_since_epoch()).count();
}

std::optional<KeyRefusal> KeyMeter::admit(std::string_view name, const KeyLimits& limits,
                                          std::int64_t now) {
    const auto month = month_start(now), day = day_start(now), minute = minute_start(now);
    if (limits.budget_monthly_usd > 0 &&
        month_micro_usd_.get(month) >= micro(limits.budget_monthly_usd)) {
        return KeyRefusal{fmt::format("client key {} has spent {} of its monthly budget of {}; "
                                      "the budget starts again on the 1st (UTC)",
                                      name, usd(month_micro_usd_.get(month) / kMicro),
                                      usd(limits.budget_monthly_usd)),
                          seconds_until(next_month_start(now), now), true};
    }
    if (limits.budget_daily_usd > 0 && day_micro_usd_.get(day) >= micro(limits.budget_daily_usd)) {
        return KeyRefusal{
            fmt::format("client key {} has spent {} of its daily budget of {}; the "
                        "budget starts again at 00:00 UTC",
                        name, usd(day_micro_usd_.get(day) / kMicro), usd(limits.budget_daily_usd)),
            seconds_until(day + kDayMs, now), true};
    }
    if (limits.tokens_per_minute > 0 && tokens_.get(minute) >= share(limits.tokens_per_minute)) {
        return KeyRefusal{
            fmt::format("client key {} used its {} tokens per minute{}", name,
                        limits.tokens_per_minute, fleet_note(limits.tokens_per_minute)),
            seconds_until(minute + kMinuteMs, now), false};
    }
    if (limits.requests_per_minute > 0) {
        if (requests_.add(minute, 1) > share(limits.requests_per_minute)) {
            requests_.add(minute, -1);  // a refused request does not count
            return KeyRefusal{
                fmt::format("client key {} is limited to {} requests per minute{}", name,
                            limits.requests_per_minute, fleet_note(limits.requests_per_minute)),
                seconds_until(minute + kMinuteMs, now), false};
        }
    } else {
        requests_.add(minute, 1);
    }
    return std::nullopt;
}

std::string_view KeyMeter::add_usage(const KeyLimits& limits, std::int64_t tokens, double cost_usd,
                                     std::int64_t now) {
    if (tokens > 0) tokens_.add(minute_start(now), tokens);
    const auto delta = micro(cost_usd);
    if (delta <= 0) return {};
    const auto day = day_micro_usd_.add(day_start(now), delta);
    const auto month = month_micro_usd_.add(month_start(now), delta);
    const auto crossed = [&](double budget, std::int64_t after) {
        const auto threshold = micro(budget * kWarnShare);
        return budget > 0 && after >= threshold && after - delta < threshold;
    };
    if (crossed(limits.budget_monthly_usd, month)) return "monthly";
    if (crossed(limits.budget_daily_usd, day)) return "daily";
    return {};
}

void KeyMeter::seed_spend(double today_usd, double this_month_usd, std::int64_t now) {
    day_micro_usd_.add(day_start(now), micro(today_usd));
    month_micro_usd_.add(month_start(now), micro(this_month_usd));
}

void KeyMeter::raise_spend(double today_usd, double this_month_usd, std::int64_t now) {
    const auto day = day_start(now), month = month_start(now);
    if (const auto more = micro(today_usd) - day_micro_usd_.get(day); more > 0) {
        day_micro_usd_.add(day, more);
    }
    if (const auto more = micro(this_month_usd) - month_micro_usd_.get(month); more > 0) {
        month_micro_usd_.add(month, more);
    }
}

std::int64_t KeyMeter::share(std::int64_t limit) const {
    const std::int64_t n = fleet_.load(std::memory_order_relaxed);
    return n <= 1 ? limit : (limit + n - 1) / n;
}

std::string KeyMeter::fleet_note(std::int64_t limit) const {
    const int n = fleet_size();
    return n <= 1 ? std::string() : fmt::format(" ({} on each of {} instances)", share(limit), n);
}

KeyUsage KeyMeter::usage(std::int64_t now) const {
    return KeyUsage{requests_.get(minute_start(now)), tokens_.get(minute_start(now)),
                    day_micro_usd_.get(day_start(now)) / kMicro,
                    month_micro_usd_.get(month_start(now)) / kMicro};
}

std::string key_limits_json(const KeyLimits& l) {
    json::object o;
    if (l.requests_per_minute > 0) o["requests_per_minute"] = l.requests_per_minute;
    if (l.tokens_per_minute > 0) o["tokens_per_minute"] = l.tokens_per_minute;
    if (l.budget_daily_usd > 0) o["budget_daily_usd"] = l.budget_daily_usd;
    if (l.budget_monthly_usd > 0) o["budget_monthly_usd"] = l.budget_monthly_usd;
    if (!l.tiers.empty()) o["tiers"] = json::value_from(l.tiers);
    if (!l.endpoints.empty()) o["endpoints"] = json::value_from(l.endpoints);
    return json::serialize(o);
}

std::optional<KeyLimits> parse_key_limits(std::string_view text, std::string* error) {
    boost::system::error_code ec;
    const auto doc = json::parse(text, ec);
    if (ec || !doc.is_object()) {
        *error = "limits: expected a JSON object";
        return std::nullopt;
    }
    KeyLimits l;
    for (const auto& [key, v] : doc.as_object()) {
        const std::string field(key);
        if (field == "tiers" || field == "endpoints") {
            if (!parse_allowed(field, v, l, error)) return std::nullopt;
            continue;
        }
        const bool count = field == "requests_per_minute" || field == "tokens_per_minute";
        const bool money = field == "budget_daily_usd" || field == "budget_monthly_usd";
        if (!count && !money) {
            *error = "limits: unknown field '" + field +
                     "' (allowed: requests_per_minute, tokens_per_minute, budget_daily_usd, "
                     "budget_monthly_usd, tiers, endpoints)";
            return std::nullopt;
        }
        if (v.is_null()) continue;
        if (count && !v.is_int64() && !v.is_uint64()) {
            *error = field + ": expected a whole number (0 or null: no limit)";
            return std::nullopt;
        }
        if (money && !v.is_number()) {
            *error = field + ": expected an amount in USD (0 or null: no budget)";
            return std::nullopt;
        }
        const double d = v.to_number<double>();
        if (!std::isfinite(d) || d < 0 || d > 1e12) {
            *error = field + ": must be between 0 and 1000000000000";
            return std::nullopt;
        }
        if (field == "requests_per_minute") l.requests_per_minute = static_cast<std::int64_t>(d);
        if (field == "tokens_per_minute") l.tokens_per_minute = static_cast<std::int64_t>(d);
        if (field == "budget_daily_usd") l.budget_daily_usd = d;
        if (field == "budget_monthly_usd") l.budget_monthly_usd = d;
    }
    return l;
}

}  // namespace qcc::proxy
