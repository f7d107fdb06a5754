#include "store/secret.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qcc::store {
namespace {

constexpr std::string_view kSealedPrefix = "v1:";
constexpr std::string_view kPlainPrefix = "plain:";
constexpr std::string_view kEnvVar = "QCC_MASTER_KEY";
constexpr std::string_view kKeyFileName = "master.key";
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kKeyHexChars = SecretBox::kKeyBytes * 2;
constexpr std::string_view kAuthFailure =
    "credential cannot be decrypted: wrong master key or corrupted data";

using Key = std::array<unsigned char, SecretBox::kKeyBytes>;

// Wipes a key buffer when it goes out of scope, including on the exception paths.
struct KeyGuard {
    Key key{};
    KeyGuard() = default;
    KeyGuard(const KeyGuard&) = delete;
    KeyGuard& operator=(const KeyGuard&) = delete;
    ~KeyGuard() { OPENSSL_cleanse(key.data(), key.size()); }
};

// Same for heap buffers that held key text or plaintext.
struct StringGuard {
    std::string* s;
    ~StringGuard() {
        if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
    }
};

struct CtxDeleter {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

// --- base64 (RFC 4648, standard alphabet, padded). Decoding is strict (canonical form only):
// EVP_DecodeBlock would accept unpadded input and leave padding bytes in its output.

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::string base64_encode(std::span<const unsigned char> in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const unsigned v = (unsigned{in[i]} << 16) | (unsigned{in[i + 1]} << 8) | in[i + 2];
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    const std::size_t rest = in.size() - i;
    if (rest == 1) {
        const unsigned v = unsigned{in[i]} << 16;
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const unsigned v = (unsigned{in[i]} << 16) | (unsigned{in[i + 1]} << 8);
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

// False for anything but canonical padded base64 (wrong length, stray characters, misplaced
// padding, non-zero unused bits).
bool base64_decode(std::string_view in, std::vector<unsigned char>& out) {
    out.clear();
    if (in.size() % 4 != 0) return false;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int pad = 0;
        if (last && in[i + 3] == '=') pad = in[i + 2] == '=' ? 2 : 1;
        int v[4] = {0, 0, 0, 0};
        for (int k = 0; k < 4 - pad; ++k) {
            v[k] = b64_value(in[i + static_cast<std::size_t>(k)]);
            if (v[k] < 0) return false;
        }
        const unsigned n = (static_cast<unsigned>(v[0]) << 18) |
                           (static_cast<unsigned>(v[1]) << 12) |
                           (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
        out.push_back(static_cast<unsigned char>(n >> 16));
        if (pad == 2) {
            if ((n & 0xFFFF) != 0) return false;
        } else {
            out.push_back(static_cast<unsigned char>((n >> 8) & 0xFF));
            if (pad == 1) {
                if ((n & 0xFF) != 0) return false;
            } else {
                out.push_back(static_cast<unsigned char>(n & 0xFF));
            }
        }
    }
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Index of the first non-hex character, or npos when `text` is all hex.
std::size_t first_non_hex(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (hex_value(text[i]) < 0) return i;
    }
    return std::string_view::npos;
}

// `text` must be kKeyHexChars hex characters (checked by the caller).
void hex_to_key(std::string_view text, Key& key) {
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] =
            static_cast<unsigned char>(hex_value(text[2 * i]) * 16 + hex_value(text[2 * i + 1]));
    }
}

std::string key_to_hex(const Key& key) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(kKeyHexChars + 1);
    for (const unsigned char b : key) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

void random_bytes(unsigned char* out, std::size_t n, const char* what) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1) {
        throw std::runtime_error(std::string("cannot generate ") + what +
                                 ": the OpenSSL random generator failed");
    }
}

std::string errno_text(int err) { return std::strerror(err); }

