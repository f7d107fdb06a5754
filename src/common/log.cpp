#include "common/log.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

#include <fcntl.h>
#include <spdlog/async.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/quoted.hpp"
#include "common/system.hpp"

namespace qcc::log {

namespace {

std::atomic<bool> g_json{false};

/// {"ts":"2026-11-27T10:15:03.123Z","level":"info","msg":"..."} — or the message's own fields
/// when the message is a JSON object.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto since = msg.time.time_since_epoch();
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
        const std::time_t t = secs.count();
        std::tm tm{};
        gmtime_r(&t, &tm);
        char ts[64];
        const auto n = std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                     tm.tm_min, tm.tm_sec, static_cast<int>(millis));
        std::string line = R"({"ts":")";
        line.append(ts, static_cast<std::size_t>(n));
        line += R"(","level":")";
        const auto level = spdlog::level::to_string_view(msg.level);
        line.append(level.data(), level.size());
        line += "\",";
        const std::string_view payload(msg.payload.data(), msg.payload.size());
        if (payload.size() >= 2 && payload.front() == '{' && payload.back() == '}') {
            line.append(payload.substr(1, payload.size() - 2));
        } else {
            line += "\"msg\":";
            append_quoted(line, payload);
        }
        line += "}\n";
        dest.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

/// "2026-11-27 10:15:03.123 info  message": the text format, with control characters in the
/// message escaped (a model name or session id from a request cannot forge a line).
class TextFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto since = msg.time.time_since_epoch();
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
        const std::time_t t = secs.count();
        std::tm tm{};
        localtime_r(&t, &tm);
        char ts[64];
        const auto level = spdlog::level::to_string_view(msg.level);
        const auto n = std::snprintf(ts, sizeof ts, "%04d-%02d-%02d %02d:%02d:%02d.%03d %-5.*s ",
                                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                     tm.tm_min, tm.tm_sec, static_cast<int>(millis),
                                     static_cast<int>(level.size()), level.data());
        dest.append(ts, ts + n);
        const auto line = escape_control(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(line.data(), line.data() + line.size());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<TextFormatter>();
    }
};

/// A size-rotated log file that never loses its way: lines are buffered whole and written with
/// one write(2) per flush (at least every second, and at once for warnings), so a crash cuts no
/// line in half; when the file cannot be written, opened or rotated, lines go to stderr and the
/// problem is reported there (once a minute) until a later attempt succeeds.
class RotatingFileSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    RotatingFileSink(std::string path, std::size_t max_bytes, std::size_t files)
        : path_(std::move(path)), max_bytes_(max_bytes), files_(files) {
        if (!open_file()) {
            throw spdlog::spdlog_ex("cannot open " + path_ + ": " + std::strerror(errno));
        }
    }
    ~RotatingFileSink() override {
        std::lock_guard lock(mutex_);
        flush_();
        if (fd_ >= 0) ::close(fd_);
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        buffer_.append(formatted.data(), formatted.size());
        if (buffer_.size() >= kFlushBytes) flush_();
    }
    void flush_() override {
        if (buffer_.empty()) return;
        if (fd_ < 0) reopen_if_due();
        if (fd_ >= 0 && size_ + buffer_.size() > max_bytes_) rotate();
        if (fd_ >= 0 && write_all(fd_, buffer_)) {
            size_ += buffer_.size();
        } else {
            if (fd_ >= 0) report("cannot write");
            write_all(STDERR_FILENO, buffer_);  // never lose the lines
        }
        buffer_.clear();
    }

  private:
    static constexpr std::size_t kFlushBytes = 64 * 1024;

    static bool write_all(int fd, std::string_view data) {
        while (!data.empty()) {
            const auto n = ::write(fd, data.data(), data.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    bool open_file() {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) return false;
        struct stat st {};
        size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
        return true;
    }

    void reopen_if_due() {
        const auto now = std::chrono::steady_clock::now();
        if (now < next_reopen_) return;
        next_reopen_ = now + std::chrono::seconds(1);
        if (open_file()) {
            const std::string note = "log file " + path_ + " is writable again\n";
            write_all(STDERR_FILENO, note);
        } else {
            report("cannot open");
        }
    }

    void rotate() {
        ::close(fd_);
        fd_ = -1;
        bool ok = true;
        for (std::size_t i = files_; i > 0; --i) {
            const auto from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
            const auto to = path_ + "." + std::to_string(i);
            if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) ok = false;
        }
        if (!ok) report("cannot rotate");
        if (!open_file()) report("cannot reopen after rotating");
    }

    void report(const char* what) {
        const auto now = std::chrono::steady_clock::now();
        if (now < next_report_) return;
        next_report_ = now + std::chrono::minutes(1);
        const std::string line = std::string("qcc: log file ") + path_ + ": " + what + ": " +
                                 std::strerror(errno) + " (writing to stderr meanwhile)\n";
        write_all(STDERR_FILENO, line);
    }

    std::string path_;
    std::size_t max_bytes_, files_;
    int fd_ = -1;
    std::size_t size_ = 0;
    std::string buffer_;
    std::chrono::steady_clock::time_point next_reopen_{}, next_report_{};
};

}  // namespace

bool json_format() { return g_json.load(std::memory_order_relaxed); }

bool LogThrottle::allow(std::uint64_t* suppressed) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto next = next_ns_.load(std::memory_order_relaxed);
    if (now < next || !next_ns_.compare_exchange_strong(next, now + interval_ns_)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    const auto held = dropped_.exchange(0, std::memory_order_relaxed);
    if (suppressed != nullptr) *suppressed = held;
    return true;
}

std::string escape_control(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

void init(std::string_view level, std::string_view format, const std::string& file) {
    // Asynchronous: a worker thread formats and writes; a full queue overwrites the oldest
    // message instead of blocking an I/O thread.
    spdlog::init_thread_pool(8192, 1, [] {
        sys::name_thread("qcc-log");
        sys::set_thread_priority(sys::ThreadPriority::kBatch);
    });
    std::shared_ptr<spdlog::logger> logger;
    if (file.empty()) {
        logger = spdlog::create_async_nb<spdlog::sinks::stderr_color_sink_mt>("qcc");
    } else {
        constexpr std::size_t kFileBytes = 10u << 20;
        constexpr std::size_t kFiles = 5;
        logger = spdlog::create_async_nb<RotatingFileSink>("qcc", file, kFileBytes, kFiles);
    }
    g_json = format == "json";
    if (g_json) {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        logger->set_formatter(std::make_unique<TextFormatter>());
    }
    logger->set_level(spdlog::level::from_str(std::string(level)));
    // Lines reach the file within a second, and warnings at once.
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
}

}  // namespace qcc::log
