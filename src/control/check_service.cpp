#include "control/check_service.hpp"

#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "common/system.hpp"

namespace qcc::control {

namespace asio = boost::asio;

store::HealthCheckRecord check_record(std::string endpoint, const upstream::CheckResult& r,
                                      std::int64_t ts_unix_ms) {
    store::HealthCheckRecord rec;
    rec.ts_unix_ms = ts_unix_ms;
    rec.endpoint = std::move(endpoint);
    rec.method = r.method;
    rec.result = r.result.empty() ? std::string("timeout") : r.result;
    rec.valid = r.valid;
    rec.score = r.score;
    rec.latency_ms = r.latency_ms;
    rec.model = r.model;
    rec.input_tokens = r.input_tokens;
    rec.output_tokens = r.output_tokens;
    rec.error = r.error;
    return rec;
}

CheckService::CheckService(const config::PoolConfig& pool, std::size_t concurrency,
                           Callback on_result)
    : on_result_(std::move(on_result)),
      ioc_(std::make_unique<asio::io_context>(1)),
      pool_(std::make_unique<upstream::Pool>(*ioc_, pool, upstream::ProxySettings::from_env())),
      runner_(std::make_unique<upstream::CheckRunner>(*ioc_, *pool_, on_result_,
                                                      std::max<std::size_t>(1, concurrency))) {
    thread_ = std::thread([this] {
        sys::name_thread("qcc-check");
        sys::set_thread_priority(sys::ThreadPriority::kBatch);
        auto guard = asio::make_work_guard(*ioc_);
        ioc_->run();
    });
}

CheckService::~CheckService() { stop(); }

void CheckService::stop() {
    if (!ioc_) return;
    ioc_->stop();
    if (thread_.joinable()) thread_.join();
    runner_.reset();
    pool_.reset();
    ioc_.reset();
}

void CheckService::submit(std::vector<std::shared_ptr<const upstream::Endpoint>> endpoints,
                          upstream::CheckOptions options, std::string method_fallback) {
    // The runner belongs to the check thread: hand the work over rather than touch it here.
    asio::post(*ioc_, [this, endpoints = std::move(endpoints), options,
                       fallback = std::move(method_fallback)]() mutable {
        for (const auto& ep : endpoints) {
            options.method = upstream::check_method_for(*ep, fallback);
            runner_->submit(ep, options);
        }
    });
}

asio::awaitable<std::vector<upstream::CheckResult>> CheckService::run_now(
    std::vector<std::shared_ptr<const upstream::Endpoint>> targets, upstream::CheckOptions options,
    std::optional<std::string> per_endpoint_fallback) {
    // Every check runs concurrently on the check thread; the awaiting coroutine resumes on its
    // own executor once the last one finished.
    auto work = [this, targets = std::move(targets), options,
                 fallback = std::move(per_endpoint_fallback)]()
        -> asio::awaitable<std::vector<upstream::CheckResult>> {
        struct Shared {
            std::vector<upstream::CheckResult> results;
            std::size_t pending = 0;
            asio::steady_timer done;
            explicit Shared(asio::any_io_executor ex) : done(std::move(ex)) {}
        };
        auto shared = std::make_shared<Shared>(co_await asio::this_coro::executor);
        shared->results.resize(targets.size());
        shared->pending = targets.size();
        shared->done.expires_after(options.timeout + std::chrono::seconds(5));
        for (std::size_t i = 0; i < targets.size(); ++i) {
            auto opts = options;
            if (fallback) opts.method = upstream::check_method_for(*targets[i], *fallback);
            asio::co_spawn(
                *ioc_,
                [this, shared, i, ep = targets[i], opts]() -> asio::awaitable<void> {
                    static thread_local std::mt19937_64 rng{std::random_device{}()};
                    shared->results[i] = co_await upstream::run_check(*pool_, *ep, opts, rng);
                    try {
                        on_result_(*ep, shared->results[i]);
                    } catch (const std::exception& e) {
                        spdlog::error("health check of {}: {}", ep->cfg.name, e.what());
                    }
                    if (--shared->pending == 0) shared->done.cancel();
                },
                asio::detached);
        }
        if (shared->pending > 0) {
            co_await shared->done.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        co_return shared->results;
    };
    // Not a coroutine itself: GCC 12 destroys by-value coroutine parameters that were moved into
    // a lambda capture twice. co_spawn keeps `work` alive until it completes.
    return asio::co_spawn(*ioc_, std::move(work), asio::use_awaitable);
}

}  // namespace qcc::control
