// Observer: what happens when a request ends — the per-request log line, Prometheus metrics, and
// the request-log row with its cost (queued to the store writer). It is the data plane's
// RequestSink: it runs on the worker thread, so it only touches atomics and non-blocking queues;
// per-endpoint metric handles are resolved when the endpoint set loads.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "common/log.hpp"
#include "metrics/metrics.hpp"
#include "proxy/health_state.hpp"
#include "proxy/pool_stat.hpp"
#include "proxy/request_ctx.hpp"
#include "proxy/sinks.hpp"
#include "proxy/snapshots.hpp"
#include "store/records.hpp"
#include "upstream/endpoint_set.hpp"

namespace qcc::store {
class RequestWriter;
}

namespace qcc::control {

using proxy::RequestContext;

/// Replaces anything shaped like an API key ("sk-" followed by 16+ key characters) in captured
/// payloads with "sk-[redacted]", in place.
void redact_credentials(std::string& text);

class Observer final : public proxy::RequestSink {
  public:
    /// `writer` may be null (no request log). Reads the policy (prices, payload capture) from
    /// `snapshots` per request.
    Observer(metrics::Registry& registry, const proxy::Snapshots& snapshots,
             store::RequestWriter* writer);

    /// Resolves metric handles for every endpoint of `set` (control thread, after a reload).
    void on_endpoints(const upstream::EndpointSet& set);
    /// Records one finished request: log line, metrics, cost, request-log row. Never blocks.
    /// Moves the context's strings into the row (the request is over).
    void on_request_done(RequestContext& ctx) override;

  private:
    struct EndpointHandles {
        metrics::Counter* by_code[5];  // 2xx 3xx 4xx 5xx none
        metrics::Histogram* latency;
        metrics::Histogram* ttfb;
        metrics::Counter* tokens[4];  // input output cache_creation cache_read
        std::atomic<double> cost_usd{0};
    };
    using HandleMap = std::unordered_map<std::string, std::shared_ptr<EndpointHandles>>;

    std::shared_ptr<EndpointHandles> handles_for(const std::string& endpoint);
    store::RequestRecord to_record(RequestContext& ctx);
    void meter_usage(const proxy::ClientKey& key, const store::RequestRecord& r);
    double cost_of(const RequestContext& ctx);

    metrics::Registry& reg_;
    const proxy::Snapshots& snapshots_;
    store::RequestWriter* writer_;
    metrics::Counter* retries_;  // attempts beyond the first
    std::atomic<std::shared_ptr<const HandleMap>> handles_{std::make_shared<const HandleMap>()};
    log::LogThrottle unauthorized_log_;
    std::mutex mu_;  // creation of handles outside a reload; the unknown-model set
    std::set<std::string, std::less<>> unknown_models_;
};

/// Client connections as the data plane counts them.
struct ConnectionFigures {
    int open = 0, unauthenticated = 0;
    std::uint64_t refused = 0;         // refused at accept (limits)
    std::uint64_t auth_throttled = 0;  // bad keys answered late
};

/// Where the scrape-time gauges read their values.
struct GaugeSources {
    proxy::HealthState& health;
    const proxy::Snapshots& snapshots;
    const store::RequestWriter* writer;                        // may be null
    std::function<std::vector<proxy::PoolStat>()> pool_stats;  // summed over workers; may be empty
    std::function<ConnectionFigures()> connections;            // may be empty
};

/// Registers the process-wide counters and the live endpoint gauges (read at scrape time from
/// the same atomics selection uses).
void register_gauges(metrics::Registry& registry, GaugeSources sources);

}  // namespace qcc::control
