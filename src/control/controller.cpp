#include "control/controller.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/system.hpp"
#include "common/version.hpp"
#include "upstream/adaptive_weight.hpp"
#include "upstream/endpoint.hpp"
#include "upstream/selector.hpp"

namespace qcc::control {

namespace {
constexpr std::size_t kMaxPendingChecks = 10'000;
// The fleet registry: a heartbeat every 5 s; an instance silent for 15 s no longer counts.
constexpr auto kHeartbeatEvery = std::chrono::seconds(5);
constexpr std::int64_t kLiveForMs = 15'000;
// Signals are read back this far (an instance's write may land after a later one's id).
constexpr std::int64_t kSignalWindowMs = 10'000;
// Budgets are raised to the shared request log's spend (and on_fleet_sync's work runs) this often
// while instances share a store.
constexpr auto kFleetSyncEvery = std::chrono::seconds(2);

/// What the request log says each key spent today and this month (UTC), by key name.
std::map<std::string, std::pair<double, double>> spend_by_key(store::Store& st, std::int64_t now) {
    std::map<std::string, std::pair<double, double>> out;
    for (const auto& row : st.stats(store::StatsQuery{proxy::KeyMeter::day_start(now), now + 1,
                                                      store::GroupBy::kClientKey, 0})) {
        out[row.group].first = row.cost_usd;
    }
    for (const auto& row : st.stats(store::StatsQuery{proxy::KeyMeter::month_start(now), now + 1,
                                                      store::GroupBy::kClientKey, 0})) {
        out[row.group].second = row.cost_usd;
    }
    return out;
}
}  // namespace

proxy::Policy load_policy(store::ConfigStore& store, std::vector<std::string>* warnings) {
    return proxy::policy_from_settings(
        [&store](std::string_view key) { return store.get_setting(key); }, warnings);
}

Controller::Controller(ControllerDeps deps)
    : deps_(std::move(deps)), instance_id_(crypto::random_hex(6)) {
    started_unix_ms_ = deps_.health.unix_ms();
    // Admin work (store reads and writes for the API) yields to the workers.
    boost::asio::post(admin_pool_, [] {
        sys::name_thread("qcc-admin");
        sys::set_thread_priority(sys::ThreadPriority::kBatch);
    });
}

Controller::~Controller() { stop(); }

void Controller::seed_from_config() {
    for (const auto& ep : deps_.config.endpoints) deps_.store.upsert_endpoint(ep);
    for (const auto& k : deps_.config.keys) {
        deps_.store.upsert_client_key(k.name, crypto::hash_client_key(k.key),
                                      crypto::client_key_prefix(k.key));
    }
}

void Controller::reload() {
    std::lock_guard lock(tick_mu_);
    if (deps_.store.data_version() != seen_version_) reload_locked();
}

// The key set with each key's limits and meter. The first build (at start) seeds every meter with
// what the request log says each key spent today and this month, so a restart does not reset a
// budget; a key created later starts at zero.
std::shared_ptr<const proxy::KeySet> Controller::build_keys(store::Store& st) {
    const bool first = meters_.empty();
    auto keys = std::make_shared<proxy::KeySet>();
    for (const auto& k : st.list_client_keys()) {
        if (k.revoked) continue;
        std::string error;
        auto limits = proxy::parse_key_limits(k.limits, &error);
        if (!limits) spdlog::error("client key {}: stored limits ignored: {}", k.name, error);
        auto& meter = meters_[k.name];
        if (!meter) {
            meter = std::make_shared<proxy::KeyMeter>();
            meter->set_fleet_size(fleet_size_);
        }
        keys->push_back(
            proxy::ClientKey{k.name, k.key_hash, limits.value_or(proxy::KeyLimits{}), meter});
    }
    if (first && !keys->empty()) {
        const auto now = deps_.health.unix_ms();
        auto spent = spend_by_key(st, now);
        for (const auto& k : *keys) {
            const auto& [today, month] = spent[k.name];
            k.meter->seed_spend(today, month, now);
        }
    }
    return keys;
}

void Controller::reload_locked() {
    auto& st = deps_.store;
    const auto version = st.data_version();
    std::vector<std::string> warnings;
    auto policy = std::make_shared<const proxy::Policy>(load_policy(st, &warnings));
    for (const auto& w : warnings) spdlog::warn("setting {}", w);

    auto set = std::make_shared<upstream::EndpointSet>();
    set->generation = ++generation_;
    for (const auto& rec : st.list_endpoints()) {
        try {
            auto state = deps_.health.states().state_for(rec.id);
            set->endpoints.push_back(std::make_shared<const upstream::Endpoint>(
                upstream::make_endpoint(rec.id, rec.config, deps_.config.timeouts, state)));
        } catch (const std::exception& e) {
            spdlog::error("endpoint {} skipped: {}", rec.config.name, e.what());
        }
    }
    for (const auto& ep : set->endpoints) set->has_openai = set->has_openai || ep->is_openai();
    std::stable_sort(set->endpoints.begin(), set->endpoints.end(),
                     [](const auto& a, const auto& b) { return a->cfg.tier < b->cfg.tier; });
    auto keys = build_keys(st);
    deps_.observer.on_endpoints(*set);
    deps_.health.apply_policy(*policy, *set);
    deps_.snapshots.publish(std::move(set), std::move(keys), std::move(policy));
    seen_version_ = version;
}

void Controller::restore_state() {
    auto& health = deps_.health;
    const auto set = deps_.snapshots.endpoints();
    const auto now = health.now();
    const auto now_ms = health.unix_ms();
    std::map<std::string, store::EndpointStateRecord> by_id;
    for (auto& rec : deps_.store.load_endpoint_states()) by_id[rec.endpoint_id] = rec;
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
                health.from_unix_ms(rec.cooldown_until_unix_ms).time_since_epoch().count();
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
    std::vector<upstream::Binding> loaded;
    for (const auto& b : deps_.store.load_bindings()) {
        loaded.push_back(upstream::Binding{b.session_key, b.endpoint_id, b.last_used_unix_ms});
    }
    health.affinity().load(loaded, now_ms);
    if (!loaded.empty()) spdlog::info("restored {} session binding(s)", health.affinity().size());
}

namespace {

/// The persisted form of one endpoint's live state.
store::EndpointStateRecord state_record(const upstream::Endpoint& ep,
                                        const proxy::HealthState& health) {
    const auto& s = *ep.state;
    const auto snap = s.breaker.snapshot(health.now(), health.unix_ms());
    store::EndpointStateRecord rec;
    rec.endpoint_id = ep.id;
    rec.breaker_state = std::string(upstream::to_string(snap.state));
    rec.opened_at_unix_ms = snap.opened_at_unix_ms;
    rec.open_for_ms = snap.open_for_ms;
    rec.reopens = snap.reopens;
    const auto cd = s.cooldown_until_ns.load();
    rec.cooldown_until_unix_ms =
        cd == 0 ? 0 : health.to_unix_ms(SteadyTime(std::chrono::nanoseconds(cd)));
    rec.cooldown_reason = s.cooldown_reason();
    rec.quarantined = s.quarantined.load();
    rec.quarantine_reason = s.quarantine_reason();
    rec.adaptive_weight = std::round(s.adaptive_weight.load() * 1000.0) / 1000.0;
    rec.updated_at = 0;
    return rec;
}

}  // namespace

void Controller::persist_state(bool force) {
    auto& health = deps_.health;
    const auto now_ns = health.now().time_since_epoch().count();
    std::vector<store::EndpointStateRecord> changed;
    std::vector<store::SignalRecord> signals;
    // Held for the loop: a snapshot published meanwhile must not free it.
    const auto endpoint_set = deps_.snapshots.endpoints();
    for (const auto& ep : endpoint_set->endpoints) {
        auto& s = *ep->state;
        // Cooldowns end by the clock, not by an action: report the end here, once.
        auto until = s.cooldown_until_ns.load();
        if (until != 0 && until <= now_ns &&
            s.cooldown_until_ns.compare_exchange_strong(until, 0)) {
            health.emit(ep->cfg.name, "cooldown_end", s.cooldown_reason());
            s.set_cooldown_reason("");
            s.dirty = true;
        }
        if (!force && !s.dirty.exchange(false)) continue;
        auto rec = state_record(*ep, health);
        auto prev = saved_states_.find(ep->id);
        if (prev != saved_states_.end()) {
            auto cmp = prev->second;
            cmp.updated_at = 0;
            if (cmp == rec) continue;
        }
        signal_changes(prev == saved_states_.end() ? nullptr : &prev->second, rec, signals);
        saved_states_[ep->id] = rec;
        changed.push_back(std::move(rec));
    }
    if (!changed.empty()) deps_.store.save_endpoint_states(changed);
    auto events = health.drain_events();
    signal_repins(events, signals);
    if (!signals.empty()) deps_.store.append_signals(signals);
    if (events.empty()) return;
    std::vector<store::EventRecord> rows;
    rows.reserve(events.size());
    for (auto& e : events) {
        rows.push_back(store::EventRecord{0, e.ts_unix_ms, std::move(e.endpoint), std::move(e.kind),
                                          std::move(e.detail)});
    }
    deps_.store.append_events(rows);
}

void Controller::signal_changes(const store::EndpointStateRecord* prev,
                                const store::EndpointStateRecord& rec,
                                std::vector<store::SignalRecord>& out) const {
    const bool was_quarantined = prev != nullptr && prev->quarantined;
    const std::int64_t was_cooling = prev != nullptr ? prev->cooldown_until_unix_ms : 0;
    const auto now_ms = deps_.health.unix_ms();
    const auto signal = [&](const char* kind, std::int64_t until, const std::string& reason) {
        out.push_back(
            store::SignalRecord{0, now_ms, instance_id_, rec.endpoint_id, kind, until, reason});
    };
    if (rec.quarantined && !was_quarantined) signal("quarantine", 0, rec.quarantine_reason);
    // A release lifts a quarantine, or ends a cooldown before its time.
    if ((!rec.quarantined && was_quarantined) ||
        (rec.cooldown_until_unix_ms == 0 && was_cooling > now_ms)) {
        signal("release", 0, "");
    }
    if (rec.cooldown_until_unix_ms > was_cooling && rec.cooldown_until_unix_ms > now_ms) {
        signal("cooldown", rec.cooldown_until_unix_ms, rec.cooldown_reason);
    }
}

void Controller::signal_repins(const std::vector<proxy::StateEvent>& events,
                               std::vector<store::SignalRecord>& out) const {
    // A session moved to another endpoint here: the other instances move it too, so that a
    // session whose requests reach several instances stays on one endpoint. (A new session
    // needs no signal: every instance picks the same endpoint for it by rendezvous hashing.)
    constexpr std::string_view kPrefix = "session ";
    decltype(deps_.snapshots.endpoints()) set;
    for (const auto& e : events) {
        if (e.kind != "repin" || !e.detail.starts_with(kPrefix)) continue;
        if (!set) set = deps_.snapshots.endpoints();
        const auto it = std::find_if(set->endpoints.begin(), set->endpoints.end(),
                                     [&](const auto& ep) { return ep->cfg.name == e.endpoint; });
        if (it == set->endpoints.end()) continue;
        out.push_back(store::SignalRecord{0, e.ts_unix_ms, instance_id_, (*it)->id, "bind", 0,
                                          e.detail.substr(kPrefix.size())});
    }
}

void Controller::apply_signals() {
    auto& health = deps_.health;
    const auto now_ms = health.unix_ms();
    std::erase_if(applied_signals_,
                  [&](const auto& e) { return e.second < now_ms - 2 * kSignalWindowMs; });
    const auto set = deps_.snapshots.endpoints();
    for (const auto& sig : deps_.store.load_signals_since(now_ms - kSignalWindowMs)) {
        if (sig.instance == instance_id_ ||
            !applied_signals_.emplace(sig.id, sig.ts_unix_ms).second) {
            continue;
        }
        const auto it = std::find_if(set->endpoints.begin(), set->endpoints.end(),
                                     [&](const auto& e) { return e->id == sig.endpoint_id; });
        if (it == set->endpoints.end()) continue;
        const auto& ep = **it;
        auto& s = *ep.state;
        // What was saved last is what this instance decided: adopting another's decision must
        // not be signalled back as a change of its own.
        auto saved = saved_states_.find(ep.id);
        if (saved == saved_states_.end()) {
            saved = saved_states_.emplace(ep.id, state_record(ep, health)).first;
        }
        if (sig.kind == "cooldown" && sig.until_unix_ms > now_ms) {
            const auto until = health.from_unix_ms(sig.until_unix_ms).time_since_epoch().count();
            auto prev = s.cooldown_until_ns.load();
            while (prev < until && !s.cooldown_until_ns.compare_exchange_weak(prev, until)) {
            }
            if (prev >= until) continue;
            s.set_cooldown_reason(sig.reason);
            spdlog::info("endpoint {}: cooling down for {} ms ({}), as instance {} decided",
                         ep.cfg.name, sig.until_unix_ms - now_ms, sig.reason, sig.instance);
        } else if (sig.kind == "quarantine") {
            if (s.quarantined.exchange(true)) continue;
            s.set_quarantine_reason(sig.reason);
            spdlog::warn("endpoint {}: quarantined ({}), as instance {} decided", ep.cfg.name,
                         sig.reason, sig.instance);
        } else if (sig.kind == "bind") {
            // Re-pinned by another instance: bound here too, as a fresh use (never a re-pin of
            // this instance's own, so not counted or reported twice).
            health.affinity().bind(sig.reason, ep.id, health.unix_ms(), false);
            continue;
        } else if (sig.kind == "release") {
            s.quarantined = false;
            s.set_quarantine_reason("");
            s.cooldown_until_ns = 0;
            s.breaker.reset(health.now());
            spdlog::info("endpoint {}: released, as instance {} decided", ep.cfg.name,
                         sig.instance);
        } else {
            continue;
        }
        const auto now_rec = state_record(ep, health);
        auto& rec = saved->second;
        rec.cooldown_until_unix_ms = now_rec.cooldown_until_unix_ms;
        rec.cooldown_reason = now_rec.cooldown_reason;
        rec.quarantined = now_rec.quarantined;
        rec.quarantine_reason = now_rec.quarantine_reason;
    }
}

void Controller::heartbeat(SteadyTime now) {
    if (last_heartbeat_ != SteadyTime{} && now - last_heartbeat_ < kHeartbeatEvery) return;
    last_heartbeat_ = now;
    const auto now_ms = deps_.health.unix_ms();
    store::InstanceRecord self;
    {
        std::lock_guard lock(fleet_mu_);
        self = store::InstanceRecord{instance_id_, address_, std::string(kVersion),
                                     started_unix_ms_, now_ms};
    }
    auto& st = deps_.store;
    st.heartbeat_instance(self);
    std::vector<store::InstanceRecord> live;
    for (auto& r : st.list_instances()) {
        if (r.id == instance_id_ || r.heartbeat_unix_ms >= now_ms - kLiveForMs) {
            live.push_back(std::move(r));
        }
    }
    const int size = std::max<int>(1, static_cast<int>(live.size()));
    if (size != fleet_size_) {
        if (size > 1) {
            spdlog::info(
                "fleet: {} instances share the store; per-key rate limits are divided "
                "among them",
                size);
        } else {
            spdlog::info(
                "fleet: this instance is alone on the store; per-key rate limits are "
                "its own");
        }
        fleet_size_ = size;
        for (auto& [name, meter] : meters_) meter->set_fleet_size(size);
    }
    std::lock_guard lock(fleet_mu_);
    fleet_ = std::move(live);
}

void Controller::sync_with_fleet(SteadyTime now) {
    if (fleet_size_ <= 1 || now - last_fleet_sync_ < kFleetSyncEvery) return;
    last_fleet_sync_ = now;
    if (fleet_sync_) fleet_sync_(deps_.store);
    // Every key, budget or not: what `qcc key list` and the dashboard show as spent is then the
    // fleet's spend, not this instance's share of it.
    const auto keys = deps_.snapshots.keys();
    if (!keys || keys->empty()) return;
    const auto now_ms = deps_.health.unix_ms();
    auto spent = spend_by_key(deps_.store, now_ms);
    for (const auto& k : *keys) {
        const auto& [today, month] = spent[k.name];
        k.meter->raise_spend(today, month, now_ms);
    }
}

void Controller::set_address(std::string address) {
    {
        std::lock_guard lock(fleet_mu_);
        address_ = std::move(address);
    }
    std::lock_guard lock(tick_mu_);
    last_heartbeat_ = SteadyTime{};
    try {
        heartbeat(deps_.health.now());
    } catch (const std::exception& e) {
        spdlog::error("fleet registry: {}", e.what());
    }
}

void Controller::persist_bindings() {
    auto& health = deps_.health;
    const auto now_ms = health.unix_ms();
    const auto ttl = deps_.snapshots.policy()->affinity.ttl;
    health.affinity().sweep(now_ms);
    std::vector<store::BindingRecord> rows;
    for (const auto& b : health.affinity().snapshot(now_ms)) {
        rows.push_back(store::BindingRecord{b.session_key, b.endpoint_id, b.last_used_unix_ms});
    }
    if (!rows.empty()) deps_.store.save_bindings(rows);
    deps_.store.delete_bindings_before(now_ms - ttl.count());
}

std::optional<bool> Controller::release(std::string_view endpoint, const std::string& why) {
    const auto set = deps_.snapshots.endpoints();
    const auto* ep = set->find(endpoint);
    if (ep == nullptr) return std::nullopt;
    // An operator's release also forgives stream cuts (a passing health check does not: only a
    // completed stream proves an endpoint stopped cutting them).
    if (upstream::StreamCuts::on_completed_stream(*ep->state)) {
        deps_.health.emit(ep->cfg.name, "streams_recovered", why);
    }
    const auto released = deps_.health.release(*ep, why);
    persist_now();
    return released;
}

bool Controller::quarantine(std::string_view endpoint, const std::string& why) {
    const auto set = deps_.snapshots.endpoints();
    const auto* ep = set->find(endpoint);
    if (ep == nullptr) return false;
    deps_.health.quarantine(*ep, why);
    persist_now();
    return true;
}

void Controller::persist_now() {
    // An operator's decision reaches the store (and so the other instances) now, not at the tick.
    std::lock_guard lock(tick_mu_);
    try {
        persist_state(false);
    } catch (const std::exception& e) {
        spdlog::warn("endpoint state not saved: {}", e.what());
    }
}

StatusFigures Controller::figures() const {
    const auto& c = deps_.health.counters();
    StatusFigures f;
    f.uptime_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                  started_at_)
                     .count();
    f.requests = c.requests.load();
    f.in_flight = c.in_flight.load();
    f.failovers = c.failovers.load();
    f.repins = c.repins.load();
    f.log_rows_dropped = deps_.writer.dropped();
    f.sessions = deps_.health.affinity().size();
    f.instance_id = instance_id_;
    std::lock_guard lock(fleet_mu_);
    f.fleet = fleet_;
    return f;
}

