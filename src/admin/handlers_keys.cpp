// Admin API: client keys and settings (docs/admin-api.md). A new client key is shown once, in the
// creation answer; the store keeps only its SHA-256 and a display prefix.
#include <string_view>

#include "admin/call.hpp"
#include "common/crypto.hpp"
#include "proxy/policy.hpp"
#include "store/store.hpp"

namespace qcc::admin {

using proxy::known_settings;
using proxy::SettingInfo;
using proxy::validate_setting;

namespace {

json::object key_json(const store::ClientKeyRecord& k) {
    json::object o;
    o["name"] = k.name;
    o["prefix"] = k.prefix;
    o["created_at"] = k.created_at;
    o["revoked"] = k.revoked;
    return o;
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
    for (const auto& k : keys) rows.push_back(key_json(k));
    json::object body;
    body["keys"] = std::move(rows);
    co_return Reply(std::move(body));
}

asio::awaitable<Reply> create_key(Call& c) {
    reject_unknown_params(c, {});
    const auto o = body_object(c, true);
    reject_unknown_fields(o, {"name"});
    const auto* n = o.if_contains("name");
    if (n == nullptr) bad_request("name: required");
    auto name = string_value(*n, "name");
    check_name(name);
    auto work = [ctl = &c.control, name]() {
        auto& st = ctl->store();
        for (const auto& k : st.list_client_keys()) {
            if (k.name == name && !k.revoked) {
                conflict("a client key named '" + name + "' exists (revoke it first)");
            }
        }
        const auto key = crypto::new_client_key();
        const auto prefix = crypto::client_key_prefix(key);
        st.upsert_client_key(name, crypto::hash_client_key(key), prefix);
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
        return body;
    };
    Reply reply;
    reply.status = 201;
    reply.body = co_await run_blocking(c.control.admin_pool(), std::move(work));
    co_return reply;
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
