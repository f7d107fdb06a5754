// The request log never slows the request path (SPEC §11): while the store is stuck, requests are
// still served, the writer's bounded queue fills, further rows are dropped and counted (the metric
// says how many), and once the store moves again every queued row is written.
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "sim/anthropic.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;

/// The real store, except that append_requests waits until the test opens the gate.
class GatedStore final : public store::Store {
  public:
    explicit GatedStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}

    void open_gate() {
        std::lock_guard lock(mu_);
        open_ = true;
        cv_.notify_all();
    }
    /// Waits (bounded) until the writer is blocked inside append_requests.
    bool wait_blocked(std::chrono::milliseconds deadline) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, deadline, [this] { return blocked_; });
    }

    void append_requests(std::vector<store::RequestRecord>& rows) override {
        {
            std::unique_lock lock(mu_);
            blocked_ = true;
            cv_.notify_all();
            // Bounded: a test that forgets to open the gate fails instead of hanging.
            cv_.wait_for(lock, 60s, [this] { return open_; });
        }
        inner_->append_requests(rows);
    }

    std::vector<store::EndpointRecord> list_endpoints() override {
        return inner_->list_endpoints();
    }
    store::EndpointRecord upsert_endpoint(const config::EndpointConfig& e) override {
        return inner_->upsert_endpoint(e);
    }
    bool remove_endpoint(std::string_view n) override { return inner_->remove_endpoint(n); }
    std::vector<store::ClientKeyRecord> list_client_keys() override {
        return inner_->list_client_keys();
    }
    void upsert_client_key(std::string_view n, std::string_view h, std::string_view p) override {
        inner_->upsert_client_key(n, h, p);
    }
    bool revoke_client_key(std::string_view n) override { return inner_->revoke_client_key(n); }
    bool set_client_key_limits(std::string_view n, std::string_view l) override {
        return inner_->set_client_key_limits(n, l);
    }
    std::optional<std::string> get_setting(std::string_view k) override {
        return inner_->get_setting(k);
    }
    void set_setting(std::string_view k, std::string_view v) override { inner_->set_setting(k, v); }
    std::int64_t data_version() override { return inner_->data_version(); }
    void save_endpoint_states(const std::vector<store::EndpointStateRecord>& s) override {
        inner_->save_endpoint_states(s);
    }
    std::vector<store::EndpointStateRecord> load_endpoint_states() override {
        return inner_->load_endpoint_states();
    }
    void save_bindings(const std::vector<store::BindingRecord>& b) override {
        inner_->save_bindings(b);
    }
    std::size_t delete_bindings_before(std::int64_t ms) override {
        return inner_->delete_bindings_before(ms);
    }
    std::vector<store::BindingRecord> load_bindings() override { return inner_->load_bindings(); }
    void heartbeat_instance(const store::InstanceRecord& r) override {
        inner_->heartbeat_instance(r);
    }
    void remove_instance(std::string_view id) override { inner_->remove_instance(id); }
    std::vector<store::InstanceRecord> list_instances() override {
        return inner_->list_instances();
    }
    void append_signals(const std::vector<store::SignalRecord>& s) override {
        inner_->append_signals(s);
    }
    std::vector<store::SignalRecord> load_signals_since(std::int64_t ts) override {
        return inner_->load_signals_since(ts);
    }
    void save_ui_session(std::string_view hash, std::int64_t expires) override {
        inner_->save_ui_session(hash, expires);
    }
    void delete_ui_session(std::string_view hash) override { inner_->delete_ui_session(hash); }
    std::vector<std::pair<std::string, std::int64_t>> load_ui_sessions(std::int64_t now) override {
        return inner_->load_ui_sessions(now);
    }
    void append_events(const std::vector<store::EventRecord>& e) override {
        inner_->append_events(e);
    }
    std::vector<store::EventRecord> recent_events(std::size_t l, std::string_view e) override {
        return inner_->recent_events(l, e);
    }
    void append_health_checks(const std::vector<store::HealthCheckRecord>& c) override {
        inner_->append_health_checks(c);
    }
    std::vector<store::HealthCheckRecord> recent_health_checks(std::size_t l,
                                                               std::string_view e) override {
        return inner_->recent_health_checks(l, e);
    }
    std::vector<store::RequestRecord> query_requests(const store::RequestQuery& q) override {
        return inner_->query_requests(q);
    }
    std::optional<store::RequestRecord> get_request(std::int64_t id) override {
        return inner_->get_request(id);
    }
    std::vector<store::StatsRow> stats(const store::StatsQuery& q) override {
        return inner_->stats(q);
    }
    store::CleanupResult cleanup(std::int64_t now, const store::RetentionPolicy& p) override {
        return inner_->cleanup(now, p);
    }
    std::int64_t count_requests() override { return inner_->count_requests(); }

  private:
    std::unique_ptr<store::Store> inner_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool open_ = false, blocked_ = false;
};

TEST(LogQueue, FullQueueDropsAndCountsRowsWhileRequestsAreStillServed) {
    FakeUpstream a;
    a.set_default(sim::Reply::sse(
        sim::text_stream("claude-sonnet-4-5", "Hello.", 2, sim::Usage{10, 5, 0, 0})));
    GatedStore* gated = nullptr;
    store::WriterOptions writer;
    writer.capacity = 3;
    writer.max_batch = 1;
    writer.max_delay = 1ms;
    ProxyFixture proxy(
        {endpoint_config("a", a.base_url())}, {}, "", nullptr, 0,
        [&](std::unique_ptr<store::Store> inner) {
            auto g = std::make_unique<GatedStore>(std::move(inner));
            gated = g.get();
            return g;
        },
        writer);
    ASSERT_NE(gated, nullptr);

    // The first row takes the writer into the stuck store; the next 3 fill the queue; the rest
    // are dropped. Every request is still answered in full.
    ASSERT_EQ(proxy.send_messages({}, true).status, 200);
    ASSERT_TRUE(gated->wait_blocked(10s));
    constexpr int kMore = 8;
    for (int i = 0; i < kMore; ++i) {
        const auto res = proxy.send_messages({}, true);
        ASSERT_EQ(res.status, 200);
        ASSERT_TRUE(res.complete);
    }
    auto& w = proxy.gateway().writer();
    // A row is pushed just after its response went out: await the last one (bounded).
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (w.dropped() < kMore - 3 && std::chrono::steady_clock::now() < until) {
        std::this_thread::yield();
    }
    EXPECT_EQ(w.queued(), 3u);
    EXPECT_EQ(w.dropped(), static_cast<std::uint64_t>(kMore - 3));

    TestClient client(proxy.port());
    const auto metrics = client.request(
        "GET", "/metrics", {{"authorization", std::string("Bearer ") + kAdminToken}}, "");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("\nqcc_log_rows_dropped_total " + std::to_string(kMore - 3) + "\n"),
              std::string::npos)
        << metrics.body;

    gated->open_gate();
    w.flush();
    EXPECT_EQ(w.written(), 4u) << "the row in flight and the three queued ones";
    EXPECT_EQ(proxy.gateway().store().count_requests(), 4);
}

}  // namespace
}  // namespace qcc::test
