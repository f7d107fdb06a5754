#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <map>

#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>
#include <pwd.h>
#include <toml++/toml.h>
#include <unistd.h>

namespace qcc::config {
namespace {

constexpr const char* kAdminTokenEnv = "QCC_ADMIN_TOKEN";
constexpr const char* kStoreEnv = "QCC_STORE";
constexpr std::int64_t kMaxDurationMs = 7LL * 24 * 3600 * 1000;
constexpr std::size_t kMaxEndpointName = 64;
constexpr std::size_t kMinClientKey = 16;

// Field checks shared by the TOML loader and validate_endpoint(): each returns an empty string
// when the value is acceptable, otherwise the message to report.

std::string check_range(std::int64_t value, std::int64_t lo, std::int64_t hi) {
    if (value < lo || value > hi) return fmt::format("must be between {} and {}", lo, hi);
    return {};
}

std::string check_credential(std::string_view value) { return check_header_value(value); }

std::string check_endpoint_name(std::string_view name) {
    if (name.empty()) return "must not be empty";
    if (name.size() > kMaxEndpointName) {
        return fmt::format("must be at most {} characters", kMaxEndpointName);
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return "may contain only letters, digits, '.', '_' and '-'";
    }
    return {};
}

}  // namespace

bool model_matches(std::string_view pattern, std::string_view model) {
    if (pattern == model) return true;
    if (pattern == "haiku" || pattern == "sonnet" || pattern == "opus") {
        return model.find(pattern) != std::string_view::npos;
    }
    return pattern.size() > 1 && pattern.back() == '*' &&
           model.starts_with(pattern.substr(0, pattern.size() - 1));
}

bool serves_model(const EndpointConfig& endpoint, std::string_view model) {
    if (endpoint.models.empty() || model.empty()) return true;
    for (const auto& p : endpoint.models) {
        if (model_matches(p, model)) return true;
    }
    for (const auto& [from, to] : endpoint.model_map) {
        if (from == "*" || model_matches(from, model)) return true;
    }
    return false;
}

const std::string* mapped_model(const EndpointConfig& endpoint, std::string_view model) {
    for (const auto& [from, to] : endpoint.model_map) {
        if (from == model) return &to;
    }
    const std::string* fallback = nullptr;
    for (const auto& [from, to] : endpoint.model_map) {
        if (model_matches(from, model)) return &to;
        if (from == "*") fallback = &to;
    }
    return fallback;  // the "*" entry: every other model
}

std::string check_model_for(const EndpointConfig& endpoint, std::string_view check_model) {
    if (const auto* to = mapped_model(endpoint, check_model)) return *to;
    if (!serves_model(endpoint, check_model)) {
        for (const auto& m : endpoint.models) {
            if (m.back() != '*' && m != "haiku" && m != "sonnet" && m != "opus") return m;
        }
    }
    return std::string(check_model);
}

std::string check_model_pattern(std::string_view pattern) {
    if (pattern.empty()) return "must not be empty";
    if (pattern.size() > 200) return "must be at most 200 characters";
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const auto c = static_cast<unsigned char>(pattern[i]);
        if (c <= ' ' || c == 0x7f) return "must not contain spaces or control characters";
        if (c == '*' && i + 1 != pattern.size()) return "'*' may only end a pattern (a prefix)";
    }
    if (pattern == "*") return "\"*\" would match every model: leave models empty instead";
    return {};
}

namespace {

// Leaves `url` without trailing '/' so that base_url + "/v1/..." never doubles it.
std::string normalize_base_url(std::string& url) {
    if (url.empty()) return "must not be empty";
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return fmt::format("not a valid absolute URL ({})", parsed.error().message());
    const boost::urls::url_view u = *parsed;
    if (u.scheme_id() != boost::urls::scheme::http && u.scheme_id() != boost::urls::scheme::https) {
        return "scheme must be http or https";
    }
    if (!u.has_authority() || u.encoded_host().empty()) return "must have a host";
    if (u.has_userinfo()) return "must not contain credentials (use api_key)";
    if (u.has_port() && u.port().empty()) return "has an empty port";
    if (u.has_port()) {
        const auto text = u.port();
        unsigned long port = 0;
        const auto r = std::from_chars(text.data(), text.data() + text.size(), port);
        if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || port == 0 ||
            port > 65535) {
            return fmt::format("port {} is not between 1 and 65535", text);
        }
    }
    if (u.has_query()) return "must not have a query string";
    if (u.has_fragment()) return "must not have a fragment";
    // Every trailing '/' goes: base_url + "/v1/..." must never double it, and validating twice
    // must not change the result (found by fuzzing: "https://h//").
    while (url.back() == '/') url.pop_back();
    return {};
}

