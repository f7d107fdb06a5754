// The request log of the store (SPEC §11), on every backend: rows, payloads, filters and paging,
// statistics from roll-ups and raw rows (checked against a brute-force computation), retention.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "backends.hpp"
#include "legacy_db.hpp"
#include "store/latency_histogram.hpp"
#include "store/store.hpp"
#include "temp_db.hpp"

namespace qcc::store {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;
// An hour boundary well after 1970 (2023-11-14 22:00 UTC).
constexpr std::int64_t kH0 = 1'700'000'000'000 / kHour * kHour;

class RequestLogTest : public testing::BackendTest {};
QCC_INSTANTIATE_BACKENDS(RequestLogTest);

// SQLite only: auto_vacuum and upgrades of files older builds left.
class SqliteRequestLogTest : public testing::TempDbTest {};

RequestRecord full_record() {
    RequestRecord r;
    r.request_id = "req-0123456789";
    r.ts_unix_ms = kH0 + 1234;
    r.method = "POST";
    r.path = "/v1/messages";
    r.client_key = "me";
    r.session_key = "sess-1";
    r.endpoint = "relay-a";
    r.attempts = 2;
    r.tried = "relay-b:overloaded,relay-a";
    r.model_requested = "claude-sonnet-4-5";
    r.model_sent = "claude-sonnet-4-5-20250929";
    r.stream = true;
    r.status = 200;
    r.error_class = "";
    r.ttfb_ms = 812;
    r.total_ms = 9'876;
    r.input_tokens = 1'000'000'000'001;  // beyond 32 bits
    r.output_tokens = 2'345;
    r.cache_creation_tokens = 17;
    r.cache_read_tokens = 99'000;
    r.cost_usd = 0.123456789;
    r.bytes_in = 123'456;
    r.bytes_out = 654'321;
    r.request_payload = std::string("{\"model\":\"x\",\"bin\":\"\0\xff\"}", 25);
    r.response_payload = "event: message_start\ndata: {}\n\n";
    return r;
}

RequestRecord without_payloads(RequestRecord r) {
    r.request_payload.clear();
    r.response_payload.clear();
    return r;
}

std::vector<std::int64_t> ids_of(const std::vector<RequestRecord>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

TEST_P(RequestLogTest, AppendRoundTripsEveryFieldAndPayloads) {
    auto store = open();
    RequestRecord minimal;  // every field at its "none" value
    minimal.ts_unix_ms = kH0 + 5;
    std::vector<RequestRecord> rows{full_record(), minimal};
    store->append_requests(rows);
    ASSERT_GT(rows[0].id, 0);
    EXPECT_GT(rows[1].id, rows[0].id);
    EXPECT_EQ(store->count_requests(), 2);

    EXPECT_EQ(store->get_request(rows[0].id), rows[0]);
    EXPECT_EQ(store->get_request(rows[1].id), rows[1]);
    EXPECT_EQ(store->get_request(rows[1].id)->ttfb_ms, -1);
    EXPECT_FALSE(store->get_request(rows[1].id + 100).has_value());

    // Listing leaves payloads out; newest first.
    const auto listed = store->query_requests({});
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0], rows[1]);
    EXPECT_EQ(listed[1], without_payloads(rows[0]));
    // Only captured payloads take a row in the payload table.
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM request_payloads"), "1");

    // A row with just one payload keeps the other one empty.
    std::vector<RequestRecord> one{minimal};
    one[0].response_payload = "only the response";
    store->append_requests(one);
    EXPECT_EQ(store->get_request(one[0].id), one[0]);
}