void Controller::update_adaptive_weights(const proxy::Policy& policy, SteadyTime now) {
    const auto endpoints = deps_.snapshots.endpoints();
    if (!policy.adaptive_weights) {
        for (const auto& ep : endpoints->endpoints) {
            if (ep->state->adaptive_weight.exchange(0.0) != 0.0) ep->state->dirty = true;
        }
        return;
    }
    if (now - last_adaptive_ < policy.adaptive_interval) return;
    last_adaptive_ = now;
    for (const auto& ep : endpoints->endpoints) {
        auto& s = *ep->state;
        const double current =
            s.adaptive_weight.load() > 0 ? s.adaptive_weight.load() : ep->cfg.weight;
        s.adaptive_weight = upstream::next_adaptive_weight(current, s.stats);
        s.dirty = true;  // persisted with the rest of the endpoint state
    }
}

void Controller::schedule_recovery(const proxy::Policy& policy, SteadyTime now) {
    if (!checks_) return;
    const auto endpoints = deps_.snapshots.endpoints();
    // Quarantined and broken endpoints are re-checked; a pass releases them.
    if (now - last_recovery_ >= policy.recovery_interval) {
        last_recovery_ = now;
        std::vector<std::shared_ptr<const upstream::Endpoint>> due;
        for (const auto& ep : endpoints->endpoints) {
            if (ep->cfg.enabled &&
                (ep->state->quarantined.load() ||
                 ep->state->breaker.state(now) != upstream::BreakerState::kClosed)) {
                due.push_back(ep);
            }
        }
        if (!due.empty()) schedule_checks(due);
    }
    if (policy.health_interval.count() > 0 && now - last_health_ >= policy.health_interval) {
        last_health_ = now;
        schedule_checks(enabled_endpoints());
    }
}