std::string mode_text(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

// --- master key sources

void key_from_env(std::string_view value, Key& key) {
    // Tolerate the newline of `export QCC_MASTER_KEY=$(cat file)`-style setups and stray spaces.
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
    while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
    const std::string expected =
        "expected 64 hex characters or the base64 encoding of exactly 32 bytes";
    if (value.empty()) {
        throw std::runtime_error(std::string(kEnvVar) + " is set but empty; " + expected +
                                 " (unset it to use the master.key file)");
    }
    if (value.size() == kKeyHexChars && first_non_hex(value) == std::string_view::npos) {
        hex_to_key(value, key);
        return;
    }
    std::vector<unsigned char> decoded;
    const bool ok = base64_decode(value, decoded);
    const bool fits = ok && decoded.size() == key.size();
    if (fits) std::copy(decoded.begin(), decoded.end(), key.begin());
    if (!decoded.empty()) OPENSSL_cleanse(decoded.data(), decoded.size());
    if (fits) return;
    std::string detail;
    if (ok) {
        detail = "it is valid base64 of " + std::to_string(decoded.size()) + " bytes";
    } else if (value.size() == kKeyHexChars) {
        detail = "it has 64 characters but is neither hex nor base64";
    } else {
        detail = "it has " + std::to_string(value.size()) +
                 " characters and is neither 64 hex characters nor valid base64";
    }
    throw std::runtime_error(std::string(kEnvVar) + " is malformed: " + expected + "; " + detail);
}

std::string join_path(const std::string& dir, std::string_view name) {
    std::string path = dir.empty() ? std::string(".") : dir;
    if (path.back() != '/') path += '/';
    path += name;
    return path;
}

// mkdir -p with 0700 for every directory this call creates (existing ones are left alone: the
// operator chose their mode).
void ensure_directory(const std::string& dir) {
    if (dir.empty()) return;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        const std::string part = dir.substr(0, pos);
        if (part.empty() || part == "/") continue;
        if (::mkdir(part.c_str(), 0700) == 0) {
            // The umask may have removed bits; 0700 is the contract, not "at most 0700".
            if (::chmod(part.c_str(), 0700) != 0) {
                const int err = errno;
                throw std::runtime_error("cannot set mode 0700 on data directory " + part + ": " +
                                         errno_text(err));
            }
            continue;
        }
        const int err = errno;
        struct stat st {};
        if (err == EEXIST && ::stat(part.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
        throw std::runtime_error(
            "cannot create data directory " + part + ": " +
            (err == EEXIST ? std::string("exists and is not a directory") : errno_text(err)));
    }
}

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    // Returns close()'s result; the descriptor is gone either way.
    int close() {
        const int rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }

  private:
    int fd_;
};

// Reads and validates an existing key file. False when it does not exist.
bool read_key_file(const std::string& path, Key& key) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ENOENT) return false;
        throw std::runtime_error("cannot open master key file " + path + ": " + errno_text(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        const int err = errno;
        throw std::runtime_error("cannot stat master key file " + path + ": " + errno_text(err));
    }
    if (!S_ISREG(st.st_mode)) {
        throw std::runtime_error("master key file " + path + " is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
        throw std::runtime_error("master key file " + path + " has mode " + mode_text(st.st_mode) +
                                 ", which lets group or others access it; refusing to use it. Fix "
                                 "with: chmod 600 " +
                                 path);
    }
    // Anything longer than "64 hex + CRLF" is malformed; read one byte more to notice.
    constexpr std::size_t kMaxRead = kKeyHexChars + 3;
    std::string text(kMaxRead, '\0');
    const StringGuard wipe{&text};
    std::size_t got = 0;
    while (got < kMaxRead) {
        const ssize_t n = ::read(fd.get(), text.data() + got, kMaxRead - got);
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) continue;
            throw std::runtime_error("cannot read master key file " + path + ": " +
                                     errno_text(err));
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    std::string_view body(text.data(), got);
    if (body.ends_with("\r\n")) {
        body.remove_suffix(2);
    } else if (body.ends_with('\n')) {
        body.remove_suffix(1);
    }
    const std::string prefix = "master key file " + path + " is malformed: ";
    const std::string expected = "expected 64 hex characters and an optional trailing newline";
    if (got == 0) throw std::runtime_error(prefix + "it is empty; " + expected);
    if (got == kMaxRead) throw std::runtime_error(prefix + "it is too long; " + expected);
    if (body.size() != kKeyHexChars) {
        throw std::runtime_error(prefix + "found " + std::to_string(body.size()) + " characters; " +
                                 expected);
    }
    if (const std::size_t bad = first_non_hex(body); bad != std::string_view::npos) {
        throw std::runtime_error(prefix + "non-hex character at offset " + std::to_string(bad) +
                                 "; " + expected);
    }
    hex_to_key(body, key);
    return true;
}

// Moves `from` to `to` unless `to` exists. False when it exists (another process won the race).
bool publish_no_replace(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
        return true;
    }
    int err = errno;
    if (err == EEXIST) return false;
    if (err == EINVAL || err == ENOSYS || err == ENOTSUP) {
        // Filesystems without RENAME_NOREPLACE: link() fails on an existing target as well.
        if (::link(from.c_str(), to.c_str()) == 0) {
            ::unlink(from.c_str());
            return true;
        }
        err = errno;
        if (err == EEXIST) return false;
    }
    throw std::runtime_error("cannot create master key file " + to + ": " + errno_text(err));
}

