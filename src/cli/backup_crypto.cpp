#include "cli/backup_crypto.hpp"

#include <array>
#include <charconv>
#include <climits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace qcc::cli {

namespace {

using Bytes = std::vector<unsigned char>;
using Kind = BackupFileError::Kind;

constexpr std::string_view kMagic = "qcc-backup";
constexpr std::string_view kVersion = "1";
constexpr std::size_t kSaltBytes = 16, kNonceBytes = 12, kTagBytes = 16, kKeyBytes = 32;
constexpr std::size_t kLineBytes = 48;  // 64 base64 characters per line
constexpr std::string_view kWrongPassphrase = "wrong passphrase or damaged file";

// ---- small encodings -------------------------------------------------------------------------

std::string to_hex(const Bytes& b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : b) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

/// Lower-case hex of exactly `bytes` bytes; nullopt otherwise.
std::optional<Bytes> from_hex(std::string_view s, std::size_t bytes) {
    if (s.size() != bytes * 2) return std::nullopt;
    Bytes out(bytes);
    for (std::size_t i = 0; i < bytes; ++i) {
        const auto r = std::from_chars(s.data() + 2 * i, s.data() + 2 * i + 2, out[i], 16);
        if (r.ec != std::errc() || r.ptr != s.data() + 2 * i + 2) return std::nullopt;
    }
    return out;
}

std::string base64_lines(const Bytes& b) {
    std::string out;
    std::array<unsigned char, kLineBytes / 3 * 4 + 1> line{};
    for (std::size_t at = 0; at < b.size(); at += kLineBytes) {
        const auto n = std::min(kLineBytes, b.size() - at);
        const int len = EVP_EncodeBlock(line.data(), b.data() + at, static_cast<int>(n));
        out.append(reinterpret_cast<const char*>(line.data()), static_cast<std::size_t>(len));
        out += '\n';
    }
    return out;
}

/// The bytes of a body written by base64_lines; nullopt for anything else (not base64, or not
/// exactly in base64_lines' form, so that no byte of a file can change unnoticed).
std::optional<Bytes> from_base64_lines(std::string_view text) {
    std::string joined;
    for (const char c : text) {
        if (c != '\n') joined += c;
    }
    if (joined.empty() || joined.size() % 4 != 0 || joined.size() > INT_MAX) return std::nullopt;
    Bytes out(joined.size() / 4 * 3);
    const int len =
        EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(joined.data()),
                        static_cast<int>(joined.size()));
    if (len < 0) return std::nullopt;
    std::size_t pad = 0;
    while (pad < 2 && joined[joined.size() - 1 - pad] == '=') ++pad;
    out.resize(static_cast<std::size_t>(len) - pad);
    if (base64_lines(out) != text) return std::nullopt;
    return out;
}

// ---- the header line -------------------------------------------------------------------------

struct Header {
    BackupKdf kdf;
    Bytes salt, nonce;
};

/// N a power of two from 2^10 to 2^22, r 1..32, p 1..16, at most 1 GiB of memory: a header cannot
/// make restore-backup allocate without bound.
bool kdf_allowed(const BackupKdf& k) {
    const bool pow2 = k.n >= (1u << 10) && k.n <= (1u << 22) && (k.n & (k.n - 1)) == 0;
    return pow2 && k.r >= 1 && k.r <= 32 && k.p >= 1 && k.p <= 16 &&
           128ull * k.r * k.n <= (1ull << 30);
}

std::string header_line(const Header& h) {
    return std::string(kMagic) + " version=" + std::string(kVersion) +
           " kdf=scrypt n=" + std::to_string(h.kdf.n) + " r=" + std::to_string(h.kdf.r) +
           " p=" + std::to_string(h.kdf.p) + " salt=" + to_hex(h.salt) +
           " cipher=aes-256-gcm nonce=" + to_hex(h.nonce);
}

[[noreturn]] void damaged(const std::string& what) {
    throw BackupFileError(Kind::kDecrypt, "damaged file: the header line " + what);
}

