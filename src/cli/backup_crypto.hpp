// The encrypted backup file of `qcc backup` / `qcc restore-backup`, as pure functions (no server,
// no files): a passphrase-derived key (scrypt) seals the backup document with AES-256-GCM.
//
// A file is one readable header line, then the ciphertext and its tag in base64 (64 columns):
//
//   qcc-backup version=1 kdf=scrypt n=131072 r=8 p=1 salt=<32 hex> cipher=aes-256-gcm nonce=<24
//   hex> <base64 of ciphertext | 16-byte tag>
//
// The header line is authenticated too (it is the cipher's additional data), so no byte of the
// file can change without open_backup refusing it.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace qcc::cli {

/// scrypt's cost: N (a power of two), r, p. The default takes about 0.5 s and 128 MiB.
struct BackupKdf {
    std::uint64_t n = 1u << 17;
    std::uint32_t r = 8, p = 1;
};

/// Why a backup file could not be opened. kNotBackup / kUnsupported come from the header alone
/// (the file is of another kind or version); kDecrypt means the passphrase is wrong or the file
/// was changed or cut (the two cannot be told apart).
class BackupFileError : public std::runtime_error {
  public:
    enum class Kind { kNotBackup, kUnsupported, kDecrypt };
    BackupFileError(Kind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

  private:
    Kind kind_;
};

/// The backup file for `plaintext`, sealed under `passphrase` with a fresh random salt and nonce.
/// Throws std::invalid_argument for an empty passphrase or KDF parameters open_backup would refuse.
std::string seal_backup(std::string_view plaintext, std::string_view passphrase,
                        const BackupKdf& kdf = {});

/// Checks the header line only (no passphrase needed), so that a file of another kind or version
/// is reported before anyone is asked for a passphrase. Throws BackupFileError.
void check_backup_header(std::string_view file);

/// The plaintext of a file made by seal_backup. Throws BackupFileError.
std::string open_backup(std::string_view file, std::string_view passphrase);

/// Overwrites a string holding a secret before it is freed.
void wipe(std::string& secret);

}  // namespace qcc::cli
