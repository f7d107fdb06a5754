#include "control/observer.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "common/log.hpp"
#include "store/writer.hpp"
#include "upstream/selector.hpp"

namespace qcc::control {

using proxy::PayloadCapture;

namespace {

constexpr const char* kCodes[5] = {"2xx", "3xx", "4xx", "5xx", "none"};
constexpr const char* kTokenTypes[4] = {"input", "output", "cache_creation", "cache_read"};

int code_index(int status) {
    if (status >= 200 && status < 600) return status / 100 - 2 < 0 ? 4 : status / 100 - 2;
    return 4;
}

std::string label_endpoint(const std::string& e) { return e.empty() ? "none" : e; }

bool key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

std::string_view or_dash(const std::string& s) { return s.empty() ? std::string_view("-") : s; }

/// The one info line per request (text, or one JSON object with `log_format = "json"`).
void log_request(const store::RequestRecord& r, std::string_view target) {
    if (!spdlog::default_logger_raw()->should_log(spdlog::level::info)) return;
    // Both arms string_view: a `"ok" : std::string` conditional would view a destroyed temporary.
    const std::string_view error_class =
        r.error_class.empty() ? std::string_view{"ok"} : std::string_view{r.error_class};
    if (log::json_format()) {
        boost::json::object o;
        o["msg"] = "request";
        o["request_id"] = r.request_id;
        o["method"] = r.method;
        o["target"] = target;
        o["key"] = r.client_key;
        o["session"] = r.session_key;
        o["model"] = r.model_requested;
        o["stream"] = r.stream;
        o["endpoint"] = r.endpoint;
        o["status"] = r.status;
        o["attempts"] = r.attempts;
        o["tried"] = r.tried;
        o["ttfb_ms"] = r.ttfb_ms;
        o["total_ms"] = r.total_ms;
        o["input_tokens"] = r.input_tokens;
        o["output_tokens"] = r.output_tokens;
        o["cache_creation_tokens"] = r.cache_creation_tokens;
        o["cache_read_tokens"] = r.cache_read_tokens;
        o["class"] = error_class;
        spdlog::info("{}", boost::json::serialize(o));
        return;
    }
    // Built by hand into a reused buffer and handed over as a finished message: this runs for
    // every request, and runtime formatting of eighteen fields cost more than the rest of the
    // line's journey.
    thread_local std::string line;
    line.clear();
    const auto text = [](std::string_view key, std::string_view value) {
        line += key;
        line += value;
    };
    const auto num = [](std::string_view key, std::int64_t value) {
        line += key;
        const fmt::format_int digits(value);
        line.append(digits.data(), digits.size());
    };
    text("request ", r.request_id);
    text(" ", r.method);
    text(" ", target);
    text(" key=", r.client_key);
    text(" session=", or_dash(r.session_key));
    text(" model=", r.model_requested);
    text(" stream=", r.stream ? "true" : "false");
    text(" endpoint=", or_dash(r.endpoint));
    num(" status=", r.status);
    num(" attempts=", r.attempts);
    text(" tried=[", r.tried);
    num("] ttfb_ms=", r.ttfb_ms);
    num(" total_ms=", r.total_ms);
    num(" in=", r.input_tokens);
    num(" out=", r.output_tokens);
    num(" cache_write=", r.cache_creation_tokens);
    num(" cache_read=", r.cache_read_tokens);
    text(" class=", error_class);
    spdlog::default_logger_raw()->log(spdlog::level::info, std::string_view(line));
}

}  // namespace

void redact_credentials(std::string& text) {
    constexpr std::string_view kMark = "sk-[redacted]";
    std::size_t pos = 0;
    while ((pos = text.find("sk-", pos)) != std::string::npos) {
        std::size_t end = pos + 3;
        while (end < text.size() && key_char(text[end])) ++end;
        if (end - pos - 3 >= 16) {
            text.replace(pos, end - pos, kMark);
            pos += kMark.size();
        } else {
            pos = end;
        }
    }
}

Observer::Observer(metrics::Registry& registry, const proxy::Snapshots& snapshots,
                   store::RequestWriter* writer)
    : reg_(registry),
      snapshots_(snapshots),
      writer_(writer),
      retries_(
          &reg_.counter("qcc_retries_total",
                        "Upstream attempts beyond the first (in place or on another endpoint)")) {
    reg_.counter_func("qcc_cost_usd_total", "Estimated spend in USD per endpoint",
                      [this](const metrics::Registry::Emit& emit) {
                          for (const auto& [name, h] : *handles_.load()) {
                              emit({{"endpoint", name}}, h->cost_usd.load());
                          }
                      });
}

std::shared_ptr<Observer::EndpointHandles> Observer::handles_for(const std::string& endpoint) {
    const auto map = handles_.load(std::memory_order_acquire);
    if (auto it = map->find(endpoint); it != map->end()) return it->second;
    // An endpoint not in the last snapshot ("none", or one removed meanwhile): create it once.
    std::lock_guard lock(mu_);
    const auto current = handles_.load();
    if (auto it = current->find(endpoint); it != current->end()) return it->second;
    auto h = std::make_shared<EndpointHandles>();
    const auto label = label_endpoint(endpoint);
    for (int i = 0; i < 5; ++i) {
        h->by_code[i] =
            &reg_.counter("qcc_requests_total", "Requests by serving endpoint and status class",
                          {{"endpoint", label}, {"code", kCodes[i]}}, i != 0);
    }
    h->latency =
        &reg_.histogram("qcc_request_duration_seconds", "Total request time by serving endpoint",
                        metrics::latency_buckets_seconds(), {{"endpoint", label}});
    h->ttfb = &reg_.histogram("qcc_request_ttfb_seconds",
                              "Time to the first response byte by serving endpoint",
                              metrics::latency_buckets_seconds(), {{"endpoint", label}});
    for (int i = 0; i < 4; ++i) {
        h->tokens[i] = &reg_.counter("qcc_tokens_total", "Tokens by endpoint and type",
                                     {{"endpoint", label}, {"type", kTokenTypes[i]}});
    }
    auto next = std::make_shared<HandleMap>(*current);
    (*next)[endpoint] = h;
    handles_.store(std::move(next), std::memory_order_release);
    return h;
}

void Observer::on_endpoints(const upstream::EndpointSet& set) {
    // Also the handles of requests no endpoint served (""): created here, with the endpoints,
    // rather than by the first such request while other workers read the map.
    handles_for("");
    for (const auto& ep : set.endpoints) handles_for(ep->cfg.name);
}

double Observer::cost_of(const RequestContext& ctx) {
    const auto& u = ctx.usage;
    if (u.input_tokens == 0 && u.output_tokens == 0 && u.cache_creation_input_tokens == 0 &&
        u.cache_read_input_tokens == 0) {
        return 0;
    }
    const std::string& model = !u.model.empty()          ? u.model
                               : !ctx.model_sent.empty() ? ctx.model_sent
                                                         : ctx.model_requested;
    const auto prices = snapshots_.policy()->prices;
    if (const auto* price = prices->find(model)) return anthropic::cost_usd(*price, u);
    std::lock_guard lock(mu_);
    if (unknown_models_.size() < 1000 && unknown_models_.insert(model).second) {
        spdlog::warn(
            "no price for model '{}': its requests cost 0 (set pricing.overrides to price it)",
            model);
    }
    return 0;
}

// Tokens and spend of the key that made the request (cache reads, a tenth of the price, do not
// count against tokens_per_minute); a warning when it crosses 80 % of a budget.
void Observer::meter_usage(const proxy::ClientKey& key, const store::RequestRecord& r) {
    const auto tokens = r.input_tokens + r.cache_creation_tokens + r.output_tokens;
    const auto crossed = key.meter->add_usage(key.limits, tokens, r.cost_usd, r.ts_unix_ms);
    if (crossed.empty()) return;
    const auto used = key.meter->usage(r.ts_unix_ms);
    spdlog::warn("client key {} has used 80 % of its {} budget (${:.2f} of ${:.2f})", key.name,
                 crossed, crossed == "daily" ? used.spent_today_usd : used.spent_this_month_usd,
                 crossed == "daily" ? key.limits.budget_daily_usd : key.limits.budget_monthly_usd);
}

store::RequestRecord Observer::to_record(RequestContext& ctx) {
    store::RequestRecord r;
    r.cost_usd = cost_of(ctx);  // before the model names move out
    r.request_id = std::move(ctx.id);
    r.ts_unix_ms = ctx.start_unix_ms;
    r.method = std::move(ctx.method);
    r.path = ctx.target.substr(0, ctx.target.find('?'));
    r.client_key = std::move(ctx.client_key);
    r.session_key = std::move(ctx.session_key);
    r.endpoint = ctx.endpoint;
    r.attempts = static_cast<int>(ctx.attempts.size());
    for (const auto& a : ctx.attempts) {
        if (!r.tried.empty()) r.tried += ',';
        r.tried += a.endpoint;
        if (!a.error_class.empty()) r.tried += ":" + a.error_class;
        // The attempt that answered lasted until the request ended.
        const auto duration = a.duration.count() > 0 || &a != &ctx.attempts.back()
                                  ? a.duration.count()
                                  : std::max<std::int64_t>(0, ctx.total_ms - a.start.count());
        if (!r.attempt_timings.empty()) r.attempt_timings += ',';
        r.attempt_timings += std::to_string(a.status) + "/" + std::to_string(a.start.count()) +
                             "/" + std::to_string(duration);
    }
    r.model_requested = std::move(ctx.model_requested);
    r.model_sent = std::move(ctx.model_sent);
    r.stream = ctx.stream;
    r.status = ctx.status;
    r.error_class = std::move(ctx.error_class);
    r.ttfb_ms = ctx.ttfb_ms;
    r.total_ms = ctx.total_ms;
    r.input_tokens = ctx.usage.input_tokens;
    r.output_tokens = ctx.usage.output_tokens;
    r.cache_creation_tokens = ctx.usage.cache_creation_input_tokens;
    r.cache_read_tokens = ctx.usage.cache_read_input_tokens;
    r.bytes_in = static_cast<std::int64_t>(ctx.bytes_in);
    r.bytes_out = static_cast<std::int64_t>(ctx.bytes_out);
    r.request_payload = std::move(ctx.request_payload);
    r.response_payload = std::move(ctx.response_payload);
    return r;
}

void Observer::on_request_done(RequestContext& ctx) {
    if (ctx.status == 401 && ctx.error_class == "unauthorized") {
        // Counted (qcc_unauthorized_total; the control loop stores the count per minute for
        // GET /api/stats), logged once a second at most, never a request-log row: a flood of bad
        // keys must not fill the disk.
        std::uint64_t held = 0;
        if (unauthorized_log_.allow(&held)) {
            spdlog::info(
                "refused request {} {} from {}: invalid or missing client key ({} more "
                "since the last report)",
                ctx.method, ctx.target.substr(0, ctx.target.find('?')), ctx.peer, held);
        }
        handles_for(ctx.endpoint)->by_code[code_index(401)]->inc();
        return;
    }
    const auto policy = snapshots_.policy();
    if (policy->payloads == PayloadCapture::kErrors && ctx.error_class.empty() &&
        ctx.status < 400) {
        ctx.request_payload.clear();
        ctx.response_payload.clear();
    } else if (policy->payloads != PayloadCapture::kOff) {
        redact_credentials(ctx.request_payload);
        redact_credentials(ctx.response_payload);
    }
    auto rec = to_record(ctx);
    if (ctx.key) meter_usage(*ctx.key, rec);
    log_request(rec, ctx.target);
    const auto h = handles_for(ctx.endpoint);
    h->by_code[code_index(ctx.status)]->inc();
    h->latency->observe(static_cast<double>(ctx.total_ms) / 1000.0);
    if (ctx.ttfb_ms >= 0) h->ttfb->observe(static_cast<double>(ctx.ttfb_ms) / 1000.0);
    if (rec.input_tokens) h->tokens[0]->inc(static_cast<std::uint64_t>(rec.input_tokens));
    if (rec.output_tokens) h->tokens[1]->inc(static_cast<std::uint64_t>(rec.output_tokens));
    if (rec.cache_creation_tokens) {
        h->tokens[2]->inc(static_cast<std::uint64_t>(rec.cache_creation_tokens));
    }
    if (rec.cache_read_tokens) h->tokens[3]->inc(static_cast<std::uint64_t>(rec.cache_read_tokens));
    if (rec.attempts > 1) retries_->inc(static_cast<std::uint64_t>(rec.attempts - 1));
    if (rec.cost_usd > 0) h->cost_usd.fetch_add(rec.cost_usd, std::memory_order_relaxed);
    if (!rec.error_class.empty()) {
        // Error classes are open-ended strings: resolved on the (rare) error path only.
        reg_.counter("qcc_request_errors_total", "Failed requests by endpoint and error class",
                     {{"endpoint", label_endpoint(ctx.endpoint)}, {"class", rec.error_class}})
            .inc();
    }
    if (writer_ != nullptr) writer_->push(std::move(rec));
}

void register_gauges(metrics::Registry& registry, GaugeSources sources) {
    auto& c = sources.health.counters();
    auto counter_of = [&registry](std::string_view name, std::string_view help,
                                  const std::atomic<std::uint64_t>& v) {
        registry.counter_func(name, help, [&v](const metrics::Registry::Emit& emit) {
            emit({}, static_cast<double>(v.load(std::memory_order_relaxed)));
        });
    };
    counter_of("qcc_failovers_total", "Requests that moved to another endpoint before the commit",
               c.failovers);
    counter_of("qcc_retries_denied_total", "Retries refused by the process-wide retry budget",
               c.retries_denied);
    counter_of("qcc_client_cancels_total", "Requests the client abandoned", c.client_cancels);
    counter_of("qcc_mid_stream_failures_total", "Responses cut after the commit point",
               c.mid_stream_failures);
    counter_of("qcc_unauthorized_total", "Requests refused for a missing or wrong client key",
               c.unauthorized);
    counter_of("qcc_session_repins_total", "Sessions moved to another endpoint", c.repins);
    counter_of("qcc_fail_open_total", "Selections that fell back to unusable endpoints",
               c.fail_open);
    registry.counter_func(
        "qcc_state_changes_total", "Endpoint state changes by kind",
        [&c](const metrics::Registry::Emit& emit) {
            const std::pair<const char*, const std::atomic<std::uint64_t>*> kinds[] = {
                {"breaker_open", &c.breaker_opens},
                {"breaker_half_open", &c.breaker_half_opens},
                {"breaker_closed", &c.breaker_closes},
                {"cooldown_start", &c.cooldowns},
                {"cooldown_end", &c.cooldown_ends},
                {"quarantine", &c.quarantines},
                {"release", &c.releases}};
            for (const auto& [k, v] : kinds) {
                emit({{"kind", k}}, static_cast<double>(v->load()));
            }
        });
    registry.gauge_func("qcc_in_flight", "Requests being served now",
                        [&c](const metrics::Registry::Emit& emit) {
                            emit({}, static_cast<double>(c.in_flight.load()));
                        });
    registry.gauge_func("qcc_sessions", "Session affinity bindings held",
                        [s = sources](const metrics::Registry::Emit& emit) {
                            emit({}, static_cast<double>(s.health.affinity().size()));
                        });
    registry.counter_func("qcc_log_rows_dropped_total",
                          "Request-log rows dropped because the writer queue was full",
                          [s = sources](const metrics::Registry::Emit& emit) {
                              emit({}, s.writer ? static_cast<double>(s.writer->dropped()) : 0.0);
                          });
    registry.counter_func("qcc_log_rows_written_total", "Request-log rows written to the store",
                          [s = sources](const metrics::Registry::Emit& emit) {
                              emit({}, s.writer ? static_cast<double>(s.writer->written()) : 0.0);
                          });
    registry.gauge_func("qcc_log_rows_queued", "Request-log rows waiting for the writer",
                        [s = sources](const metrics::Registry::Emit& emit) {
                            emit({}, s.writer ? static_cast<double>(s.writer->queued()) : 0.0);
                        });
    // Live endpoint state, read at scrape time from the same atomics selection uses.
    registry.gauge_func(
        "qcc_endpoint_breaker_state", "Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open",
        [s = sources](const metrics::Registry::Emit& emit) {
            const auto now = s.health.now();
            // Held for the loop: a snapshot published meanwhile must not free it.
            const auto endpoint_set = s.snapshots.endpoints();
            for (const auto& ep : endpoint_set->endpoints) {
                const auto st = ep->state->breaker.state(now);
                emit({{"endpoint", ep->cfg.name}}, st == upstream::BreakerState::kClosed     ? 0.0
                                                   : st == upstream::BreakerState::kHalfOpen ? 1.0
                                                                                             : 2.0);
            }
        });
    registry.gauge_func(
        "qcc_endpoint_cooldown_seconds",
        "Seconds left of the endpoint's rate-limit/overload cooldown",
        [s = sources](const metrics::Registry::Emit& emit) {
            const auto now_ns = s.health.now().time_since_epoch().count();
            const auto endpoint_set = s.snapshots.endpoints();
            for (const auto& ep : endpoint_set->endpoints) {
                const auto until = ep->state->cooldown_until_ns.load();
                emit({{"endpoint", ep->cfg.name}},
                     until > now_ns ? static_cast<double>(until - now_ns) / 1e9 : 0.0);
            }
        });
    registry.gauge_func(
        "qcc_endpoint_quarantined", "1 when the endpoint is quarantined",
        [s = sources](const metrics::Registry::Emit& emit) {
            const auto endpoint_set = s.snapshots.endpoints();
            for (const auto& ep : endpoint_set->endpoints) {
                emit({{"endpoint", ep->cfg.name}}, ep->state->quarantined.load() ? 1.0 : 0.0);
            }
        });
    registry.gauge_func("qcc_endpoint_in_flight", "Requests in flight per endpoint",
                        [s = sources](const metrics::Registry::Emit& emit) {
                            const auto endpoint_set = s.snapshots.endpoints();
                            for (const auto& ep : endpoint_set->endpoints) {
                                emit({{"endpoint", ep->cfg.name}},
                                     static_cast<double>(ep->state->in_flight.load()));
                            }
                        });
    registry.gauge_func(
        "qcc_endpoint_weight", "Effective selection weight per endpoint",
        [s = sources](const metrics::Registry::Emit& emit) {
            const auto now = s.health.now();
            const auto factor = s.snapshots.policy()->soft_limit_factor;
            const auto endpoint_set = s.snapshots.endpoints();
            for (const auto& ep : endpoint_set->endpoints) {
                emit({{"endpoint", ep->cfg.name}}, upstream::effective_weight(*ep, now, factor));
            }
        });
    registry.gauge_func(
        "qcc_pool_connections",
        "Upstream connections per endpoint (all workers; sampled every pool sweep)",
        [s = sources](const metrics::Registry::Emit& emit) {
            if (!s.pool_stats) return;
            for (const auto& p : s.pool_stats()) {
                emit({{"endpoint", p.endpoint}, {"state", "open"}}, static_cast<double>(p.open));
                emit({{"endpoint", p.endpoint}, {"state", "idle"}}, static_cast<double>(p.idle));
            }
        });
    if (!sources.connections) return;
    registry.gauge_func(
        "qcc_client_connections", "Client connections open now, and those not yet authenticated",
        [s = sources](const metrics::Registry::Emit& emit) {
            const auto figures = s.connections();
            emit({{"state", "open"}}, static_cast<double>(figures.open));
            emit({{"state", "unauthenticated"}}, static_cast<double>(figures.unauthenticated));
        });
    registry.counter_func("qcc_connections_refused_total",
                          "Client connections refused at accept (limits.max_connections or "
                          "limits.max_unauthenticated)",
                          [s = sources](const metrics::Registry::Emit& emit) {
                              emit({}, static_cast<double>(s.connections().refused));
                          });
    registry.counter_func("qcc_auth_throttled_total",
                          "Requests with a bad client key answered late (a repeat offender)",
                          [s = sources](const metrics::Registry::Emit& emit) {
                              emit({}, static_cast<double>(s.connections().auth_throttled));
                          });
}

}  // namespace qcc::control