std::string check_timeout_override(const std::optional<Millis>& value) {
    if (value && (value->count() <= 0 || value->count() > kMaxDurationMs)) {
        return "must be a positive duration of at most 7 days";
    }
    return {};
}

// Splits "host:port" / "[v6]:port"; returns an error message or empty on success.
std::string split_listen(std::string_view s, std::string& host, std::uint16_t& port) {
    std::string_view port_text;
    if (!s.empty() && s.front() == '[') {
        const auto close = s.find(']');
        if (close == std::string_view::npos) return "missing ']' after IPv6 address";
        const auto inner = s.substr(1, close - 1);
        if (!boost::urls::parse_ipv6_address(inner)) return "invalid IPv6 address";
        if (close + 1 >= s.size() || s[close + 1] != ':') return "expected ':port' after ']'";
        host.assign(inner);
        port_text = s.substr(close + 2);
    } else {
        const auto colon = s.rfind(':');
        if (colon == std::string_view::npos) return "expected host:port";
        const auto h = s.substr(0, colon);
        if (h.find(':') != std::string_view::npos) {
            return "IPv6 addresses must be in brackets, e.g. [::1]:7860";
        }
        if (h.empty()) return "missing host (use 0.0.0.0 to listen on every interface)";
        for (char c : h) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
            if (!ok) return "invalid character in host";
        }
        host.assign(h);
        port_text = s.substr(colon + 1);
    }
    if (port_text.empty() || port_text.size() > 5) return "invalid port";
    unsigned value = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, value);
    if (ec != std::errc() || ptr != end || value > 65535) return "invalid port";
    port = static_cast<std::uint16_t>(value);
    return {};
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

