#include "cli/config_io.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/quoted.hpp"

namespace qcc::cli {

namespace json = boost::json;
using config::EndpointConfig;
using config::Millis;

namespace {

std::optional<Millis> timeout_from_json(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null() || !v->is_number()) return std::nullopt;
    return Millis(v->to_number<std::int64_t>());
}

std::string text_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return {};
    return std::string(v->as_string());
}

using ModelMap = std::vector<std::pair<std::string, std::string>>;

ModelMap sorted(ModelMap m) {
    std::sort(m.begin(), m.end());
    return m;
}

std::string describe_timeout(const std::optional<Millis>& t) {
    return t ? format_duration(*t) : std::string("default");
}

json::value timeout_json(const std::optional<Millis>& t) {
    if (!t) return nullptr;
    return t->count();
}

json::object model_map_json(const ModelMap& m) {
    json::object o;
    for (const auto& [from, to] : m) o[from] = to;
    return o;
}

json::array list_json(const std::vector<std::string>& tags) {
    json::array a;
    for (const auto& t : tags) a.emplace_back(t);
    return a;
}

// Field-by-field difference: human descriptions plus the PATCH body carrying only what changed.
void diff_endpoint(const EndpointConfig& was, const EndpointConfig& want,
                   std::vector<std::string>& changes, json::object& patch) {
    auto scalar = [&](std::string_view field, const auto& a, const auto& b, json::value v) {
        if (a == b) return;
        changes.push_back(fmt::format("{} {} -> {}", field, a, b));
        patch[field] = std::move(v);
    };
    scalar("base_url", was.base_url, want.base_url, json::value(want.base_url));
    scalar("kind", config::to_string(was.kind), config::to_string(want.kind),
           json::value(config::to_string(want.kind)));
    scalar("auth", config::to_string(was.auth), config::to_string(want.auth),
           json::value(config::to_string(want.auth)));
    scalar("tier", was.tier, want.tier, json::value(want.tier));
    scalar("weight", was.weight, want.weight, json::value(want.weight));
    scalar("enabled", was.enabled, want.enabled, json::value(want.enabled));
    scalar("tls_verify", was.tls_verify, want.tls_verify, json::value(want.tls_verify));
    if (sorted(was.model_map) != sorted(want.model_map)) {
        changes.emplace_back("model_map");
        patch["model_map"] = model_map_json(want.model_map);
    }
    if (was.tags != want.tags) {
        changes.emplace_back("tags");
        patch["tags"] = list_json(want.tags);
    }
    if (was.models != want.models) {
        changes.emplace_back("models");
        patch["models"] = list_json(want.models);
    }
    auto timeout = [&](std::string_view field, const std::optional<Millis>& a,
                       const std::optional<Millis>& b) {
        if (a == b) return;
        changes.push_back(
            fmt::format("{} {} -> {}", field, describe_timeout(a), describe_timeout(b)));
        patch[fmt::format("{}_ms", field)] = timeout_json(b);
    };
    timeout("connect_timeout", was.connect_timeout, want.connect_timeout);
    timeout("first_byte_timeout", was.first_byte_timeout, want.first_byte_timeout);
    timeout("idle_timeout", was.idle_timeout, want.idle_timeout);
}

}  // namespace

EndpointConfig endpoint_from_json(const json::object& o) {
    EndpointConfig e;
    e.name = text_of(o, "name");
    e.base_url = text_of(o, "base_url");
    if (e.name.empty() || e.base_url.empty()) {
        throw std::runtime_error("unexpected endpoint JSON from the server (no name or base_url)");
    }
    e.api_key = text_of(o, "api_key");
    if (auto k = config::parse_endpoint_kind(text_of(o, "kind"))) e.kind = *k;
    if (auto a = config::parse_auth_mode(text_of(o, "auth"))) e.auth = *a;
    if (const auto* v = o.if_contains("tier"); v != nullptr && v->is_number()) {
        e.tier = v->to_number<int>();
    }
    if (const auto* v = o.if_contains("weight"); v != nullptr && v->is_number()) {
        e.weight = v->to_number<int>();
    }
    if (const auto* v = o.if_contains("enabled"); v != nullptr && v->is_bool()) {
        e.enabled = v->as_bool();
    }
    if (const auto* v = o.if_contains("tls_verify"); v != nullptr && v->is_bool()) {
        e.tls_verify = v->as_bool();
    }
    if (const auto* v = o.if_contains("model_map"); v != nullptr && v->is_object()) {
        for (const auto& [from, to] : v->as_object()) {
            if (to.is_string())
                e.model_map.emplace_back(std::string(from), std::string(to.as_string()));
        }
    }
    for (auto [field, list] : {std::pair{"tags", &e.tags}, std::pair{"models", &e.models}}) {
        if (const auto* v = o.if_contains(field); v != nullptr && v->is_array()) {
            for (const auto& t : v->as_array()) {
                if (t.is_string()) list->emplace_back(t.as_string());
            }
        }
    }
    e.connect_timeout = timeout_from_json(o, "connect_timeout_ms");
    e.first_byte_timeout = timeout_from_json(o, "first_byte_timeout_ms");
    e.idle_timeout = timeout_from_json(o, "idle_timeout_ms");
    return e;
}

