// CheckService: health checks on their own thread, io_context and connection pool — never on a
// proxy worker. Background checks (recovery, periodic, warm-up) go through a bounded CheckRunner
// that never piles up; on-demand checks (the admin API) run at once, concurrently. Every result is
// handed to one callback on the check thread.
#pragma once
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "config/config.hpp"
#include "store/records.hpp"
#include "upstream/checker.hpp"
#include "upstream/pool.hpp"

namespace qcc::control {

/// The stored form of a check result. A check that produced no result before its deadline (an
/// empty result) is recorded as a "timeout".
store::HealthCheckRecord check_record(std::string endpoint, const upstream::CheckResult& r,
                                      std::int64_t ts_unix_ms);

class CheckService {
  public:
    using Callback = upstream::CheckRunner::Callback;

    /// Starts the check thread. `on_result` runs there after every check.
    CheckService(const config::PoolConfig& pool, std::size_t concurrency, Callback on_result);
    /// stop().
    ~CheckService();
    CheckService(const CheckService&) = delete;
    CheckService& operator=(const CheckService&) = delete;

    /// Queues background checks (endpoints already being checked are skipped). Any thread.
    void submit(std::vector<std::shared_ptr<const upstream::Endpoint>> endpoints,
                upstream::CheckOptions options, std::string method_fallback);
    /// Runs one check per target now; resumes the caller on its executor with the results in
    /// order. `options.method` is used for every target unless `per_endpoint_fallback` is set,
    /// then each endpoint's own method (tag, else the fallback) is used.
    boost::asio::awaitable<std::vector<upstream::CheckResult>> run_now(
        std::vector<std::shared_ptr<const upstream::Endpoint>> targets,
        upstream::CheckOptions options, std::optional<std::string> per_endpoint_fallback);
    /// Stops the thread; running checks are abandoned. Idempotent.
    void stop();

  private:
    Callback on_result_;
    std::unique_ptr<boost::asio::io_context> ioc_;
    std::unique_ptr<upstream::Pool> pool_;
    std::unique_ptr<upstream::CheckRunner> runner_;
    std::thread thread_;
};

}  // namespace qcc::control
