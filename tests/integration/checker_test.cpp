// Integration tests of the active health checks (SPEC §7): the conversational check, the models
// and connect probes and CheckRunner, run on an io_context thread of their own with a Pool,
// against fake upstreams.
#include "upstream/checker.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/tls_cert.hpp"
#include "sim/anthropic.hpp"
#include "sim/openai.hpp"
#include "store/store.hpp"
#include "upstream/pool.hpp"

namespace qcc::test {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using upstream::CheckMethod;
using upstream::CheckOptions;
using upstream::CheckResult;
using upstream::CheckRunner;
using upstream::Endpoint;

constexpr auto kWait = 20s;  // deadline for anything the tests await

std::shared_ptr<const Endpoint> make_ep(const config::EndpointConfig& cfg) {
    const auto id = store::endpoint_id(cfg.base_url, cfg.api_key);
    return std::make_shared<const Endpoint>(
        upstream::make_endpoint(id, cfg, config::Timeouts{}, nullptr));
}

std::shared_ptr<const Endpoint> make_ep(const std::string& name, const std::string& base_url) {
    return make_ep(endpoint_config(name, base_url));
}

/// An io_context on its own thread with the Pool the checks use; stopped before the pool goes.
class CheckerIo {
  public:
    CheckerIo()
        : work_(asio::make_work_guard(ioc_)),
          pool_(ioc_, config::PoolConfig{}, upstream::ProxySettings{}),
          thread_([this] { ioc_.run(); }) {}
    ~CheckerIo() {
        work_.reset();
        ioc_.stop();
        thread_.join();
    }

    asio::io_context& ioc() { return ioc_; }
    upstream::Pool& pool() { return pool_; }

    std::future<CheckResult> conversation(const Endpoint& ep, std::chrono::milliseconds timeout,
                                          std::string model = {}) {
        return asio::co_spawn(
            ioc_, upstream::conversational_check(pool_, ep, std::move(model), timeout, rng_),
            asio::use_future);
    }
    std::future<CheckResult> models(const Endpoint& ep, std::chrono::milliseconds timeout) {
        return asio::co_spawn(ioc_, upstream::models_probe(pool_, ep, timeout), asio::use_future);
    }
    std::future<CheckResult> connect(const Endpoint& ep, std::chrono::milliseconds timeout) {
        return asio::co_spawn(ioc_, upstream::connect_probe(pool_, ep, timeout), asio::use_future);
    }

    /// Runs `fn` on the io thread (the pool is only touched there) and returns its value.
    template <class Fn>
    auto on_io(Fn fn) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto result = task.get_future();
        asio::post(ioc_, [&task] { task(); });
        return result.get();
    }
    int open_count(const Endpoint& ep) {
        return on_io([&] { return pool_.open_count(ep.id); });
    }
    std::size_t idle_count(const Endpoint& ep) {
        return on_io([&] { return pool_.idle_count(ep.id); });
    }

  private:
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    upstream::Pool pool_;
    std::mt19937_64 rng_{12345};
    std::thread thread_;
};

CheckResult get(std::future<CheckResult>& f) {
    if (f.wait_for(kWait) != std::future_status::ready) {
        ADD_FAILURE() << "check did not finish";
        return {};
    }
    return f.get();
}

/// Collects CheckRunner callbacks; waitable.
class Results {
  public:
    CheckRunner::Callback callback(const std::function<void(const Endpoint&)>& also = {}) {
        return [this, also](const Endpoint& ep, const CheckResult& r) {
            if (also) also(ep);
            std::lock_guard lock(mu_);
            order_.push_back(ep.cfg.name);
            by_name_[ep.cfg.name].push_back(r);
            cv_.notify_all();
        };
    }
    bool wait_for(std::size_t n) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, kWait, [&] { return order_.size() >= n; });
    }
    std::vector<std::string> order() const {
        std::lock_guard lock(mu_);
        return order_;
    }
    std::vector<CheckResult> of(const std::string& name) const {
        std::lock_guard lock(mu_);
        auto it = by_name_.find(name);
        return it == by_name_.end() ? std::vector<CheckResult>{} : it->second;
    }

  private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::string> order_;
    std::map<std::string, std::vector<CheckResult>> by_name_;
};

sim::Reply stall_reply() {
    sim::Reply r;
    r.stall = true;
    return r;
}

// ---- conversational check -------------------------------------------------------------------

