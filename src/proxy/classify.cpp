#include "proxy/classify.hpp"

#include <charconv>
#include <ctime>

namespace qcc::proxy {

namespace {
constexpr Verdict kFailNext{EndpointEffect::kFailure, RequestEffect::kNextCandidate, ""};

bool is_billing_error(std::string_view type) {
    return type == "billing_error" || type == "enforced_spend_limit" ||
           type == "spend_limit_error" || type == "insufficient_quota";
}
}  // namespace

Verdict classify_transport(ErrorKind kind, bool reused_connection) {
    switch (kind) {
        case ErrorKind::kStaleConnection:
            return {EndpointEffect::kNone, RequestEffect::kRetryFresh, "stale_connection"};
        case ErrorKind::kConnectionReset:
            // A pooled socket that the upstream had closed: not the endpoint's fault, retry fresh.
            if (reused_connection) {
                return {EndpointEffect::kNone, RequestEffect::kRetryFresh, "stale_connection"};
            }
            return {EndpointEffect::kFailure, RequestEffect::kNextCandidate, "connection_reset"};
        case ErrorKind::kClientDisconnected:
            return {EndpointEffect::kNone, RequestEffect::kCommit, "client_cancelled"};
        case ErrorKind::kLocalOverload:
        case ErrorKind::kLocalResource:
            // QCC's own limits: never the endpoint's fault (no breaker, statistics or weight).
            return {EndpointEffect::kNone, RequestEffect::kNextCandidate, to_string(kind)};
        default: {
            Verdict v = kFailNext;
            v.error_class = to_string(kind);
            return v;
        }
    }
}

Verdict classify_response(int status, std::string_view error_type) {
    if (status >= 200 && status < 300) {
        return {EndpointEffect::kSuccess, RequestEffect::kCommit, ""};
    }
    if (status == 401 || status == 403) {
        return {EndpointEffect::kQuarantine, RequestEffect::kNextCandidate, "auth_failed"};
    }
    if (status == 402 || is_billing_error(error_type)) {
        return {EndpointEffect::kQuarantine, RequestEffect::kNextCandidate, "billing"};
    }
    if (status == 429) {
        return {EndpointEffect::kRateLimited, RequestEffect::kNextCandidate, "rate_limited"};
    }
    if (status == 529 || error_type == "overloaded_error") {
        return {EndpointEffect::kOverloaded, RequestEffect::kNextCandidate, "overloaded"};
    }
    if (status == 408) {
        return {EndpointEffect::kFailure, RequestEffect::kNextCandidate, "upstream_timeout"};
    }
    if (status >= 500) {
        return {EndpointEffect::kFailure, RequestEffect::kNextCandidate, "upstream_5xx"};
    }
    // 400 invalid_request_error, 404, 413, 422 and every other status: the client's business.
    return {EndpointEffect::kNone, RequestEffect::kCommit, status >= 400 ? "client_error" : ""};
}

int status_for_sse_error(std::string_view error_type) {
    if (error_type == "overloaded_error") return 529;
    if (error_type == "rate_limit_error") return 429;
    if (error_type == "authentication_error") return 401;
    if (error_type == "permission_error") return 403;
    if (error_type == "invalid_request_error") return 400;
    if (error_type == "not_found_error") return 404;
    if (error_type == "request_too_large") return 413;
    if (is_billing_error(error_type)) return 402;
    return 500;  // api_error and anything unknown
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s) {
    auto num = [&](std::size_t pos, std::size_t len, int& out) {
        if (pos + len > s.size()) return false;
        auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
        return r.ec == std::errc{} && r.ptr == s.data() + pos + len;
    };
    int y, mo, d, h, mi, sec;
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':') {
        return std::nullopt;
    }
    if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) ||
        !num(17, 2, sec)) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    std::int64_t frac_ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        for (; digits < 3; ++digits) frac_ms *= 10;
    }
    std::int64_t offset_s = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
        int oh, om;
        if (!num(pos + 1, 2, oh) || !num(pos + 4, 2, om)) return std::nullopt;
        offset_s = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        return std::nullopt;
    }
    // Days from civil (Howard Hinnant's algorithm), independent of the local time zone.
    const int yy = y - (mo <= 2);
    const int era = (yy >= 0 ? yy : yy - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(yy - era * 400);
    const unsigned doy = (153 * static_cast<unsigned>(mo + (mo > 2 ? -3 : 9)) + 2) / 5 +
                         static_cast<unsigned>(d) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + doe - 719468;
    const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    return secs * 1000 + frac_ms;
}

std::chrono::milliseconds rate_limit_cooldown(std::string_view retry_after,
                                              std::initializer_list<std::string_view> resets,
                                              std::int64_t now_unix_ms,
                                              std::chrono::milliseconds fallback) {
    using std::chrono::milliseconds;
    if (!retry_after.empty()) {
        double seconds = 0;
        auto r =
            std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
        if (r.ec == std::errc{} && seconds >= 0) {
            return milliseconds(static_cast<std::int64_t>(seconds * 1000));
        }
    }
    std::optional<std::int64_t> earliest;
    for (auto reset : resets) {
        if (auto t = parse_rfc3339_ms(reset); t && *t > now_unix_ms) {
            if (!earliest || *t < *earliest) earliest = *t;
        }
    }
    if (earliest) return milliseconds(*earliest - now_unix_ms);
    return fallback;
}

std::optional<std::int64_t> parse_duration_ms(std::string_view s) {
    if (s.empty()) return std::nullopt;
    double total = 0;
    while (!s.empty()) {
        double value = 0;
        const auto r = std::from_chars(s.data(), s.data() + s.size(), value);
        if (r.ec != std::errc{} || value < 0) return std::nullopt;
        s.remove_prefix(static_cast<std::size_t>(r.ptr - s.data()));
        if (s.starts_with("ms")) {
            total += value;
            s.remove_prefix(2);
        } else if (s.starts_with("h")) {
            total += value * 3'600'000;
            s.remove_prefix(1);
        } else if (s.starts_with("m")) {
            total += value * 60'000;
            s.remove_prefix(1);
        } else if (s.starts_with("s")) {
            total += value * 1000;
            s.remove_prefix(1);
        } else {
            return std::nullopt;
        }
    }
    if (total > 86'400'000.0 * 366) return std::nullopt;
    return static_cast<std::int64_t>(total);
}

std::chrono::milliseconds openai_rate_limit_cooldown(std::string_view retry_after,
                                                     std::string_view reset_requests,
                                                     std::string_view remaining_requests,
                                                     std::string_view reset_tokens,
                                                     std::string_view remaining_tokens,
                                                     std::chrono::milliseconds fallback) {
    using std::chrono::milliseconds;
    const auto from_retry_after = rate_limit_cooldown(retry_after, {}, 0, milliseconds(-1));
    if (from_retry_after.count() >= 0) return from_retry_after;
    const auto requests = parse_duration_ms(reset_requests);
    const auto tokens = parse_duration_ms(reset_tokens);
    std::optional<std::int64_t> chosen;
    const auto take = [&](std::optional<std::int64_t> v, bool later) {
        if (v && (!chosen || (later ? *v > *chosen : *v < *chosen))) chosen = v;
    };
    take(remaining_requests == "0" ? requests : std::nullopt, true);
    take(remaining_tokens == "0" ? tokens : std::nullopt, true);
    if (!chosen) {
        take(requests, false);
        take(tokens, false);
    }
    return chosen ? milliseconds(*chosen) : fallback;
}

}  // namespace qcc::proxy
