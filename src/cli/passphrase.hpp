// Where the passphrase of `qcc backup` / `qcc restore-backup` comes from: a file, the environment,
// or the terminal with echo off. Never from the command line (it would be in the shell history and
// in every process listing).
#pragma once
#include <string>
#include <string_view>

namespace qcc::cli {

/// The environment variable read when no --passphrase-file is given.
inline constexpr const char* kPassphraseEnv = "QCC_BACKUP_PASSPHRASE";

/// The first line of `text` without its line end ("\n" or "\r\n").
std::string first_line(std::string_view text);

/// The first line of `file` (--passphrase-file), else $QCC_BACKUP_PASSPHRASE, else typed on the
/// terminal with echo off (twice when `confirm`, and both must agree). Throws config::ConfigError
/// (a usage error) when the file cannot be read, the passphrase is empty, the two typed ones
/// differ, or there is no terminal to ask on.
std::string backup_passphrase(const std::string& file, bool confirm);

}  // namespace qcc::cli