/// The header line's key=value fields.
using Fields = std::map<std::string, std::string, std::less<>>;

Fields header_fields(std::string_view line) {
    Fields fields;
    std::size_t at = 0;
    while (at < line.size()) {
        const auto end = std::min(line.find(' ', at), line.size());
        const auto token = line.substr(at, end - at);
        const auto eq = token.find('=');
        if (eq == std::string_view::npos || eq == 0) damaged("has a malformed field");
        fields.emplace(token.substr(0, eq), token.substr(eq + 1));
        at = end + 1;
    }
    return fields;
}

template <class T>
T header_number(const Fields& f, std::string_view key) {
    const auto it = f.find(key);
    T v{};
    if (it == f.end()) damaged("has no " + std::string(key));
    const auto& s = it->second;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size())
        damaged("has a malformed " + it->first);
    return v;
}

Bytes header_bytes(const Fields& f, std::string_view key, std::size_t bytes) {
    const auto it = f.find(key);
    auto b = it == f.end() ? std::nullopt : from_hex(it->second, bytes);
    if (!b) damaged("has no valid " + std::string(key));
    return *b;
}

std::string field_or(const Fields& f, std::string_view key) {
    const auto it = f.find(key);
    return it == f.end() ? std::string("(none)") : it->second;
}

/// A backup of another format version or encryption is reported as such.
void check_supported(const Fields& f) {
    if (field_or(f, "version") != kVersion) {
        throw BackupFileError(Kind::kUnsupported,
                              "unsupported backup version " + field_or(f, "version") +
                                  " (this qcc reads version " + std::string(kVersion) + ")");
    }
    if (field_or(f, "kdf") != "scrypt" || field_or(f, "cipher") != "aes-256-gcm") {
        throw BackupFileError(Kind::kUnsupported, "unsupported backup encryption (kdf " +
                                                      field_or(f, "kdf") + ", cipher " +
                                                      field_or(f, "cipher") + ")");
    }
}

/// The header of `file`, its line (the cipher's additional data) and where the body starts.
Header parse_header(std::string_view file, std::string_view* line_out, std::string_view* body) {
    const auto nl = file.find('\n');
    const auto line = file.substr(0, nl);
    if (!line.starts_with(kMagic) || (line.size() > kMagic.size() && line[kMagic.size()] != ' ')) {
        throw BackupFileError(Kind::kNotBackup, "not a QCC backup (a backup file starts with '" +
                                                    std::string(kMagic) + "')");
    }
    const auto f = header_fields(line.substr(std::min(line.size(), kMagic.size() + 1)));
    check_supported(f);
    Header h;
    h.kdf.n = header_number<std::uint64_t>(f, "n");
    h.kdf.r = header_number<std::uint32_t>(f, "r");
    h.kdf.p = header_number<std::uint32_t>(f, "p");
    if (!kdf_allowed(h.kdf)) damaged("has scrypt parameters out of range");
    h.salt = header_bytes(f, "salt", kSaltBytes);
    h.nonce = header_bytes(f, "nonce", kNonceBytes);
    if (f.size() != 8) damaged("has unknown fields");
    if (nl == std::string_view::npos)
        throw BackupFileError(Kind::kDecrypt, "damaged file: it is cut after the header");
    *line_out = line;
    *body = file.substr(nl + 1);
    return h;
}

// ---- key derivation and AES-256-GCM -----------------------------------------------------------

struct Key {
    std::array<unsigned char, kKeyBytes> bytes{};
    ~Key() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

void derive(std::string_view passphrase, const Header& h, Key& key) {
    const std::uint64_t maxmem = 128ull * h.kdf.r * (h.kdf.n + 2 + h.kdf.p) + (1u << 20);
    if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), h.salt.data(), h.salt.size(), h.kdf.n,
                       h.kdf.r, h.kdf.p, maxmem, key.bytes.data(), key.bytes.size()) != 1) {
        throw std::runtime_error("backup key derivation failed (OpenSSL scrypt)");
    }
}

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