bool is_bare_key(std::string_view key) {
    if (key.empty()) return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

std::string join(std::string_view path, std::string_view key) {
    std::string k = is_bare_key(key) ? std::string(key) : fmt::format("\"{}\"", key);
    if (path.empty()) return k;
    return fmt::format("{}.{}", path, k);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

using Keys = std::initializer_list<std::string_view>;

// Walks a parsed document into a Config, failing at the first problem with its position.
class Loader {
  public:
    explicit Loader(std::string_view source) : source_(source) {}

    Config load(const toml::table& root) {
        Config cfg;
        cfg.source = source_;
        reject_unknown(root, "",
                       {"listen", "data_dir", "store", "admin_token", "workers", "max_body_bytes",
                        "max_header_bytes", "drain_timeout", "log_level", "log_format", "log_file",
                        "timeouts", "pool", "limits", "keys", "endpoints"});
        if (auto v = string_at(root, "listen", "")) {
            std::string host;
            std::uint16_t port = 0;
            if (auto err = split_listen(*v, host, port); !err.empty()) {
                fail(*root.get("listen"), "listen", err);
            }
            cfg.listen = *v;
        }
        if (auto v = string_at(root, "data_dir", "")) {
            if (v->empty()) fail(*root.get("data_dir"), "data_dir", "must not be empty");
            cfg.data_dir = *v;
        }
        if (auto v = string_at(root, "store", "")) {
            if (auto err = check_store(*v); !err.empty()) fail(*root.get("store"), "store", err);
            cfg.store = *v;
        }
        if (auto v = string_at(root, "admin_token", "")) {
            if (auto err = check_credential(*v); !err.empty()) {
                fail(*root.get("admin_token"), "admin_token", err);
            }
            cfg.admin_token = *v;
        }
        if (auto v = int_at(root, "workers", "", 0, 256)) cfg.workers = static_cast<int>(*v);
        if (auto v = int_at(root, "max_body_bytes", "", 1, 1LL << 30)) {
            cfg.max_body_bytes = static_cast<std::size_t>(*v);
        }
        if (auto v = int_at(root, "max_header_bytes", "", 1024, 1LL << 20)) {
            cfg.max_header_bytes = static_cast<std::size_t>(*v);
        }
        if (auto v = duration_at(root, "drain_timeout", "", true)) cfg.drain_timeout = *v;
        if (auto v = enum_at(root, "log_level", "", {"trace", "debug", "info", "warn", "error"})) {
            cfg.log_level = *v;
        }
        if (auto v = enum_at(root, "log_format", "", {"text", "json"})) cfg.log_format = *v;
        if (auto v = string_at(root, "log_file", "")) cfg.log_file = *v;
        if (const auto* t = table_at(root, "timeouts", "")) load_timeouts(*t, cfg.timeouts);
        if (const auto* t = table_at(root, "pool", "")) load_pool(*t, cfg.pool);
        if (const auto* t = table_at(root, "limits", "")) load_limits(*t, cfg.limits);
        load_keys(root, cfg.keys);
        load_endpoints(root, cfg.endpoints);
        return cfg;
    }

  private:
    [[noreturn]] void fail(const toml::source_region& where, std::string_view path,
                           std::string_view message) const {
        throw ConfigError(fmt::format("{}:{}:{}: {}: {}", source_, where.begin.line,
                                      where.begin.column, path, message));
    }
    [[noreturn]] void fail(const toml::node& node, std::string_view path,
                           std::string_view message) const {
        fail(node.source(), path, message);
    }

    void reject_unknown(const toml::table& table, std::string_view path, Keys allowed) const {
        for (auto&& [key, value] : table) {
            const std::string_view k = key.str();
            if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
            std::string message = "unknown key";
            std::string_view best;
            std::size_t best_distance = 3;  // suggest only close typos
            for (auto candidate : allowed) {
                const auto d = edit_distance(k, candidate);
                if (d < best_distance) {
                    best_distance = d;
                    best = candidate;
                }
            }
            if (!best.empty()) message += fmt::format(" (did you mean \"{}\"?)", best);
            fail(key.source(), join(path, k), message);
        }
    }

    const toml::node* expect(const toml::table& t, std::string_view key, std::string_view path,
                             bool ok_type(const toml::node&), std::string_view expected) const {
        const toml::node* node = t.get(key);
        if (node == nullptr) return nullptr;
        if (!ok_type(*node)) {
            fail(*node, join(path, key),
                 fmt::format("expected {}, got {}", expected, type_name(*node)));
        }
        return node;
    }

    std::optional<std::string> string_at(const toml::table& t, std::string_view key,
                                         std::string_view path) const {
        const auto* n = expect(
            t, key, path, [](const toml::node& x) { return x.is_string(); }, "a string");
        if (n == nullptr) return std::nullopt;
        return n->as_string()->get();
    }

    std::optional<bool> bool_at(const toml::table& t, std::string_view key,
                                std::string_view path) const {
        const auto* n = expect(
            t, key, path, [](const toml::node& x) { return x.is_boolean(); }, "a boolean");
        if (n == nullptr) return std::nullopt;
        return n->as_boolean()->get();
    }

    std::optional<std::int64_t> int_at(const toml::table& t, std::string_view key,
                                       std::string_view path, std::int64_t lo,
                                       std::int64_t hi) const {
        const auto* n = expect(
            t, key, path, [](const toml::node& x) { return x.is_integer(); }, "an integer");
        if (n == nullptr) return std::nullopt;
        const std::int64_t v = n->as_integer()->get();
        if (auto err = check_range(v, lo, hi); !err.empty()) fail(*n, join(path, key), err);
        return v;
    }

    std::optional<std::string> enum_at(const toml::table& t, std::string_view key,
                                       std::string_view path, Keys allowed) const {
        auto v = string_at(t, key, path);
        if (!v) return v;
        if (std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
            std::string list;
            for (auto a : allowed) list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", a);
            fail(*t.get(key), join(path, key), fmt::format("must be one of {}", list));
        }
        return v;
    }

    // Integer = seconds, string = "<n>ms|s|m|h"; positive unless `allow_zero`.
    std::optional<Millis> duration_at(const toml::table& t, std::string_view key,
                                      std::string_view path, bool allow_zero) const {
        const auto* n = expect(
            t, key, path, [](const toml::node& x) { return x.is_integer() || x.is_string(); },
            "a duration (integer seconds or a string like \"500ms\", \"10s\", \"5m\", \"1h\")");
        if (n == nullptr) return std::nullopt;
        const std::string p = join(path, key);
        std::optional<Millis> value;
        if (n->is_integer()) {
            const std::int64_t s = n->as_integer()->get();
            if (s >= 0 && s <= kMaxDurationMs / 1000) value = Millis(s * 1000);
        } else {
            value = parse_duration(n->as_string()->get());
        }
        if (!value) {
            fail(*n, p,
                 "invalid duration: use integer seconds or a string like \"500ms\", \"10s\", "
                 "\"5m\", \"1h\" (at most 7 days)");
        }
        if (!allow_zero && value->count() == 0) fail(*n, p, "must be greater than zero");
        return value;
    }

    const toml::table* table_at(const toml::table& t, std::string_view key,
                                std::string_view path) const {
        const auto* n = expect(
            t, key, path, [](const toml::node& x) { return x.is_table(); }, "a table");
        return n == nullptr ? nullptr : n->as_table();
    }

    // An array of tables ([[key]] or key = [{...}]); nullptr when absent.
    const toml::array* tables_at(const toml::table& t, std::string_view key) const {
        const auto* n = expect(
            t, key, "", [](const toml::node& x) { return x.is_array(); },
            fmt::format("an array of tables ([[{}]])", key));
        if (n == nullptr) return nullptr;
        const auto* arr = n->as_array();
        for (std::size_t i = 0; i < arr->size(); ++i) {
            if (!(*arr)[i].is_table()) {
                fail((*arr)[i], fmt::format("{}[{}]", key, i),
                     fmt::format("expected a table, got {}", type_name((*arr)[i])));
            }
        }
        return arr;
    }

    void load_timeouts(const toml::table& t, Timeouts& out) const {
        reject_unknown(t, "timeouts", {"connect", "first_byte", "idle", "total"});
        if (auto v = duration_at(t, "connect", "timeouts", false)) out.connect = *v;
        if (auto v = duration_at(t, "first_byte", "timeouts", false)) out.first_byte = *v;
        if (auto v = duration_at(t, "idle", "timeouts", false)) out.idle = *v;
        if (auto v = duration_at(t, "total", "timeouts", false)) out.total = *v;
    }

    void load_pool(const toml::table& t, PoolConfig& out) const {
        reject_unknown(t, "pool", {"max_per_endpoint", "max_idle", "idle_expiry", "dns_ttl"});
        if (auto v = int_at(t, "max_per_endpoint", "pool", 1, 4096)) {
            out.max_per_endpoint = static_cast<int>(*v);
        }
        if (auto v = int_at(t, "max_idle", "pool", 0, 4096)) {
            out.max_idle = static_cast<int>(*v);
        } else {
            out.max_idle = std::min(out.max_idle, out.max_per_endpoint);  // the default fits
        }
        if (out.max_idle > out.max_per_endpoint) {
            const toml::node* n = t.get("max_idle");
            fail(n != nullptr ? n->source() : t.source(), "pool.max_idle",
                 fmt::format("must not exceed pool.max_per_endpoint ({})", out.max_per_endpoint));
        }
        if (auto v = duration_at(t, "idle_expiry", "pool", false)) out.idle_expiry = *v;
        if (auto v = duration_at(t, "dns_ttl", "pool", true)) out.dns_ttl = *v;
    }

    void load_limits(const toml::table& t, Limits& out) const {
        reject_unknown(t, "limits",
                       {"max_connections", "max_unauthenticated", "header_timeout", "body_timeout",
                        "keepalive_timeout", "auth_free_failures", "auth_max_delay"});
        if (auto v = int_at(t, "max_connections", "limits", 0, 10'000'000)) {
            out.max_connections = static_cast<int>(*v);
        }
        if (auto v = int_at(t, "max_unauthenticated", "limits", 0, 10'000'000)) {
            out.max_unauthenticated = static_cast<int>(*v);
        }
        if (auto v = duration_at(t, "header_timeout", "limits", false)) out.header_timeout = *v;
        if (auto v = duration_at(t, "body_timeout", "limits", false)) out.body_timeout = *v;
        if (auto v = duration_at(t, "keepalive_timeout", "limits", false)) {
            out.keepalive_timeout = *v;
        }
        if (auto v = int_at(t, "auth_free_failures", "limits", 0, 1'000'000)) {
            out.auth_free_failures = static_cast<int>(*v);
        }
        if (auto v = duration_at(t, "auth_max_delay", "limits", true)) out.auth_max_delay = *v;
    }

    void load_keys(const toml::table& root, std::vector<KeyConfig>& out) const {
        const auto* arr = tables_at(root, "keys");
        if (arr == nullptr) return;
        std::map<std::string, toml::source_position> names, values;
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const auto& t = *(*arr)[i].as_table();
            const std::string path = fmt::format("keys[{}]", i);
            reject_unknown(t, path, {"name", "key"});
            KeyConfig key;
            key.name = required_string(t, "name", path);
            key.key = required_string(t, "key", path);
            const auto& name_node = *t.get("name");
            const auto& key_node = *t.get("key");
            if (key.name.empty()) fail(name_node, join(path, "name"), "must not be empty");
            if (key.key.size() < kMinClientKey) {
                fail(key_node, join(path, "key"),
                     fmt::format("must be at least {} characters", kMinClientKey));
            }
            if (auto err = check_credential(key.key); !err.empty()) {
                fail(key_node, join(path, "key"), err);
            }
            if (auto [it, fresh] = names.emplace(key.name, name_node.source().begin); !fresh) {
                fail(name_node, join(path, "name"),
                     fmt::format("duplicate key name \"{}\" (first defined at line {})", key.name,
                                 it->second.line));
            }
            // Two names for one secret would make the request log attribute traffic arbitrarily.
            if (auto [it, fresh] = values.emplace(key.key, key_node.source().begin); !fresh) {
                fail(key_node, join(path, "key"),
                     fmt::format("same key as the one defined at line {}", it->second.line));
            }
            out.push_back(std::move(key));
        }
    }

    std::string required_string(const toml::table& t, std::string_view key,
                                std::string_view path) const {
        auto v = string_at(t, key, path);
        if (!v) fail(t.source(), join(path, key), "missing required key");
        return *v;
    }

    void load_endpoints(const toml::table& root, std::vector<EndpointConfig>& out) const {
        const auto* arr = tables_at(root, "endpoints");
        if (arr == nullptr) return;
        std::map<std::string, toml::source_position> names;
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const auto& t = *(*arr)[i].as_table();
            const std::string path = fmt::format("endpoints[{}]", i);
            EndpointConfig e = load_endpoint(t, path);
            const auto& name_node = *t.get("name");
            if (auto [it, fresh] = names.emplace(e.name, name_node.source().begin); !fresh) {
                fail(name_node, join(path, "name"),
                     fmt::format("duplicate endpoint name \"{}\" (first defined at line {})",
                                 e.name, it->second.line));
            }
            out.push_back(std::move(e));
        }
    }

    /// An optional array of non-empty strings.
    std::vector<std::string> string_list_at(const toml::table& t, std::string_view key,
                                            const std::string& path) const {
        std::vector<std::string> out;
        const auto* node = t.get(key);
        if (node == nullptr) return out;
        const std::string p = join(path, key);
        if (!node->is_array()) {
            fail(*node, p, fmt::format("expected an array of strings, got {}", type_name(*node)));
        }
        const auto& arr = *node->as_array();
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const std::string ip = fmt::format("{}[{}]", p, i);
            if (!arr[i].is_string()) {
                fail(arr[i], ip, fmt::format("expected a string, got {}", type_name(arr[i])));
            }
            if (arr[i].as_string()->get().empty()) fail(arr[i], ip, "must not be empty");
            out.push_back(arr[i].as_string()->get());
        }
        return out;
    }

    EndpointConfig load_endpoint(const toml::table& t, const std::string& path) const {
        reject_unknown(t, path,
                       {"name", "base_url", "api_key", "kind", "auth", "tier", "weight", "enabled",
                        "tls_verify", "model_map", "connect_timeout", "first_byte_timeout",
                        "idle_timeout", "tags", "models"});
        EndpointConfig e;
        e.name = required_string(t, "name", path);
        if (auto err = check_endpoint_name(e.name); !err.empty()) {
            fail(*t.get("name"), join(path, "name"), err);
        }
        e.base_url = required_string(t, "base_url", path);
        if (auto err = normalize_base_url(e.base_url); !err.empty()) {
            fail(*t.get("base_url"), join(path, "base_url"), err);
        }
        if (auto v = string_at(t, "api_key", path)) {
            if (auto err = check_credential(*v); !err.empty()) {
                fail(*t.get("api_key"), join(path, "api_key"), err);
            }
            e.api_key = *v;
        }
        if (auto v = enum_at(t, "kind", path, {"anthropic", "openai"})) {
            e.kind = *parse_endpoint_kind(*v);
        }
        if (auto v = enum_at(t, "auth", path, {"x-api-key", "bearer", "both"})) {
            e.auth = *parse_auth_mode(*v);
        } else if (e.kind == EndpointKind::kOpenAI) {
            e.auth = AuthMode::kBearer;  // what every OpenAI-compatible server expects
        }
        if (auto v = int_at(t, "tier", path, 1, 9)) e.tier = static_cast<int>(*v);
        if (auto v = int_at(t, "weight", path, 1, 1000)) e.weight = static_cast<int>(*v);
        if (auto v = bool_at(t, "enabled", path)) e.enabled = *v;
        if (auto v = bool_at(t, "tls_verify", path)) e.tls_verify = *v;
        e.connect_timeout = duration_at(t, "connect_timeout", path, false);
        e.first_byte_timeout = duration_at(t, "first_byte_timeout", path, false);
        e.idle_timeout = duration_at(t, "idle_timeout", path, false);
        if (const auto* mm = table_at(t, "model_map", path)) {
            const std::string mm_path = join(path, "model_map");
            for (auto&& [key, value] : *mm) {
                const std::string p = join(mm_path, key.str());
                if (key.str().empty()) fail(key.source(), p, "model name must not be empty");
                if (!value.is_string()) {
                    fail(value, p, fmt::format("expected a string, got {}", type_name(value)));
                }
                const std::string& target = value.as_string()->get();
                if (target.empty()) fail(value, p, "target model must not be empty");
                e.model_map.emplace_back(std::string(key.str()), target);
            }
        }
        e.tags = string_list_at(t, "tags", path);
        e.models = string_list_at(t, "models", path);
        for (std::size_t i = 0; i < e.models.size(); ++i) {
            if (auto err = check_model_pattern(e.models[i]); !err.empty()) {
                fail(*t.get("models")->as_array()->get(i),
                     fmt::format("{}[{}]", join(path, "models"), i), err);
            }
        }
        return e;
    }

    std::string source_;
};

