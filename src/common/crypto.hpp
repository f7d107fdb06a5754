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

}  // namespace qcc::crypto
