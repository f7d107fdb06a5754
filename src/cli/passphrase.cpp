#include "cli/passphrase.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/backup_crypto.hpp"
#include "config/config.hpp"

namespace qcc::cli {

namespace {

using config::ConfigError;

// The terminal whose echo is off while a passphrase is typed, so that Ctrl-C turns it back on.
volatile sig_atomic_t g_tty = -1;
termios g_saved{};

void restore_echo_and_reraise(int sig) {
    if (g_tty >= 0) ::tcsetattr(g_tty, TCSAFLUSH, &g_saved);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

/// Turns echo off on `fd` for its lifetime (and back on if a signal ends the process meanwhile).
class EchoOff {
  public:
    explicit EchoOff(int fd) : fd_(fd) {
        if (::tcgetattr(fd, &g_saved) != 0)
            throw ConfigError("cannot read the terminal's settings");
        termios quiet = g_saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        g_tty = fd;
        struct sigaction sa {};
        sa.sa_handler = restore_echo_and_reraise;
        for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    ~EchoOff() {
        ::tcsetattr(fd_, TCSAFLUSH, &g_saved);
        for (std::size_t i = 0; i < kSignals.size(); ++i)
            ::sigaction(kSignals[i], &old_[i], nullptr);
        g_tty = -1;
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

  private:
    static constexpr std::array<int, 4> kSignals{SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    int fd_;
    std::array<struct sigaction, 4> old_{};
};

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const auto n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// One line typed on `fd` after `prompt`, without echo.
std::string ask(int fd, std::string_view prompt) {
    write_all(fd, prompt);
    std::string line;
    {
        const EchoOff quiet(fd);
        char c = 0;
        for (;;) {
            const auto n = ::read(fd, &c, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0 || c == '\n') break;
            if (c != '\r') line += c;
        }
    }
    write_all(fd, "\n");
    return line;
}

std::string from_terminal(bool confirm) {
    const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        throw ConfigError(std::string("no passphrase: give --passphrase-file FILE or set ") +
                          kPassphraseEnv + " (there is no terminal to ask on)");
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    auto first = ask(fd, "Backup passphrase: ");
    if (!confirm || first.empty()) return first;
    auto again = ask(fd, "The same passphrase again: ");
    const bool same = first == again;
    wipe(again);
    if (!same) {
        wipe(first);
        throw ConfigError("the two passphrases differ");
    }
    return first;
}

std::string from_file(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw ConfigError("--passphrase-file " + file + ": cannot open: " + std::strerror(errno));
    }
    std::string text;
    std::getline(in, text);
    auto line = first_line(text);
    wipe(text);
    if (line.empty()) throw ConfigError("--passphrase-file " + file + ": the first line is empty");
    return line;
}

}  // namespace

std::string first_line(std::string_view text) {
    auto line = text.substr(0, text.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    return std::string(line);
}

std::string backup_passphrase(const std::string& file, bool confirm) {
    if (!file.empty()) return from_file(file);
    if (const char* env = std::getenv(kPassphraseEnv); env != nullptr) {
        if (*env == '\0') throw ConfigError(std::string(kPassphraseEnv) + " is set but empty");
        return env;
    }
    auto typed = from_terminal(confirm);
    if (typed.empty()) throw ConfigError("the passphrase is empty; a backup needs one");
    return typed;
}

}  // namespace qcc::cli
