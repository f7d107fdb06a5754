// Self-signed certificates generated at test time (OpenSSL 3 C API), so no key material is
// committed and no openssl CLI is needed.
#pragma once
#include <string>

#include "sim/server.hpp"

namespace qcc::test {

/// A certificate and its private key, PEM.
struct SelfSignedCert {
    std::string cert_pem;
    std::string key_pem;

    /// The pair as the simulated upstream takes it.
    sim::TlsOptions tls_options() const { return {cert_pem, key_pem}; }
};

/// A fresh EC P-256 key and a self-signed X.509 v3 certificate (SHA-256, valid from an hour ago
/// for a day) with CN `dns_name` and subjectAltName DNS:`dns_name`, IP:`ip`; serverAuth usage.
/// Throws std::runtime_error when OpenSSL fails.
SelfSignedCert make_self_signed_cert(const std::string& dns_name = "localhost",
                                     const std::string& ip = "127.0.0.1");

}  // namespace qcc::test
