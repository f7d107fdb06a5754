// SqlStore, request-log part.
//
// Layout (migration 5): raw rows in request_log, payloads in request_payloads, and hourly roll-ups
// (hour, endpoint, model, client key) in request_rollups, updated in the same transaction as the
// rows they summarize. stats() reads whole hours from the roll-ups and only the partial hours at
// the window's edges from raw rows, so a 24 h summary reads ~1/24 of the rows plus a few thousand
// roll-up rows whatever the traffic.
#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <tuple>
#include <variant>

#include "store/latency_histogram.hpp"
#include "store/sql/sql_store.hpp"

namespace qcc::store::sql {

namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kMinuteMs = 60'000;
// Rows deleted per transaction by cleanup(): small enough that the writer thread, which shares
// the connection's mutex, waits for at most one chunk.
constexpr std::int64_t kCleanupChunk = 5'000;
constexpr std::size_t kMaxRequestPage = 1'000;
// query_requests reads a time range through the ts index (and sorts it) when it holds fewer rows
// than kNarrowTimeRange, or fewer than kSortableTimeRange and fewer than the newer rows an id walk
// would have to skip.
constexpr std::int64_t kNarrowTimeRange = 5'000;
constexpr std::int64_t kSortableTimeRange = 50'000;
// Verbatim the WHERE of the partial index request_log_errors (migration 5): SQLite uses a partial
// index only for queries that repeat its condition.
constexpr const char* kNotSuccessSql = "(status < 200 OR status >= 400 OR error_class IS NOT NULL)";
constexpr const char* kSuccessSql = "(status >= 200 AND status < 400 AND error_class IS NULL)";

// Floor division: bucket and hour starts of any time, also before 1970.
std::int64_t floor_to(std::int64_t t, std::int64_t step) {
    std::int64_t q = t / step;
    if (t % step != 0 && t < 0) --q;
    return q * step;
}

std::int64_t ceil_to(std::int64_t t, std::int64_t step) {
    const std::int64_t f = floor_to(t, step);
    return f == t ? f : f + step;
}

// The sums of one group of requests (a roll-up row, or the raw rows of one stats bucket).
struct RequestTotals {
    std::int64_t count = 0, successes = 0, failovers = 0;
    std::int64_t input_tokens = 0, output_tokens = 0, cache_creation_tokens = 0,
                 cache_read_tokens = 0;
    double cost_usd = 0;
    LatencyHistogram latency, ttfb;

    void add_row(bool success, int attempts, std::int64_t total_ms, std::int64_t ttfb_ms,
                 std::int64_t in, std::int64_t out, std::int64_t cache_creation,
                 std::int64_t cache_read, double cost) {
        ++count;
        if (success) ++successes;
        if (attempts > 1) ++failovers;
        input_tokens += in;
        output_tokens += out;
        cache_creation_tokens += cache_creation;
        cache_read_tokens += cache_read;
        cost_usd += cost;
        latency.add(total_ms);
        if (ttfb_ms >= 0) ttfb.add(ttfb_ms);
    }