// Writes a fresh key to a private temp file and publishes it atomically. False when another
// process created the file first (the caller then reads theirs).
bool create_key_file(const std::string& dir, const std::string& path, Key& key) {
    random_bytes(key.data(), key.size(), "a master key");
    unsigned char salt[8];
    random_bytes(salt, sizeof salt, "a temporary file name");
    std::string tmp = join_path(dir, ".master.key.");
    tmp += std::to_string(::getpid()) + ".";
    for (const unsigned char b : salt) tmp += "0123456789abcdef"[b & 15];
    tmp += ".tmp";

    std::string text = key_to_hex(key) + "\n";
    const StringGuard wipe{&text};
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) {
        const int err = errno;
        throw std::runtime_error("cannot create master key file " + path + " (temporary file " +
                                 tmp + "): " + errno_text(err));
    }
    const auto fail = [&](const std::string& step, int err) {
        ::unlink(tmp.c_str());
        return std::runtime_error("cannot create master key file " + path + ": " + step +
                                  " failed: " + errno_text(err));
    };
    if (::fchmod(fd.get(), 0600) != 0) throw fail("chmod", errno);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw fail("write", errno);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) throw fail("fsync", errno);
    if (fd.close() != 0) throw fail("close", errno);
    bool published = false;
    try {
        published = publish_no_replace(tmp, path);
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    if (!published) {
        ::unlink(tmp.c_str());
        return false;
    }
    // Persist the directory entry too; best effort (some filesystems refuse fsync on a directory).
    Fd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) ::fsync(dfd.get());
    return true;
}

}  // namespace

SecretBox::SecretBox(std::span<const unsigned char, kKeyBytes> key) {
    std::copy(key.begin(), key.end(), key_.begin());
}

SecretBox::~SecretBox() { OPENSSL_cleanse(key_.data(), key_.size()); }

SecretBox SecretBox::load_or_create(const std::string& data_dir) {
    KeyGuard k;
    if (const char* env = std::getenv(std::string(kEnvVar).c_str()); env != nullptr) {
        key_from_env(env, k.key);
        return SecretBox(k.key);
    }
    ensure_directory(data_dir);
    const std::string path = join_path(data_dir, kKeyFileName);
    // Two rounds cover "absent, then created by someone else between our open and our rename".
    for (int round = 0; round < 2; ++round) {
        if (read_key_file(path, k.key)) return SecretBox(k.key);
        if (create_key_file(data_dir, path, k.key)) return SecretBox(k.key);
    }
    throw std::runtime_error("master key file " + path +
                             " appeared and disappeared while being created; retry");
}

SecretBox SecretBox::ephemeral() {
    KeyGuard k;
    random_bytes(k.key.data(), k.key.size(), "an ephemeral key");
    return SecretBox(k.key);
}