void Controller::pick_up_changes() {
    std::lock_guard lock(tick_mu_);
    if (deps_.store.data_version() != seen_version_) {
        reload_locked();
        spdlog::info("configuration change picked up from the store");
    }
    apply_signals();
}

void Controller::tick() {
    std::lock_guard lock(tick_mu_);
    if (deps_.store.data_version() != seen_version_) {
        reload_locked();
        spdlog::info("configuration change picked up from the store");
    }
    const auto policy = deps_.snapshots.policy();
    const auto now = deps_.health.now();
    update_adaptive_weights(*policy, now);
    schedule_recovery(*policy, now);
    persist_state(false);
    apply_signals();
    std::vector<store::HealthCheckRecord> checks;
    {
        std::lock_guard checks_lock(checks_mu_);
        checks.swap(pending_checks_);
    }
    if (!checks.empty()) deps_.store.append_health_checks(checks);
    heartbeat(now);
    sync_with_fleet(now);
    if (now >= next_cleanup_) {
        next_cleanup_ = now + std::chrono::hours(24);
        run_cleanup();
    }
    if (now - last_sweep_ >= policy->affinity_sweep) {
        last_sweep_ = now;
        persist_bindings();
    }
    persist_unauthorized();
}

void Controller::persist_unauthorized() {
    // Requests refused for a bad client key since the last pass, counted in the store per minute
    // (GET /api/stats reports them apart from the request statistics).
    const auto total = deps_.health.counters().unauthorized.load(std::memory_order_relaxed);
    if (total == saved_unauthorized_) return;
    deps_.store.add_unauthorized(deps_.health.unix_ms(),
                                 static_cast<std::int64_t>(total - saved_unauthorized_));
    saved_unauthorized_ = total;
}

