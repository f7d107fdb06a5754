// The declarative side of `qcc config export|import` as pure functions (no server): endpoints
// between the admin API's JSON, the bootstrap TOML (the bootstrap config's key names) and an import
// plan.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "config/config.hpp"

namespace qcc::cli {

/// An endpoint from an EndpointJSON object of the admin API; api_key is whatever the server sent
/// (the masked form). Throws std::runtime_error when name or base_url is missing.
config::EndpointConfig endpoint_from_json(const boost::json::object& o);

/// A POST /api/endpoints body with every field of `e` (unset timeouts omitted; api_key omitted
/// when empty).
boost::json::object endpoint_create_body(const config::EndpointConfig& e);

/// "10s", "5m", "1h" or "250ms": the largest unit that represents `d` exactly.
std::string format_duration(config::Millis d);

/// TOML for the endpoints, each as an [[endpoints]] table with every field and never an api_key
/// line; the header comment says credentials stay in the store. load_string() of the result gives
/// the same endpoints back (with empty api_key).
std::string endpoints_to_toml(const std::vector<config::EndpointConfig>& endpoints);

/// One [[endpoints]] entry of an import file.
struct ImportEntry {
    config::EndpointConfig endpoint;
    bool has_api_key = false;  // the entry has a non-empty api_key
    std::string where;         // "<file>:<line>: endpoints[<i>] (\"<name>\")" for messages
};

/// Reads an import file with config::load_string semantics (same validation, same
/// file:line:column errors; throws config::ConfigError).
std::vector<ImportEntry> parse_import(std::string_view toml_text, std::string_view source);

/// What importing one entry does.
struct ImportAction {
    enum class Kind { kCreate, kUpdate, kUnchanged };
    Kind kind = Kind::kUnchanged;
    std::string name;
    std::vector<std::string> changes;  // "tier 1 -> 2", "api_key", ... (kUpdate)
    boost::json::object body;          // POST body (kCreate) or PATCH body (kUpdate)
};

/// Compares the file's entries with the endpoints that exist on the server. An entry without
/// api_key keeps the stored credential of an existing endpoint (its PATCH has no api_key); a new
/// endpoint without one throws config::ConfigError naming the file, line and entry.
std::vector<ImportAction> plan_import(const std::vector<ImportEntry>& entries,
                                      const std::vector<config::EndpointConfig>& existing);

}  // namespace qcc::cli