    StatsRow to_row(std::string group, std::int64_t bucket) const {
        StatsRow r;
        r.group = std::move(group);
        r.bucket_unix_ms = bucket;
        r.count = count;
        r.successes = successes;
        r.failovers = failovers;
        r.success_ratio =
            count == 0 ? 0 : static_cast<double>(successes) / static_cast<double>(count);
        r.latency_p50_ms = latency.percentile(0.50);
        r.latency_p95_ms = latency.percentile(0.95);
        r.latency_p99_ms = latency.percentile(0.99);
        r.ttfb_p50_ms = ttfb.percentile(0.50);
        r.ttfb_p95_ms = ttfb.percentile(0.95);
        r.ttfb_p99_ms = ttfb.percentile(0.99);
        r.input_tokens = input_tokens;
        r.output_tokens = output_tokens;
        r.cache_creation_tokens = cache_creation_tokens;
        r.cache_read_tokens = cache_read_tokens;
        r.cost_usd = cost_usd;
        return r;
    }
};

// Roll-up row key: hour start, endpoint, model (sent, else requested), client key.
using RollupKey = std::tuple<std::int64_t, std::string, std::string, std::string>;
// Stats row key: bucket start, group.
using StatsKey = std::pair<std::int64_t, std::string>;

// The stats group column of each GroupBy, for request_log and request_rollups. Empty strings are
// stored as NULL in request_log, so COALESCE picks model_requested when nothing was sent.
const char* raw_group_sql(GroupBy by) {
    switch (by) {
        case GroupBy::kNone:
            return "''";
        case GroupBy::kEndpoint:
            return "endpoint";
        case GroupBy::kModel:
            return "COALESCE(model_sent, model_requested)";
        case GroupBy::kClientKey:
            return "client_key";
        case GroupBy::kSession:
            return "session_key";
    }
    return "''";
}

const char* rollup_group_sql(GroupBy by) {
    switch (by) {
        case GroupBy::kEndpoint:
            return "endpoint";
        case GroupBy::kModel:
            return "model";
        case GroupBy::kClientKey:
            return "client_key";
        case GroupBy::kNone:
        case GroupBy::kSession:  // never served from roll-ups
            break;
    }
    return "''";
}

constexpr const char* kRequestColumns =
    "id, ts, request_id, method, path, client_key, session_key, endpoint, attempts, tried, "
    "model_requested, model_sent, stream, status, error_class, ttfb_ms, total_ms, input_tokens, "
    "output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, bytes_in, bytes_out, "
    "attempt_timings";

RequestRecord read_request(const Query& q) {
    RequestRecord r;
    r.id = q.integer(0);
    r.ts_unix_ms = q.integer(1);
    r.request_id = q.text(2);
    r.method = q.text(3);
    r.path = q.text(4);
    r.client_key = q.text(5);
    r.session_key = q.text(6);
    r.endpoint = q.text(7);
    r.attempts = static_cast<int>(q.integer(8));
    r.tried = q.text(9);
    r.model_requested = q.text(10);
    r.model_sent = q.text(11);
    r.stream = q.integer(12) != 0;
    r.status = static_cast<int>(q.integer(13));
    r.error_class = q.text(14);
    r.ttfb_ms = q.is_null(15) ? -1 : q.integer(15);
    r.total_ms = q.integer(16);
    r.input_tokens = q.integer(17);
    r.output_tokens = q.integer(18);
    r.cache_creation_tokens = q.integer(19);
    r.cache_read_tokens = q.integer(20);
    r.cost_usd = q.real(21);
    r.bytes_in = q.integer(22);
    r.bytes_out = q.integer(23);
    r.attempt_timings = q.text(24);
    return r;
}

// Rows with from <= ts < to (0 = unbounded), counting no further than `cap`; reads at most
// `cap` index entries.
std::int64_t count_ts_range(Db& db_, std::int64_t from, std::int64_t to, std::int64_t cap) {
    Query q(db_,
            "SELECT COUNT(*) FROM (SELECT 1 FROM request_log WHERE ts >= ?1 AND ts < ?2 "
            "LIMIT ?3) AS in_range");
    q.bind_int(1, from != 0 ? from : std::numeric_limits<std::int64_t>::min())
        .bind_int(2, to != 0 ? to : std::numeric_limits<std::int64_t>::max())
        .bind_int(3, cap);
    q.step();
    return q.integer(0);
}

// Results are ordered by id. A time range is read through the ts index only when sorting it
// is cheap; otherwise SQLite is made ("+ts": no index for the term) to walk ids backwards
// from the newest and filter, which finds a page at once in recent ranges but must skip
// every row newer than `to` first.
bool use_ts_index(Db& db_, const RequestQuery& rq) {
    if (rq.from_unix_ms == 0 && rq.to_unix_ms == 0) return false;
    const std::int64_t in_range =
        count_ts_range(db_, rq.from_unix_ms, rq.to_unix_ms, kSortableTimeRange);
    if (in_range < kNarrowTimeRange) return true;
    if (in_range >= kSortableTimeRange || rq.to_unix_ms == 0) return false;
    return count_ts_range(db_, rq.to_unix_ms, 0, in_range + 1) > in_range;
}

std::int64_t bucket_of(const StatsQuery& sq, std::int64_t t) {
    return sq.bucket_ms == 0 ? 0 : floor_to(t, sq.bucket_ms);
}

// Adds the raw rows with from <= ts < to to `groups`.
void fold_raw(Db& db_, const StatsQuery& sq, std::int64_t from, std::int64_t to,
              std::map<StatsKey, RequestTotals>& groups) {
    if (from >= to) return;
    Query q(db_,
            std::string("SELECT ts, ") + raw_group_sql(sq.by) + ", CASE WHEN " + kSuccessSql +
                " THEN 1 ELSE 0 END, attempts, total_ms, ttfb_ms, input_tokens, output_tokens, "
                "cache_creation_tokens, cache_read_tokens, cost_usd "
                "FROM request_log WHERE ts >= ?1 AND ts < ?2");
    q.bind_int(1, from).bind_int(2, to);
    StatsKey key;
    RequestTotals* totals = nullptr;
    while (q.step()) {
        const std::int64_t bucket = bucket_of(sq, q.integer(0));
        const std::string_view group = q.bytes(1);
        // Consecutive rows often share a group: skip the map lookup then.
        if (totals == nullptr || key.first != bucket || key.second != group) {
            key = StatsKey(bucket, std::string(group));
            totals = &groups[key];
        }
        totals->add_row(q.integer(2) != 0, static_cast<int>(q.integer(3)), q.integer(4),
                        q.is_null(5) ? -1 : q.integer(5), q.integer(6), q.integer(7), q.integer(8),
                        q.integer(9), q.real(10));
    }
}

// Adds the roll-ups of the hours first_hour <= hour < end_hour to `groups`.
void fold_rollups(Db& db_, const StatsQuery& sq, std::int64_t first_hour, std::int64_t end_hour,
                  std::map<StatsKey, RequestTotals>& groups) {
    Query q(db_, std::string("SELECT hour, ") + rollup_group_sql(sq.by) +
                     ", count, successes, failovers, input_tokens, output_tokens, "
                     "cache_creation_tokens, cache_read_tokens, cost_usd, latency_hist, "
                     "ttfb_hist FROM request_rollups WHERE hour >= ?1 AND hour < ?2");
    q.bind_int(1, first_hour).bind_int(2, end_hour);
    StatsKey key;
    RequestTotals* t = nullptr;
    while (q.step()) {
        const std::int64_t bucket = bucket_of(sq, q.integer(0));
        const std::string_view group = q.bytes(1);
        if (t == nullptr || key.first != bucket || key.second != group) {
            key = StatsKey(bucket, std::string(group));
            t = &groups[key];
        }
        t->count += q.integer(2);
        t->successes += q.integer(3);
        t->failovers += q.integer(4);
        t->input_tokens += q.integer(5);
        t->output_tokens += q.integer(6);
        t->cache_creation_tokens += q.integer(7);
        t->cache_read_tokens += q.integer(8);
        t->cost_usd += q.real(9);
        if (!t->latency.merge_encoded(q.bytes(10)) || !t->ttfb.merge_encoded(q.bytes(11))) {
            db_.fail_data("request_rollups: malformed latency histogram at hour " +
                          std::to_string(q.integer(0)));
        }
    }
}

// Runs `sql` (a DELETE taking the cut-off as ?1 and the chunk size as ?2) in transactions of
// at most kCleanupChunk rows until it deletes fewer; the lock is released between chunks so
// the request writer is never held up for long. Returns the rows deleted.
std::size_t delete_in_chunks(Db& db_, const char* sql, std::int64_t cutoff) {
    std::size_t total = 0;
    while (true) {
        std::lock_guard lock(db_.mu());
        Transaction tx(db_);
        Query q(db_, sql);
        q.bind_int(1, cutoff).bind_int(2, kCleanupChunk).run();
        const auto deleted = db_.changes();
        tx.commit();
        total += static_cast<std::size_t>(deleted);
        if (deleted < kCleanupChunk) return total;
    }
}

// ---- Appending -------------------------------------------------------------------------------

constexpr int kLogColumns = 24;

/// INSERT of `n` request-log rows in one statement; row k binds ?(24k+1) … ?(24k+24), where 24
/// is kLogColumns.
std::string insert_rows_sql(std::size_t n, const char* returning) {
    std::string sql =
        "INSERT INTO request_log (ts, request_id, method, path, client_key, session_key, "
        "endpoint, attempts, tried, model_requested, model_sent, stream, status, error_class, "
        "ttfb_ms, total_ms, input_tokens, output_tokens, cache_creation_tokens, "
        "cache_read_tokens, cost_usd, bytes_in, bytes_out, attempt_timings) VALUES ";
    sql.reserve(sql.size() + n * kLogColumns * 6 + 16);
    for (std::size_t k = 0; k < n; ++k) {
        sql += k == 0 ? "(" : ", (";
        for (int c = 1; c <= kLogColumns; ++c) {
            if (c > 1) sql += ", ";
            sql += '?';
            sql += std::to_string(static_cast<int>(k) * kLogColumns + c);
        }
        sql += ')';
    }
    sql += returning;
    return sql;
}

/// Binds one row's values at parameters base+1 … base+24. The text stays in the caller's rows
/// until the statement has run (bound in place).
void bind_row(Query& q, int base, const RequestRecord& r) {
    q.bind_int(base + 1, r.ts_unix_ms)
        .bind_text_in_place_or_null(base + 2, r.request_id)
        .bind_text_in_place_or_null(base + 3, r.method)
        .bind_text_in_place_or_null(base + 4, r.path)
        .bind_text_in_place_or_null(base + 5, r.client_key)
        .bind_text_in_place_or_null(base + 6, r.session_key)
        .bind_text_in_place_or_null(base + 7, r.endpoint)
        .bind_int(base + 8, r.attempts)
        .bind_text_in_place_or_null(base + 9, r.tried)
        .bind_text_in_place_or_null(base + 10, r.model_requested)
        .bind_text_in_place_or_null(base + 11, r.model_sent)
        .bind_int(base + 12, r.stream ? 1 : 0)
        .bind_int(base + 13, r.status)
        .bind_text_in_place_or_null(base + 14, r.error_class)
        .bind_int(base + 16, r.total_ms)
        .bind_int(base + 17, r.input_tokens)
        .bind_int(base + 18, r.output_tokens)
        .bind_int(base + 19, r.cache_creation_tokens)
        .bind_int(base + 20, r.cache_read_tokens)
        .bind_real(base + 21, r.cost_usd)
        .bind_int(base + 22, r.bytes_in)
        .bind_int(base + 23, r.bytes_out)
        .bind_text_in_place_or_null(base + 24, r.attempt_timings);
    if (r.ttfb_ms >= 0) q.bind_int(base + 15, r.ttfb_ms);  // else NULL: no byte sent
}

}  // namespace

