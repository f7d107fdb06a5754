// RequestWriter: batching, flush/stop semantics, overflow while the store is slow, store failures.
#include "store/writer.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "store/store.hpp"
#include "support/temp_dir.hpp"

namespace qcc::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Polls `done` until it holds or 10 s pass; true when it held.
template <class F>
bool eventually(F done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

// A Store whose append_requests can be held at a gate and made to throw; every other method is
// unused by the writer.
class FakeStore final : public Store {
  public:
    // append_requests blocks until open() while closed.
    void close_gate() {
        std::lock_guard lock(mu_);
        gate_open_ = false;
    }
    void open_gate() {
        {
            std::lock_guard lock(mu_);
            gate_open_ = true;
        }
        cv_.notify_all();
    }
    // The next `n` append_requests calls throw.
    void fail_next(int n) {
        std::lock_guard lock(mu_);
        failures_left_ = n;
    }

    std::atomic<int> calls_entered{0};

    std::vector<std::vector<std::string>> batches() {
        std::lock_guard lock(mu_);
        return batches_;
    }

    void append_requests(std::vector<RequestRecord>& rows) override {
        ++calls_entered;
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return gate_open_; });
        if (failures_left_ > 0) {
            --failures_left_;
            throw std::runtime_error("disk on fire");
        }
        std::vector<std::string> ids;
        for (auto& r : rows) {
            r.id = ++next_id_;
            ids.push_back(r.request_id);
        }
        batches_.push_back(std::move(ids));
    }

    std::vector<EndpointRecord> list_endpoints() override { return {}; }
    EndpointRecord upsert_endpoint(const config::EndpointConfig&) override { return {}; }
    bool remove_endpoint(std::string_view) override { return false; }
    std::vector<ClientKeyRecord> list_client_keys() override { return {}; }
    void upsert_client_key(std::string_view, std::string_view, std::string_view) override {}
    bool revoke_client_key(std::string_view) override { return false; }
    bool set_client_key_limits(std::string_view, std::string_view) override { return false; }
    std::optional<std::string> get_setting(std::string_view) override { return std::nullopt; }
    void set_setting(std::string_view, std::string_view) override {}
    std::int64_t data_version() override { return 0; }
    void save_endpoint_states(const std::vector<EndpointStateRecord>&) override {}
    std::vector<EndpointStateRecord> load_endpoint_states() override { return {}; }
    void save_bindings(const std::vector<BindingRecord>&) override {}
    std::size_t delete_bindings_before(std::int64_t) override { return 0; }
    std::vector<BindingRecord> load_bindings() override { return {}; }
    void heartbeat_instance(const InstanceRecord&) override {}
    void remove_instance(std::string_view) override {}
    std::vector<InstanceRecord> list_instances() override { return {}; }
    void append_signals(const std::vector<SignalRecord>&) override {}
    std::vector<SignalRecord> load_signals_since(std::int64_t) override { return {}; }
    void save_ui_session(std::string_view, std::int64_t) override {}
    void delete_ui_session(std::string_view) override {}
    std::vector<std::pair<std::string, std::int64_t>> load_ui_sessions(std::int64_t) override {
        return {};
    }
    void append_events(const std::vector<EventRecord>&) override {}
    std::vector<EventRecord> recent_events(std::size_t, std::string_view) override { return {}; }
    void append_health_checks(const std::vector<HealthCheckRecord>&) override {}
    std::vector<HealthCheckRecord> recent_health_checks(std::size_t, std::string_view) override {
        return {};
    }
    std::vector<RequestRecord> query_requests(const RequestQuery&) override { return {}; }
    std::optional<RequestRecord> get_request(std::int64_t) override { return std::nullopt; }
    std::vector<StatsRow> stats(const StatsQuery&) override { return {}; }
    CleanupResult cleanup(std::int64_t, const RetentionPolicy&) override { return {}; }
    std::int64_t count_requests() override { return 0; }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool gate_open_ = true;
    int failures_left_ = 0;  // guarded by mu_
    std::int64_t next_id_ = 0;
    std::vector<std::vector<std::string>> batches_;
};

RequestRecord row(int i) {
    RequestRecord r;
    r.request_id = "r" + std::to_string(i);
    r.ts_unix_ms = 1'700'000'000'000 + i;
    r.status = 200;
    return r;
}

