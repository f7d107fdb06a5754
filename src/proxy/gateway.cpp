#include "proxy/gateway.hpp"

#include <algorithm>
#include <cmath>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "proxy/record_json.hpp"
#include "upstream/adaptive_weight.hpp"
#include "upstream/endpoint.hpp"

namespace qcc::proxy {

Gateway::Gateway(config::Config cfg, std::unique_ptr<store::Store> store, const Clock* clock,
                 store::WriterOptions writer)
    : runtime_(std::move(cfg), clock), store_(std::move(store)) {
    server_ = std::make_unique<Server>(runtime_);
    runtime_.store = store_.get();
    observer_ = std::make_unique<Observer>(runtime_);
    writer_ = std::make_unique<store::RequestWriter>(*store_, writer);
    runtime_.writer = writer_.get();
    // Live "request" events carry the row id, so they are published once the row is written.
    writer_->on_written = [this](const std::vector<store::RequestRecord>& rows) {
        auto& hub = runtime_.hub();
        if (!hub.has_subscribers()) return;
        for (const auto& r : rows) hub.publish("request", boost::json::serialize(request_json(r)));
    };
    runtime_.on_request_done = [this](RequestContext& ctx) { observer_->on_request(ctx); };
    // Admin API writes reload synchronously (on the admin pool) so their answer is already live.
    runtime_.reload_hook = [this] {
        std::lock_guard lock(tick_mu_);
        if (store_->data_version() != seen_version_) reload();
    };
}

Gateway::~Gateway() { stop(); }

void Gateway::seed_from_config() {
    for (const auto& ep : runtime_.config().endpoints) store_->upsert_endpoint(ep);
    for (const auto& k : runtime_.config().keys) {
        store_->upsert_client_key(k.name, crypto::hash_client_key(k.key), k.key.substr(0, 8));
    }
}

void Gateway::reload() {
    const auto version = store_->data_version();
    std::vector<std::string> warnings;
    auto policy = std::make_shared<const Policy>(load_policy(*store_, &warnings));
    for (const auto& w : warnings) spdlog::warn("setting {}", w);

    auto set = std::make_shared<upstream::EndpointSet>();
    set->generation = ++generation_;
    for (const auto& rec : store_->list_endpoints()) {
        try {
            auto state = runtime_.states().state_for(rec.id);
            state->breaker.set_policy(policy->breaker);
            set->endpoints.push_back(std::make_shared<const upstream::Endpoint>(
                upstream::make_endpoint(rec.id, rec.config, runtime_.config().timeouts, state)));
        } catch (const std::exception& e) {
            spdlog::error("endpoint {} skipped: {}", rec.config.name, e.what());
        }
    }
    std::stable_sort(set->endpoints.begin(), set->endpoints.end(),
                     [](const auto& a, const auto& b) { return a->cfg.tier < b->cfg.tier; });
    auto keys = std::make_shared<KeySet>();
    for (const auto& k : store_->list_client_keys()) {
        if (!k.revoked) keys->push_back(ClientKey{k.name, k.key_hash});
    }
    observer_->on_endpoints(*set);
    runtime_.set_endpoints(std::move(set));
    runtime_.set_keys(std::move(keys));
    runtime_.set_policy(std::move(policy));
    seen_version_ = version;
    run_operator_commands();
}

void Gateway::restore_state() {
    const auto set = runtime_.endpoints();
    const auto now = runtime_.now();
    const auto now_ms = runtime_.unix_ms();
    std::map<std::string, store::EndpointStateRecord> by_id;
    for (auto& rec : store_->load_endpoint_states()) by_id[rec.endpoint_id] = rec;
    for (const auto& ep : set->endpoints) {
        auto it = by_id.find(ep->id);
        if (it == by_id.end()) continue;
        const auto& rec = it->second;
        auto& s = *ep->state;
        if (auto state = upstream::breaker_state_from_string(rec.breaker_state)) {
            s.breaker.restore(upstream::BreakerSnapshot{*state, rec.opened_at_unix_ms,
                                                        rec.open_for_ms, rec.reopens},
                              now, now_ms);
        }
        if (rec.cooldown_until_unix_ms > now_ms) {
            s.cooldown_until_ns =
                runtime_.from_unix_ms(rec.cooldown_until_unix_ms).time_since_epoch().count();
            s.set_cooldown_reason(rec.cooldown_reason);
        }
        if (rec.quarantined) {
            s.quarantined = true;
            s.set_quarantine_reason(rec.quarantine_reason);
        }
        if (rec.adaptive_weight > 0) s.adaptive_weight = rec.adaptive_weight;
        saved_states_[ep->id] = rec;
        if (rec.quarantined || rec.breaker_state != "closed" ||
            rec.cooldown_until_unix_ms > now_ms) {
            spdlog::info("endpoint {}: restored breaker={} quarantined={} cooldown_ms={}",
                         ep->cfg.name, rec.breaker_state, rec.quarantined,
                         std::max<std::int64_t>(0, rec.cooldown_until_unix_ms - now_ms));
        }
    }
    const auto bindings = store_->load_bindings();
    std::vector<upstream::Binding> loaded;
    loaded.reserve(bindings.size());
    for (const auto& b : bindings) {
        loaded.push_back(upstream::Binding{b.session_key, b.endpoint_id, b.last_used_unix_ms});
    }
    runtime_.affinity().load(loaded, now_ms);
    if (!loaded.empty()) spdlog::info("restored {} session binding(s)", runtime_.affinity().size());
}

void Gateway::persist_state(bool force) {
    const auto set = runtime_.endpoints();
    const auto now = runtime_.now();
    const auto now_ms = runtime_.unix_ms();
    std::vector<store::EndpointStateRecord> changed;
    for (const auto& ep : set->endpoints) {
        auto& s = *ep->state;
        // Cooldowns end by the clock, not by an action: report the end here, once.
        auto until = s.cooldown_until_ns.load();
        if (until != 0 && until <= now.time_since_epoch().count()) {
            if (s.cooldown_until_ns.compare_exchange_strong(until, 0)) {
                runtime_.emit(ep->cfg.name, "cooldown_end", s.cooldown_reason());
                s.set_cooldown_reason("");
                s.dirty = true;
            }
        }
        if (!force && !s.dirty.exchange(false)) continue;
        const auto snap = s.breaker.snapshot(now, now_ms);
        store::EndpointStateRecord rec;
        rec.endpoint_id = ep->id;
        rec.breaker_state = std::string(upstream::to_string(snap.state));
        rec.opened_at_unix_ms = snap.opened_at_unix_ms;
        rec.open_for_ms = snap.open_for_ms;
        rec.reopens = snap.reopens;
        const auto cd = s.cooldown_until_ns.load();
        rec.cooldown_until_unix_ms =
            cd == 0 ? 0 : runtime_.to_unix_ms(SteadyTime(std::chrono::nanoseconds(cd)));
        rec.cooldown_reason = s.cooldown_reason();
        rec.quarantined = s.quarantined.load();
        rec.quarantine_reason = s.quarantine_reason();
        rec.adaptive_weight = std::round(s.adaptive_weight.load() * 1000.0) / 1000.0;
        auto prev = saved_states_.find(ep->id);
        rec.updated_at = 0;
        if (prev != saved_states_.end()) {
            auto cmp = prev->second;
            cmp.updated_at = 0;
            if (cmp == rec) continue;
        }
        saved_states_[ep->id] = rec;
        changed.push_back(std::move(rec));
    }
    if (!changed.empty()) store_->save_endpoint_states(changed);
    auto events = runtime_.drain_events();
    if (!events.empty()) {
        std::vector<store::EventRecord> rows;
        rows.reserve(events.size());
        for (auto& e : events) {
            rows.push_back(store::EventRecord{0, e.ts_unix_ms, std::move(e.endpoint),
                                              std::move(e.kind), std::move(e.detail)});
        }
        store_->append_events(rows);
    }
}

void Gateway::persist_bindings() {
    const auto now_ms = runtime_.unix_ms();
    const auto ttl = runtime_.policy()->affinity.ttl;
    runtime_.affinity().sweep(now_ms);
    const auto snapshot = runtime_.affinity().snapshot(now_ms);
    std::vector<store::BindingRecord> rows;
    rows.reserve(snapshot.size());
    for (const auto& b : snapshot) {
        rows.push_back(store::BindingRecord{b.session_key, b.endpoint_id, b.last_used_unix_ms});
    }
    if (!rows.empty()) store_->save_bindings(rows);
    store_->delete_bindings_before(now_ms - ttl.count());
}

bool Gateway::release(const std::string& endpoint_name, const std::string& why) {
    const auto set = runtime_.endpoints();
    const auto* ep = set->find(endpoint_name);
    if (ep == nullptr) return false;
    runtime_.release_endpoint(*ep, why);
    return true;
}

bool Gateway::quarantine(const std::string& endpoint_name, const std::string& why) {
    const auto set = runtime_.endpoints();
    const auto* ep = set->find(endpoint_name);
    if (ep == nullptr) return false;
    runtime_.quarantine_endpoint(*ep, why);
    return true;
}

void Gateway::run_operator_commands() {
    // `qcc endpoint release|quarantine NAME` writes command.<verb>.<name> = <Unix ms> into the
    // store's settings. A running server executes each new value once; at start, a command newer
    // than the endpoint's persisted state (issued while QCC was down) is executed too.
    if (!started_) return;
    for (const auto& ep : runtime_.endpoints()->endpoints) {
        for (auto prefix : {kReleaseCommandPrefix, kQuarantineCommandPrefix}) {
            const auto key = std::string(prefix) + ep->cfg.name;
            auto value = store_->get_setting(key);
            if (!value) continue;
            auto [it, first_sight] = seen_commands_.try_emplace(key, "");
            if (it->second == *value) continue;
            it->second = *value;
            if (first_sight) {
                std::int64_t issued = 0;
                try {
                    issued = std::stoll(*value);
                } catch (const std::exception&) {
                }
                auto saved = saved_states_.find(ep->id);
                const auto state_at = saved == saved_states_.end() ? 0 : saved->second.updated_at;
                if (issued <= state_at) continue;  // already reflected in the persisted state
            }
            if (prefix == kReleaseCommandPrefix) {
                release(ep->cfg.name, "operator");
            } else {
                quarantine(ep->cfg.name, "operator");
            }
        }
    }
}

void Gateway::tick() {
    std::lock_guard lock(tick_mu_);
    if (store_->data_version() != seen_version_) {
        reload();
        spdlog::info("configuration change picked up from the store");
    }
    const auto policy = runtime_.policy();
    const auto now = runtime_.now();
    if (policy->adaptive_weights && now - last_adaptive_ >= policy->adaptive_interval) {
        last_adaptive_ = now;
        for (const auto& ep : runtime_.endpoints()->endpoints) {
            auto& s = *ep->state;
            const double current =
                s.adaptive_weight.load() > 0 ? s.adaptive_weight.load() : ep->cfg.weight;
            s.adaptive_weight = upstream::next_adaptive_weight(current, s.stats);
            s.dirty = true;  // persisted with the rest of the endpoint state
        }
    } else if (!policy->adaptive_weights) {
        for (const auto& ep : runtime_.endpoints()->endpoints) {
            if (ep->state->adaptive_weight.exchange(0.0) != 0.0) ep->state->dirty = true;
        }
    }
    // SPEC §7 recovery: quarantined and broken endpoints are re-checked; a pass releases them.
    if (runner_ && now - last_recovery_ >= policy->recovery_interval) {
        last_recovery_ = now;
        std::vector<std::shared_ptr<const upstream::Endpoint>> due;
        for (const auto& ep : runtime_.endpoints()->endpoints) {
            if (!ep->cfg.enabled) continue;
            if (ep->state->quarantined.load() ||
                ep->state->breaker.state(now) != upstream::BreakerState::kClosed) {
                due.push_back(ep);
            }
        }
        if (!due.empty()) schedule_checks(due);
    }
    if (runner_ && policy->health_interval.count() > 0 &&
        now - last_health_ >= policy->health_interval) {
        last_health_ = now;
        std::vector<std::shared_ptr<const upstream::Endpoint>> all;
        for (const auto& ep : runtime_.endpoints()->endpoints) {
            if (ep->cfg.enabled) all.push_back(ep);
        }
        schedule_checks(all);
    }
    persist_state(false);
    if (auto checks = runtime_.drain_health_checks(); !checks.empty()) {
        store_->append_health_checks(checks);
    }
    if (now >= next_cleanup_) {
        next_cleanup_ = now + std::chrono::hours(24);
        run_cleanup();
    }
    if (now - last_sweep_ >= policy->affinity_sweep) {
        last_sweep_ = now;
        persist_bindings();
    }
}

void Gateway::start() {
    if (seen_version_ < 0) reload();
    restore_state();
    started_ = true;
    run_operator_commands();
    last_sweep_ = runtime_.now();
    last_adaptive_ = runtime_.now();
    last_recovery_ = runtime_.now();
    last_health_ = runtime_.now();
    // The first retention pass runs a minute after start (not during the warm-up), then daily.
    next_cleanup_ = runtime_.now() + std::chrono::minutes(1);
    const auto policy = runtime_.policy();
    check_ioc_ = std::make_unique<boost::asio::io_context>(1);
    check_pool_ = std::make_unique<upstream::Pool>(*check_ioc_, runtime_.config().pool,
                                                   upstream::ProxySettings::from_env());
    runner_ = std::make_unique<upstream::CheckRunner>(
        *check_ioc_, *check_pool_,
        [this](const upstream::Endpoint& ep, const upstream::CheckResult& r) { on_check(ep, r); },
        static_cast<std::size_t>(std::max(1, policy->health_concurrency)));
    check_thread_ = std::thread([this] {
        auto guard = boost::asio::make_work_guard(*check_ioc_);
        check_ioc_->run();
    });
    server_->start();
    start_warmup();
    control_ = std::thread([this] { control_loop(); });
}

void Gateway::schedule_checks(const std::vector<std::shared_ptr<const upstream::Endpoint>>& eps) {
    const auto policy = runtime_.policy();
    upstream::CheckOptions options;
    options.model = policy->health_model;
    options.timeout = policy->health_timeout;
    const std::string fallback = policy->health_method;
    // The runner belongs to the check thread: hand the work over rather than touch it here.
    boost::asio::post(*check_ioc_, [this, eps, options, fallback]() mutable {
        for (const auto& ep : eps) {
            options.method = upstream::check_method_for(*ep, fallback);
            runner_->submit(ep, options);
        }
    });
}

void Gateway::run_cleanup() {
    const auto policy = runtime_.policy();
    store::RetentionPolicy retention;
    retention.payloads_ms = policy->retention_payloads_ms;
    retention.requests_ms = policy->retention_requests_ms;
    retention.rollups_ms = policy->retention_rollups_ms;
    const auto started = std::chrono::steady_clock::now();
    const auto r = store_->cleanup(runtime_.unix_ms(), retention);
    spdlog::info("retention: deleted {} payloads, {} request rows, {} hourly roll-ups in {} ms",
                 r.payloads, r.requests, r.rollups,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count());
}

void Gateway::on_check(const upstream::Endpoint& ep, const upstream::CheckResult& r) {
    runtime_.record_check(ep, r);
}

void Gateway::start_warmup() {
    // SPEC §7 warm-up: every worker pre-opens (and TLS-handshakes) connections to every enabled
    // endpoint, concurrently; no tokens are spent. One summary line per endpoint, then a total.
    const auto policy = runtime_.policy();
    std::vector<std::shared_ptr<const upstream::Endpoint>> eps;
    for (const auto& ep : runtime_.endpoints()->endpoints) {
        if (ep->cfg.enabled) eps.push_back(ep);
    }
    if (policy->warmup_check && !eps.empty()) schedule_checks(eps);
    if (policy->warmup_connections <= 0 || eps.empty()) return;
    struct Summary {
        std::mutex mu;
        std::map<std::string, std::pair<int, std::string>> by_endpoint;  // opened, first error
        std::map<std::string, std::int64_t> ms;
        int pending = 0;
        std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    };
    auto summary = std::make_shared<Summary>();
    auto& workers = server_->workers();
    summary->pending = static_cast<int>(workers.size() * eps.size());
    {
        std::lock_guard lock(warm_mu_);
        warm_pending_ = 1;
    }
    const int n = policy->warmup_connections;
    for (auto& w : workers) {
        for (const auto& ep : eps) {
            auto* worker = w.get();
            boost::asio::co_spawn(
                worker->io(),
                [this, worker, ep, n, summary]() -> boost::asio::awaitable<void> {
                    const auto t0 = std::chrono::steady_clock::now();
                    auto opened = co_await worker->pool().warm(*ep, n);
                    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t0)
                                        .count();
                    std::lock_guard lock(summary->mu);
                    auto& [count, error] = summary->by_endpoint[ep->cfg.name];
                    if (opened) {
                        count += opened.value();
                    } else if (error.empty()) {
                        error = opened.error().context;
                    }
                    summary->ms[ep->cfg.name] = std::max(summary->ms[ep->cfg.name], ms);
                    if (--summary->pending > 0) co_return;
                    int ok = 0;
                    for (const auto& [name, result] : summary->by_endpoint) {
                        if (result.second.empty()) {
                            ++ok;
                            spdlog::info("warm-up: {} ok ({} connection(s), {} ms)", name,
                                         result.first, summary->ms[name]);
                        } else {
                            spdlog::warn("warm-up: {} failed: {}", name, result.second);
                        }
                    }
                    spdlog::info("warm-up: {} of {} endpoint(s) ok in {} ms", ok,
                                 summary->by_endpoint.size(),
                                 std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - summary->start)
                                     .count());
                    {
                        std::lock_guard warm_lock(warm_mu_);
                        warm_pending_ = 0;
                    }
                    warm_cv_.notify_all();
                },
                boost::asio::detached);
        }
    }
}

bool Gateway::wait_warmup(std::chrono::milliseconds deadline) {
    std::unique_lock lock(warm_mu_);
    return warm_cv_.wait_for(lock, deadline, [this] { return warm_pending_ == 0; });
}

void Gateway::control_loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        try {
            tick();
        } catch (const std::exception& e) {
            spdlog::error("control loop: {}", e.what());
        }
        lock.lock();
    }
}

void Gateway::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (control_.joinable()) control_.join();
    server_->drain_and_stop();
    writer_->stop();  // every finished request's row reaches the store
    if (check_ioc_) {
        check_ioc_->stop();
        if (check_thread_.joinable()) check_thread_.join();
        runner_.reset();
        check_pool_.reset();
        check_ioc_.reset();
    }
    if (started_) {
        try {
            std::lock_guard lock(tick_mu_);
            persist_state(false);
            persist_bindings();
        } catch (const std::exception& e) {
            spdlog::error("final persistence failed: {}", e.what());
        }
    }
}

}  // namespace qcc::proxy