std::string home_directory() {
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
    passwd pw{};
    passwd* result = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr &&
        result->pw_dir != nullptr) {
        return result->pw_dir;
    }
    return {};
}

}  // namespace

std::string_view to_string(EndpointKind kind) {
    switch (kind) {
        case EndpointKind::kAnthropic:
            return "anthropic";
        case EndpointKind::kOpenAI:
            return "openai";
    }
    return "anthropic";
}

std::string_view to_string(AuthMode mode) {
    switch (mode) {
        case AuthMode::kXApiKey:
            return "x-api-key";
        case AuthMode::kBearer:
            return "bearer";
        case AuthMode::kBoth:
            return "both";
    }
    return "x-api-key";
}

std::optional<EndpointKind> parse_endpoint_kind(std::string_view text) {
    if (text == "anthropic") return EndpointKind::kAnthropic;
    if (text == "openai") return EndpointKind::kOpenAI;
    return std::nullopt;
}

std::optional<AuthMode> parse_auth_mode(std::string_view text) {
    if (text == "x-api-key") return AuthMode::kXApiKey;
    if (text == "bearer") return AuthMode::kBearer;
    if (text == "both") return AuthMode::kBoth;
    return std::nullopt;
}

std::optional<Millis> parse_duration(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits > 12) return std::nullopt;
    std::int64_t value = 0;
    std::from_chars(text.data(), text.data() + digits, value);
    const std::string_view unit = text.substr(digits);
    std::int64_t scale = 0;
    if (unit == "ms") {
        scale = 1;
    } else if (unit == "s") {
        scale = 1000;
    } else if (unit == "m") {
        scale = 60'000;
    } else if (unit == "h") {
        scale = 3'600'000;
    } else {
        return std::nullopt;
    }
    if (value > kMaxDurationMs / scale) return std::nullopt;
    return Millis(value * scale);
}

