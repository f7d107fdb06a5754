#include "store/secret.hpp"

#include <stdexcept>

namespace qcc::store {
namespace {
constexpr std::string_view kPlainPrefix = "plain:";
}  // namespace

std::string encode_secret(std::string_view secret) {
    std::string out(kPlainPrefix);
    out += secret;
    return out;
}

std::string decode_secret(std::string_view stored) {
    if (stored.substr(0, kPlainPrefix.size()) == kPlainPrefix) {
        return std::string(stored.substr(kPlainPrefix.size()));
    }
    // Never echo the value: it may be a credential in a format from a newer build.
    throw std::runtime_error("stored credential has an unknown encoding");
}

}  // namespace qcc::store
