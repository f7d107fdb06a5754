// The single place endpoint credentials are turned into their stored form and back, so that
// encryption at rest (SPEC §10) lands here without touching the rest of the store.
#pragma once
#include <string>
#include <string_view>

namespace qcc::store {

/// Stored form of a credential. Today a versioned plaintext envelope "plain:<secret>"; the prefix
/// lets a later build tell old rows from encrypted ones.
std::string encode_secret(std::string_view secret);

/// Inverse of encode_secret; throws std::runtime_error for an envelope this build cannot read.
std::string decode_secret(std::string_view stored);

}  // namespace qcc::store
