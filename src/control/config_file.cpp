#include "control/config_file.hpp"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace qcc::control {

std::optional<FileDeclaration> find_file_declaration(const std::string& config_file,
                                                     std::string_view name) {
    if (config_file.empty()) return std::nullopt;
    try {
        const auto root = toml::parse_file(config_file);
        const auto* endpoints = root["endpoints"].as_array();
        if (endpoints == nullptr) return std::nullopt;
        for (const auto& node : *endpoints) {
            const auto* entry = node.as_table();
            if (entry == nullptr || (*entry)["name"].value_or(std::string_view{}) != name) continue;
            std::error_code ec;
            auto file = std::filesystem::absolute(config_file, ec);
            return FileDeclaration{ec ? config_file : file.lexically_normal().string(),
                                   static_cast<int>(entry->source().begin.line)};
        }
    } catch (const std::exception&) {
        // Unreadable or not TOML: the next start fails on it anyway; nothing to point at.
    }
    return std::nullopt;
}

std::string file_declaration_warning(std::string_view name, const FileDeclaration& d) {
    return fmt::format(
        "endpoint {} is declared in {} (line {}); the next start applies the file again and "
        "undoes this change — edit the file instead",
        name, d.file, d.line);
}

}  // namespace qcc::control