// A batch goes in by multi-row statements where the engine allows (32, 8, then single rows on
// SQLite): every row must still get its own id, in order, with its own fields and payloads.
TEST_P(RequestLogTest, ABigBatchGivesEveryRowItsOwnIdFieldsAndPayloads) {
    auto store = open();
    std::vector<RequestRecord> rows;
    for (int i = 0; i < 77; ++i) {  // 2×32 + 8 + 5×1
        RequestRecord r = i % 3 == 0 ? full_record() : RequestRecord{};
        r.ts_unix_ms = kH0 + i;
        r.request_id = "req-" + std::to_string(i);
        r.endpoint = i % 2 == 0 ? "even" : "odd";
        r.status = 200 + i;
        r.ttfb_ms = i % 5 == 0 ? -1 : i;
        if (i % 7 == 0) r.request_payload = "payload of " + std::to_string(i);
        rows.push_back(r);
    }
    store->append_requests(rows);
    for (std::size_t i = 1; i < rows.size(); ++i) {
        ASSERT_GT(rows[i].id, rows[i - 1].id) << "row " << i;
    }
    for (const auto& r : rows) {
        const auto got = store->get_request(r.id);
        ASSERT_TRUE(got.has_value()) << r.request_id;
        EXPECT_EQ(*got, r) << r.request_id;
    }
    EXPECT_EQ(store->count_requests(), 77);
    std::size_t with_payload = 0;
    for (const auto& r : rows) with_payload += r.request_payload.empty() ? 0 : 1;
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM request_payloads"), std::to_string(with_payload));
    // A second batch continues after the first.
    std::vector<RequestRecord> more{full_record()};
    store->append_requests(more);
    EXPECT_GT(more[0].id, rows.back().id);
}

TEST_P(RequestLogTest, AppendNothingIsANoOp) {
    auto store = open_scratch();
    std::vector<RequestRecord> none;
    store->append_requests(none);
    EXPECT_EQ(store->count_requests(), 0);
}

TEST_P(RequestLogTest, RowsSurviveReopeningTheFile) {
    std::vector<RequestRecord> rows{full_record()};
    { open()->append_requests(rows); }
    auto store = open();
    EXPECT_EQ(store->count_requests(), 1);
    EXPECT_EQ(store->get_request(rows[0].id), rows[0]);
    const auto stats = store->stats({kH0, kH0 + kHour, GroupBy::kNone, 0});
    ASSERT_EQ(stats.size(), 1u);
    EXPECT_EQ(stats[0].count, 1);
}

// --- Filters and paging, against a brute-force filter over the same rows ---

bool matches(const RequestRecord& r, const RequestQuery& q) {
    if (q.from_unix_ms != 0 && r.ts_unix_ms < q.from_unix_ms) return false;
    if (q.to_unix_ms != 0 && r.ts_unix_ms >= q.to_unix_ms) return false;
    if (!q.endpoint.empty() && r.endpoint != q.endpoint) return false;
    if (!q.model.empty() && r.model_requested != q.model && r.model_sent != q.model) return false;
    if (!q.client_key.empty() && r.client_key != q.client_key) return false;
    if (!q.session_key.empty() && r.session_key != q.session_key) return false;
    if (!q.error_class.empty() && r.error_class != q.error_class) return false;
    if (q.status != 0 && r.status != q.status) return false;
    if (q.errors_only && is_success(r)) return false;
    if (q.before_id != 0 && r.id >= q.before_id) return false;
    return true;
}

std::vector<std::int64_t> expected_ids(const std::vector<RequestRecord>& all,
                                       const RequestQuery& q) {
    std::vector<std::int64_t> out;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (matches(*it, q)) out.push_back(it->id);
    }
    if (out.size() > q.limit) out.resize(q.limit);
    return out;
}