TEST(ConversationalCheck, AnthropicLikeEndpointPassesWithTheRightRequest) {
    FakeUpstream up;
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());

    auto f = io.conversation(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.method, "conversation");
    EXPECT_EQ(r.result, "pass") << r.error;
    EXPECT_TRUE(r.valid);
    EXPECT_GE(r.score, 50);
    EXPECT_LE(r.score, 100);
    EXPECT_EQ(r.model, upstream::kDefaultCheckModel);
    EXPECT_TRUE(r.error.empty());
    EXPECT_GT(r.input_tokens, 0);
    EXPECT_GT(r.output_tokens, 0);
    EXPECT_GE(r.latency_ms, 0);

    const auto requests = up.requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto& req = requests[0];
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/v1/messages");
    EXPECT_EQ(req.header("x-api-key"), "sk-ant-a");
    EXPECT_EQ(req.header("authorization"), "");
    EXPECT_EQ(req.header("anthropic-version"), "2023-06-01");
    EXPECT_EQ(req.header("user-agent"), upstream::kCheckUserAgent);
    EXPECT_EQ(req.header("x-app"), "cli");
    EXPECT_EQ(req.header("content-type"), "application/json");
    const auto body = boost::json::parse(req.body).as_object();
    EXPECT_EQ(body.at("max_tokens").as_int64(), 20);
    EXPECT_EQ(body.at("model").as_string(), upstream::kDefaultCheckModel);
    EXPECT_FALSE(body.at("stream").as_bool());

    // The complete keep-alive response left the connection in the pool; the next check reuses it
    // and asks for the configured model with a new code.
    EXPECT_EQ(io.idle_count(*ep), 1u);
    auto g = io.conversation(*ep, 10s, "claude-3-5-haiku-latest");
    const auto second = get(g);
    EXPECT_EQ(second.result, "pass") << second.error;
    EXPECT_EQ(second.model, "claude-3-5-haiku-latest");
    EXPECT_EQ(up.server().connections_accepted(), 1u);
    const auto again = up.requests();
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(boost::json::parse(again[1].body).at("model").as_string(), "claude-3-5-haiku-latest");
    EXPECT_NE(again[0].body, again[1].body);  // a fresh code each time
}

TEST(ConversationalCheck, InjectsCredentialPerAuthModeAndHonoursPathPrefix) {
    FakeUpstream up;
    // The relay lives under /api/anthropic; strip it before answering like Anthropic.
    up.set_fallback([](const sim::Request& req) {
        sim::Request inner = req;
        const std::string prefix = "/api/anthropic";
        if (inner.target.starts_with(prefix)) inner.target = inner.target.substr(prefix.size());
        return sim::respond_like_anthropic(inner);
    });
    CheckerIo io;
    auto bearer_cfg = endpoint_config("b", up.base_url() + "/api/anthropic");
    bearer_cfg.auth = config::AuthMode::kBearer;
    auto both_cfg = endpoint_config("c", up.base_url() + "/api/anthropic");
    both_cfg.auth = config::AuthMode::kBoth;
    const auto bearer = make_ep(bearer_cfg);
    const auto both = make_ep(both_cfg);

    auto f1 = io.conversation(*bearer, 10s);
    EXPECT_EQ(get(f1).result, "pass");
    auto f2 = io.conversation(*both, 10s);
    EXPECT_EQ(get(f2).result, "pass");

    const auto requests = up.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].target, "/api/anthropic/v1/messages");
    EXPECT_EQ(requests[0].header("authorization"), "Bearer sk-ant-b");
    EXPECT_EQ(requests[0].header("x-api-key"), "");
    EXPECT_EQ(requests[1].header("authorization"), "Bearer sk-ant-c");
    EXPECT_EQ(requests[1].header("x-api-key"), "sk-ant-c");
}

TEST(ConversationalCheck, OkWithEmptyBodyFails) {
    FakeUpstream up;
    up.push(sim::Reply::json(200, ""));
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());
    auto f = io.conversation(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.result, "fail");
    EXPECT_FALSE(r.valid);
    EXPECT_LE(r.score, 50);
    EXPECT_NE(r.error.find("empty body"), std::string::npos) << r.error;
}

