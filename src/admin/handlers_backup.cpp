#include "admin/handlers_backup.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "admin/json.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "proxy/key_limits.hpp"
#include "proxy/policy.hpp"
#include "store/store.hpp"

namespace qcc::admin {

namespace {

constexpr std::string_view kFormat = "qcc-backup";
constexpr std::int64_t kFormatVersion = 1;

// ---- writing --------------------------------------------------------------------------------

json::object key_fields(const store::ClientKeyRecord& k) {
    json::object o;
    o["name"] = k.name;
    o["key_hash"] = k.key_hash;
    o["prefix"] = k.prefix;
    o["created_at"] = k.created_at;
    o["revoked"] = k.revoked;
    o["limits"] = key_limits_value(k);
    return o;
}

BackupContents read_contents(store::Store& st) {
    BackupContents b;
    for (auto& rec : st.list_endpoints()) b.endpoints.push_back(std::move(rec.config));
    b.keys = st.list_client_keys();
    for (const auto& s : proxy::known_settings()) {
        if (auto v = st.get_setting(s.key)) b.settings.emplace_back(std::string(s.key), *v);
    }
    return b;
}

// ---- reading --------------------------------------------------------------------------------

/// Runs `read`; a 400 it raises is raised again with `where` in front of its message.
template <class F>
void within(const std::string& where, F read) {
    try {
        read();
    } catch (const ApiError& e) {
        if (e.status() != 400) throw;
        bad_request(where + ": " + e.what());
    }
}

const json::value& required(const json::object& o, std::string_view field) {
    const auto* v = o.if_contains(field);
    if (v == nullptr) bad_request(std::string(field) + ": required");
    return *v;
}

const json::object& object_value(const json::value& v, std::string_view field) {
    if (!v.is_object()) bad_request(std::string(field) + ": expected an object");
    return v.get_object();
}

const json::object& entry_object(const json::value& v) {
    if (!v.is_object()) bad_request("expected an object");
    return v.get_object();
}

const json::array& array_field(const json::object& o, std::string_view field) {
    const auto& v = required(o, field);
    if (!v.is_array()) bad_request(std::string(field) + ": expected an array");
    return v.get_array();
}

/// "endpoints[2] (relay)": an entry of a list, with its name when it has one.
std::string entry_label(std::string_view list, std::size_t i, const json::value& v) {
    std::string where = std::string(list) + "[" + std::to_string(i) + "]";
    const auto* o = v.if_object();
    const auto* name = o != nullptr ? o->if_contains("name") : nullptr;
    if (name != nullptr && name->is_string()) where += " (" + std::string(name->get_string()) + ")";
    return where;
}

void check_format(const json::object& doc) {
    const auto& format = required(doc, "format");
    if (!format.is_string() || format.get_string() != kFormat) {
        bad_request("format: expected \"qcc-backup\" (the document is not a QCC backup)");
    }
    const auto version = int_value(required(doc, "version"), "version");
    if (version != kFormatVersion) {
        bad_request("version: unsupported backup version " + std::to_string(version) +
                    " (this QCC reads version " + std::to_string(kFormatVersion) + ")");
    }
}

config::EndpointConfig parse_endpoint(const json::value& v) {
    const auto& o = entry_object(v);
    reject_unknown_fields(o, kEndpointFields);
    for (std::string_view field : {"name", "base_url", "api_key"}) required(o, field);
    config::EndpointConfig e;
    apply_endpoint_fields(o, e);
    validate_endpoint_fields(e);
    return e;
}

bool is_sha256_hex(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

store::ClientKeyRecord parse_key(const json::value& v) {
    const auto& o = entry_object(v);
    reject_unknown_fields(o, {"name", "key_hash", "prefix", "created_at", "revoked", "limits"});
    store::ClientKeyRecord k;
    k.name = string_value(required(o, "name"), "name");
    check_name(k.name);
    k.key_hash = string_value(required(o, "key_hash"), "key_hash");
    if (!is_sha256_hex(k.key_hash)) {
        bad_request("key_hash: expected 64 lower-case hex characters (the key's SHA-256)");
    }
    k.prefix = string_value(required(o, "prefix"), "prefix");
    const bool printable = std::all_of(k.prefix.begin(), k.prefix.end(),
                                       [](char c) { return c >= 0x20 && c != 0x7f; });
    if (k.prefix.empty() || k.prefix.size() > 64 || !printable) {
        bad_request("prefix: must be 1 to 64 printable characters");
    }
    if (const auto* t = o.if_contains("created_at")) k.created_at = int_value(*t, "created_at");
    if (const auto* r = o.if_contains("revoked")) k.revoked = bool_value(*r, "revoked");
    if (const auto* l = o.if_contains("limits")) {
        std::string error;
        const auto limits = l->is_object() ? proxy::parse_key_limits(json::serialize(*l), &error)
                                           : std::optional<proxy::KeyLimits>();
        if (!limits) bad_request(error.empty() ? "limits: expected an object" : error);
        k.limits = proxy::key_limits_json(*limits);
    }
    return k;
}

/// Each entry of `list` read by `parse`, names unique.
template <class T, class Parse>
std::vector<T> parse_list(const json::object& doc, std::string_view list, Parse parse) {
    const auto& entries = array_field(doc, list);
    std::vector<T> out;
    std::set<std::string> names;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        within(entry_label(list, i, entries[i]), [&] {
            out.push_back(parse(entries[i]));
            if (!names.insert(out.back().name).second) bad_request("name: appears twice");
        });
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_settings(const json::object& doc) {
    const auto& o = object_value(required(doc, "settings"), "settings");
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [key, v] : o) {
        const std::string name(key);
        if (!v.is_string()) bad_request("settings." + name + ": expected a string");
        std::string value(v.get_string());
        if (auto err = proxy::validate_setting(name, value); !err.empty()) {
            bad_request("settings: " + err);
        }
        out.emplace_back(name, std::move(value));
    }
    return out;
}

// ---- restoring ------------------------------------------------------------------------------

json::object action_row(std::string_view field, const std::string& name, std::string_view action) {
    json::object row;
    row[field] = name;
    row["action"] = action;
    return row;
}

json::array restore_endpoints(store::Store& st, const BackupContents& b, bool dry_run) {
    std::map<std::string, config::EndpointConfig> have;
    for (auto& rec : st.list_endpoints()) have.emplace(rec.config.name, std::move(rec.config));
    json::array rows;
    for (const auto& e : b.endpoints) {
        const auto it = have.find(e.name);
        const std::string_view action =
            it == have.end() ? "create" : (it->second == e ? "unchanged" : "update");
        if (!dry_run && action != "unchanged") st.upsert_endpoint(e);
        rows.push_back(action_row("name", e.name, action));
    }
    return rows;
}

/// create / update / unchanged for an active key; revoke / unchanged / skip for a revoked one (a
/// revoked key authenticates nothing, so it is only ever used to turn off that same key).
std::string_view key_action(const store::ClientKeyRecord* have, const store::ClientKeyRecord& k) {
    const bool same = have != nullptr && have->key_hash == k.key_hash;
    if (k.revoked) {
        if (!same) return "skip";
        return have->revoked ? "unchanged" : "revoke";
    }
    if (have == nullptr) return "create";
    return same && have->prefix == k.prefix && !have->revoked && have->limits == k.limits
               ? "unchanged"
               : "update";
}

json::array restore_keys(store::Store& st, const BackupContents& b, bool dry_run) {
    std::map<std::string, store::ClientKeyRecord> have;
    for (auto& k : st.list_client_keys()) have.emplace(k.name, std::move(k));
    json::array rows;
    for (const auto& k : b.keys) {
        const auto it = have.find(k.name);
        const auto action = key_action(it == have.end() ? nullptr : &it->second, k);
        if (!dry_run && (action == "create" || action == "update")) {
            st.upsert_client_key(k.name, k.key_hash, k.prefix);
            st.set_client_key_limits(k.name, k.limits);
        }
        if (!dry_run && action == "revoke") st.revoke_client_key(k.name);
        rows.push_back(action_row("name", k.name, action));
    }
    return rows;
}

json::array restore_settings(store::Store& st, const BackupContents& b, bool dry_run) {
    json::array rows;
    for (const auto& [key, value] : b.settings) {
        const bool same = st.get_setting(key) == value;
        if (!dry_run && !same) st.set_setting(key, value);
        rows.push_back(action_row("key", key, same ? "unchanged" : "set"));
    }
    return rows;
}

bool dry_run_param(const Call& c) {
    const auto v = param(c, "dry_run");
    if (!v || *v == "false" || *v == "0") return false;
    if (*v == "true" || *v == "1" || v->empty()) return true;
    bad_request("dry_run: expected true or false");
}

}  // namespace

json::object backup_json(const BackupContents& b, std::int64_t created_at) {
    json::object doc;
    doc["format"] = kFormat;
    doc["version"] = kFormatVersion;
    doc["created_at"] = created_at;
    doc["qcc_version"] = kVersion;
    json::array endpoints, keys;
    for (const auto& e : b.endpoints) endpoints.push_back(endpoint_config_json(e, e.api_key));
    for (const auto& k : b.keys) keys.push_back(key_fields(k));
    json::object settings;
    for (const auto& [key, value] : b.settings) settings[key] = value;
    doc["endpoints"] = std::move(endpoints);
    doc["keys"] = std::move(keys);
    doc["settings"] = std::move(settings);
    return doc;
}

BackupContents parse_backup(const json::object& doc) {
    reject_unknown_fields(
        doc, {"format", "version", "created_at", "qcc_version", "endpoints", "keys", "settings"});
    check_format(doc);
    BackupContents b;
    b.endpoints = parse_list<config::EndpointConfig>(doc, "endpoints", parse_endpoint);
    b.keys = parse_list<store::ClientKeyRecord>(doc, "keys", parse_key);
    b.settings = parse_settings(doc);
    return b;
}

asio::awaitable<Reply> get_backup(Call& c) {
    reject_unknown_params(c, {});
    auto work = [ctl = &c.control] { return read_contents(ctl->store()); };
    const auto contents = co_await run_blocking(c.control.admin_pool(), std::move(work));
    spdlog::info(
        "admin: full backup read (credentials included): endpoints {}, client keys {}, "
        "settings {}",
        contents.endpoints.size(), contents.keys.size(), contents.settings.size());
    co_return Reply(backup_json(contents, system_unix_ms()));
}

asio::awaitable<Reply> restore_backup(Call& c) {
    reject_unknown_params(c, {"dry_run"});
    const bool dry_run = dry_run_param(c);
    auto contents = parse_backup(body_object(c, true));
    auto work = [ctl = &c.control, contents = std::move(contents), dry_run]() {
        auto& st = ctl->store();
        json::object body;
        body["dry_run"] = dry_run;
        body["endpoints"] = restore_endpoints(st, contents, dry_run);
        body["keys"] = restore_keys(st, contents, dry_run);
        body["settings"] = restore_settings(st, contents, dry_run);
        if (!dry_run) ctl->reload();
        return body;
    };
    auto body = co_await run_blocking(c.control.admin_pool(), std::move(work));
    if (!dry_run) spdlog::info("admin: backup restored");
    co_return Reply(std::move(body));
}

}  // namespace qcc::admin
