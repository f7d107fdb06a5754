// Endpoint credentials at rest: sealed with AES-256-GCM under a master key that lives
// in a 0600 file beside the store or in an environment variable. The one place credentials are
// turned into their stored form and back.
#pragma once
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace qcc::store {

/// AES-256-GCM sealing of endpoint credentials (OpenSSL EVP). Immutable and thread-safe.
class SecretBox {
  public:
    static constexpr std::size_t kKeyBytes = 32;

    explicit SecretBox(std::span<const unsigned char, kKeyBytes> key);
    SecretBox(const SecretBox&) = default;
    SecretBox& operator=(const SecretBox&) = default;
    /// Wipes the key from memory.
    ~SecretBox();

    /// The master key from env QCC_MASTER_KEY (64 hex chars or base64 of 32 bytes) if set, else
    /// the file <data_dir>/master.key (created with 32 random bytes as 64 hex chars, mode 0600 in
    /// a 0700 directory, atomically; a concurrent creator's key wins). Refuses a key file readable
    /// by group or others. Throws std::runtime_error naming the file or variable on any problem,
    /// never containing key material. An empty data_dir means the current directory.
    static SecretBox load_or_create(const std::string& data_dir);
    /// A random key (tests, in-memory stores).
    static SecretBox ephemeral();

    /// "v1:" + base64(12-byte random nonce | ciphertext | 16-byte tag).
    std::string seal(std::string_view plaintext) const;
    /// Inverse of seal(); also reads the legacy "plain:<secret>" form. Throws std::runtime_error
    /// ("credential cannot be decrypted: wrong master key or corrupted data") when authentication
    /// fails, and for any other form (without echoing the value).
    std::string open(std::string_view stored) const;
    /// True when `stored` is in the sealed ("v1:") form.
    static bool is_sealed(std::string_view stored);

  private:
    std::array<unsigned char, kKeyBytes> key_{};
};

/// For display: "****" and the last 4 characters ("****wxyz") — at most 4 characters of a
/// secret are ever shown, and never more than a third of it; secrets shorter than 12 characters
/// show as "****" alone. Counts code points, so a non-ASCII secret is never cut mid-character.
std::string mask_secret(std::string_view secret);

}  // namespace qcc::store