TEST(RequestWriterTest, FlushWritesEverythingInOrderInBoundedBatches) {
    auto store = open_sqlite(":memory:");
    WriterOptions options;
    options.max_batch = 100;
    options.max_delay = 10min;  // flush must not wait for it
    std::mutex seen_mu;
    std::vector<RequestRecord> seen;
    std::size_t largest_batch = 0;
    RequestWriter writer(*store, options, [&](const std::vector<RequestRecord>& batch) {
        std::lock_guard lock(seen_mu);
        largest_batch = std::max(largest_batch, batch.size());
        seen.insert(seen.end(), batch.begin(), batch.end());
    });
    for (int i = 0; i < 250; ++i) ASSERT_TRUE(writer.push(row(i)));
    writer.flush();
    EXPECT_EQ(writer.written(), 250u);
    EXPECT_EQ(writer.queued(), 0u);
    EXPECT_EQ(store->count_requests(), 250);
    std::lock_guard lock(seen_mu);
    ASSERT_EQ(seen.size(), 250u);
    EXPECT_LE(largest_batch, 100u);
    for (int i = 0; i < 250; ++i) {
        EXPECT_EQ(seen[static_cast<std::size_t>(i)].request_id, "r" + std::to_string(i));
        EXPECT_GT(seen[static_cast<std::size_t>(i)].id, 0);  // ids assigned before the callback
        if (i > 0) {
            EXPECT_GT(seen[i].id, seen[i - 1].id);
        }
    }
    EXPECT_EQ(store->get_request(seen[7].id)->request_id, "r7");
    writer.flush();  // nothing pending: returns at once
}

TEST(RequestWriterTest, SmallBatchesAreWrittenAfterMaxDelayWithoutFlush) {
    FakeStore store;
    WriterOptions options;
    options.max_delay = 1ms;
    RequestWriter writer(store, options);
    ASSERT_TRUE(writer.push(row(1)));
    EXPECT_TRUE(eventually([&] { return writer.written() == 1; }));
}

TEST(RequestWriterTest, StopDrainsTheQueueAndRefusesLaterRows) {
    auto store = open_sqlite(":memory:");
    WriterOptions options;
    options.max_batch = 7;
    options.max_delay = 10min;
    RequestWriter writer(*store, options);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(writer.push(row(i)));
    writer.stop();
    EXPECT_EQ(writer.written(), 50u);
    EXPECT_EQ(store->count_requests(), 50);
    EXPECT_FALSE(writer.push(row(99)));
    EXPECT_EQ(writer.dropped(), 1u);
    writer.stop();   // idempotent
    writer.flush();  // nothing can be pending
    EXPECT_EQ(store->count_requests(), 50);
}

TEST(RequestWriterTest, FullQueueDropsAndCountsWithoutBlockingOnASlowStore) {
    FakeStore store;
    WriterOptions options;
    options.capacity = 10;
    options.max_batch = 1000;
    options.max_delay = 0ms;
    RequestWriter writer(store, options);
    store.close_gate();
    ASSERT_TRUE(writer.push(row(0)));
    // The writer is now stuck inside the store with row 0; the queue is empty again.
    ASSERT_TRUE(eventually([&] { return store.calls_entered.load() == 1; }));
    for (int i = 1; i <= 10; ++i) EXPECT_TRUE(writer.push(row(i))) << i;
    for (int i = 11; i <= 15; ++i) EXPECT_FALSE(writer.push(row(i))) << i;  // never blocks
    EXPECT_EQ(writer.dropped(), 5u);
    EXPECT_EQ(writer.queued(), 10u);
    EXPECT_EQ(writer.written(), 0u);

    store.open_gate();
    writer.flush();
    EXPECT_EQ(writer.written(), 11u);
    EXPECT_EQ(writer.dropped(), 5u);
    std::size_t rows = 0;
    for (const auto& b : store.batches()) rows += b.size();
    EXPECT_EQ(rows, 11u);
}

