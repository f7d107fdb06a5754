// Bootstrap configuration: plain structs loaded from the TOML file and validated with
// line-precise errors. docs/configuration.md documents every key; keep the two in step.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qcc::config {

using Millis = std::chrono::milliseconds;

/// Wire protocol an upstream speaks.
enum class EndpointKind { kAnthropic, kOpenAI };
/// How the endpoint credential is sent upstream: `x-api-key`, `Authorization: Bearer`, or both.
enum class AuthMode { kXApiKey, kBearer, kBoth };

/// "anthropic" / "openai": the spelling used in the TOML file, the store and the admin API.
std::string_view to_string(EndpointKind kind);
/// "x-api-key" / "bearer" / "both".
std::string_view to_string(AuthMode mode);
/// Inverse of to_string(EndpointKind); nullopt for any other spelling (case-sensitive).
std::optional<EndpointKind> parse_endpoint_kind(std::string_view text);
/// Inverse of to_string(AuthMode); nullopt for any other spelling (case-sensitive).
std::optional<AuthMode> parse_auth_mode(std::string_view text);

/// Global upstream timeouts; endpoints may override connect/first_byte/idle.
struct Timeouts {
    Millis connect{10'000};
    Millis first_byte{300'000};
    Millis idle{120'000};
    Millis total{600'000};
    friend bool operator==(const Timeouts&, const Timeouts&) = default;
};

/// Per-endpoint keep-alive pool limits (per worker). A request that finds the pool full waits for
/// a free connection (first come, first served) within the endpoint's connect timeout.
/// max_idle is sized for bursts: a connection closed because the idle list was full is reopened
/// (TCP and TLS handshakes) by the next request of the burst; idle_expiry trims what goes unused.
struct PoolConfig {
    int max_per_endpoint = 4096;
    int max_idle = 256;  // capped at max_per_endpoint when not set
    Millis idle_expiry{30'000};
    Millis dns_ttl{300'000};
    friend bool operator==(const PoolConfig&, const PoolConfig&) = default;
};

/// Limits on client connections: what QCC accepts before a request is authenticated, and how
/// long it waits for each part of a request.
struct Limits {
    int max_connections = 0;      // open client connections; 0 = from the file-descriptor limit
    int max_unauthenticated = 0;  // not yet authenticated connections; 0 = half of max_connections
    Millis header_timeout{10'000};      // a new connection's first request head
    Millis body_timeout{60'000};        // a request body, once its head was accepted
    Millis keepalive_timeout{120'000};  // an authenticated connection waiting for its next request
    int auth_free_failures = 5;    // bad keys / admin tokens per minute from one address, at once
    Millis auth_max_delay{2'000};  // beyond them, answers are held back up to this long
    friend bool operator==(const Limits&, const Limits&) = default;
};

/// One upstream as declared in the file or stored by the admin API. `base_url` is normalized
/// (no trailing '/').
struct EndpointConfig {
    std::string name, base_url, api_key;
    EndpointKind kind = EndpointKind::kAnthropic;
    AuthMode auth = AuthMode::kXApiKey;
    int tier = 1;      // 1..9
    int weight = 100;  // 1..1000
    bool enabled = true;
    bool tls_verify = true;
    std::vector<std::pair<std::string, std::string>> model_map;  // exact model or family -> target
    std::optional<Millis> connect_timeout, first_byte_timeout, idle_timeout;  // overrides
    std::vector<std::string> tags;
    /// The models this endpoint serves (empty = every model): exact ids, families ("haiku",
    /// "sonnet", "opus": any model id containing the word) or prefixes ending in '*'. A model the
    /// endpoint's model_map rewrites is served too. Requests for other models skip it.
    std::vector<std::string> models;
    friend bool operator==(const EndpointConfig&, const EndpointConfig&) = default;
};

/// Whether `model` matches one `models` / `model_map` pattern (exact, family or prefix*).
bool model_matches(std::string_view pattern, std::string_view model);
/// Whether the endpoint serves `model` ("" = the request names none: always served).
bool serves_model(const EndpointConfig& endpoint, std::string_view model);
/// The model `model_map` rewrites `model` to (an exact entry wins over a family or a prefix, and
/// those over a "*" entry, which maps every other model), or null when it is sent as is.
const std::string* mapped_model(const EndpointConfig& endpoint, std::string_view model);
/// The model a health check asks this endpoint for, given the configured check model: the check
/// model as `model_map` rewrites it; or, when the endpoint does not serve the check model, its
/// first `models` entry that is an exact id (else the check model as is).
std::string check_model_for(const EndpointConfig& endpoint, std::string_view check_model);
/// "" when `pattern` is a valid `models` entry, else why not.
std::string check_model_pattern(std::string_view pattern);

/// A client key declared in the file (plaintext here; the store keeps only its hash).
struct KeyConfig {
    std::string name, key;
    friend bool operator==(const KeyConfig&, const KeyConfig&) = default;
};

/// The whole bootstrap configuration; default-constructed = the documented defaults.
struct Config {
    std::string listen = "127.0.0.1:7860";
    std::string data_dir = "~/.qcc";  // not expanded here: callers apply expand_home()
    // Where the state lives: "" = the embedded SQLite file under data_dir, or a PostgreSQL URL
    // (postgres://…) shared by several instances. Env QCC_STORE overrides the file.
    std::string store;
    std::string admin_token;  // env QCC_ADMIN_TOKEN overrides the file
    int workers = 0;          // 0 = hardware threads
    std::size_t max_body_bytes = 32u << 20;
    std::size_t max_header_bytes = 64u << 10;
    Timeouts timeouts;
    PoolConfig pool;
    Limits limits;
    Millis drain_timeout{30'000};
    std::string log_level = "info";   // trace/debug/info/warn/error
    std::string log_format = "text";  // text/json
    std::string log_file;             // "" = stderr; else a rotated file (~ expanded by callers)
    std::vector<KeyConfig> keys;
    std::vector<EndpointConfig> endpoints;
    std::string source = "<defaults>";  // file the config came from
    friend bool operator==(const Config&, const Config&) = default;
};

/// Thrown by load_*: what() is "<file>:<line>:<column>: <key path>: <message>" (line/column omitted
/// only when the problem has no position, e.g. a missing file).
class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Reads and validates the TOML file at `path`; a missing file throws
/// ConfigError("<path>: cannot open: <strerror>"). Applies the QCC_ADMIN_TOKEN override.
Config load_file(const std::string& path);

/// Same as load_file for text already in memory; `source_name` is used in errors and
/// Config::source.
Config load_string(std::string_view toml_text, std::string_view source_name);

/// "~" or "~/x" expanded with $HOME (falling back to the passwd entry); other paths unchanged.
std::string expand_home(std::string_view path);

/// "" when `store` is a valid store setting ("", "sqlite" or a PostgreSQL URL), else why not.
std::string check_store(std::string_view store);
/// Applies the environment's overrides (QCC_ADMIN_TOKEN, QCC_STORE) to a loaded configuration;
/// throws ConfigError for a malformed QCC_STORE.
void apply_environment(Config& cfg);

/// The store location a server opens: a PostgreSQL URL when `store` is one (never for the demo),
/// else sqlite_store_path().
std::string store_location(const Config& cfg, bool demo);

/// The SQLite store of a configuration: <data_dir>/qcc.sqlite, or <data_dir>/demo.sqlite for
/// `qcc serve --demo` (the demo never touches the real store). data_dir is expanded.
std::string sqlite_store_path(const Config& cfg, bool demo);

/// Host and port of a listen address "host:port" or "[v6]:port" (brackets removed from the host;
/// port 0 = any free port); throws ConfigError on bad input.
std::pair<std::string, std::uint16_t> parse_listen(std::string_view listen);

/// "" when `value` may go into an HTTP header or a log line as is; otherwise why not (it holds a
/// control character such as CR or LF, which would inject headers).
std::string check_header_value(std::string_view value);

/// A duration written as "500ms", "10s", "5m" or "1h" (non-negative integer + unit, at most 7
/// days); nullopt when malformed. Integers-as-seconds are handled by the TOML loader only.
std::optional<Millis> parse_duration(std::string_view text);

/// Applies the file's endpoint rules to an endpoint built elsewhere (admin API, CLI) and
/// normalizes base_url; throws ConfigError("<field>: <message>") on the first problem.
void validate_endpoint(EndpointConfig& endpoint);

}  // namespace qcc::config