TEST(ConversationalCheck, OkWhoseTextLacksTheCodeFails) {
    FakeUpstream up;
    sim::Usage usage;
    usage.input_tokens = 20;
    usage.output_tokens = 3;
    up.push(sim::Reply::json(200, sim::text_message_json("claude-haiku-4-5", "Hello!", usage)));
    up.push(sim::Reply::json(200, sim::error_json("overloaded_error", "try later")));
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());

    auto f = io.conversation(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.result, "fail");
    EXPECT_FALSE(r.valid);
    EXPECT_LE(r.score, 50);
    EXPECT_NE(r.error.find("does not contain the code"), std::string::npos) << r.error;
    EXPECT_EQ(r.input_tokens, 20);  // tokens were spent all the same
    EXPECT_EQ(r.output_tokens, 3);

    auto g = io.conversation(*ep, 10s);  // a 200 carrying an error object
    const auto e = get(g);
    EXPECT_EQ(e.result, "fail");
    EXPECT_FALSE(e.valid);
}

TEST(ConversationalCheck, UnauthorizedFailsWithoutEchoingTheKey) {
    FakeUpstream up;
    up.push(sim::Reply::error(401, "authentication_error", "invalid x-api-key sk-ant-a"));
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());
    auto f = io.conversation(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.result, "fail");
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.score, 0);
    EXPECT_NE(r.error.find("401"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("authentication_error"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("sk-ant-a"), std::string::npos) << r.error;
}

TEST(ConversationalCheck, ConnectionCutMidResponseFailsAndIsNotPooled) {
    FakeUpstream up;
    sim::Usage usage;
    auto reply = sim::Reply::json(200, sim::text_message_json("m", "K7Q2ZP", usage));
    reply.reset_after_bytes = 10;
    up.push(reply);
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());
    auto f = io.conversation(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.result, "fail");
    EXPECT_NE(r.error.find("mid-response"), std::string::npos) << r.error;
    EXPECT_EQ(io.open_count(*ep), 0);
    EXPECT_EQ(io.idle_count(*ep), 0u);
}

TEST(ConversationalCheck, PooledConnectionClosedBeforeAnswerIsRetriedOnceFresh) {
    FakeUpstream up;
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());
    auto f = io.conversation(*ep, 10s);
    ASSERT_EQ(get(f).result, "pass");
    ASSERT_EQ(io.idle_count(*ep), 1u);
    // The relay closes the kept-alive connection instead of answering, as a relay that timed it
    // out does: the check goes once more on a fresh connection and sees no failure.
    sim::Reply gone;
    gone.close_without_response = true;
    up.push(gone);
    auto g = io.conversation(*ep, 10s);
    const auto r = get(g);
    EXPECT_EQ(r.result, "pass") << r.error;
    EXPECT_EQ(up.request_count(), 3u);
    EXPECT_EQ(up.server().connections_accepted(), 2u);

    // A fresh connection that closes without an answer is a failure, not retried.
    up.push(gone);
    io.on_io([&] {
        io.pool().clear();
        return 0;
    });
    auto k = io.conversation(*ep, 10s);
    const auto lost = get(k);
    EXPECT_EQ(lost.result, "fail");
    EXPECT_NE(lost.error.find("no response"), std::string::npos) << lost.error;
    EXPECT_EQ(up.request_count(), 4u);
}

TEST(ConversationalCheck, HangingTlsHandshakeIsBoundedByTheCheckTimeout) {
    // A listener that never accepts: the kernel completes TCP connects, nobody speaks TLS.
    asio::io_context quiet;
    asio::ip::tcp::acceptor acceptor(quiet, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    auto cfg = endpoint_config("hang", "https://127.0.0.1:" + std::to_string(port));
    cfg.tls_verify = false;
    cfg.connect_timeout = 600s;  // far beyond the deadline below: the check's timeout must win
    const auto ep = make_ep(cfg);
    CheckerIo io;
    auto check = io.conversation(*ep, 300ms);
    auto probe = io.connect(*ep, 300ms);
    const auto c = get(check);
    const auto p = get(probe);
    EXPECT_EQ(c.result, "timeout") << c.error;
    EXPECT_EQ(p.result, "timeout") << p.error;
    EXPECT_FALSE(c.valid);
    EXPECT_EQ(c.score, 0);
}

// ---- probes ---------------------------------------------------------------------------------

TEST(ConversationalCheck, OpenAiEndpointIsCheckedInChatCompletionsForm) {
    FakeUpstream up;
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_openai(req); });
    CheckerIo io;
    auto cfg = endpoint_config("o", up.base_url() + "/v1");
    cfg.kind = config::EndpointKind::kOpenAI;
    cfg.auth = config::AuthMode::kBearer;
    cfg.model_map = {{"*", "gpt-sim"}};
    const auto ep = make_ep(cfg);

    auto f = io.conversation(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.result, "pass") << r.error;
    EXPECT_TRUE(r.valid);
    EXPECT_EQ(r.model, "gpt-sim");
    EXPECT_GT(r.input_tokens, 0);
    const auto requests = up.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].target, "/v1/chat/completions");
    EXPECT_EQ(requests[0].header("authorization"), "Bearer sk-ant-o");
    const auto body = boost::json::parse(requests[0].body).as_object();
    EXPECT_EQ(body.at("model").as_string(), "gpt-sim");
    EXPECT_FALSE(body.contains("stream") && body.at("stream").as_bool());

    // A 200 carrying an error fails the check with the target's message; so does a 401.
    up.push(sim::Reply::json(200, R"({"error":{"message":"No endpoints found","code":404}})"));
    auto g = io.conversation(*ep, 10s);
    const auto err200 = get(g);
    EXPECT_EQ(err200.result, "fail");
    EXPECT_FALSE(err200.valid);
    up.push(sim::openai_error(401, "invalid_api_key", "Incorrect API key provided"));
    auto h = io.conversation(*ep, 10s);
    const auto denied = get(h);
    EXPECT_EQ(denied.result, "fail");
    EXPECT_NE(denied.error.find("401"), std::string::npos) << denied.error;

    // The models probe lists models under the target's base path.
    auto m = io.models(*ep, 10s);
    EXPECT_EQ(get(m).result, "pass");
    EXPECT_EQ(up.requests().back().target, "/v1/models");
}