/// A GCM context for `key` and `nonce` with `aad` already fed; nullptr when OpenSSL fails.
Ctx gcm_context(bool encrypt, const Key& key, const Bytes& nonce, std::string_view aad) {
    Ctx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    const auto* aad_bytes = reinterpret_cast<const unsigned char*>(aad.data());
    if (!ctx ||
        EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                            nullptr) != 1 ||
        EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), nonce.data(), encrypt) !=
            1 ||
        EVP_CipherUpdate(ctx.get(), nullptr, &len, aad_bytes, static_cast<int>(aad.size())) != 1) {
        return nullptr;
    }
    return ctx;
}

Bytes encrypt(std::string_view plaintext, const Key& key, const Bytes& nonce,
              std::string_view aad) {
    const auto fail = [] { return std::runtime_error("backup encryption failed (OpenSSL error)"); };
    auto ctx = gcm_context(true, key, nonce, aad);
    if (!ctx || plaintext.size() > INT_MAX - kTagBytes) throw fail();
    Bytes out(plaintext.size() + kTagBytes);
    int len = 0, tail = 0;
    if (EVP_CipherUpdate(ctx.get(), out.data(), &len,
                         reinterpret_cast<const unsigned char*>(plaintext.data()),
                         static_cast<int>(plaintext.size())) != 1 ||
        EVP_CipherFinal_ex(ctx.get(), out.data() + len, &tail) != 1 ||
        static_cast<std::size_t>(len + tail) != plaintext.size() ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                            out.data() + plaintext.size()) != 1) {
        throw fail();
    }
    return out;
}

std::string decrypt(Bytes sealed, const Key& key, const Bytes& nonce, std::string_view aad) {
    const auto fail = [] { return BackupFileError(Kind::kDecrypt, std::string(kWrongPassphrase)); };
    if (sealed.size() < kTagBytes) throw fail();
    const std::size_t n = sealed.size() - kTagBytes;
    auto ctx = gcm_context(false, key, nonce, aad);
    std::string out(n, '\0');
    int len = 0, tail = 0;
    const bool ok = ctx &&
                    EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                                     sealed.data(), static_cast<int>(n)) == 1 &&
                    EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG,
                                        static_cast<int>(kTagBytes), sealed.data() + n) == 1 &&
                    EVP_CipherFinal_ex(
                        ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &tail) == 1;
    if (!ok) {
        wipe(out);  // unauthenticated plaintext
        throw fail();
    }
    return out;
}

Bytes random_bytes(std::size_t n) {
    Bytes b(n);
    if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) {
        throw std::runtime_error("no random bytes for the backup (OpenSSL RAND_bytes)");
    }
    return b;
}

}  // namespace

std::string seal_backup(std::string_view plaintext, std::string_view passphrase,
                        const BackupKdf& kdf) {
    if (passphrase.empty()) throw std::invalid_argument("the backup passphrase is empty");
    if (!kdf_allowed(kdf)) throw std::invalid_argument("scrypt parameters out of range");
    Header h{kdf, random_bytes(kSaltBytes), random_bytes(kNonceBytes)};
    const auto line = header_line(h);
    Key key;
    derive(passphrase, h, key);
    return line + "\n" + base64_lines(encrypt(plaintext, key, h.nonce, line));
}

void check_backup_header(std::string_view file) {
    std::string_view line, body;
    parse_header(file, &line, &body);
}

std::string open_backup(std::string_view file, std::string_view passphrase) {
    std::string_view line, body;
    const auto h = parse_header(file, &line, &body);
    auto sealed = from_base64_lines(body);
    if (!sealed) throw BackupFileError(Kind::kDecrypt, std::string(kWrongPassphrase));
    Key key;
    derive(passphrase, h, key);
    return decrypt(std::move(*sealed), key, h.nonce, line);
}

void wipe(std::string& secret) {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

}  // namespace qcc::cli
