// libFuzzer target: the TOML bootstrap config loader on arbitrary text. A problem must surface
// as ConfigError (file:line:column: key: message), never as a crash or another exception, and a
// config that loads must validate its endpoints again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto cfg = qcc::config::load_string(text, "fuzz.toml");
        for (auto& ep : cfg.endpoints) {
            const auto before = ep;
            qcc::config::validate_endpoint(ep);
            if (!(ep == before)) std::abort();  // loading already normalized it
        }
        for (const auto& k : cfg.keys) {
            if (!qcc::config::check_header_value(k.key).empty()) std::abort();
        }
    } catch (const qcc::config::ConfigError& e) {
        if (std::string_view(e.what()).empty()) std::abort();
    }
    return 0;
}
