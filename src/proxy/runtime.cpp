#include "proxy/runtime.hpp"

#include "common/crypto.hpp"

namespace qcc::proxy {

std::optional<std::string> Runtime::authenticate(std::string_view presented) const {
    if (presented.empty()) return std::nullopt;
    const auto keys = this->keys();
    const auto hash = crypto::sha256_hex(presented);
    std::optional<std::string> found;
    for (const auto& k : *keys) {
        // Compare against every key so timing does not reveal which one matched.
        if (crypto::constant_time_equal(hash, k.hash) && !found) found = k.name;
    }
    return found;
}

}  // namespace qcc::proxy
