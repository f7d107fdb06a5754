// Admin API: endpoints (docs/admin-api.md). Writes go through the store on the admin pool and
// reload the snapshots there, so the answer (and the next request) already sees the change.
#include <algorithm>
#include <array>
#include <climits>

#include "admin/call.hpp"
#include "admin/json.hpp"
#include "control/config_file.hpp"
#include "store/secret.hpp"
#include "store/store.hpp"

namespace qcc::admin {

namespace {

constexpr std::size_t kDetailEvents = 20;
constexpr std::size_t kDetailChecks = 10;

std::optional<store::EndpointRecord> find_record(store::Store& st, const std::string& name) {
    for (auto& rec : st.list_endpoints()) {
        if (rec.config.name == name) return std::move(rec);
    }
    return std::nullopt;
}

/// The answer's `warning` when the server's config file declares endpoint `name`: its next start
/// applies the file again and undoes a change made here. "" otherwise. Reads the file: admin pool.
std::string file_warning(control::ControlApi& control, const std::string& name) {
    const auto d = control::find_file_declaration(control.config_file(), name);
    return d ? control::file_declaration_warning(name, *d) : std::string();
}

/// An endpoint after a change, and the change's warning ("" = none).
struct Changed {
    store::EndpointRecord rec;
    std::string warning;
};

/// Loads `name` (404 if absent), lets `change` edit its config, validates, stores and reloads —
/// all on the admin pool.
template <class Change>
asio::awaitable<Changed> modify(Call& c, Change change) {
    auto work = [ctl = &c.control, name = c.params[0], change = std::move(change)]() {
        auto& st = ctl->store();
        auto rec = find_record(st, name);
        if (!rec) not_found("no endpoint named '" + name + "'");
        auto cfg = rec->config;
        change(cfg);
        validate_endpoint_fields(cfg);
        auto warning = file_warning(*ctl, name);
        if (cfg == rec->config) return Changed{std::move(*rec), std::move(warning)};
        auto stored = st.upsert_endpoint(cfg);
        ctl->reload();
        return Changed{std::move(stored), std::move(warning)};
    };
    co_return co_await run_blocking(c.control.admin_pool(), std::move(work));
}

Reply endpoint_reply(control::ControlApi& control, const store::EndpointRecord& rec,
                     int status = 200) {
    return Reply(endpoint_json(control, rec), status);
}

Reply changed_reply(control::ControlApi& control, const Changed& changed) {
    auto body = endpoint_json(control, changed.rec);
    if (!changed.warning.empty()) body["warning"] = changed.warning;
    return Reply(std::move(body));
}

}  // namespace

json::object endpoint_json(control::ControlApi& control, const store::EndpointRecord& rec) {
    const auto& e = rec.config;
    // The credential never leaves the server in clear.
    json::object o = endpoint_config_json(e, store::mask_secret(e.api_key));
    o["id"] = rec.id;
    o["created_at"] = rec.created_at;
    o["updated_at"] = rec.updated_at;
    const auto set = control.snapshots().endpoints();
    const auto* live = set->find(e.name);
    if (live != nullptr) {
        o["state"] = endpoint_status_row(control, *live);
    } else {
        o["state"] = nullptr;
    }
    return o;
}

asio::awaitable<Reply> list_endpoints(Call& c) {
    reject_unknown_params(c, {});
    auto work = [ctl = &c.control] { return ctl->store().list_endpoints(); };
    const auto records = co_await run_blocking(c.control.admin_pool(), std::move(work));
    json::array rows;
    for (const auto& rec : records) rows.push_back(endpoint_json(c.control, rec));
    json::object body;
    body["endpoints"] = std::move(rows);
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> create_endpoint(Call& c) {
    reject_unknown_params(c, {});
    const auto o = body_object(c, true);
    reject_unknown_fields(o, kEndpointFields);
    for (std::string_view required : {"name", "base_url", "api_key"}) {
        if (!o.contains(required)) bad_request(std::string(required) + ": required");
    }
    config::EndpointConfig cfg;
    apply_endpoint_fields(o, cfg);
    validate_endpoint_fields(cfg);
    auto work = [ctl = &c.control, cfg]() {
        auto& st = ctl->store();
        if (find_record(st, cfg.name)) {
            conflict("an endpoint named '" + cfg.name +
                     "' already exists (change it with `qcc endpoint set " + cfg.name +
                     "` or PATCH /api/endpoints/" + cfg.name + ")");
        }
        auto stored = st.upsert_endpoint(cfg);
        ctl->reload();
        return stored;
    };
    const auto rec = co_await run_blocking(c.control.admin_pool(), std::move(work));
    co_return endpoint_reply(c.control, rec, 201);
}

asio::awaitable<Reply> get_endpoint(Call& c) {
    reject_unknown_params(c, {});
    struct Detail {
        store::EndpointRecord rec;
        std::vector<store::EventRecord> events;
        std::vector<store::HealthCheckRecord> checks;
    };
    auto work = [ctl = &c.control, name = c.params[0]]() {
        auto& st = ctl->store();
        auto rec = find_record(st, name);
        if (!rec) not_found("no endpoint named '" + name + "'");
        return Detail{std::move(*rec), st.recent_events(kDetailEvents, name),
                      st.recent_health_checks(kDetailChecks, name)};
    };
    const auto d = co_await run_blocking(c.control.admin_pool(), std::move(work));
    auto body = endpoint_json(c.control, d.rec);
    json::array events, checks;
    for (const auto& e : d.events) events.push_back(event_json(e));
    for (const auto& r : d.checks) checks.push_back(check_json(r));
    body["events"] = std::move(events);
    body["checks"] = std::move(checks);
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> patch_endpoint(Call& c) {
    reject_unknown_params(c, {});
    auto o = body_object(c, true);
    reject_unknown_fields(o, kEndpointFields);
    if (const auto* n = o.if_contains("name")) {
        if (string_value(*n, "name") != c.params[0]) {
            bad_request("name: endpoints cannot be renamed (create a new one and delete this one)");
        }
        o.erase("name");
    }
    // Type errors are reported before the store is touched.
    config::EndpointConfig probe;
    apply_endpoint_fields(o, probe);
    auto change = [o](config::EndpointConfig& cfg) {
        const auto previous_key = cfg.api_key;
        apply_endpoint_fields(o, cfg);
        // A masked credential sent back from a GET means "unchanged", never the new secret.
        if (o.contains("api_key") && cfg.api_key == store::mask_secret(previous_key)) {
            cfg.api_key = previous_key;
        }
    };
    const auto changed = co_await modify(c, std::move(change));
    co_return changed_reply(c.control, changed);
}

asio::awaitable<Reply> delete_endpoint(Call& c) {
    reject_unknown_params(c, {});
    auto work = [ctl = &c.control, name = c.params[0]]() {
        if (!ctl->store().remove_endpoint(name)) not_found("no endpoint named '" + name + "'");
        ctl->reload();
        return file_warning(*ctl, name);
    };
    const auto warning = co_await run_blocking(c.control.admin_pool(), std::move(work));
    json::object body;
    body["deleted"] = c.params[0];
    if (!warning.empty()) body["warning"] = warning;
    co_return Reply(std::move(body));
}

namespace {

asio::awaitable<Reply> set_enabled(Call& c, bool enabled) {
    reject_unknown_params(c, {});
    body_object(c, false);
    auto change = [enabled](config::EndpointConfig& cfg) { cfg.enabled = enabled; };
    const auto changed = co_await modify(c, std::move(change));
    co_return changed_reply(c.control, changed);
}

}  // namespace

asio::awaitable<Reply> enable_endpoint(Call& c) { co_return co_await set_enabled(c, true); }

asio::awaitable<Reply> disable_endpoint(Call& c) { co_return co_await set_enabled(c, false); }

asio::awaitable<Reply> release_endpoint(Call& c) {
    reject_unknown_params(c, {});
    body_object(c, false);
    const auto released = c.control.release(c.params[0], "operator (admin API)");
    if (!released) not_found("no endpoint named '" + c.params[0] + "'");
    json::object body;
    body["endpoint"] = c.params[0];
    body["released"] = *released;
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> quarantine_endpoint(Call& c) {
    reject_unknown_params(c, {});
    const auto o = body_object(c, false);
    reject_unknown_fields(o, {"reason"});
    std::string reason = "operator";
    if (const auto* r = o.if_contains("reason")) {
        reason = string_value(*r, "reason");
        if (reason.empty() || reason.size() > 200)
            bad_request("reason: must be 1 to 200 characters");
    }
    if (!c.control.quarantine(c.params[0], reason)) {
        not_found("no endpoint named '" + c.params[0] + "'");
    }
    json::object body;
    body["endpoint"] = c.params[0];
    body["quarantined"] = true;
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> list_health_checks(Call& c) {
    reject_unknown_params(c, {"endpoint", "limit"});
    const auto limit = static_cast<std::size_t>(int_param(c, "limit", 50, 1, 1000));
    auto work = [ctl = &c.control, limit, endpoint = param(c, "endpoint").value_or("")]() {
        return ctl->store().recent_health_checks(limit, endpoint);
    };
    const auto rows = co_await run_blocking(c.control.admin_pool(), std::move(work));
    json::array checks;
    for (const auto& r : rows) checks.push_back(check_json(r));
    json::object body;
    body["checks"] = std::move(checks);
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> list_events_history(Call& c) {
    reject_unknown_params(c, {"endpoint", "limit"});
    const auto limit = static_cast<std::size_t>(int_param(c, "limit", 50, 1, 1000));
    auto work = [ctl = &c.control, limit, endpoint = param(c, "endpoint").value_or("")]() {
        return ctl->store().recent_events(limit, endpoint);
    };
    const auto rows = co_await run_blocking(c.control.admin_pool(), std::move(work));
    json::array events;
    for (const auto& e : rows) events.push_back(event_json(e));
    json::object body;
    body["events"] = std::move(events);
    co_return Reply(std::move(body));
}

}  // namespace qcc::admin