std::vector<RequestRecord> varied_rows(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](const std::vector<std::string>& options) {
        return options[rng() % options.size()];
    };
    std::vector<RequestRecord> rows;
    for (std::size_t i = 0; i < n; ++i) {
        RequestRecord r;
        r.request_id = "r" + std::to_string(i);
        r.ts_unix_ms = kH0 + static_cast<std::int64_t>(rng() % (5 * kHour));
        r.endpoint = pick({"a", "b", "c", ""});
        r.client_key = pick({"k1", "k2", ""});
        r.session_key = pick({"s1", "s2", "s3", ""});
        r.model_requested = pick({"sonnet", "opus", "haiku"});
        // Sometimes mapped to another model, sometimes nothing was sent.
        r.model_sent = pick({r.model_requested, r.model_requested, "opus-mapped", ""});
        r.status = std::stoi(pick({"200", "200", "200", "429", "529", "500", "0", "302"}));
        r.error_class = r.status == 200 && rng() % 10 != 0
                            ? ""
                            : pick({"", "rate_limited", "overloaded", "client_gone"});
        r.attempts = 1 + static_cast<int>(rng() % 3);
        r.total_ms = static_cast<std::int64_t>(rng() % 200'000);
        r.ttfb_ms = rng() % 5 == 0 ? -1 : static_cast<std::int64_t>(rng() % 30'000);
        r.input_tokens = static_cast<std::int64_t>(rng() % 10'000);
        r.output_tokens = static_cast<std::int64_t>(rng() % 5'000);
        r.cache_creation_tokens = static_cast<std::int64_t>(rng() % 700);
        r.cache_read_tokens = static_cast<std::int64_t>(rng() % 90'000);
        // Multiples of 2^-20: every sum is exact in a double, whatever the order.
        r.cost_usd = static_cast<double>(rng() % 100'000) / 1'048'576.0;
        rows.push_back(std::move(r));
    }
    return rows;
}

TEST_P(RequestLogTest, EveryFilterMatchesABruteForceFilter) {
    auto store = open();
    auto rows = varied_rows(600, 11);
    store->append_requests(rows);

    std::vector<std::pair<std::string, RequestQuery>> queries;
    auto add = [&](std::string name, auto&& set) {
        RequestQuery q;
        q.limit = 1000;
        set(q);
        queries.emplace_back(std::move(name), q);
    };
    add("all", [](RequestQuery&) {});
    add("from", [](RequestQuery& q) { q.from_unix_ms = kH0 + 2 * kHour; });
    add("to", [](RequestQuery& q) { q.to_unix_ms = kH0 + kHour + 17; });
    add("from+to", [](RequestQuery& q) {
        q.from_unix_ms = kH0 + kHour;
        q.to_unix_ms = kH0 + 3 * kHour;
    });
    add("endpoint", [](RequestQuery& q) { q.endpoint = "b"; });
    add("model requested", [](RequestQuery& q) { q.model = "haiku"; });
    add("model sent only", [](RequestQuery& q) { q.model = "opus-mapped"; });
    add("model either", [](RequestQuery& q) { q.model = "opus"; });
    add("key", [](RequestQuery& q) { q.client_key = "k2"; });
    add("session", [](RequestQuery& q) { q.session_key = "s3"; });
    add("class", [](RequestQuery& q) { q.error_class = "overloaded"; });
    add("status ok", [](RequestQuery& q) { q.status = 200; });
    add("status failed", [](RequestQuery& q) { q.status = 529; });
    add("errors", [](RequestQuery& q) { q.errors_only = true; });
    add("before", [&](RequestQuery& q) { q.before_id = rows[300].id; });
    add("combined", [](RequestQuery& q) {
        q.endpoint = "a";
        q.model = "sonnet";
        q.errors_only = true;
        q.from_unix_ms = kH0 + kHour;
    });
    add("combined 2", [](RequestQuery& q) {
        q.client_key = "k1";
        q.session_key = "s1";
        q.status = 200;
        q.limit = 3;
    });
    add("nothing matches", [](RequestQuery& q) { q.endpoint = "zzz"; });
    for (const auto& [name, q] : queries) {
        const auto expected = expected_ids(rows, q);
        EXPECT_EQ(ids_of(store->query_requests(q)), expected) << name;
        if (name != "nothing matches") {
            EXPECT_FALSE(expected.empty()) << name;
        }
    }
    // Everything except "all" filters something out (so each filter is really applied).
    for (const auto& [name, q] : queries) {
        if (name != "all") {
            EXPECT_LT(expected_ids(rows, q).size(), rows.size()) << name;
        }
    }
}

TEST_P(RequestLogTest, TimeRangesOfEverySizeMatchABruteForceFilter) {
    // Enough rows that every access path for time ranges is taken (narrow ranges through the ts
    // index, wide ones by walking ids); ts is not monotonic in id (late writes).
    auto store = open_scratch();
    constexpr std::int64_t kRows = 60'000;
    auto rows = varied_rows(kRows, 9);
    std::mt19937_64 rng(1);
    for (std::int64_t i = 0; i < kRows; ++i) {
        rows[static_cast<std::size_t>(i)].ts_unix_ms =
            kH0 + i * 1000 + static_cast<std::int64_t>(rng() % 600'000) - 300'000;
    }
    store->append_requests(rows);
    auto at_row = [](std::int64_t i) { return kH0 + i * 1000; };
    const std::pair<std::int64_t, std::int64_t> ranges[] = {
        {at_row(0), 0},                        // everything: walk ids
        {at_row(kRows - 3'000), 0},            // recent and narrow: ts index
        {at_row(10'000), at_row(20'000)},      // sortable, many newer rows: ts index
        {at_row(48'000), at_row(58'000)},      // sortable, few newer rows: walk ids
        {0, at_row(55'000)},                   // wide "until": walk ids
        {0, at_row(100)},                      // narrow "until": ts index
        {at_row(30'000), at_row(30'000) + 1},  // (almost) nothing
    };
    for (const auto& [from, to] : ranges) {
        for (int variant = 0; variant < 3; ++variant) {
            RequestQuery q;
            q.from_unix_ms = from;
            q.to_unix_ms = to;
            q.limit = 100;
            if (variant == 1) q.errors_only = true;
            if (variant == 2) q.endpoint = "c";
            const std::string what =
                std::to_string(from) + ".." + std::to_string(to) + " v" + std::to_string(variant);
            EXPECT_EQ(ids_of(store->query_requests(q)), expected_ids(rows, q)) << what;
            // The second page too.
            const auto first = expected_ids(rows, q);
            if (first.empty()) continue;
            q.before_id = first.back();
            EXPECT_EQ(ids_of(store->query_requests(q)), expected_ids(rows, q)) << what << " page 2";
        }
    }
}

TEST_P(RequestLogTest, PagingWithBeforeIdWalksEveryMatchOnce) {
    auto store = open();
    auto rows = varied_rows(300, 5);
    // Several batches: ids keep increasing across transactions.
    for (std::size_t i = 0; i < rows.size(); i += 70) {
        std::vector<RequestRecord> batch(
            rows.begin() + static_cast<std::ptrdiff_t>(i),
            rows.begin() + static_cast<std::ptrdiff_t>(std::min(i + 70, rows.size())));
        store->append_requests(batch);
        for (std::size_t j = 0; j < batch.size(); ++j) rows[i + j].id = batch[j].id;
    }
    for (const std::string model : {"", "opus"}) {
        RequestQuery q;
        q.model = model;
        q.limit = 7;
        std::vector<std::int64_t> walked;
        for (int page = 0; page < 1000; ++page) {
            const auto got = store->query_requests(q);
            EXPECT_LE(got.size(), 7u);
            if (got.empty()) break;
            for (const auto& r : got) walked.push_back(r.id);
            q.before_id = got.back().id;
        }
        RequestQuery all;
        all.model = model;
        all.limit = 1000;
        EXPECT_EQ(walked, expected_ids(rows, all)) << model;
    }
}

TEST_P(RequestLogTest, LimitIsClampedToOneThroughAThousand) {
    auto store = open_scratch();
    std::vector<RequestRecord> rows(1005);
    for (auto& r : rows) r.ts_unix_ms = kH0;
    store->append_requests(rows);
    RequestQuery q;
    q.limit = 0;
    EXPECT_EQ(store->query_requests(q).size(), 1u);
    q.limit = 5000;
    EXPECT_EQ(store->query_requests(q).size(), 1000u);
    EXPECT_EQ(store->count_requests(), 1005);
}

// --- Statistics ---

TEST(GroupByTest, ParsesAndPrints) {
    for (const auto g : {GroupBy::kNone, GroupBy::kEndpoint, GroupBy::kModel, GroupBy::kClientKey,
                         GroupBy::kSession}) {
        EXPECT_EQ(parse_group_by(to_string(g)), g);
    }
    EXPECT_EQ(to_string(GroupBy::kClientKey), "key");
    EXPECT_EQ(parse_group_by("model"), GroupBy::kModel);
    EXPECT_FALSE(parse_group_by("Endpoint").has_value());
    EXPECT_FALSE(parse_group_by("").has_value());
    EXPECT_FALSE(parse_group_by("client_key").has_value());
}

std::string group_of(const RequestRecord& r, GroupBy by) {
    switch (by) {
        case GroupBy::kNone:
            return "";
        case GroupBy::kEndpoint:
            return r.endpoint;
        case GroupBy::kModel:
            return r.model_sent.empty() ? r.model_requested : r.model_sent;
        case GroupBy::kClientKey:
            return r.client_key;
        case GroupBy::kSession:
            return r.session_key;
    }
    return "";
}

std::int64_t floor_div(std::int64_t t, std::int64_t step) {
    return (t >= 0 ? t / step : (t - step + 1) / step) * step;
}

// Exact nearest-rank percentile (p in percent) of sorted values.
double exact_percentile(const std::vector<std::int64_t>& sorted, int p) {
    if (sorted.empty()) return 0;
    const std::size_t rank = std::max<std::size_t>(1, (p * sorted.size() + 99) / 100);
    return static_cast<double>(sorted[rank - 1]);
}

struct Expected {
    StatsRow row;
    std::vector<std::int64_t> latencies, ttfbs;
};

std::map<std::pair<std::int64_t, std::string>, Expected> brute_force_stats(
    const std::vector<RequestRecord>& rows, const StatsQuery& q) {
    std::map<std::pair<std::int64_t, std::string>, Expected> out;
    for (const auto& r : rows) {
        if (r.ts_unix_ms < q.from_unix_ms || r.ts_unix_ms >= q.to_unix_ms) continue;
        const std::int64_t bucket = q.bucket_ms == 0 ? 0 : floor_div(r.ts_unix_ms, q.bucket_ms);
        auto& e = out[{bucket, group_of(r, q.by)}];
        e.row.group = group_of(r, q.by);
        e.row.bucket_unix_ms = bucket;
        ++e.row.count;
        if (is_success(r)) ++e.row.successes;
        if (r.attempts > 1) ++e.row.failovers;
        e.row.input_tokens += r.input_tokens;
        e.row.output_tokens += r.output_tokens;
        e.row.cache_creation_tokens += r.cache_creation_tokens;
        e.row.cache_read_tokens += r.cache_read_tokens;
        e.row.cost_usd += r.cost_usd;
        e.latencies.push_back(r.total_ms);
        if (r.ttfb_ms >= 0) e.ttfbs.push_back(r.ttfb_ms);
    }
    for (auto& [key, e] : out) {
        std::sort(e.latencies.begin(), e.latencies.end());
        std::sort(e.ttfbs.begin(), e.ttfbs.end());
    }
    return out;
}

::testing::AssertionResult near_percentile(double estimate, double exact) {
    const double allowed = exact < 16 ? 0 : LatencyHistogram::kMaxRelativeError * exact;
    if (std::abs(estimate - exact) <= allowed) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "estimate " << estimate << " vs exact " << exact;
}

void expect_stats_match(const std::vector<StatsRow>& got, const std::vector<RequestRecord>& rows,
                        const StatsQuery& q, const std::string& what) {
    const auto expected = brute_force_stats(rows, q);
    ASSERT_EQ(got.size(), expected.size()) << what;
    std::size_t i = 0;
    for (const auto& [key, e] : expected) {  // map order = bucket, then group
        const StatsRow& g = got[i++];
        const std::string where =
            what + " bucket " + std::to_string(key.first) + " group '" + key.second + "'";
        EXPECT_EQ(g.bucket_unix_ms, e.row.bucket_unix_ms) << where;
        EXPECT_EQ(g.group, e.row.group) << where;
        EXPECT_EQ(g.count, e.row.count) << where;
        EXPECT_EQ(g.successes, e.row.successes) << where;
        EXPECT_EQ(g.failovers, e.row.failovers) << where;
        EXPECT_DOUBLE_EQ(g.success_ratio,
                         static_cast<double>(e.row.successes) / static_cast<double>(e.row.count))
            << where;
        EXPECT_EQ(g.input_tokens, e.row.input_tokens) << where;
        EXPECT_EQ(g.output_tokens, e.row.output_tokens) << where;
        EXPECT_EQ(g.cache_creation_tokens, e.row.cache_creation_tokens) << where;
        EXPECT_EQ(g.cache_read_tokens, e.row.cache_read_tokens) << where;
        EXPECT_EQ(g.cost_usd, e.row.cost_usd) << where;  // exact: dyadic costs
        EXPECT_TRUE(near_percentile(g.latency_p50_ms, exact_percentile(e.latencies, 50))) << where;
        EXPECT_TRUE(near_percentile(g.latency_p95_ms, exact_percentile(e.latencies, 95))) << where;
        EXPECT_TRUE(near_percentile(g.latency_p99_ms, exact_percentile(e.latencies, 99))) << where;
        EXPECT_TRUE(near_percentile(g.ttfb_p50_ms, exact_percentile(e.ttfbs, 50))) << where;
        EXPECT_TRUE(near_percentile(g.ttfb_p95_ms, exact_percentile(e.ttfbs, 95))) << where;
        EXPECT_TRUE(near_percentile(g.ttfb_p99_ms, exact_percentile(e.ttfbs, 99))) << where;
    }
}

TEST_P(RequestLogTest, StatsMatchABruteForceComputationForEveryGroupingAndWindow) {
    auto store = open();
    auto rows = varied_rows(3000, 42);
    // Out of time order and in several batches, so roll-up rows are merged across transactions.
    std::shuffle(rows.begin(), rows.end(), std::mt19937_64(3));
    for (std::size_t i = 0; i < rows.size(); i += 500) {
        std::vector<RequestRecord> batch(rows.begin() + static_cast<std::ptrdiff_t>(i),
                                         rows.begin() + static_cast<std::ptrdiff_t>(i + 500));
        store->append_requests(batch);
    }
    const std::pair<const char*, std::pair<std::int64_t, std::int64_t>> windows[] = {
        {"whole range", {kH0 - kHour, kH0 + 6 * kHour}},
        {"partial edges around roll-up hours", {kH0 + 20 * 60'000, kH0 + 4 * kHour + 2'400'017}},
        {"exact hours", {kH0 + kHour, kH0 + 3 * kHour}},
        {"inside one hour", {kH0 + 2 * kHour + 300'000, kH0 + 2 * kHour + 3'000'000}},
        {"across one boundary", {kH0 + kHour + 1'800'000, kH0 + 2 * kHour + 1'800'000}},
        {"empty", {kH0 + 7 * kHour, kH0 + 8 * kHour}},
    };
    for (const auto& [name, window] : windows) {
        for (const auto by : {GroupBy::kNone, GroupBy::kEndpoint, GroupBy::kModel,
                              GroupBy::kClientKey, GroupBy::kSession}) {
            for (const std::int64_t bucket :
                 {std::int64_t{0}, kHour, 2 * kHour, std::int64_t{900'000}}) {
                const StatsQuery q{window.first, window.second, by, bucket};
                expect_stats_match(store->stats(q), rows, q,
                                   std::string(name) + " by " + std::string(to_string(by)) +
                                       " bucket " + std::to_string(bucket));
            }
        }
    }
}

TEST_P(RequestLogTest, StatsEdgeCases) {
    auto store = open_scratch();
    std::vector<RequestRecord> rows(3);
    for (auto& r : rows) r.ts_unix_ms = kH0 + 10;
    rows[0].model_requested = "asked";
    rows[0].model_sent = "";
    rows[1].model_requested = "asked";
    rows[1].model_sent = "sent";
    rows[2].status = 200;
    store->append_requests(rows);
    EXPECT_THROW((void)store->stats({kH0, kH0 + kHour, GroupBy::kNone, -1}), std::invalid_argument);
    EXPECT_TRUE(store->stats({kH0 + kHour, kH0, GroupBy::kNone, 0}).empty());
    EXPECT_TRUE(store->stats({kH0, kH0, GroupBy::kNone, 0}).empty());

    const auto by_model = store->stats({kH0, kH0 + kHour, GroupBy::kModel, 0});
    ASSERT_EQ(by_model.size(), 3u);  // "", "asked", "sent"
    EXPECT_EQ(by_model[0].group, "");
    EXPECT_EQ(by_model[1].group, "asked");
    EXPECT_EQ(by_model[2].group, "sent");
    // No TTFB anywhere: its percentiles stay 0; one success out of three.
    const auto all = store->stats({kH0, kH0 + kHour, GroupBy::kNone, 0});
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].ttfb_p50_ms, 0.0);
    EXPECT_EQ(all[0].successes, 1);
    EXPECT_DOUBLE_EQ(all[0].success_ratio, 1.0 / 3.0);
}

// --- Retention ---

RequestRecord at(std::int64_t ts, std::string endpoint, std::string payload = {}) {
    RequestRecord r;
    r.ts_unix_ms = ts;
    r.endpoint = std::move(endpoint);
    r.status = 200;
    r.total_ms = 100;
    r.ttfb_ms = 10;
    r.request_payload = std::move(payload);
    return r;
}

TEST_P(RequestLogTest, CleanupDeletesByAgeKeepsRollupsAndReclaimsSpace) {
    auto store = open();
    if (is_sqlite()) {
        EXPECT_EQ(raw_query("PRAGMA auto_vacuum"), "2");  // new files are INCREMENTAL
    }

    const std::int64_t now = kH0 + 500 * kDay + 1234;
    const std::int64_t very_old_hour = floor_div(now - 400 * kDay, kHour);  // past roll-up age
    const std::int64_t old_hour = floor_div(now - 100 * kDay, kHour);       // past row age
    const std::string big(8'000, 'p');
    std::vector<RequestRecord> rows;
    for (int i = 0; i < 3; ++i) rows.push_back(at(very_old_hour + i, "e"));
    // More than one cleanup chunk of old rows (chunks are 5000).
    for (int i = 0; i < 12'000; ++i) rows.push_back(at(old_hour + i % 1000, i % 2 ? "a" : "b"));
    for (int i = 0; i < 300; ++i) rows.push_back(at(now - 10 * kDay, "mid", big));  // payload aged
    for (int i = 0; i < 2; ++i) rows.push_back(at(now - kDay, "new", "kept payload"));
    store->append_requests(rows);
    const auto pages_before = is_sqlite() ? std::stoll(raw_query("PRAGMA page_count")) : 0;

    const CleanupResult result = store->cleanup(now, RetentionPolicy{});
    EXPECT_EQ(result.payloads, 300u);
    EXPECT_EQ(result.requests, 12'003u);
    EXPECT_EQ(result.rollups, 1u);  // the very old hour, endpoint "e"
    EXPECT_EQ(store->count_requests(), 302);
    EXPECT_EQ(raw_query("SELECT COUNT(*) FROM request_payloads"), "2");
    EXPECT_EQ(store->get_request(rows.back().id)->request_payload, "kept payload");
    EXPECT_EQ(store->get_request(rows[12'003].id)->request_payload, "");
    EXPECT_FALSE(store->get_request(rows[3].id).has_value());

    if (is_sqlite()) {
        // Free pages went back to the file system.
        EXPECT_EQ(raw_query("PRAGMA freelist_count"), "0");
        EXPECT_LT(std::stoll(raw_query("PRAGMA page_count")), pages_before);
    }

    // The old window still answers from its roll-ups; the very old one is gone.
    const auto old = store->stats({old_hour, old_hour + kHour, GroupBy::kEndpoint, 0});
    ASSERT_EQ(old.size(), 2u);
    EXPECT_EQ(old[0].group, "a");
    EXPECT_EQ(old[0].count, 6'000);
    EXPECT_EQ(old[1].count, 6'000);
    EXPECT_EQ(old[0].latency_p50_ms, LatencyHistogram::estimate(LatencyHistogram::bucket_of(100)));
    EXPECT_TRUE(store->stats({very_old_hour, very_old_hour + kHour, GroupBy::kNone, 0}).empty());
    // Raw rows only (sessions, partial hours) are gone with the rows.
    EXPECT_TRUE(store->stats({old_hour, old_hour + kHour, GroupBy::kSession, 0}).empty());

    // A second run finds nothing more.
    EXPECT_EQ(store->cleanup(now, RetentionPolicy{}), CleanupResult{});
    // Non-positive durations keep everything.
    EXPECT_EQ(store->cleanup(now + 10'000 * kDay, RetentionPolicy{0, -1, 0}), CleanupResult{});
    EXPECT_EQ(store->count_requests(), 302);
}

TEST_P(RequestLogTest, PayloadsNeverOutliveTheirRows) {
    auto store = open_scratch();
    const std::int64_t now = kH0 + 100 * kDay;
    std::vector<RequestRecord> rows{at(now - 5 * kDay, "a", "payload")};
    store->append_requests(rows);
    RetentionPolicy keep_payloads_longer;
    keep_payloads_longer.payloads_ms = 30 * kDay;
    keep_payloads_longer.requests_ms = kDay;
    const auto result = store->cleanup(now, keep_payloads_longer);
    EXPECT_EQ(result.payloads, 1u);
    EXPECT_EQ(result.requests, 1u);
}

TEST_F(SqliteRequestLogTest, DatabaseFromBeforeSchema5IsMigratedAndCleanupStillWorks) {
    testing::create_legacy_db(db_path_, 4);
    auto store = open_sqlite(db_path_);
    // Too late for auto_vacuum on an existing file: space comes back after one VACUUM.
    EXPECT_EQ(raw_query("PRAGMA auto_vacuum"), "0");
    std::vector<RequestRecord> rows{full_record(), at(kH0 - 200 * kDay, "old")};
    store->append_requests(rows);
    EXPECT_EQ(store->get_request(rows[0].id), rows[0]);
    const auto result = store->cleanup(kH0, RetentionPolicy{});
    EXPECT_EQ(result.requests, 1u);
    EXPECT_EQ(store->count_requests(), 1);
}

}  // namespace
}  // namespace qcc::store