TEST(RequestWriterTest, AnIdleWriterIsRaisedWhenItsQueueFillsAndLoweredOnceDrained) {
    FakeStore store;
    WriterOptions options;
    options.capacity = 20;
    options.max_batch = 1000;
    options.max_delay = 0ms;
    RequestWriter writer(store, options);
    store.close_gate();
    ASSERT_TRUE(writer.push(row(0)));
    ASSERT_TRUE(eventually([&] { return store.calls_entered.load() == 1; }));
    EXPECT_FALSE(writer.boosted());
    for (int i = 1; i < 10; ++i) ASSERT_TRUE(writer.push(row(i)));
    EXPECT_FALSE(writer.boosted()) << "below half the capacity";
    ASSERT_TRUE(writer.push(row(10)));
    EXPECT_TRUE(writer.boosted()) << "half full: raised to normal priority";
    store.open_gate();
    writer.flush();
    EXPECT_FALSE(writer.boosted()) << "drained: back to idle priority";
    EXPECT_EQ(writer.written(), 11u);
    EXPECT_EQ(writer.dropped(), 0u);
}

TEST(RequestWriterTest, AFailedBatchIsRetriedUntilTheStoreTakesIt) {
    FakeStore store;
    store.fail_next(3);  // e.g. the database is down for a moment
    WriterOptions options;
    options.max_delay = 0ms;
    options.retry_for = 60'000ms;
    RequestWriter writer(store, options);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer.push(row(i)));
    writer.flush();
    EXPECT_EQ(writer.written(), 5u);
    EXPECT_EQ(writer.failed(), 0u);
    EXPECT_EQ(writer.dropped(), 0u);
}

TEST(RequestWriterTest, AStopEndsTheRetriesAndCountsTheBatchAsLost) {
    FakeStore store;
    store.fail_next(1'000'000);  // never recovers
    WriterOptions options;
    options.max_delay = 0ms;
    options.retry_for = std::chrono::hours(1);
    RequestWriter writer(store, options);
    ASSERT_TRUE(writer.push(row(0)));
    writer.stop();  // returns although the store never takes the row
    EXPECT_EQ(writer.written(), 0u);
    EXPECT_EQ(writer.failed(), 1u);
}

TEST(RequestWriterTest, StoreFailuresAreCountedLoggedOncePerBurstAndTheThreadSurvives) {
    std::ostringstream log;
    auto previous = spdlog::default_logger();
    auto capture = std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
    spdlog::set_default_logger(capture);

    FakeStore store;
    store.fail_next(3);
    WriterOptions options;
    options.max_batch = 1;
    options.max_delay = 0ms;
    options.retry_for = 0ms;  // a failed batch is lost at once
    {
        std::atomic<int> callbacks{0};
        RequestWriter writer(store, options, [&](const std::vector<RequestRecord>&) {
            ++callbacks;
            throw std::runtime_error("subscriber bug");  // must not kill the thread either
        });
        for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer.push(row(i)));
        writer.flush();
        EXPECT_EQ(writer.failed(), 3u);
        EXPECT_EQ(writer.written(), 2u);
        EXPECT_EQ(callbacks.load(), 2);
        // Still alive after failures and callback exceptions.
        ASSERT_TRUE(writer.push(row(5)));
        writer.flush();
        EXPECT_EQ(writer.written(), 3u);
        // A new burst is logged again.
        store.fail_next(1);
        ASSERT_TRUE(writer.push(row(6)));
        writer.flush();
        EXPECT_EQ(writer.failed(), 4u);
    }
    spdlog::set_default_logger(previous);
    const std::string text = log.str();
    std::size_t bursts = 0;
    for (auto pos = text.find("cannot write"); pos != std::string::npos;
         pos = text.find("cannot write", pos + 1)) {
        ++bursts;
    }
    EXPECT_EQ(bursts, 2u) << text;
    EXPECT_NE(text.find("disk on fire"), std::string::npos);
    EXPECT_NE(text.find("3 row(s) were lost"), std::string::npos) << text;
}

TEST(RequestWriterTest, RowsSurviveReopeningAFileDatabase) {
    const test::TempDir dir("qcc-writer-test");
    const std::string path = dir.file("qcc.db");
    std::vector<std::int64_t> ids;
    {
        auto store = open_sqlite(path);
        RequestWriter writer(*store, {}, [&](const std::vector<RequestRecord>& batch) {
            for (const auto& r : batch) ids.push_back(r.id);  // writer thread; read after stop
        });
        for (int i = 0; i < 20; ++i) ASSERT_TRUE(writer.push(row(i)));
        writer.stop();
    }
    auto store = open_sqlite(path);
    EXPECT_EQ(store->count_requests(), 20);
    ASSERT_EQ(ids.size(), 20u);
    EXPECT_EQ(store->get_request(ids[3])->request_id, "r3");
}

}  // namespace
}  // namespace qcc::store
