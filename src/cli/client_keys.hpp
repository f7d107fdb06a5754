// Client keys the CLI makes for Claude Code (`qcc claude apply`, `qcc code`): create one under the
// first free name, or ask the server which key a secret is.
#pragma once
#include <optional>
#include <string>

#include "cli/admin_client.hpp"

namespace qcc::cli {

/// A client key of the running server.
struct ClientKeyInfo {
    std::string name;
    bool revoked = false;
};

/// A client key made by create_client_key: its name and the secret (shown only now).
struct NewClientKey {
    std::string name, key;
};

/// Creates a client key named `base` (or base-2, base-3, ... when taken). nullopt after a failure
/// already reported on stderr, with *exit_code set.
std::optional<NewClientKey> create_client_key(const AdminTarget& t, const std::string& base,
                                              int* exit_code);

/// Which of the server's client keys `key` is. nullopt with *exit_code 0: not a key of this
/// server; nullopt with *exit_code set: the call failed (reported on stderr).
std::optional<ClientKeyInfo> find_client_key(const AdminTarget& t, const std::string& key,
                                             int* exit_code);

/// A key given with --key, checked with the server: its row, or nullopt after printing why not
/// ("--key: not a client key of this QCC server", or revoked: *exit_code kExitUsage) or a failed
/// call (its exit code).
std::optional<ClientKeyInfo> check_given_key(const AdminTarget& t, const std::string& key,
                                             int* exit_code);

}  // namespace qcc::cli
