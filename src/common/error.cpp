#include "common/error.hpp"

namespace qcc {

std::string_view to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kConnectRefused:
            return "connect_refused";
        case ErrorKind::kConnectTimeout:
            return "connect_timeout";
        case ErrorKind::kConnectionReset:
            return "connection_reset";
        case ErrorKind::kTlsFailure:
            return "tls_failure";
        case ErrorKind::kDnsFailure:
            return "dns_failure";
        case ErrorKind::kFirstByteTimeout:
            return "first_byte_timeout";
        case ErrorKind::kIdleTimeout:
            return "idle_timeout";
        case ErrorKind::kStaleConnection:
            return "stale_connection";
        case ErrorKind::kMalformedResponse:
            return "malformed_response";
        case ErrorKind::kClientDisconnected:
            return "client_cancelled";
        case ErrorKind::kLocalOverload:
            return "local_overload";
        case ErrorKind::kLocalResource:
            return "local_resource";
        case ErrorKind::kInternal:
            return "internal";
    }
    return "internal";
}

}  // namespace qcc
