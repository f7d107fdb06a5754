// Small cryptographic helpers over OpenSSL.
#pragma once
#include <string>
#include <string_view>

namespace qcc::crypto {

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Compares two strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

/// `n` cryptographically random bytes rendered as lower-case hex (2n characters).
std::string random_hex(std::size_t n);

/// How a client key is kept in the store and compared: its SHA-256 in lower-case hex.
std::string hash_client_key(std::string_view key);

/// A new random client key: "sk-qcc-" + 48 hex characters (192 bits).
std::string new_client_key();
/// What is shown of a client key to tell keys apart (stored, never the key): "sk-qcc-" and its
/// first 6 random characters ("sk-qcc-3f9a1c").
std::string client_key_prefix(std::string_view key);

}  // namespace qcc::crypto
