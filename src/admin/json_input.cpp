#include "admin/json_input.hpp"

#include <algorithm>
#include <climits>
#include <optional>

namespace qcc::admin {

void bad_request(const std::string& message) {
    throw ApiError(400, "invalid_request_error", message);
}
void not_found(const std::string& message) { throw ApiError(404, "not_found_error", message); }
void conflict(const std::string& message) { throw ApiError(409, "invalid_request_error", message); }

json::object parse_body_object(std::string_view body, bool required) {
    if (body.size() > kMaxBodyBytes) {
        throw ApiError(
            413, "request_too_large",
            "admin request bodies are limited to " + std::to_string(kMaxBodyBytes) + " bytes");
    }
    const std::string_view text(body.data(), body.size());
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        if (!required) return {};
        bad_request("the request body must be a JSON object");
    }
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) bad_request("the request body is not valid JSON: " + ec.message());
    if (!v.is_object()) bad_request("the request body must be a JSON object");
    return std::move(v.as_object());
}

void reject_unknown_fields(const json::object& o, std::span<const std::string_view> allowed) {
    static constexpr std::array<std::string_view, 7> kReadOnly{
        "id", "created_at", "updated_at", "state", "events", "checks", "prefix"};
    for (const auto& [k, v] : o) {
        if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
        if (std::find(kReadOnly.begin(), kReadOnly.end(), k) != kReadOnly.end()) {
            bad_request(std::string(k) + ": read-only field");
        }
        std::string list;
        for (auto a : allowed) {
            if (!list.empty()) list += ", ";
            list += a;
        }
        bad_request("unknown field '" + std::string(k) + "' (allowed: " + list + ")");
    }
}

std::string string_value(const json::value& v, std::string_view field) {
    if (!v.is_string()) bad_request(std::string(field) + ": expected a string");
    return std::string(v.get_string());
}

std::int64_t int_value(const json::value& v, std::string_view field) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        return v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)
                   ? INT64_MAX
                   : static_cast<std::int64_t>(v.get_uint64());
    }
    bad_request(std::string(field) + ": expected an integer");
}

bool bool_value(const json::value& v, std::string_view field) {
    if (!v.is_bool()) bad_request(std::string(field) + ": expected true or false");
    return v.get_bool();
}

/// Fields POST and PATCH accept (PATCH: `name` only if unchanged).
const std::array<std::string_view, 15> kEndpointFields = {"name",
                                                          "base_url",
                                                          "api_key",
                                                          "kind",
                                                          "auth",
                                                          "tier",
                                                          "weight",
                                                          "enabled",
                                                          "tls_verify",
                                                          "model_map",
                                                          "tags",
                                                          "models",
                                                          "connect_timeout_ms",
                                                          "first_byte_timeout_ms",
                                                          "idle_timeout_ms"};

namespace {

int clamp_int(std::int64_t v) {
    return static_cast<int>(std::clamp<std::int64_t>(v, INT_MIN, INT_MAX));
}

std::vector<std::string> string_list(const json::value& v, std::string_view field) {
    const auto bad = [&] { bad_request(std::string(field) + ": expected an array of strings"); };
    if (!v.is_array()) bad();
    std::vector<std::string> out;
    for (const auto& t : v.get_array()) {
        if (!t.is_string()) bad();
        out.emplace_back(t.get_string());
    }
    return out;
}

std::optional<config::Millis> timeout_value(const json::value& v, std::string_view field) {
    if (v.is_null()) return std::nullopt;
    return config::Millis(int_value(v, field));
}

}  // namespace

/// Applies every field present in `o` to `e` (types checked; ranges are validate_endpoint's).
void apply_endpoint_fields(const json::object& o, config::EndpointConfig& e) {
    for (const auto& [key, v] : o) {
        if (key == "name") {
            e.name = string_value(v, key);
        } else if (key == "base_url") {
            e.base_url = string_value(v, key);
        } else if (key == "api_key") {
            e.api_key = string_value(v, key);
        } else if (key == "kind") {
            auto kind = config::parse_endpoint_kind(string_value(v, key));
            if (!kind) bad_request("kind: expected anthropic or openai");
            e.kind = *kind;
        } else if (key == "auth") {
            auto auth = config::parse_auth_mode(string_value(v, key));
            if (!auth) bad_request("auth: expected x-api-key, bearer or both");
            e.auth = *auth;
        } else if (key == "tier") {
            e.tier = clamp_int(int_value(v, key));
        } else if (key == "weight") {
            e.weight = clamp_int(int_value(v, key));
        } else if (key == "enabled") {
            e.enabled = bool_value(v, key);
        } else if (key == "tls_verify") {
            e.tls_verify = bool_value(v, key);
        } else if (key == "model_map") {
            if (!v.is_object()) bad_request("model_map: expected an object of model name strings");
            e.model_map.clear();
            for (const auto& [from, to] : v.get_object()) {
                if (!to.is_string())
                    bad_request("model_map: expected an object of model name strings");
                e.model_map.emplace_back(std::string(from), std::string(to.get_string()));
            }
        } else if (key == "tags") {
            e.tags = string_list(v, key);
        } else if (key == "models") {
            e.models = string_list(v, key);
        } else if (key == "connect_timeout_ms") {
            e.connect_timeout = timeout_value(v, key);
        } else if (key == "first_byte_timeout_ms") {
            e.first_byte_timeout = timeout_value(v, key);
        } else if (key == "idle_timeout_ms") {
            e.idle_timeout = timeout_value(v, key);
        }
    }
}

/// config::validate_endpoint with its messages naming the API's fields (…_ms for timeouts).
void validate_endpoint_fields(config::EndpointConfig& e) {
    try {
        config::validate_endpoint(e);
    } catch (const config::ConfigError& err) {
        std::string msg = err.what();
        for (std::string_view f : {"connect_timeout", "first_byte_timeout", "idle_timeout"}) {
            if (msg.starts_with(std::string(f) + ":")) msg.insert(f.size(), "_ms");
        }
        bad_request(msg);
    }
}

}  // namespace qcc::admin
