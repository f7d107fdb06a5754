// Configuration the operator edits (endpoints, client keys, runtime settings) and the change
// counter running servers watch to pick edits up within a second.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.hpp"

namespace qcc::store {

/// Endpoints, client keys and settings. Implementations are thread-safe; methods block on I/O and
/// throw std::runtime_error when the database fails (never call them on a proxy worker).
class ConfigStore {
  public:
    virtual ~ConfigStore() = default;
    /// Every endpoint, ordered by name.
    virtual std::vector<EndpointRecord> list_endpoints() = 0;
    /// Inserts or updates by name; returns the record as stored. Storing an identical config is a
    /// no-op (no write, data_version unchanged), so re-applying the config file at start is free.
    virtual EndpointRecord upsert_endpoint(const config::EndpointConfig& endpoint) = 0;
    /// False when no endpoint has that name.
    virtual bool remove_endpoint(std::string_view name) = 0;
    /// Every client key (revoked ones included), ordered by name.
    virtual std::vector<ClientKeyRecord> list_client_keys() = 0;
    /// Inserts or replaces the key named `name` (un-revoking it). `prefix` = the key's display
    /// prefix.
    virtual void upsert_client_key(std::string_view name, std::string_view key_hash,
                                   std::string_view prefix) = 0;
    /// False when no key has that name; revoking a revoked key returns true and changes nothing.
    virtual bool revoke_client_key(std::string_view name) = 0;
    /// Sets the limits (a JSON object, validated by the caller) of the unrevoked key `name`;
    /// false when there is none.
    virtual bool set_client_key_limits(std::string_view name, std::string_view limits_json) = 0;
    /// The value of a setting, nullopt when unset.
    virtual std::optional<std::string> get_setting(std::string_view key) = 0;
    /// Sets a setting; setting the value it already has changes nothing.
    virtual void set_setting(std::string_view key, std::string_view value) = 0;
    /// Monotonic counter bumped by every change to endpoints, keys or settings by ANY process
    /// sharing the database (a row in a meta table updated in the same transaction); used to pick
    /// changes up within 1 s.
    virtual std::int64_t data_version() = 0;
};

}  // namespace qcc::store
