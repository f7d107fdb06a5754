// Persistent state of QCC (SPEC §11): endpoints, client keys, settings and a change counter, behind
// one interface so PostgreSQL can join SQLite later. Not for the data path: calls block on I/O.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace qcc::store {

/// An endpoint as stored. `id` = endpoint_id(base_url, api_key); times are Unix milliseconds.
struct EndpointRecord {
    std::string id;
    config::EndpointConfig config;
    std::int64_t created_at = 0, updated_at = 0;
};

/// A client key as stored: only its hash and a display prefix; `created_at` in Unix milliseconds.
struct ClientKeyRecord {
    std::string name, key_hash, prefix;
    std::int64_t created_at = 0;
    bool revoked = false;
};

/// Persistent state of QCC (SPEC §11). Implementations are thread-safe. Methods throw
/// std::runtime_error when the database fails (they are never called on I/O threads).
class Store {
  public:
    virtual ~Store() = default;
    /// Every endpoint, ordered by name.
    virtual std::vector<EndpointRecord> list_endpoints() = 0;
    /// Inserts or updates by name; returns the record as stored. Storing an identical config is a
    /// no-op (no write, data_version unchanged), so re-applying the config file at start is free.
    virtual EndpointRecord upsert_endpoint(const config::EndpointConfig& endpoint) = 0;
    /// False when no endpoint has that name.
    virtual bool remove_endpoint(std::string_view name) = 0;
    /// Every client key (revoked ones included), ordered by name.
    virtual std::vector<ClientKeyRecord> list_client_keys() = 0;
    /// Inserts or replaces the key named `name` (un-revoking it). `prefix` = first 8 chars of the
    /// key, for display.
    virtual void upsert_client_key(std::string_view name, std::string_view key_hash,
                                   std::string_view prefix) = 0;
    /// False when no key has that name; revoking a revoked key returns true and changes nothing.
    virtual bool revoke_client_key(std::string_view name) = 0;
    /// The value of a setting, nullopt when unset.
    virtual std::optional<std::string> get_setting(std::string_view key) = 0;
    /// Sets a setting; setting the value it already has changes nothing.
    virtual void set_setting(std::string_view key, std::string_view value) = 0;
    /// Monotonic counter bumped by every change to endpoints, keys or settings by ANY process
    /// sharing the database (a row in a meta table updated in the same transaction); used to pick
    /// changes up within 1 s.
    virtual std::int64_t data_version() = 0;
};

/// Opens (creating if needed) the SQLite store: parent directory created 0700, file 0600, WAL,
/// synchronous=NORMAL, busy_timeout 5000 ms, schema migrations applied. ":memory:" opens a private
/// in-memory database (tests). Throws std::runtime_error with the path and SQLite's message.
std::unique_ptr<Store> open_sqlite(const std::string& path);

/// Stable endpoint id: first 16 hex chars of sha256(base_url + "\n" + credential).
std::string endpoint_id(std::string_view base_url, std::string_view credential);

}  // namespace qcc::store