json::object endpoint_create_body(const EndpointConfig& e) {
    json::object b;
    b["name"] = e.name;
    b["base_url"] = e.base_url;
    if (!e.api_key.empty()) b["api_key"] = e.api_key;
    b["kind"] = config::to_string(e.kind);
    b["auth"] = config::to_string(e.auth);
    b["tier"] = e.tier;
    b["weight"] = e.weight;
    b["enabled"] = e.enabled;
    b["tls_verify"] = e.tls_verify;
    b["model_map"] = model_map_json(e.model_map);
    b["tags"] = list_json(e.tags);
    b["models"] = list_json(e.models);
    if (e.connect_timeout) b["connect_timeout_ms"] = e.connect_timeout->count();
    if (e.first_byte_timeout) b["first_byte_timeout_ms"] = e.first_byte_timeout->count();
    if (e.idle_timeout) b["idle_timeout_ms"] = e.idle_timeout->count();
    return b;
}

std::string format_duration(Millis d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
    if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
    if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    return fmt::format("{}ms", ms);
}

std::string endpoints_to_toml(const std::vector<EndpointConfig>& endpoints) {
    std::string out =
        "# QCC endpoints, written by `qcc config export` (the bootstrap config's key names).\n"
        "# Credentials stay in the store: no api_key lines are exported. `qcc config import`\n"
        "# keeps the stored credential of an existing endpoint; add api_key = \"...\" to an entry\n"
        "# to create a new endpoint or to replace its credential.\n";
    if (endpoints.empty()) out += "# (no endpoints)\n";
    for (const auto& e : endpoints) {
        out += "\n[[endpoints]]\n";
        out += "name = " + quoted(e.name) + "\n";
        out += "base_url = " + quoted(e.base_url) + "\n";
        out += fmt::format("kind = \"{}\"\n", config::to_string(e.kind));
        out += fmt::format("auth = \"{}\"\n", config::to_string(e.auth));
        out += fmt::format("tier = {}\n", e.tier);
        out += fmt::format("weight = {}\n", e.weight);
        out += fmt::format("enabled = {}\n", e.enabled);
        out += fmt::format("tls_verify = {}\n", e.tls_verify);
        out += "model_map = {";
        for (std::size_t i = 0; i < e.model_map.size(); ++i) {
            out += i == 0 ? " " : ", ";
            out += quoted(e.model_map[i].first) + " = " + quoted(e.model_map[i].second);
        }
        out += e.model_map.empty() ? "}\n" : " }\n";
        for (auto [key, list] : {std::pair{"tags", &e.tags}, std::pair{"models", &e.models}}) {
            out += fmt::format("{} = [", key);
            for (std::size_t i = 0; i < list->size(); ++i) {
                out += (i == 0 ? "" : ", ") + quoted((*list)[i]);
            }
            out += "]\n";
        }
        auto timeout = [&](std::string_view key, const std::optional<Millis>& t) {
            if (t) {
                out += fmt::format("{} = \"{}\"\n", key, format_duration(*t));
            } else {
                out += fmt::format("# {}: unset, the global timeout applies\n", key);
            }
        };
        timeout("connect_timeout", e.connect_timeout);
        timeout("first_byte_timeout", e.first_byte_timeout);
        timeout("idle_timeout", e.idle_timeout);
    }
    return out;
}

std::vector<ImportEntry> parse_import(std::string_view toml_text, std::string_view source) {
    const config::Config cfg = config::load_string(toml_text, source);
    // load_string validated everything; parse again only for the position of each entry and
    // whether it spelled an api_key (load_string leaves api_key empty either way).
    const toml::table root = toml::parse(toml_text, std::string(source));
    const toml::array* arr = root["endpoints"].as_array();
    std::vector<ImportEntry> out;
    for (std::size_t i = 0; i < cfg.endpoints.size(); ++i) {
        ImportEntry entry;
        entry.endpoint = cfg.endpoints[i];
        entry.has_api_key = !entry.endpoint.api_key.empty();
        std::uint32_t line = 0;
        if (arr != nullptr && i < arr->size()) line = (*arr)[i].source().begin.line;
        entry.where =
            fmt::format("{}:{}: endpoints[{}] (\"{}\")", source, line, i, entry.endpoint.name);
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<ImportAction> plan_import(const std::vector<ImportEntry>& entries,
                                      const std::vector<EndpointConfig>& existing) {
    std::vector<ImportAction> plan;
    for (const auto& entry : entries) {
        const auto& want = entry.endpoint;
        const auto it = std::find_if(existing.begin(), existing.end(),
                                     [&](const EndpointConfig& e) { return e.name == want.name; });
        ImportAction action;
        action.name = want.name;
        if (it == existing.end()) {
            if (!entry.has_api_key) {
                throw config::ConfigError(fmt::format(
                    "{}: api_key: missing: \"{}\" does not exist yet, so it needs an api_key "
                    "(only existing endpoints keep their stored credential)",
                    entry.where, want.name));
            }
            action.kind = ImportAction::Kind::kCreate;
            action.body = endpoint_create_body(want);
        } else {
            diff_endpoint(*it, want, action.changes, action.body);
            if (entry.has_api_key) {
                action.changes.emplace_back("api_key (from the file)");
                action.body["api_key"] = want.api_key;
            }
            action.kind = action.changes.empty() ? ImportAction::Kind::kUnchanged
                                                 : ImportAction::Kind::kUpdate;
        }
        plan.push_back(std::move(action));
    }
    return plan;
}

}  // namespace qcc::cli