void SqlStore::append_requests(std::vector<RequestRecord>& rows) {
    if (rows.empty()) return;
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    std::vector<std::int64_t> ids;
    ids.reserve(rows.size());
    std::map<RollupKey, RequestTotals> rollups;
    // Rows go in by statements of several rows where the engine allows it: a statement's fixed
    // cost (SQLite opens a cursor on the table and on each index, and ends the statement) is
    // paid once for many rows. Statement sizes are few (max, 8, 1) so they stay prepared.
    const std::size_t most = db_.rows_per_insert();
    for (std::size_t i = 0; i < rows.size();) {
        const std::size_t left = rows.size() - i;
        const std::size_t n = left >= most ? most : left >= 8 ? 8 : 1;
        auto& text = insert_sql_[n];
        if (text.empty()) text = insert_rows_sql(n, db_.returning_id());
        Query insert(db_, text);
        for (std::size_t k = 0; k < n; ++k) {
            bind_row(insert, static_cast<int>(k) * kLogColumns, rows[i + k]);
        }
        insert.insert_rows(db_, n, ids);
        i += n;
    }
    for (const auto& r : rows) {
        const std::string& model = r.model_sent.empty() ? r.model_requested : r.model_sent;
        rollups[RollupKey(floor_to(r.ts_unix_ms, kHourMs), r.endpoint, model, r.client_key)]
            .add_row(is_success(r), r.attempts, r.total_ms, r.ttfb_ms, r.input_tokens,
                     r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens, r.cost_usd);
    }
    {
        Query payload(db_,
                      "INSERT INTO request_payloads (id, ts, request, response) "
                      "VALUES (?1, ?2, ?3, ?4)");
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& r = rows[i];
            if (r.request_payload.empty() && r.response_payload.empty()) continue;
            payload.bind_int(1, ids[i])
                .bind_int(2, r.ts_unix_ms)
                .bind_blob_or_null(3, r.request_payload)
                .bind_blob_or_null(4, r.response_payload)
                .run();
            payload.reset();
        }
    }
    // Each roll-up row is created if missing, then read (locked where writers run concurrently),
    // merged here (the histograms are an encoding of our own) and written back.
    {
        Query create(db_,
                     "INSERT INTO request_rollups (hour, endpoint, model, client_key, count, "
                     "successes, failovers, input_tokens, output_tokens, "
                     "cache_creation_tokens, cache_read_tokens, cost_usd, latency_hist, "
                     "ttfb_hist) VALUES (?1, ?2, ?3, ?4, 0, 0, 0, 0, 0, 0, 0, 0, ?5, ?5) "
                     "ON CONFLICT (hour, endpoint, model, client_key) DO NOTHING");
        Query read(db_, std::string("SELECT latency_hist, ttfb_hist FROM request_rollups WHERE "
                                    "hour = ?1 AND endpoint = ?2 AND model = ?3 AND "
                                    "client_key = ?4") +
                            db_.for_update());
        Query update(db_,
                     "UPDATE request_rollups SET count = count + ?5, "
                     "successes = successes + ?6, failovers = failovers + ?7, "
                     "input_tokens = input_tokens + ?8, output_tokens = output_tokens + ?9, "
                     "cache_creation_tokens = cache_creation_tokens + ?10, "
                     "cache_read_tokens = cache_read_tokens + ?11, cost_usd = cost_usd + ?12, "
                     "latency_hist = ?13, ttfb_hist = ?14 WHERE hour = ?1 AND endpoint = ?2 AND "
                     "model = ?3 AND client_key = ?4");
        const std::string empty_hist = LatencyHistogram().encode();
        for (auto& [key, t] : rollups) {
            const auto& [hour, endpoint, model, client_key] = key;
            create.bind_int(1, hour)
                .bind_text(2, endpoint)
                .bind_text(3, model)
                .bind_text(4, client_key)
                .bind_blob(5, empty_hist)
                .run();
            create.reset();
            read.bind_int(1, hour)
                .bind_text(2, endpoint)
                .bind_text(3, model)
                .bind_text(4, client_key);
            if (!read.step()) db_.fail_data("request_rollups: the row just made is missing");
            if (!t.latency.merge_encoded(read.bytes(0)) || !t.ttfb.merge_encoded(read.bytes(1))) {
                db_.fail_data("request_rollups: malformed latency histogram at hour " +
                              std::to_string(hour));
            }
            read.reset();
            update.bind_int(1, hour)
                .bind_text(2, endpoint)
                .bind_text(3, model)
                .bind_text(4, client_key)
                .bind_int(5, t.count)
                .bind_int(6, t.successes)
                .bind_int(7, t.failovers)
                .bind_int(8, t.input_tokens)
                .bind_int(9, t.output_tokens)
                .bind_int(10, t.cache_creation_tokens)
                .bind_int(11, t.cache_read_tokens)
                .bind_real(12, t.cost_usd)
                .bind_blob(13, t.latency.encode())
                .bind_blob(14, t.ttfb.encode())
                .run();
            update.reset();
        }
    }
    tx.commit();
    // Only now: a batch that failed leaves the records as they were (id 0), ready for a retry.
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i].id = ids[i];
}

