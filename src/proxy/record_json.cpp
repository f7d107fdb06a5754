#include "proxy/record_json.hpp"

namespace qcc::proxy {

boost::json::object request_json(const store::RequestRecord& r, bool with_payloads) {
    boost::json::object o;
    o["id"] = r.id;
    o["request_id"] = r.request_id;
    o["ts"] = r.ts_unix_ms;
    o["method"] = r.method;
    o["path"] = r.path;
    o["client_key"] = r.client_key;
    o["session_key"] = r.session_key;
    o["endpoint"] = r.endpoint;
    o["attempts"] = r.attempts;
    o["tried"] = r.tried;
    o["model_requested"] = r.model_requested;
    o["model_sent"] = r.model_sent;
    o["stream"] = r.stream;
    o["status"] = r.status;
    o["error_class"] = r.error_class;
    o["ttfb_ms"] = r.ttfb_ms;
    o["total_ms"] = r.total_ms;
    o["input_tokens"] = r.input_tokens;
    o["output_tokens"] = r.output_tokens;
    o["cache_creation_tokens"] = r.cache_creation_tokens;
    o["cache_read_tokens"] = r.cache_read_tokens;
    o["cost_usd"] = r.cost_usd;
    o["bytes_in"] = r.bytes_in;
    o["bytes_out"] = r.bytes_out;
    if (with_payloads) {
        o["request_payload"] = r.request_payload;
        o["response_payload"] = r.response_payload;
    }
    return o;
}

boost::json::object stats_json(const store::StatsRow& r) {
    boost::json::object o;
    o["group"] = r.group;
    o["bucket_unix_ms"] = r.bucket_unix_ms;
    o["count"] = r.count;
    o["successes"] = r.successes;
    o["failovers"] = r.failovers;
    o["success_ratio"] = r.success_ratio;
    o["latency_p50_ms"] = r.latency_p50_ms;
    o["latency_p95_ms"] = r.latency_p95_ms;
    o["latency_p99_ms"] = r.latency_p99_ms;
    o["ttfb_p50_ms"] = r.ttfb_p50_ms;
    o["ttfb_p95_ms"] = r.ttfb_p95_ms;
    o["ttfb_p99_ms"] = r.ttfb_p99_ms;
    o["input_tokens"] = r.input_tokens;
    o["output_tokens"] = r.output_tokens;
    o["cache_creation_tokens"] = r.cache_creation_tokens;
    o["cache_read_tokens"] = r.cache_read_tokens;
    o["cost_usd"] = r.cost_usd;
    return o;
}

}  // namespace qcc::proxy
