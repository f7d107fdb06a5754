// Schema migrations of the SQLite store (internal to qcc_store).
#pragma once
#include <span>
#include <string_view>

namespace qcc::store {

/// The schema as an ordered, append-only list: entry i takes the database from version i to i + 1
/// and runs in one transaction. Never edit an entry once released; add a new one.
std::span<const std::string_view> migrations();

}  // namespace qcc::store