std::vector<RequestRecord> SqlStore::query_requests(const RequestQuery& rq) {
    std::lock_guard lock(db_.mu());
    const char* ts = use_ts_index(db_, rq) ? "ts" : "+ts";
    // Each condition refers to its parameter by number, so the model branch below can repeat
    // the filter text in two sub-queries and bind each value once.
    std::vector<std::variant<std::int64_t, std::string>> params;
    std::string where;
    auto param = [&](auto value) {
        params.emplace_back(std::move(value));
        return "?" + std::to_string(params.size());
    };
    auto add = [&](const std::string& condition) {
        where += where.empty() ? "" : " AND ";
        where += condition;
    };
    if (rq.from_unix_ms != 0) add(ts + (" >= " + param(rq.from_unix_ms)));
    if (rq.to_unix_ms != 0) add(ts + (" < " + param(rq.to_unix_ms)));
    if (!rq.endpoint.empty()) add("endpoint = " + param(rq.endpoint));
    if (!rq.client_key.empty()) add("client_key = " + param(rq.client_key));
    if (!rq.session_key.empty()) add("session_key = " + param(rq.session_key));
    if (!rq.error_class.empty()) add("error_class = " + param(rq.error_class));
    if (rq.status != 0) add("status = " + param(std::int64_t{rq.status}));
    // A filter that implies "failed" also names the failure condition, so that the partial
    // index of failed requests can serve it.
    const bool failed_only = rq.errors_only || !rq.error_class.empty() ||
                             (rq.status != 0 && (rq.status < 200 || rq.status >= 400));
    if (failed_only) add(kNotSuccessSql);
    if (rq.before_id != 0) add("id < " + param(rq.before_id));
    const std::string limit =
        param(static_cast<std::int64_t>(std::clamp<std::size_t>(rq.limit, 1, kMaxRequestPage)));

    // The page's ids are chosen first, from indexes alone where they cover the filters (and
    // only integers are sorted); the full rows are read for those ids only.
    auto newest_ids = [&](const std::string& condition) {
        return "SELECT id FROM request_log WHERE " + condition + " ORDER BY id DESC LIMIT " + limit;
    };
    std::string ids;
    if (rq.model.empty()) {
        ids = newest_ids(where.empty() ? "1 = 1" : where);
    } else {
        // "model_sent = ? OR model_requested = ?" would make SQLite sort every match; the
        // newest `limit` ids of the union are among the newest `limit` of each side, and
        // each side walks its own index backwards.
        const std::string model = param(rq.model);
        const std::string rest = where.empty() ? "" : " AND " + where;
        ids = "SELECT id FROM (" + newest_ids("model_sent = " + model + rest) +
              ") AS by_sent UNION ALL SELECT id FROM (" +
              newest_ids("model_requested = " + model + rest) + ") AS by_requested";
    }
    const std::string sql = std::string("SELECT ") + kRequestColumns +
                            " FROM request_log WHERE id IN (" + ids + ") ORDER BY id DESC LIMIT " +
                            limit;

    Query q(db_, sql);
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int index = static_cast<int>(i + 1);
        if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
            q.bind_int(index, *v);
        } else {
            q.bind_text(index, std::get<std::string>(params[i]));
        }
    }
    std::vector<RequestRecord> out;
    while (q.step()) out.push_back(read_request(q));
    return out;
}

