// Where the running server's config file declares an endpoint. The file's [[endpoints]] are applied
// to the store at every start (Controller::seed_from_config), so a change made through the admin
// API to one of them lasts only until the next start: the admin API says so in its answer.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace qcc::control {

/// An [[endpoints]] entry of a config file: the file (absolute path) and the entry's line.
struct FileDeclaration {
    std::string file;
    int line = 0;
};

/// Where `config_file` ("" = none) declares endpoint `name`; nullopt when it does not, or cannot
/// be read or parsed. Reads the file now (its current text is what the next start applies).
/// Blocking.
std::optional<FileDeclaration> find_file_declaration(const std::string& config_file,
                                                     std::string_view name);

/// The warning for a change to endpoint `name` declared at `d`.
std::string file_declaration_warning(std::string_view name, const FileDeclaration& d);

}  // namespace qcc::control
