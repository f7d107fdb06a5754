// The admin token of a local QCC: configured (admin_token / QCC_ADMIN_TOKEN) or generated once
// into <data_dir>/admin.token (0600) so that the CLI on the same machine can use the admin API.
#pragma once
#include <string>

namespace qcc::cli {

/// Reads <data_dir>/admin.token, creating it (0600) with a random token if missing. Throws on I/O
/// error, and when the file is readable by group or others.
std::string load_or_create_admin_token(const std::string& data_dir);

/// The token the CLI should present: QCC_ADMIN_TOKEN, else the config's, else the data dir
/// file's ("" when none exists).
std::string cli_admin_token(const std::string& configured, const std::string& data_dir);

}  // namespace qcc::cli
