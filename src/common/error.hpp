// ProxyError: what went wrong on the data path, where it came from and whether a retry may help.
#pragma once
#include <string>
#include <string_view>

namespace qcc {

enum class ErrorKind {
    kConnectRefused,     // TCP connect refused
    kConnectTimeout,     // TCP/TLS connect did not finish in time
    kConnectionReset,    // peer reset / closed the connection unexpectedly
    kTlsFailure,         // TLS handshake or verification failed
    kDnsFailure,         // name resolution failed
    kFirstByteTimeout,   // no response head within the first-byte timeout
    kIdleTimeout,        // no bytes between stream chunks within the idle timeout
    kStaleConnection,    // pooled connection closed before any response byte
    kMalformedResponse,  // upstream sent something that is not HTTP/1.1
    kClientDisconnected,
    kLocalOverload,  // QCC's own limit: no pooled connection freed up in time
    kLocalResource,  // QCC ran out of a local resource (file descriptors, memory, buffers)
    kInternal,
};

enum class ErrorSource { kDownstream, kUpstream, kInternal };

/// A data-path failure. `context` is human-readable detail for logs and error bodies.
struct ProxyError {
    ErrorKind kind = ErrorKind::kInternal;
    ErrorSource source = ErrorSource::kInternal;
    bool retryable = false;
    std::string context;
};

/// Stable lower_snake name of an error kind (logs, metrics, request rows).
std::string_view to_string(ErrorKind kind);

}  // namespace qcc
