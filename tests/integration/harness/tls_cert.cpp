#include "harness/tls_cert.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace qcc::test {
namespace {

template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* p) const {
        Free(p);
    }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;

[[noreturn]] void fail(const std::string& what) {
    const unsigned long code = ERR_get_error();
    std::string detail = "unknown error";
    if (code != 0) {
        std::array<char, 256> buf{};
        ERR_error_string_n(code, buf.data(), buf.size());
        detail = buf.data();
    }
    ERR_clear_error();
    throw std::runtime_error("make_self_signed_cert: " + what + ": " + detail);
}

void check(int ok, const char* what) {
    if (ok != 1) fail(what);
}

PkeyPtr generate_p256_key() {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx) fail("EVP_PKEY_CTX_new_from_name");
    check(EVP_PKEY_keygen_init(ctx.get()), "EVP_PKEY_keygen_init");
    check(EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256"), "EVP_PKEY_CTX_set_group_name");
    EVP_PKEY* key = nullptr;
    check(EVP_PKEY_generate(ctx.get(), &key), "EVP_PKEY_generate");
    return PkeyPtr(key);
}

void add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext) fail("extension " + value);
    check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

std::string drain(BIO* bio) {
    std::string out(BIO_ctrl_pending(bio), '\0');
    const int n = BIO_read(bio, out.data(), static_cast<int>(out.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) fail("BIO_read");
    return out;
}

}  // namespace

SelfSignedCert make_self_signed_cert(const std::string& dns_name, const std::string& ip) {
    PkeyPtr key = generate_p256_key();
    X509Ptr cert(X509_new());
    if (!cert) fail("X509_new");
    check(X509_set_version(cert.get(), 2), "X509_set_version");  // 2 = v3

    // A random serial keeps certificates generated in one run distinguishable.
    std::uint32_t serial = 0;
    check(RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial), "RAND_bytes");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(serial >> 1)),
          "ASN1_INTEGER_set");
    if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), long{24} * 3600) == nullptr) {
        fail("X509_gmtime_adj");
    }
    check(X509_set_pubkey(cert.get(), key.get()), "X509_set_pubkey");

    X509_NAME* name = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1,
                                     -1, 0),
          "X509_NAME_add_entry_by_txt");
    check(X509_set_issuer_name(cert.get(), name), "X509_set_issuer_name");  // self-signed

    add_extension(cert.get(), NID_subject_alt_name, "DNS:" + dns_name + ",IP:" + ip);
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) fail("X509_sign");

    SelfSignedCert out;
    BioPtr cert_bio(BIO_new(BIO_s_mem()));
    if (!cert_bio) fail("BIO_new");
    check(PEM_write_bio_X509(cert_bio.get(), cert.get()), "PEM_write_bio_X509");
    out.cert_pem = drain(cert_bio.get());

    BioPtr key_bio(BIO_new(BIO_s_mem()));
    if (!key_bio) fail("BIO_new");
    check(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr),
          "PEM_write_bio_PrivateKey");
    out.key_pem = drain(key_bio.get());
    return out;
}

}  // namespace qcc::test