std::string SecretBox::seal(std::string_view plaintext) const {
    if (plaintext.size() > static_cast<std::size_t>(INT_MAX) - kNonceBytes - kTagBytes) {
        throw std::runtime_error("credential too large to seal");
    }
    std::vector<unsigned char> buf(kNonceBytes + plaintext.size() + kTagBytes);
    unsigned char* nonce = buf.data();
    unsigned char* cipher = buf.data() + kNonceBytes;
    random_bytes(nonce, kNonceBytes, "a nonce");

    const CipherCtx ctx(EVP_CIPHER_CTX_new());
    const auto fail = [] {
        return std::runtime_error("credential sealing failed (OpenSSL error)");
    };
    if (!ctx) throw fail();
    if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                            nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) != 1) {
        throw fail();
    }
    int len = 0;
    std::size_t written = 0;
    if (!plaintext.empty()) {
        if (EVP_EncryptUpdate(ctx.get(), cipher, &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) != 1) {
            throw fail();
        }
        written = static_cast<std::size_t>(len);
    }
    if (EVP_EncryptFinal_ex(ctx.get(), cipher + written, &len) != 1) throw fail();
    written += static_cast<std::size_t>(len);
    if (written != plaintext.size()) throw fail();  // GCM is a stream mode
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                            cipher + written) != 1) {
        throw fail();
    }
    std::string out(kSealedPrefix);
    out += base64_encode(buf);
    return out;
}

std::string SecretBox::open(std::string_view stored) const {
    if (stored.starts_with(kPlainPrefix)) return std::string(stored.substr(kPlainPrefix.size()));
    if (!stored.starts_with(kSealedPrefix)) {
        // Never echo the value: it may be a credential in a format from a newer build.
        throw std::runtime_error("stored credential has an unknown encoding");
    }
    std::vector<unsigned char> buf;
    if (!base64_decode(stored.substr(kSealedPrefix.size()), buf) ||
        buf.size() < kNonceBytes + kTagBytes) {
        throw std::runtime_error(
            "credential cannot be decrypted: the sealed value is malformed (truncated or not "
            "base64)");
    }
    const std::size_t cipher_len = buf.size() - kNonceBytes - kTagBytes;
    if (cipher_len > static_cast<std::size_t>(INT_MAX)) {
        throw std::runtime_error("credential cannot be decrypted: the sealed value is too large");
    }
    const unsigned char* nonce = buf.data();
    const unsigned char* cipher = buf.data() + kNonceBytes;
    unsigned char* tag = buf.data() + kNonceBytes + cipher_len;

    std::string out(cipher_len, '\0');
    const auto fail = [&out] {
        // `out` may hold unauthenticated plaintext.
        if (!out.empty()) OPENSSL_cleanse(out.data(), out.size());
        return std::runtime_error(std::string(kAuthFailure));
    };
    const CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) throw fail();
    if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                            nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) != 1) {
        throw fail();
    }
    int len = 0;
    std::size_t written = 0;
    if (cipher_len > 0) {
        if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, cipher,
                              static_cast<int>(cipher_len)) != 1) {
            throw fail();
        }
        written = static_cast<std::size_t>(len);
    }
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag) !=
        1) {
        throw fail();
    }
    // The tag is checked here; nothing decrypted leaves this function unless it passes.
    if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + written,
                            &len) != 1) {
        throw fail();
    }
    written += static_cast<std::size_t>(len);
    if (written != cipher_len) throw fail();
    return out;
}

bool SecretBox::is_sealed(std::string_view stored) { return stored.starts_with(kSealedPrefix); }

std::string mask_secret(std::string_view secret) {
    // Count code points, not bytes, so a non-ASCII secret is never cut inside a UTF-8 sequence.
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < secret.size(); ++i) {
        if ((static_cast<unsigned char>(secret[i]) & 0xC0) != 0x80) starts.push_back(i);
    }
    if (starts.size() < 12) return "****";
    return "****" + std::string(secret.substr(starts[starts.size() - 4]));
}

}  // namespace qcc::store