std::optional<RequestRecord> SqlStore::get_request(std::int64_t id) {
    std::lock_guard lock(db_.mu());
    std::optional<RequestRecord> out;
    {
        Query q(db_, std::string("SELECT ") + kRequestColumns + " FROM request_log WHERE id = ?1");
        if (!q.bind_int(1, id).step()) return std::nullopt;
        out = read_request(q);
    }
    Query p(db_, "SELECT request, response FROM request_payloads WHERE id = ?1");
    if (p.bind_int(1, id).step()) {
        out->request_payload = std::string(p.bytes(0));
        out->response_payload = std::string(p.bytes(1));
    }
    return out;
}

std::vector<StatsRow> SqlStore::stats(const StatsQuery& sq) {
    if (sq.bucket_ms < 0) {
        throw std::invalid_argument("stats: bucket_ms must not be negative");
    }
    if (sq.to_unix_ms <= sq.from_unix_ms) return {};
    std::map<StatsKey, RequestTotals> groups;
    {
        std::lock_guard lock(db_.mu());
        ReadTransaction snapshot(db_);  // roll-ups and raw rows from one state
        const std::int64_t first_hour = ceil_to(sq.from_unix_ms, kHourMs);
        const std::int64_t end_hour = floor_to(sq.to_unix_ms, kHourMs);
        const bool rollups =
            sq.by != GroupBy::kSession && sq.bucket_ms % kHourMs == 0 && first_hour < end_hour;
        if (rollups) {
            fold_raw(db_, sq, sq.from_unix_ms, first_hour, groups);
            fold_rollups(db_, sq, first_hour, end_hour, groups);
            fold_raw(db_, sq, end_hour, sq.to_unix_ms, groups);
        } else {
            fold_raw(db_, sq, sq.from_unix_ms, sq.to_unix_ms, groups);
        }
    }
    std::vector<StatsRow> out;
    out.reserve(groups.size());
    for (const auto& [key, totals] : groups) out.push_back(totals.to_row(key.second, key.first));
    return out;
}