TEST(ModelsProbe, PassesOn2xxAndFailsOtherwise) {
    FakeUpstream up;
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());
    auto f = io.models(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.method, "models");
    EXPECT_EQ(r.result, "pass") << r.error;
    EXPECT_TRUE(r.valid);
    EXPECT_GE(r.score, 70);
    EXPECT_EQ(r.input_tokens + r.output_tokens, 0);
    const auto requests = up.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "GET");
    EXPECT_EQ(requests[0].target, "/v1/models");
    EXPECT_EQ(requests[0].header("x-api-key"), "sk-ant-a");
    EXPECT_EQ(requests[0].header("anthropic-version"), "2023-06-01");
    EXPECT_TRUE(requests[0].body.empty());

    up.push(sim::Reply::error(403, "permission_error", "no"));
    auto g = io.models(*ep, 10s);
    const auto denied = get(g);
    EXPECT_EQ(denied.result, "fail");
    EXPECT_FALSE(denied.valid);
    EXPECT_EQ(denied.score, 0);
    EXPECT_NE(denied.error.find("403"), std::string::npos);

    sim::Reply slow = sim::Reply::json(200, "{}");
    slow.stall = true;
    up.push(slow);
    auto h = io.models(*ep, 200ms);
    EXPECT_EQ(get(h).result, "timeout");
}

TEST(ConnectProbe, OpensAndClosesAConnectionWithoutSendingAnything) {
    FakeUpstream up;
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());
    auto f = io.connect(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.method, "connect");
    EXPECT_EQ(r.result, "pass") << r.error;
    EXPECT_TRUE(r.valid);
    EXPECT_GT(r.score, 0);
    EXPECT_TRUE(up.server().wait_until(
        [](const sim::Server& s) {
            return s.connections_accepted() == 1 && s.open_connections() == 0;
        },
        kWait));
    EXPECT_EQ(up.request_count(), 0u);
    EXPECT_EQ(io.open_count(*ep), 0);
}

TEST(ConnectProbe, RefusedConnectionFails) {
    FakeUpstream up;
    up.refuse();
    CheckerIo io;
    const auto ep = make_ep("a", up.base_url());
    auto f = io.connect(*ep, 10s);
    const auto r = get(f);
    EXPECT_EQ(r.result, "fail");
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(r.score, 0);
    EXPECT_FALSE(r.error.empty());
    // The conversational check and the models probe see the same.
    auto g = io.conversation(*ep, 10s);
    EXPECT_EQ(get(g).result, "fail");
    auto h = io.models(*ep, 10s);
    EXPECT_EQ(get(h).result, "fail");
}

