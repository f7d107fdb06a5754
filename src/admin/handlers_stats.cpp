// Admin API: statistics, the request log and session bindings (docs/admin-api.md). Every store
// query runs on the admin pool; the answers are built on the worker afterwards.
#include <algorithm>
#include <charconv>
#include <map>

#include "admin/call.hpp"
#include "admin/json.hpp"
#include "store/store.hpp"

namespace qcc::admin {

namespace {

constexpr std::int64_t kDefaultWindowMs = 24LL * 3'600'000;
constexpr std::int64_t kMaxWindowMs = 3660LL * 86'400'000;  // roll-ups are kept up to 10 years
constexpr std::int64_t kMaxBuckets = 10'000;

std::int64_t span_param(const Call& c, std::string_view key, std::int64_t fallback) {
    const auto text = param(c, key);
    if (!text) return fallback;
    const auto v = parse_span_ms(*text);
    if (!v) {
        bad_request(std::string(key) + ": expected a duration such as 15m, 1h, 24h or 7d, got '" +
                    *text + "'");
    }
    return *v;
}

/// The stats query of GET /api/stats (400 on any bad parameter).
store::StatsQuery stats_query(const Call& c) {
    reject_unknown_params(c, {"window", "from", "to", "by", "bucket"});
    store::StatsQuery q;
    // Windows end exclusively: one past the current millisecond, so a request that started in
    // this millisecond is counted.
    const auto now = system_unix_ms() + 1;
    const bool has_window = param(c, "window").has_value();
    const bool has_from = param(c, "from").has_value();
    const bool has_to = param(c, "to").has_value();
    if (has_window && (has_from || has_to)) bad_request("window: use either window or from/to");
    if (has_to && !has_from) bad_request("from: required with to");
    if (has_from) {
        q.from_unix_ms = int_param(c, "from", 0, 0, INT64_MAX / 2);
        q.to_unix_ms = int_param(c, "to", now, 0, INT64_MAX / 2);
        if (q.from_unix_ms >= q.to_unix_ms) bad_request("from: must be before to");
        if (q.to_unix_ms - q.from_unix_ms > kMaxWindowMs) {
            bad_request("from: the window may span at most 3660 days");
        }
    } else {
        const auto window = span_param(c, "window", kDefaultWindowMs);
        if (window > kMaxWindowMs) bad_request("window: at most 3660d");
        q.to_unix_ms = now;
        q.from_unix_ms = now - window;
    }
    if (auto by = param(c, "by")) {
        auto g = store::parse_group_by(*by);
        if (!g)
            bad_request("by: expected none, endpoint, model, key or session, got '" + *by + "'");
        q.by = *g;
    }
    q.bucket_ms = span_param(c, "bucket", 0);
    if (q.bucket_ms > 0 && (q.to_unix_ms - q.from_unix_ms) / q.bucket_ms > kMaxBuckets) {
        bad_request("bucket: more than " + std::to_string(kMaxBuckets) +
                    " buckets in the window; use a larger bucket");
    }
    return q;
}

std::string text_param(const Call& c, std::string_view key) {
    auto v = param(c, key).value_or("");
    if (v.size() > 256) bad_request(std::string(key) + ": at most 256 characters");
    return v;
}

/// The request-log query of GET /api/requests (400 on any bad parameter).
store::RequestQuery request_query(const Call& c) {
    reject_unknown_params(c, {"limit", "before", "endpoint", "model", "key", "session", "status",
                              "class", "errors", "since", "until"});
    store::RequestQuery q;
    q.limit = static_cast<std::size_t>(int_param(c, "limit", 50, 1, 1000));
    q.before_id = int_param(c, "before", 0, 1, INT64_MAX);
    q.endpoint = text_param(c, "endpoint");
    q.model = text_param(c, "model");
    q.client_key = text_param(c, "key");
    q.session_key = text_param(c, "session");
    q.error_class = text_param(c, "class");
    q.status = static_cast<int>(int_param(c, "status", 0, 100, 599));
    if (auto e = param(c, "errors")) {
        if (*e == "1" || *e == "true") {
            q.errors_only = true;
        } else if (*e != "0" && *e != "false") {
            bad_request("errors: expected 1, 0, true or false");
        }
    }
    q.from_unix_ms = int_param(c, "since", 0, 0, INT64_MAX / 2);
    q.to_unix_ms = int_param(c, "until", 0, 0, INT64_MAX / 2);
    if (q.to_unix_ms != 0 && q.from_unix_ms >= q.to_unix_ms)
        bad_request("since: must be before until");
    return q;
}

}  // namespace

asio::awaitable<Reply> get_stats(Call& c) {
    const auto q = stats_query(c);
    struct Result {
        std::vector<store::StatsRow> rows;
        store::StatsRow totals;
        std::int64_t unauthorized = 0;
    };
    auto work = [ctl = &c.control, q]() {
        auto& st = ctl->store();
        Result r;
        r.rows = st.stats(q);
        r.unauthorized = st.count_unauthorized(q.from_unix_ms, q.to_unix_ms);
        if (q.by == store::GroupBy::kNone && q.bucket_ms == 0) {
            if (!r.rows.empty()) r.totals = r.rows.front();
        } else {
            store::StatsQuery all{q.from_unix_ms, q.to_unix_ms, store::GroupBy::kNone, 0};
            auto total = st.stats(all);
            if (!total.empty()) r.totals = total.front();
        }
        return r;
    };
    const auto result = co_await run_blocking(c.control.admin_pool(), std::move(work));
    json::array rows;
    for (const auto& r : result.rows) rows.push_back(stats_json(r));
    json::object body;
    body["from"] = q.from_unix_ms;
    body["to"] = q.to_unix_ms;
    body["by"] = std::string(store::to_string(q.by));
    body["bucket_ms"] = q.bucket_ms;
    body["rows"] = std::move(rows);
    body["totals"] = stats_json(result.totals);
    // Refused for a missing or wrong client key: never in the rows or totals (nor their ratio).
    body["unauthorized"] = result.unauthorized;
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> list_requests(Call& c) {
    const auto q = request_query(c);
    auto work = [ctl = &c.control, q]() { return ctl->store().query_requests(q); };
    const auto rows = co_await run_blocking(c.control.admin_pool(), std::move(work));
    json::array out;
    for (const auto& r : rows) out.push_back(request_json(r, false));
    json::object body;
    body["requests"] = std::move(out);
    if (!rows.empty() && rows.size() >= q.limit) {
        body["next_before"] = rows.back().id;
    } else {
        body["next_before"] = nullptr;
    }
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> get_request(Call& c) {
    reject_unknown_params(c, {});
    const auto& text = c.params[0];
    std::int64_t id = 0;
    const auto* end = text.data() + text.size();
    auto r = std::from_chars(text.data(), end, id);
    if (r.ec != std::errc{} || r.ptr != end || id <= 0) {
        bad_request("id: expected a positive integer, got '" + text + "'");
    }
    auto work = [ctl = &c.control, id]() {
        auto row = ctl->store().get_request(id);
        if (!row) not_found("no request with id " + std::to_string(id));
        return std::move(*row);
    };
    const auto row = co_await run_blocking(c.control.admin_pool(), std::move(work));
    co_return Reply(request_json(row, true));
}

asio::awaitable<Reply> list_sessions(Call& c) {
    reject_unknown_params(c, {"limit"});
    const auto limit = static_cast<std::size_t>(int_param(c, "limit", 100, 1, 10'000));
    // The snapshot walks every shard of the table: off the worker.
    auto work = [ctl = &c.control]() {
        return ctl->health().affinity().snapshot(ctl->health().unix_ms());
    };
    auto bindings = co_await run_blocking(c.control.admin_pool(), std::move(work));
    // What each session did: its requests in the request log since a day before the oldest
    // binding's last use (a binding idles out after at most the affinity TTL).
    std::int64_t oldest = c.control.health().unix_ms();
    for (const auto& b : bindings) oldest = std::min(oldest, b.last_used_unix_ms);
    store::StatsQuery q;
    q.from_unix_ms = oldest - 24 * 3'600'000LL;
    q.to_unix_ms = c.control.health().unix_ms() + 1;
    q.by = store::GroupBy::kSession;
    auto usage_work = [ctl = &c.control, q]() { return ctl->store().stats(q); };
    std::vector<store::StatsRow> usage;
    if (!bindings.empty()) {
        usage = co_await run_blocking(c.control.admin_pool(), std::move(usage_work));
    }
    std::map<std::string, const store::StatsRow*> by_session;
    for (const auto& row : usage) by_session.emplace(row.group, &row);
    std::map<std::string, std::string> names;  // endpoint id -> name
    // Held for the loop: a snapshot published meanwhile must not free it.
    const auto endpoint_set = c.control.snapshots().endpoints();
    for (const auto& ep : endpoint_set->endpoints) names.emplace(ep->id, ep->cfg.name);
    json::array rows;
    // The snapshot is least recently used first; the answer shows the most recent first.
    for (auto it = bindings.rbegin(); it != bindings.rend() && rows.size() < limit; ++it) {
        json::object row;
        row["session"] = it->session_key;
        auto name = names.find(it->endpoint_id);
        row["endpoint"] = name != names.end() ? name->second : it->endpoint_id;
        row["last_used"] = it->last_used_unix_ms;
        if (const auto u = by_session.find(it->session_key); u != by_session.end()) {
            const auto& st = *u->second;
            row["requests"] = st.count;
            row["input_tokens"] = st.input_tokens;
            row["output_tokens"] = st.output_tokens;
            row["cache_read_tokens"] = st.cache_read_tokens;
            row["cache_creation_tokens"] = st.cache_creation_tokens;
            row["cost_usd"] = st.cost_usd;
            row["failovers"] = st.failovers;
        }
        rows.push_back(std::move(row));
    }
    json::object body;
    body["count"] = bindings.size();
    body["repins"] = c.control.health().counters().repins.load();
    body["sessions"] = std::move(rows);
    co_return Reply(std::move(body));
}

}  // namespace qcc::admin
