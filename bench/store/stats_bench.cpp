// Request-log store benchmark (not a test; run by hand in a Release build):
//   cmake --build build/store-rel --target qcc_store_bench && build/store-rel/qcc_store_bench
//   [rows]
// Fills a fresh SQLite file with `rows` (default 1,000,000) requests spread over the last 24 h
// across 6 endpoints, 4 models and 3 client keys, in append_requests batches of 1000 as the
// writer thread does, then times stats() and query_requests() (median of 5 runs each). Exits 1
// when the 24 h per-endpoint summary takes 200 ms or more (the design bound for the statistics
// queries).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "store/store.hpp"

namespace {

using qcc::store::GroupBy;
using qcc::store::RequestQuery;
using qcc::store::RequestRecord;
using qcc::store::StatsQuery;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::size_t kBatch = 1000;
constexpr int kRuns = 5;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Median wall time of kRuns calls; `rows` receives the result size of the last call.
double median_ms(const std::function<std::size_t()>& fn, std::size_t& rows) {
    std::vector<double> times;
    for (int i = 0; i < kRuns; ++i) {
        const auto start = Clock::now();
        rows = fn();
        times.push_back(ms_since(start));
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t total = argc > 1 ? std::stoul(argv[1]) : 1'000'000;
    std::string dir = (std::filesystem::temp_directory_path() / "qcc-store-bench-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
        std::perror("mkdtemp");
        return 2;
    }
    const std::string path = dir + "/qcc.db";
    int exit_code = 0;
    {
        auto store = qcc::store::open_sqlite(path);
        const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
        const std::int64_t start_ts = now - kDay;
        const std::vector<std::string> endpoints{"relay-a", "relay-b", "relay-c",
                                                 "relay-d", "relay-e", "backup"};
        const std::vector<std::string> models{"claude-sonnet-4-5", "claude-opus-4-5",
                                              "claude-haiku-4-5", "claude-3-5-haiku"};
        const std::vector<std::string> keys{"me", "ci", "team"};
        std::mt19937_64 rng(1);
        std::lognormal_distribution<double> latency(8.0, 1.0);  // median ~3 s
        std::lognormal_distribution<double> first_byte(6.5, 0.8);

        std::printf("inserting %zu rows over 24 h in batches of %zu into %s\n", total, kBatch,
                    path.c_str());
        std::vector<RequestRecord> batch;
        const auto insert_start = Clock::now();
        for (std::size_t i = 0; i < total; ++i) {
            RequestRecord r;
            r.request_id = "req-" + std::to_string(i);
            r.ts_unix_ms =
                start_ts + static_cast<std::int64_t>(i * static_cast<std::size_t>(kDay) / total);
            r.method = "POST";
            r.path = "/v1/messages";
            r.endpoint = endpoints[rng() % endpoints.size()];
            r.client_key = keys[rng() % keys.size()];
            // Sessions are conversations: ~60 run at once and each lasts about an hour (1,440
            // in all). Uniformly random keys over all sessions would scatter every batch across
            // the session index (≈10k rows/s measured that way, see the report).
            r.session_key = "session-" + std::to_string(rng() % 60) + "-" +
                            std::to_string((r.ts_unix_ms - start_ts) / kHour);
            r.model_requested = models[rng() % models.size()];
            r.model_sent = r.model_requested;
            r.stream = rng() % 4 != 0;
            const auto roll = rng() % 100;
            r.attempts = roll < 90 ? 1 : roll < 98 ? 2 : 3;
            r.tried = r.attempts > 1 ? "relay-x:overloaded," + r.endpoint : r.endpoint;
            r.status = roll < 96 ? 200 : roll < 98 ? 529 : 429;
            r.error_class = r.status == 200 ? "" : r.status == 529 ? "overloaded" : "rate_limited";
            r.total_ms = static_cast<std::int64_t>(latency(rng));
            r.ttfb_ms = r.stream ? static_cast<std::int64_t>(first_byte(rng)) : -1;
            r.input_tokens = static_cast<std::int64_t>(rng() % 50'000);
            r.output_tokens = static_cast<std::int64_t>(rng() % 4'000);
            r.cache_creation_tokens = static_cast<std::int64_t>(rng() % 2'000);
            r.cache_read_tokens = static_cast<std::int64_t>(rng() % 100'000);
            r.cost_usd = static_cast<double>(r.input_tokens) * 3e-6 +
                         static_cast<double>(r.output_tokens) * 15e-6;
            r.bytes_in = 20'000 + static_cast<std::int64_t>(rng() % 100'000);
            r.bytes_out = 2'000 + static_cast<std::int64_t>(rng() % 20'000);
            batch.push_back(std::move(r));
            if (batch.size() == kBatch || i + 1 == total) {
                store->append_requests(batch);
                batch.clear();
            }
        }
        const double insert_ms = ms_since(insert_start);
        std::printf("insert: %.1f s, %.0f rows/s; file %.1f MB\n\n", insert_ms / 1000,
                    static_cast<double>(total) / (insert_ms / 1000),
                    static_cast<double>(std::filesystem::file_size(path)) / 1e6);

        struct Case {
            const char* name;
            std::function<std::size_t()> fn;
        };
        auto stats = [&](std::int64_t from, GroupBy by, std::int64_t bucket = 0) {
            return [&store, from, now, by, bucket] {
                return store->stats(StatsQuery{from, now, by, bucket}).size();
            };
        };
        auto requests = [&](std::function<void(RequestQuery&)> set) {
            return [&store, set] {
                RequestQuery q;
                set(q);
                return store->query_requests(q).size();
            };
        };
        const std::vector<Case> cases{
            {"stats 24h by endpoint", stats(now - kDay, GroupBy::kEndpoint)},
            {"stats 24h total", stats(now - kDay, GroupBy::kNone)},
            {"stats 24h by model", stats(now - kDay, GroupBy::kModel)},
            {"stats 24h by key", stats(now - kDay, GroupBy::kClientKey)},
            {"stats 24h by endpoint, 1h buckets", stats(now - kDay, GroupBy::kEndpoint, kHour)},
            {"stats 1h by endpoint", stats(now - kHour, GroupBy::kEndpoint)},
            {"stats 1h by endpoint, 1m buckets", stats(now - kHour, GroupBy::kEndpoint, 60'000)},
            {"stats 24h by session (raw rows)", stats(now - kDay, GroupBy::kSession)},
            {"requests first page", requests([](RequestQuery&) {})},
            {"requests page by endpoint", requests([](RequestQuery& q) { q.endpoint = "backup"; })},
            {"requests page by model", requests([&](RequestQuery& q) { q.model = models[2]; })},
            {"requests page by session",
             requests([](RequestQuery& q) { q.session_key = "session-7-3"; })},
            {"requests page errors only", requests([](RequestQuery& q) { q.errors_only = true; })},
            {"requests page status 429", requests([](RequestQuery& q) { q.status = 429; })},
            {"requests page since 1h ago",
             requests([&](RequestQuery& q) { q.from_unix_ms = now - kHour; })},
            {"requests page 23h-22h ago", requests([&](RequestQuery& q) {
                 q.from_unix_ms = now - 23 * kHour;
                 q.to_unix_ms = now - 22 * kHour;
             })},
            {"requests page 10 s, 23 h ago", requests([&](RequestQuery& q) {
                 q.from_unix_ms = now - 23 * kHour;
                 q.to_unix_ms = now - 23 * kHour + 10'000;
             })},
            {"requests page until 23h ago, errors", requests([&](RequestQuery& q) {
                 q.to_unix_ms = now - 23 * kHour;
                 q.errors_only = true;
             })},
            {"requests page deep (before_id)",
             requests([](RequestQuery& q) { q.before_id = 1000; })},
            {"count_requests",
             [&store] { return static_cast<std::size_t>(store->count_requests()); }},
        };
        std::printf("%-40s %12s %8s\n", "operation (median of 5)", "ms", "rows");
        double endpoint_ms = 0;
        for (const auto& c : cases) {
            std::size_t rows = 0;
            const double ms = median_ms(c.fn, rows);
            if (&c == &cases.front()) endpoint_ms = ms;
            std::printf("%-40s %12.2f %8zu\n", c.name, ms, rows);
        }
        {
            // Daily retention at this traffic deletes about a day of rows; time one hour's worth.
            qcc::store::RetentionPolicy policy;
            policy.payloads_ms = 0;
            policy.requests_ms = 23 * kHour;
            policy.rollups_ms = 0;
            const auto start = Clock::now();
            const auto deleted = store->cleanup(now, policy);
            std::printf("%-40s %12.2f %8zu\n", "cleanup: rows older than 23 h (once)",
                        ms_since(start), deleted.requests);
        }
        const bool ok = endpoint_ms < 200;
        std::printf("\n24 h per-endpoint summary: %.2f ms (bound 200 ms): %s\n", endpoint_ms,
                    ok ? "PASS" : "FAIL");
        if (!ok) exit_code = 1;
    }
    if (argc > 2 && std::string(argv[2]) == "--keep") {
        std::printf("kept %s\n", path.c_str());
    } else {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    return exit_code;
}