TEST(ConnectProbe, TlsHandshakeIsPartOfTheProbe) {
    const auto cert = make_self_signed_cert();
    FakeUpstream up(cert.tls_options());
    CheckerIo io;
    auto trusting = endpoint_config("self-signed-ok", up.base_url());
    trusting.tls_verify = false;
    auto verifying = endpoint_config("self-signed-verify", up.base_url());
    const auto ok = make_ep(trusting);
    const auto strict = make_ep(verifying);

    auto f = io.connect(*ok, 10s);
    EXPECT_EQ(get(f).result, "pass");
    auto g = io.connect(*strict, 10s);
    const auto r = get(g);
    EXPECT_EQ(r.result, "fail");  // the certificate is not trusted
    EXPECT_FALSE(r.error.empty());
    EXPECT_TRUE(up.server().wait_until(
        [](const sim::Server& s) { return s.tls_handshake_failures() >= 1; }, kWait));
    EXPECT_EQ(up.request_count(), 0u);
}

// ---- CheckRunner ----------------------------------------------------------------------------

TEST(CheckRunner, StalledEndpointTimesOutWhileAnotherCompletes) {
    FakeUpstream stalled, healthy;
    stalled.push(stall_reply());
    healthy.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    CheckerIo io;
    Results results;
    CheckRunner runner(io.ioc(), io.pool(), results.callback());
    const auto a = make_ep("stalled", stalled.base_url());
    const auto b = make_ep("healthy", healthy.base_url());
    CheckOptions options;
    options.timeout = 1500ms;
    EXPECT_EQ(runner.submit({a, b}, options), 2u);
    EXPECT_EQ(runner.running(), 2u);

    ASSERT_TRUE(results.wait_for(2));
    // The healthy check ran beside the stalled one and finished first.
    EXPECT_EQ(results.order(), (std::vector<std::string>{"healthy", "stalled"}));
    const auto h = results.of("healthy").at(0);
    EXPECT_EQ(h.result, "pass") << h.error;
    const auto s = results.of("stalled").at(0);
    EXPECT_EQ(s.result, "timeout");
    EXPECT_FALSE(s.valid);
    EXPECT_EQ(s.score, 0);
    EXPECT_NE(s.error.find("1500 ms"), std::string::npos) << s.error;
    // The stalled connection was closed, not returned to the pool mid-response.
    EXPECT_TRUE(stalled.wait_for_client_aborts(1));
    EXPECT_EQ(io.open_count(*a), 0);
}

TEST(CheckRunner, NeverRunsTwoChecksOfOneEndpoint) {
    FakeUpstream up;
    up.push(stall_reply());
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    CheckerIo io;
    Results results;
    CheckRunner runner(io.ioc(), io.pool(), results.callback());
    const auto ep = make_ep("a", up.base_url());
    CheckOptions options;
    options.timeout = 1000ms;

    EXPECT_TRUE(runner.submit(ep, options));
    EXPECT_TRUE(runner.busy(ep->id));
    EXPECT_FALSE(runner.submit(ep, options));  // still running: no pile-up
    CheckOptions probe;
    probe.method = CheckMethod::kConnect;
    EXPECT_FALSE(runner.submit(ep, probe));  // whatever the method
    EXPECT_EQ(runner.submit({ep, ep}, options), 0u);
    EXPECT_EQ(runner.running(), 1u);
    EXPECT_EQ(runner.queued(), 0u);

    ASSERT_TRUE(results.wait_for(1));
    EXPECT_EQ(results.of("a").at(0).result, "timeout");
    // Once its callback has returned the endpoint is free again (checked on the io thread, after
    // the runner's bookkeeping).
    EXPECT_FALSE(io.on_io([&] { return runner.busy(ep->id); }));
    EXPECT_TRUE(runner.submit(ep, options));
    ASSERT_TRUE(results.wait_for(2));
    EXPECT_EQ(results.of("a").at(1).result, "pass");
    EXPECT_EQ(up.request_count(), 2u);
    EXPECT_EQ(results.order().size(), 2u);
}

