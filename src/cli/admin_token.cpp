#include "cli/admin_token.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.hpp"

namespace qcc::cli {

namespace {
std::string read_token(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::string token;
    std::getline(in, token);
    return token;
}
}  // namespace

std::string load_or_create_admin_token(const std::string& data_dir) {
    const auto path = data_dir + "/admin.token";
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
        // Whoever can read the token administers QCC: like the master key, it must be private.
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw std::runtime_error(path + " is readable by other users (mode " + mode +
                                 "); make it private with `chmod 600 " + path + "`");
    }
    if (auto token = read_token(path); !token.empty()) return token;
    const auto token = "qcc-admin-" + crypto::random_hex(24);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    const auto line = token + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path);
    return token;
}

std::string cli_admin_token(const std::string& configured, const std::string& data_dir) {
    if (const char* env = std::getenv("QCC_ADMIN_TOKEN"); env && *env) return env;
    if (!configured.empty()) return configured;
    return read_token(data_dir + "/admin.token");
}

}  // namespace qcc::cli