std::string Controller::config_file() const {
    return deps_.config.source == config::Config{}.source ? std::string() : deps_.config.source;
}

std::vector<std::shared_ptr<const upstream::Endpoint>> Controller::enabled_endpoints() const {
    std::vector<std::shared_ptr<const upstream::Endpoint>> out;
    // Held for the loop: a snapshot published meanwhile must not free it.
    const auto endpoint_set = deps_.snapshots.endpoints();
    for (const auto& ep : endpoint_set->endpoints) {
        if (ep->cfg.enabled) out.push_back(ep);
    }
    return out;
}

void Controller::start() {
    {
        std::lock_guard lock(tick_mu_);
        if (seen_version_ < 0) reload_locked();
        restore_state();
    }
    started_ = true;
    const auto now = deps_.health.now();
    last_sweep_ = last_adaptive_ = last_recovery_ = last_health_ = now;
    // The first retention pass runs a minute after start (not during the warm-up), then daily.
    next_cleanup_ = now + std::chrono::minutes(1);
    const auto policy = deps_.snapshots.policy();
    checks_ = std::make_unique<CheckService>(
        deps_.config.pool, static_cast<std::size_t>(std::max(1, policy->health_concurrency)),
        [this](const upstream::Endpoint& ep, const upstream::CheckResult& r) { on_check(ep, r); });
    if (policy->warmup_check) {
        if (auto eps = enabled_endpoints(); !eps.empty()) schedule_checks(eps);
    }
    control_ = std::thread([this] {
        sys::name_thread("qcc-control");
        sys::set_thread_priority(sys::ThreadPriority::kBatch);
        control_loop();
    });
    start_listener();
}

