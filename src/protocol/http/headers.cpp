#include "protocol/http/headers.hpp"

#include <array>

namespace qcc::http {
namespace {

constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    }
    return true;
}

bool is_hop_by_hop(std::string_view name) {
    static constexpr std::array<std::string_view, 9> kNames = {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    };
    for (std::string_view candidate : kNames) {
        if (iequals(name, candidate)) return true;
    }
    return false;
}

bool connection_lists(std::string_view connection_value, std::string_view name) {
    const std::string_view wanted = trim_ows(name);
    if (wanted.empty()) return false;
    while (!connection_value.empty()) {
        const std::size_t comma = connection_value.find(',');
        const std::string_view token = trim_ows(connection_value.substr(0, comma));
        if (iequals(token, wanted)) return true;
        if (comma == std::string_view::npos) break;
        connection_value.remove_prefix(comma + 1);
    }
    return false;
}

std::string_view bearer_token(std::string_view authorization) {
    if (authorization.size() <= 7 || !iequals(authorization.substr(0, 7), "bearer ")) return {};
    auto token = authorization.substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    return token;
}

std::string path_problem(std::string_view target) {
    const auto path = target.substr(0, target.find('?'));
    // Decode the escapes that matter for path traversal; any other escape stays as is.
    std::string decoded;
    decoded.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "a control character";
        if (c == '\\') return "a backslash";
        if (c == '%' && i + 2 < path.size()) {
            const auto esc = path.substr(i + 1, 2);
            if (iequals(esc, "2e")) {
                decoded += '.';
                i += 2;
                continue;
            }
            if (iequals(esc, "5c")) return "an encoded backslash (%5c)";
            if (iequals(esc, "2f")) return "an encoded slash (%2f)";
            if (esc == "00") return "an encoded NUL (%00)";
        }
        decoded += c;
    }
    std::string_view rest = decoded;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const auto segment = rest.substr(0, slash);
        if (segment == "." || segment == "..")
            return "a dot-segment (\"" + std::string(segment) + "\")";
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return {};
}

std::string transfer_encoding_problem(std::string_view value) {
    if (value.empty()) return {};
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (iequals(value, "chunked")) return {};
    return "unsupported Transfer-Encoding \"" + std::string(value) +
           "\" (only chunked is accepted)";
}

}  // namespace qcc::http