TEST(CheckRunner, TwentyEndpointsNeverMoreThanTwoAtOnce) {
    std::atomic<int> arrivals{0};
    std::atomic<int> completions{0};
    std::atomic<int> max_in_flight{0};
    std::mutex keys_mu;
    std::multiset<std::string> keys;
    FakeUpstream up;
    up.set_fallback([&](const sim::Request& req) {
        // A check is in flight from its request's arrival until its callback ran (the runner
        // frees the slot only after the callback): arrivals - completions bounds what runs.
        const int in_flight = ++arrivals - completions.load();
        int seen = max_in_flight.load();
        while (in_flight > seen && !max_in_flight.compare_exchange_weak(seen, in_flight)) {
        }
        {
            std::lock_guard lock(keys_mu);
            keys.insert(req.header("x-api-key"));
        }
        sim::ResponseShape shape;
        shape.head_delay = 30ms;
        return sim::respond_like_anthropic(req, shape);
    });
    CheckerIo io;
    Results results;
    std::atomic<std::size_t> max_running{0};
    CheckRunner* runner_ptr = nullptr;
    CheckRunner runner(io.ioc(), io.pool(), results.callback([&](const Endpoint&) {
        completions.fetch_add(1);
        const auto running = runner_ptr->running();
        if (running > max_running.load()) max_running.store(running);
    }));
    runner_ptr = &runner;

    std::vector<std::shared_ptr<const Endpoint>> endpoints;
    endpoints.reserve(20);
    for (int i = 0; i < 20; ++i) {
        endpoints.push_back(make_ep("e" + std::to_string(i), up.base_url()));
    }
    EXPECT_EQ(runner.submit(endpoints), 20u);
    EXPECT_LE(runner.running(), 2u);
    // The last endpoint waits behind 18 others: submitting it again does nothing.
    EXPECT_FALSE(runner.submit(endpoints.back()));
    EXPECT_TRUE(runner.busy(endpoints.back()->id));

    ASSERT_TRUE(results.wait_for(20));
    EXPECT_LE(max_in_flight.load(), 2);
    EXPECT_GE(max_in_flight.load(), 1);
    EXPECT_LE(max_running.load(), 2u);
    EXPECT_EQ(up.request_count(), 20u);
    std::lock_guard lock(keys_mu);
    for (int i = 0; i < 20; ++i) {
        const auto name = "e" + std::to_string(i);
        EXPECT_EQ(keys.count("sk-ant-" + name), 1u) << name;
        const auto r = results.of(name);
        ASSERT_EQ(r.size(), 1u) << name;
        EXPECT_EQ(r[0].result, "pass") << name << ": " << r[0].error;
    }
    // Submission order is kept: one of the first two endpoints finishes first.
    const auto order = results.order();
    EXPECT_TRUE(order.front() == "e0" || order.front() == "e1") << order.front();
    EXPECT_EQ(std::set<std::string>(order.begin(), order.end()).size(), 20u);
}

TEST(CheckRunner, RunsProbesAndDropsQueuedChecks) {
    FakeUpstream up;
    up.set_fallback([](const sim::Request& req) { return sim::respond_like_anthropic(req); });
    CheckerIo io;
    Results results;
    CheckRunner runner(io.ioc(), io.pool(), results.callback(), /*concurrency=*/1);
    const auto a = make_ep("a", up.base_url());
    const auto b = make_ep("b", up.base_url());
    const auto c = make_ep("c", up.base_url());
    up.push(stall_reply());  // a's check holds the only slot until its timeout
    CheckOptions slow;
    slow.timeout = 1000ms;
    CheckOptions models;
    models.method = CheckMethod::kModels;
    EXPECT_TRUE(runner.submit(a, slow));
    EXPECT_TRUE(runner.submit(b, models));
    EXPECT_TRUE(runner.submit(c, models));
    EXPECT_EQ(runner.queued(), 2u);
    runner.cancel_queued();
    EXPECT_EQ(runner.queued(), 0u);
    EXPECT_FALSE(runner.busy(b->id));
    EXPECT_TRUE(runner.submit(b, models));  // queued again behind a

    ASSERT_TRUE(results.wait_for(2));
    EXPECT_EQ(results.order(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(results.of("b").at(0).method, "models");
    EXPECT_EQ(results.of("b").at(0).result, "pass");
    EXPECT_TRUE(results.of("c").empty());
}

TEST(CheckRunner, DestroyingTheRunnerMidCheckIsSafeAndSilent) {
    FakeUpstream up;
    up.push(stall_reply());
    CheckerIo io;
    std::atomic<int> callbacks{0};
    const auto ep = make_ep("a", up.base_url());
    {
        CheckRunner runner(io.ioc(), io.pool(),
                           [&](const Endpoint&, const CheckResult&) { callbacks.fetch_add(1); });
        CheckOptions options;
        options.timeout = 300ms;
        ASSERT_TRUE(runner.submit(ep, options));
        ASSERT_TRUE(up.wait_for_requests(1));
    }
    // The orphaned check still ends at its deadline and closes its connection.
    EXPECT_TRUE(up.wait_for_client_aborts(1));
    EXPECT_EQ(callbacks.load(), 0);
    EXPECT_EQ(io.open_count(*ep), 0);
}

}  // namespace
}  // namespace qcc::test