Config load_string(std::string_view toml_text, std::string_view source_name) {
    toml::table root;
    try {
        root = toml::parse(toml_text, std::string(source_name));
    } catch (const toml::parse_error& e) {
        throw ConfigError(fmt::format("{}:{}:{}: {}", source_name, e.source().begin.line,
                                      e.source().begin.column, e.description()));
    }
    Config cfg = Loader(source_name).load(root);
    apply_environment(cfg);
    return cfg;
}

Config load_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        throw ConfigError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    }
    std::string text;
    char buf[8192];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    const bool failed = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    if (failed) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(err)));
    return load_string(text, path);
}

std::string expand_home(std::string_view path) {
    if (path.empty() || path.front() != '~' || (path.size() > 1 && path[1] != '/')) {
        return std::string(path);
    }
    std::string home = home_directory();
    if (home.empty()) return std::string(path);
    while (home.size() > 1 && home.back() == '/') home.pop_back();
    if (home == "/" && path.size() > 1) return std::string(path.substr(1));
    return home + std::string(path.substr(1));
}

std::pair<std::string, std::uint16_t> parse_listen(std::string_view listen) {
    std::string host;
    std::uint16_t port = 0;
    if (auto err = split_listen(listen, host, port); !err.empty()) {
        throw ConfigError(fmt::format("invalid listen address \"{}\": {}", listen, err));
    }
    return {std::move(host), port};
}