CleanupResult SqlStore::cleanup(std::int64_t now_unix_ms, const RetentionPolicy& p) {
    CleanupResult result;
    // A payload never outlives its request row.
    std::int64_t payload_keep = 0;
    for (const std::int64_t keep : {p.payloads_ms, p.requests_ms}) {
        if (keep > 0 && (payload_keep == 0 || keep < payload_keep)) payload_keep = keep;
    }
    if (payload_keep > 0) {
        result.payloads =
            delete_in_chunks(db_,
                             "DELETE FROM request_payloads WHERE id IN "
                             "(SELECT id FROM request_payloads WHERE ts < ?1 LIMIT ?2)",
                             now_unix_ms - payload_keep);
    }
    if (p.requests_ms > 0) {
        result.requests = delete_in_chunks(db_,
                                           "DELETE FROM request_log WHERE id IN "
                                           "(SELECT id FROM request_log WHERE ts < ?1 LIMIT ?2)",
                                           now_unix_ms - p.requests_ms);
    }
    if (p.rollups_ms > 0) {
        // Only hours that ended by the cut-off: a roll-up is all or nothing.
        result.rollups = delete_in_chunks(
            db_,
            "DELETE FROM request_rollups WHERE (hour, endpoint, model, client_key) IN "
            "(SELECT hour, endpoint, model, client_key FROM request_rollups "
            "WHERE hour < ?1 LIMIT ?2)",
            now_unix_ms - p.rollups_ms - kHourMs + 1);
    }
    if (p.rollups_ms > 0) {
        delete_in_chunks(db_,
                         "DELETE FROM unauthorized_minutes WHERE minute IN "
                         "(SELECT minute FROM unauthorized_minutes WHERE minute < ?1 LIMIT ?2)",
                         now_unix_ms - p.rollups_ms - kMinuteMs + 1);
    }
    // Shared resilience signals matter for seconds; an instance silent for a day is gone.
    delete_in_chunks(db_,
                     "DELETE FROM endpoint_signals WHERE id IN "
                     "(SELECT id FROM endpoint_signals WHERE ts < ?1 LIMIT ?2)",
                     now_unix_ms - kHourMs);
    delete_in_chunks(db_,
                     "DELETE FROM instances WHERE id IN "
                     "(SELECT id FROM instances WHERE heartbeat_at < ?1 LIMIT ?2)",
                     now_unix_ms - 24 * kHourMs);
    std::lock_guard lock(db_.mu());
    db_.reclaim_space();
    return result;
}

std::int64_t SqlStore::count_requests() {
    std::lock_guard lock(db_.mu());
    Query q(db_, "SELECT COUNT(*) FROM request_log");
    q.step();
    return q.integer(0);
}

void SqlStore::add_unauthorized(std::int64_t unix_ms, std::int64_t n) {
    if (n <= 0) return;
    std::lock_guard lock(db_.mu());
    Query(db_,
          "INSERT INTO unauthorized_minutes (minute, count) VALUES (?1, ?2) "
          "ON CONFLICT (minute) DO UPDATE SET count = unauthorized_minutes.count + excluded.count")
        .bind_int(1, floor_to(unix_ms, kMinuteMs))
        .bind_int(2, n)
        .run();
}

std::int64_t SqlStore::count_unauthorized(std::int64_t from_unix_ms, std::int64_t to_unix_ms) {
    std::lock_guard lock(db_.mu());
    Query q(db_,
            "SELECT COALESCE(SUM(count), 0) FROM unauthorized_minutes "
            "WHERE minute >= ?1 AND minute < ?2");
    q.bind_int(1, floor_to(from_unix_ms, kMinuteMs)).bind_int(2, to_unix_ms);
    q.step();
    return q.integer(0);
}

}  // namespace qcc::store::sql
