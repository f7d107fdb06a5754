// Admin API: client keys and settings (docs/admin-api.md). A new client key is shown once, in the
// creation answer; the store keeps only its SHA-256 and a display prefix.
#include <chrono>
#include <string_view>

#include "admin/call.hpp"
#include "admin/json.hpp"
#include "common/crypto.hpp"
#include "proxy/key_limits.hpp"
#include "proxy/policy.hpp"
#include "proxy/snapshots.hpp"
#include "store/store.hpp"

namespace qcc::admin {

using proxy::known_settings;
using proxy::SettingInfo;
using proxy::validate_setting;

namespace {

json::object key_json(const store::ClientKeyRecord& k, const proxy::KeySet* live = nullptr) {
    json::object o;
    o["name"] = k.name;
    o["prefix"] = k.prefix;
    o["created_at"] = k.created_at;
    o["revoked"] = k.revoked;
    o["limits"] = key_limits_value(k);
    const proxy::ClientKey* key = nullptr;
    for (std::size_t i = 0; live != nullptr && i < live->size() && !k.revoked; ++i) {
        if ((*live)[i].name == k.name) key = &(*live)[i];
    }
    if (key != nullptr) {
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        const auto u = key->meter->usage(now);
        json::object usage;
        usage["requests_this_minute"] = u.requests_this_minute;
        usage["tokens_this_minute"] = u.tokens_this_minute;
        usage["spent_today_usd"] = u.spent_today_usd;
        usage["spent_this_month_usd"] = u.spent_this_month_usd;
        o["usage"] = std::move(usage);
    } else {
        o["usage"] = nullptr;
    }
    return o;
}

/// The "limits" field of a request body, validated, as the JSON the store keeps.
std::string limits_field(const json::value& v) {
    if (!v.is_object()) bad_request("limits: expected an object");
    std::string error;
    const auto limits = proxy::parse_key_limits(json::serialize(v), &error);
    if (!limits) bad_request(error);
    return proxy::key_limits_json(*limits);
}

const SettingInfo* find_setting(std::string_view key) {
    for (const auto& s : known_settings()) {
        if (s.key == key) return &s;
    }
    return nullptr;
}

json::object setting_json(const SettingInfo& s, const std::optional<std::string>& stored) {
    json::object o;
    o["key"] = s.key;
    o["value"] = stored ? std::string_view(*stored) : s.default_value;
    o["default"] = s.default_value;
    o["set"] = stored.has_value();
    o["kind"] = s.kind;
    o["description"] = s.doc;
    return o;
}

const SettingInfo& setting_or_404(const std::string& key) {
    const auto* s = find_setting(key);
    if (s == nullptr) not_found("unknown setting '" + key + "' (GET /api/settings lists them)");
    return *s;
}

}  // namespace

asio::awaitable<Reply> list_keys(Call& c) {
    reject_unknown_params(c, {});
    auto work = [ctl = &c.control] { return ctl->store().list_client_keys(); };
    const auto keys = co_await run_blocking(c.control.admin_pool(), std::move(work));
    json::array rows;
    const auto live = c.control.snapshots().keys();
    for (const auto& k : keys) rows.push_back(key_json(k, live.get()));
    json::object body;
    body["keys"] = std::move(rows);
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> create_key(Call& c) {
    reject_unknown_params(c, {});
    const auto o = body_object(c, true);
    reject_unknown_fields(o, {"name", "limits"});
    const auto* n = o.if_contains("name");
    if (n == nullptr) bad_request("name: required");
    auto name = string_value(*n, "name");
    check_name(name);
    const auto* l = o.if_contains("limits");
    std::string limits = l != nullptr ? limits_field(*l) : std::string("{}");
    auto work = [ctl = &c.control, name, limits = std::move(limits)]() {
        auto& st = ctl->store();
        for (const auto& k : st.list_client_keys()) {
            if (k.name == name && !k.revoked) {
                conflict("a client key named '" + name + "' exists (revoke it first)");
            }
        }
        const auto key = crypto::new_client_key();
        const auto prefix = crypto::client_key_prefix(key);
        st.upsert_client_key(name, crypto::hash_client_key(key), prefix);
        st.set_client_key_limits(name, limits);  // a reused name does not inherit old limits
        ctl->reload();
        std::int64_t created_at = 0;
        for (const auto& k : st.list_client_keys()) {
            if (k.name == name) created_at = k.created_at;
        }
        json::object body;
        body["name"] = name;
        body["key"] = key;
        body["prefix"] = prefix;
        body["created_at"] = created_at;
        body["limits"] = json::parse(limits);
        return body;
    };
    Reply reply;
    reply.status = 201;
    reply.body = co_await run_blocking(c.control.admin_pool(), std::move(work));
    co_return reply;
}

// PATCH /api/keys/{name} {"limits": {...}}: the given limits replace the key's (0 or null removes
// one, the others stay); applied to the next request.
asio::awaitable<Reply> patch_key(Call& c) {
    reject_unknown_params(c, {});
    const auto o = body_object(c, true);
    reject_unknown_fields(o, {"limits"});
    const auto* l = o.if_contains("limits");
    if (l == nullptr) bad_request("limits: required");
    if (!l->is_object()) bad_request("limits: expected an object");
    limits_field(*l);  // each given field valid
    auto work = [ctl = &c.control, name = c.params[0], patch = l->as_object()]() {
        auto& st = ctl->store();
        std::optional<json::object> current;
        for (const auto& k : st.list_client_keys()) {
            if (k.name == name && !k.revoked) current = key_limits_value(k).as_object();
        }
        if (!current) not_found("no active client key named '" + name + "'");
        // Given fields replace, 0 or null removes, the others stay.
        for (const auto& [field, value] : patch) {
            const bool remove =
                value.is_null() || (value.is_number() && value.to_number<double>() == 0);
            if (remove) {
                current->erase(field);
            } else {
                (*current)[field] = value;
            }
        }
        if (!st.set_client_key_limits(name, limits_field(*current))) {
            not_found("no active client key named '" + name + "'");
        }
        ctl->reload();
        for (const auto& k : st.list_client_keys()) {
            if (k.name == name) return key_json(k, ctl->snapshots().keys().get());
        }
        not_found("no active client key named '" + name + "'");
    };
    co_return Reply(co_await run_blocking(c.control.admin_pool(), std::move(work)));
}

asio::awaitable<Reply> revoke_key(Call& c) {
    reject_unknown_params(c, {});
    auto work = [ctl = &c.control, name = c.params[0]]() {
        if (!ctl->store().revoke_client_key(name)) {
            not_found("no client key named '" + name + "'");
        }
        ctl->reload();
    };
    co_await run_blocking(c.control.admin_pool(), std::move(work));
    json::object body;
    body["revoked"] = c.params[0];
    co_return Reply(std::move(body));
}

// Which client key a secret is (the CLI checks a key it is given before writing it anywhere):
// 200 with the key's row, 404 when no key of this server has that secret.
asio::awaitable<Reply> verify_key(Call& c) {
    reject_unknown_params(c, {});
    const auto o = body_object(c, true);
    reject_unknown_fields(o, {"key"});
    const auto* k = o.if_contains("key");
    if (k == nullptr) bad_request("key: required");
    auto hash = crypto::hash_client_key(string_value(*k, "key"));
    auto work = [ctl = &c.control, hash = std::move(hash)]() -> std::optional<json::object> {
        for (const auto& r : ctl->store().list_client_keys()) {
            if (r.key_hash == hash) return key_json(r);
        }
        return std::nullopt;
    };
    auto found = co_await run_blocking(c.control.admin_pool(), std::move(work));
    if (!found) not_found("not a client key of this server");
    co_return Reply(std::move(*found));
}

asio::awaitable<Reply> list_settings(Call& c) {
    reject_unknown_params(c, {});
    auto work = [ctl = &c.control]() {
        auto& st = ctl->store();
        json::array rows;
        for (const auto& s : known_settings())
            rows.push_back(setting_json(s, st.get_setting(s.key)));
        return rows;
    };
    json::object body;
    body["settings"] = co_await run_blocking(c.control.admin_pool(), std::move(work));
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> get_setting(Call& c) {
    reject_unknown_params(c, {});
    const auto& info = setting_or_404(c.params[0]);
    auto work = [ctl = &c.control, &info]() {
        return setting_json(info, ctl->store().get_setting(info.key));
    };
    Reply reply;
    reply.body = co_await run_blocking(c.control.admin_pool(), std::move(work));
    co_return reply;
}

asio::awaitable<Reply> put_setting(Call& c) {
    reject_unknown_params(c, {});
    const auto& info = setting_or_404(c.params[0]);
    const auto o = body_object(c, true);
    reject_unknown_fields(o, {"value"});
    const auto* v = o.if_contains("value");
    if (v == nullptr) bad_request("value: required");
    auto value = string_value(*v, "value");
    if (auto err = validate_setting(info.key, value); !err.empty()) bad_request(err);
    auto work = [ctl = &c.control, &info, value]() {
        auto& st = ctl->store();
        st.set_setting(info.key, value);
        ctl->reload();
        return setting_json(info, st.get_setting(info.key));
    };
    Reply reply;
    reply.body = co_await run_blocking(c.control.admin_pool(), std::move(work));
    co_return reply;
}

}  // namespace qcc::admin