void validate_endpoint(EndpointConfig& endpoint) {
    auto check = [](std::string_view field, const std::string& err) {
        if (!err.empty()) throw ConfigError(fmt::format("{}: {}", field, err));
    };
    check("name", check_endpoint_name(endpoint.name));
    check("base_url", normalize_base_url(endpoint.base_url));
    check("api_key", check_credential(endpoint.api_key));
    check("tier", check_range(endpoint.tier, 1, 9));
    check("weight", check_range(endpoint.weight, 1, 1000));
    for (const auto& [from, to] : endpoint.model_map) {
        if (from.empty() || to.empty()) check("model_map", "model names must not be empty");
    }
    for (const auto& tag : endpoint.tags) {
        if (tag.empty()) check("tags", "tags must not be empty");
    }
    for (const auto& m : endpoint.models) check("models", check_model_pattern(m));
    check("connect_timeout", check_timeout_override(endpoint.connect_timeout));
    check("first_byte_timeout", check_timeout_override(endpoint.first_byte_timeout));
    check("idle_timeout", check_timeout_override(endpoint.idle_timeout));
}

std::string check_header_value(std::string_view value) {
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            return fmt::format("must not contain control characters (found 0x{:02x})", u);
        }
    }
    return {};
}

std::string check_store(std::string_view store) {
    if (store.empty() || store == "sqlite") return {};
    if (store.starts_with("postgres://") || store.starts_with("postgresql://")) {
        if (store.find_first_of("\r\n\t ") != std::string_view::npos) {
            return "a PostgreSQL URL has no spaces or line breaks";
        }
        return {};
    }
    return "expected \"sqlite\" or a PostgreSQL URL (postgres://user:password@host:5432/db)";
}

void apply_environment(Config& cfg) {
    if (const char* token = std::getenv(kAdminTokenEnv); token != nullptr && *token != '\0') {
        cfg.admin_token = token;
    }
    if (const char* store = std::getenv(kStoreEnv); store != nullptr && *store != '\0') {
        if (auto err = check_store(store); !err.empty()) {
            throw ConfigError(fmt::format("{}: {}", kStoreEnv, err));
        }
        cfg.store = store;
    }
}

std::string store_location(const Config& cfg, bool demo) {
    if (!demo && cfg.store != "sqlite" && !cfg.store.empty()) return cfg.store;
    return sqlite_store_path(cfg, demo);
}

std::string sqlite_store_path(const Config& cfg, bool demo) {
    return expand_home(cfg.data_dir) + (demo ? "/demo.sqlite" : "/qcc.sqlite");
}

}  // namespace qcc::config
