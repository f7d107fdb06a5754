// Observer: what happens when a request ends (SPEC §11) — Prometheus metrics, the request-log row
// (queued to the store writer) and its cost. Runs on the worker thread, so it only touches atomics
// and non-blocking queues; per-endpoint metric handles are resolved when the endpoint set loads.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "metrics/metrics.hpp"
#include "proxy/request_ctx.hpp"
#include "store/store.hpp"
#include "upstream/endpoint_set.hpp"

namespace qcc::proxy {

class Runtime;

/// Replaces anything shaped like an API key ("sk-" followed by 16+ key characters) in captured
/// payloads with "sk-[redacted]", in place.
void redact_credentials(std::string& text);

class Observer {
  public:
    /// Registers the process-wide metric families (scrape-time gauges read the runtime).
    explicit Observer(Runtime& rt);

    /// Resolves metric handles for every endpoint of `set` (control thread, after a reload).
    void on_endpoints(const upstream::EndpointSet& set);
    /// Records one finished request: metrics, cost, request-log row. Never blocks. Moves the
    /// context's strings into the row (the request is over).
    void on_request(RequestContext& ctx);

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
    double cost_of(const RequestContext& ctx);

    Runtime& rt_;
    metrics::Registry& reg_;
    metrics::Counter* retries_;  // attempts beyond the first
    std::atomic<std::shared_ptr<const HandleMap>> handles_{std::make_shared<const HandleMap>()};
    std::mutex mu_;  // creation of handles outside a reload; the unknown-model set
    std::set<std::string, std::less<>> unknown_models_;
};

}  // namespace qcc::proxy