void Controller::start_listener() {
    std::unique_ptr<store::ChangeListener> listener;
    try {
        listener = deps_.store.change_listener();
    } catch (const std::exception& e) {
        spdlog::warn("{} (changes made by other instances arrive within a second instead)",
                     e.what());
        return;
    }
    if (!listener) return;
    listener_ = std::thread([this, l = std::move(listener)] {
        sys::name_thread("qcc-listen");
        sys::set_thread_priority(sys::ThreadPriority::kBatch);
        for (;;) {
            // Short waits: stop() joins this thread within one of them.
            const bool changed = l->wait(std::chrono::milliseconds(200));
            std::lock_guard lock(mu_);
            if (stopping_) return;
            if (!changed) continue;
            announced_ = true;
            cv_.notify_all();
        }
    });
}

void Controller::schedule_checks(
    const std::vector<std::shared_ptr<const upstream::Endpoint>>& eps) {
    const auto policy = deps_.snapshots.policy();
    upstream::CheckOptions options;
    options.model = policy->health_model;
    options.timeout = policy->health_timeout;
    checks_->submit(eps, options, policy->health_method);
}

boost::asio::awaitable<std::vector<upstream::CheckResult>> Controller::run_checks(
    std::vector<std::shared_ptr<const upstream::Endpoint>> targets,
    std::optional<upstream::CheckMethod> method) {
    const auto policy = deps_.snapshots.policy();
    upstream::CheckOptions options;
    options.model = policy->health_model;
    options.timeout = policy->health_timeout;
    std::optional<std::string> fallback;
    if (method) {
        options.method = *method;
    } else {
        fallback = policy->health_method;
    }
    return checks_->run_now(std::move(targets), options, std::move(fallback));
}

