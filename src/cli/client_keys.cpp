#include "cli/client_keys.hpp"

#include <iostream>
#include <set>

#include <boost/json.hpp>

#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace json = boost::json;

namespace {

constexpr int kMaxKeyNameTries = 100;

bool revoked(const json::object& key) {
    const auto* r = key.if_contains("revoked");
    return r != nullptr && r->is_bool() && r->as_bool();
}

std::optional<NewClientKey> post_key(const AdminTarget& t, const std::string& name, bool* taken,
                                     int* exit_code) {
    json::object body;
    body["name"] = name;
    const std::optional<std::string> text = json::serialize(body);
    const auto res = admin_call(t, "POST", "/api/keys", text, exit_code);
    if (*exit_code != 0) return std::nullopt;
    *taken = res.status == 409;  // created meanwhile by someone else
    if (*taken) return std::nullopt;
    if (res.status < 200 || res.status >= 300) {
        *exit_code = report_failure(res);
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto doc = json::parse(res.body, ec);
    if (ec || !doc.is_object() || json_str(doc.as_object(), "key").empty()) {
        std::cerr << "qcc: unexpected answer from the server to POST /api/keys\n";
        *exit_code = kExitFailed;
        return std::nullopt;
    }
    return NewClientKey{name, json_str(doc.as_object(), "key")};
}

}  // namespace

std::optional<NewClientKey> create_client_key(const AdminTarget& t, const std::string& base,
                                              int* exit_code) {
    auto listed = call_json(t, "GET", "/api/keys");
    *exit_code = listed.exit_code;
    if (listed.exit_code != 0) return std::nullopt;
    std::set<std::string> names;
    for (const auto& v : json_arr(listed.doc.as_object(), "keys")) {
        if (v.is_object() && !revoked(v.as_object())) names.insert(json_str(v.as_object(), "name"));
    }
    for (int i = 1; i <= kMaxKeyNameTries; ++i) {
        const std::string name = i == 1 ? base : base + "-" + std::to_string(i);
        if (names.count(name) > 0) continue;
        bool taken = false;
        auto made = post_key(t, name, &taken, exit_code);
        if (made || *exit_code != 0) return made;
    }
    std::cerr << "qcc: every key name from " << base << " to " << base << "-" << kMaxKeyNameTries
              << " is taken; revoke some (qcc key list)\n";
    *exit_code = kExitFailed;
    return std::nullopt;
}

std::optional<ClientKeyInfo> find_client_key(const AdminTarget& t, const std::string& key,
                                             int* exit_code) {
    json::object body;
    body["key"] = key;
    const std::optional<std::string> text = json::serialize(body);
    const auto res = admin_call(t, "POST", "/api/keys/verify", text, exit_code);
    if (*exit_code != 0) return std::nullopt;
    if (res.status == 404) return std::nullopt;
    boost::system::error_code ec;
    const auto doc = json::parse(res.body, ec);
    if (res.status != 200 || ec || !doc.is_object()) {
        *exit_code = res.status != 200 ? report_failure(res) : kExitFailed;
        if (res.status == 200) std::cerr << "qcc: unexpected answer to POST /api/keys/verify\n";
        return std::nullopt;
    }
    return ClientKeyInfo{json_str(doc.as_object(), "name"), revoked(doc.as_object())};
}

std::optional<ClientKeyInfo> check_given_key(const AdminTarget& t, const std::string& key,
                                             int* exit_code) {
    auto info = find_client_key(t, key, exit_code);
    if (*exit_code != 0) return std::nullopt;
    if (info && !info->revoked) return info;
    std::cerr << "qcc: --key: "
              << (info ? "client key '" + info->name + "' is revoked"
                       : std::string("not a client key of this QCC server"))
              << " (qcc key list shows its keys, qcc key create NAME makes one)\n";
    *exit_code = kExitUsage;
    return std::nullopt;
}

}  // namespace qcc::cli
