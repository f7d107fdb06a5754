#include "admin/json.hpp"

#include <charconv>

#include <boost/json/parse.hpp>

#include "upstream/selector.hpp"

namespace qcc::admin {

namespace {

/// Each attempt of a request row: endpoint and error class (from `tried`), status, start and
/// duration (from `attempt_timings`); an empty array for rows recorded without timings.
boost::json::array attempts_detail(const store::RequestRecord& r) {
    boost::json::array out;
    if (r.attempt_timings.empty()) return out;
    std::string_view tried = r.tried, timings = r.attempt_timings;
    while (!tried.empty() && !timings.empty()) {
        const auto next = [](std::string_view& s) {
            const auto comma = s.find(',');
            const auto item = s.substr(0, comma);
            s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
            return item;
        };
        const auto who = next(tried);
        const auto when = next(timings);
        const auto colon = who.find(':');
        std::int64_t v[3] = {0, 0, 0};
        std::size_t pos = 0;
        for (auto& x : v) {
            const auto slash = when.find('/', pos);
            const auto part =
                when.substr(pos, slash == std::string_view::npos ? when.size() - pos : slash - pos);
            std::from_chars(part.data(), part.data() + part.size(), x);
            pos = slash == std::string_view::npos ? when.size() : slash + 1;
        }
        boost::json::object a;
        a["endpoint"] = who.substr(0, colon);
        a["error_class"] =
            colon == std::string_view::npos ? std::string_view{} : who.substr(colon + 1);
        a["status"] = v[0];
        a["start_ms"] = v[1];
        a["duration_ms"] = v[2];
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace

boost::json::object request_json(const store::RequestRecord& r, bool with_payloads) {
    boost::json::object o;
    o["id"] = r.id;
    o["request_id"] = r.request_id;
    o["ts"] = r.ts_unix_ms;
    o["method"] = r.method;
    o["path"] = r.path;
    o["client_key"] = r.client_key;
    o["session_key"] = r.session_key;
    o["endpoint"] = r.endpoint;
    o["attempts"] = r.attempts;
    o["tried"] = r.tried;
    o["attempts_detail"] = attempts_detail(r);
    o["model_requested"] = r.model_requested;
    o["model_sent"] = r.model_sent;
    o["stream"] = r.stream;
    o["status"] = r.status;
    o["error_class"] = r.error_class;
    o["ttfb_ms"] = r.ttfb_ms;
    o["total_ms"] = r.total_ms;
    o["input_tokens"] = r.input_tokens;
    o["output_tokens"] = r.output_tokens;
    o["cache_creation_tokens"] = r.cache_creation_tokens;
    o["cache_read_tokens"] = r.cache_read_tokens;
    o["cost_usd"] = r.cost_usd;
    o["bytes_in"] = r.bytes_in;
    o["bytes_out"] = r.bytes_out;
    if (with_payloads) {
        o["request_payload"] = r.request_payload;
        o["response_payload"] = r.response_payload;
    }
    return o;
}

boost::json::object stats_json(const store::StatsRow& r) {
    boost::json::object o;
    o["group"] = r.group;
    o["bucket_unix_ms"] = r.bucket_unix_ms;
    o["count"] = r.count;
    o["successes"] = r.successes;
    o["failovers"] = r.failovers;
    o["success_ratio"] = r.success_ratio;
    o["latency_p50_ms"] = r.latency_p50_ms;
    o["latency_p95_ms"] = r.latency_p95_ms;
    o["latency_p99_ms"] = r.latency_p99_ms;
    o["ttfb_p50_ms"] = r.ttfb_p50_ms;
    o["ttfb_p95_ms"] = r.ttfb_p95_ms;
    o["ttfb_p99_ms"] = r.ttfb_p99_ms;
    o["input_tokens"] = r.input_tokens;
    o["output_tokens"] = r.output_tokens;
    o["cache_creation_tokens"] = r.cache_creation_tokens;
    o["cache_read_tokens"] = r.cache_read_tokens;
    o["cost_usd"] = r.cost_usd;
    return o;
}

boost::json::object event_json(const store::EventRecord& e) {
    boost::json::object o;
    o["id"] = e.id;
    o["ts"] = e.ts_unix_ms;
    o["endpoint"] = e.endpoint;
    o["kind"] = e.kind;
    o["detail"] = e.detail;
    return o;
}

boost::json::object event_json(const proxy::StateEvent& e) {
    return event_json(store::EventRecord{0, e.ts_unix_ms, e.endpoint, e.kind, e.detail});
}

boost::json::object check_json(const store::HealthCheckRecord& r) {
    boost::json::object o;
    o["id"] = r.id;
    o["ts"] = r.ts_unix_ms;
    o["endpoint"] = r.endpoint;
    o["method"] = r.method;
    o["result"] = r.result;
    o["valid"] = r.valid;
    o["score"] = r.score;
    o["latency_ms"] = r.latency_ms;
    o["model"] = r.model;
    o["input_tokens"] = r.input_tokens;
    o["output_tokens"] = r.output_tokens;
    o["error"] = r.error;
    return o;
}

boost::json::object endpoint_status_row(control::ControlApi& control,
                                        const upstream::Endpoint& ep) {
    auto& health = control.health();
    const auto now = health.now();
    const auto now_ns = now.time_since_epoch().count();
    const auto policy = control.snapshots().policy();
    const auto& s = *ep.state;
    const auto cooldown_ns = s.cooldown_until_ns.load();
    const auto cooldown_ms = cooldown_ns > now_ns ? (cooldown_ns - now_ns) / 1'000'000 : 0;
    boost::json::object row;
    row["name"] = ep.cfg.name;
    row["kind"] = std::string(config::to_string(ep.cfg.kind));
    row["tier"] = ep.cfg.tier;
    row["enabled"] = ep.cfg.enabled;
    row["usable"] = upstream::is_usable(ep, now);
    row["weight"] = ep.cfg.weight;
    row["effective_weight"] = upstream::effective_weight(ep, now, policy->soft_limit_factor);
    const auto breaker = s.breaker.state(now);
    row["breaker"] = std::string(upstream::to_string(breaker));
    std::int64_t open_left = 0;
    if (breaker == upstream::BreakerState::kOpen) {
        const auto until = s.breaker.opened_at() + s.breaker.open_period();
        open_left = std::max<std::int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count());
    }
    row["breaker_open_ms_left"] = open_left;
    row["cooldown_ms"] = cooldown_ms;
    row["cooldown_reason"] = cooldown_ms > 0 ? s.cooldown_reason() : std::string();
    row["quarantined"] = s.quarantined.load();
    row["quarantine_reason"] = s.quarantine_reason();
    row["in_flight"] = s.in_flight.load();
    row["successes"] = s.successes.load();
    row["failures"] = s.failures.load();
    row["ewma_ttfb_ms"] = s.stats.ewma_ttfb_ms();
    const double adaptive = s.adaptive_weight.load();
    if (adaptive > 0) {
        row["adaptive_weight"] = adaptive;
    } else {
        row["adaptive_weight"] = nullptr;
    }
    auto [last_error, last_error_at] = s.last_error();
    row["last_error"] = std::move(last_error);
    row["last_error_at"] = last_error_at;
    row["success_ratio"] = s.stats.success_ratio_window();
    // Cutting streams: demoted (tried after every other endpoint) for `demoted_ms` more, then on
    // probation until it completes a stream.
    const auto demoted_ns = s.cut_demoted_until_ns.load();
    row["cuts_streams"] = upstream::StreamCuts::cutting(s);
    row["demoted_ms"] = demoted_ns > now_ns ? (demoted_ns - now_ns) / 1'000'000 : 0;
    row["stream_cuts"] = s.stream_cuts.load();
    return row;
}

boost::json::object endpoint_config_json(const config::EndpointConfig& e, std::string api_key) {
    const auto strings = [](const std::vector<std::string>& v) {
        boost::json::array a;
        for (const auto& s : v) a.emplace_back(s);
        return a;
    };
    const auto millis = [](const std::optional<config::Millis>& t) -> boost::json::value {
        if (!t) return nullptr;
        return t->count();
    };
    boost::json::object o;
    o["name"] = e.name;
    o["base_url"] = e.base_url;
    o["api_key"] = std::move(api_key);
    o["kind"] = std::string(config::to_string(e.kind));
    o["auth"] = std::string(config::to_string(e.auth));
    o["tier"] = e.tier;
    o["weight"] = e.weight;
    o["enabled"] = e.enabled;
    o["tls_verify"] = e.tls_verify;
    boost::json::object map;
    for (const auto& [from, to] : e.model_map) map[from] = to;
    o["model_map"] = std::move(map);
    o["tags"] = strings(e.tags);
    o["models"] = strings(e.models);
    o["connect_timeout_ms"] = millis(e.connect_timeout);
    o["first_byte_timeout_ms"] = millis(e.first_byte_timeout);
    o["idle_timeout_ms"] = millis(e.idle_timeout);
    return o;
}

boost::json::value key_limits_value(const store::ClientKeyRecord& k) {
    boost::system::error_code ec;
    auto limits = boost::json::parse(k.limits, ec);
    if (ec || !limits.is_object()) return boost::json::object();
    return limits;
}

}  // namespace qcc::admin