void Controller::on_check(const upstream::Endpoint& ep, const upstream::CheckResult& r) {
    auto rec = check_record(ep.cfg.name, r, deps_.health.unix_ms());
    if (deps_.on_check) deps_.on_check(rec);
    {
        std::lock_guard lock(checks_mu_);
        if (pending_checks_.size() < kMaxPendingChecks) pending_checks_.push_back(std::move(rec));
    }
    const auto now = deps_.health.now();
    const bool broken = ep.state->quarantined.load() ||
                        ep.state->breaker.state(now) != upstream::BreakerState::kClosed;
    if (r.result == "pass") {
        if (broken) {
            deps_.health.release(ep, "health check passed (" + r.method + ", score " +
                                         std::to_string(r.score) + ")");
        }
    } else {
        spdlog::info("endpoint {}: health check {} {}: {}", ep.cfg.name, r.method, r.result,
                     r.error.empty() ? "the reply did not contain the code" : r.error);
    }
}

void Controller::run_cleanup() {
    const auto policy = deps_.snapshots.policy();
    store::RetentionPolicy retention;
    retention.payloads_ms = policy->retention_payloads_ms;
    retention.requests_ms = policy->retention_requests_ms;
    retention.rollups_ms = policy->retention_rollups_ms;
    const auto started = std::chrono::steady_clock::now();
    const auto r = deps_.store.cleanup(deps_.health.unix_ms(), retention);
    spdlog::info("retention: deleted {} payloads, {} request rows, {} hourly roll-ups in {} ms",
                 r.payloads, r.requests, r.rollups,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count());
}

