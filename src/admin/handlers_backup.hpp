// Admin API: the full backup (docs/admin-api.md "Backup"). GET /api/backup returns every endpoint
// with its credential in clear, the client keys (hashes, never keys) and every setting that is
// set; POST /api/backup/restore takes that document back. The admin token already lets its holder
// point an endpoint's URL anywhere (and so receive its credential), so this route gives it nothing
// new; the CLI encrypts the document before it touches a disk.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "admin/call.hpp"
#include "config/config.hpp"
#include "store/records.hpp"

namespace qcc::admin {

/// What a backup holds.
struct BackupContents {
    std::vector<config::EndpointConfig> endpoints;  // credentials in clear
    std::vector<store::ClientKeyRecord> keys;
    std::vector<std::pair<std::string, std::string>> settings;  // only those that are set
};

/// The backup document: {"format":"qcc-backup","version":1,"created_at","qcc_version",
/// "endpoints","keys","settings"}.
boost::json::object backup_json(const BackupContents& b, std::int64_t created_at);

/// Reads and validates a backup document as POST /api/backup/restore does: ApiError 400 naming the
/// field ("endpoints[1] (relay): tier: must be between 1 and 9"). A key's created_at is read but
/// not restored (the store stamps the restore time).
BackupContents parse_backup(const boost::json::object& doc);

/// GET /api/backup
boost::asio::awaitable<Reply> get_backup(Call& c);
/// POST /api/backup/restore[?dry_run=true]
boost::asio::awaitable<Reply> restore_backup(Call& c);

}  // namespace qcc::admin
