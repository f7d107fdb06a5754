// `qcc backup [FILE|-]` / `qcc restore-backup FILE [--dry-run]`: the whole configuration —
// endpoints with their credentials, client keys, settings — in one passphrase-encrypted file,
// through the admin API (GET /api/backup, POST /api/backup/restore).
#pragma once
#include <string>

#include <CLI/CLI.hpp>

namespace qcc::cli {

void add_backup_commands(CLI::App& app);

/// "qcc-backup-2026-11-27-101503.qccbak": the default file name for a backup made at `unix_s`
/// (local time).
std::string default_backup_name(long long unix_s);

}  // namespace qcc::cli