void Controller::control_loop() {
    std::unique_lock lock(mu_);
    auto next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!stopping_) {
        cv_.wait_until(lock, next_tick, [this] { return stopping_ || announced_; });
        if (stopping_) break;
        const bool announced = std::exchange(announced_, false);
        const bool due = std::chrono::steady_clock::now() >= next_tick;
        lock.unlock();
        if (announced && !due) {
            // Another instance's change, applied between passes; a failure here is the next
            // pass's to report.
            try {
                pick_up_changes();
            } catch (const std::exception&) {
            }
            lock.lock();
            continue;
        }
        next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        try {
            tick();
            if (failed_ticks_ > 0) {
                spdlog::info("control loop: works again after {} failed second(s)", failed_ticks_);
                failed_ticks_ = 0;
            }
        } catch (const std::exception& e) {
            // The first failure and then one line a minute (a store outage fails every tick);
            // requests keep being served from the last configuration meanwhile.
            if (failed_ticks_++ % 60 == 0) {
                spdlog::error(
                    "control loop: {} (serving with the last configuration; {} failed "
                    "second(s) so far)",
                    e.what(), failed_ticks_);
            }
        }
        lock.lock();
    }
}

void Controller::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (control_.joinable()) control_.join();
    if (listener_.joinable()) listener_.join();
    if (checks_) checks_->stop();
    admin_pool_.join();
    if (!started_) return;
    try {
        std::lock_guard lock(tick_mu_);
        persist_state(false);
        persist_bindings();
        persist_unauthorized();
        std::vector<store::HealthCheckRecord> checks;
        {
            std::lock_guard checks_lock(checks_mu_);
            checks.swap(pending_checks_);
        }
        if (!checks.empty()) deps_.store.append_health_checks(checks);
        deps_.store.remove_instance(instance_id_);  // leaves the fleet at once
    } catch (const std::exception& e) {
        spdlog::error("final persistence failed: {}", e.what());
    }
}

}  // namespace qcc::control
