#include "common/log.hpp"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <spdlog/sinks/sink.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/quoted.hpp"
#include "common/system.hpp"

namespace qcc::log {

namespace {

std::atomic<bool> g_json{false};

/// "2026-11-27 10:15:03." (text, local time) or "2026-11-27T10:15:03." (JSON, UTC) for the
/// second of `t`, cached per thread: a line costs a lookup, not a localtime_r and a snprintf.
class SecondPrefix {
  public:
    explicit SecondPrefix(bool utc) : utc_(utc) {}
    std::string_view get(std::time_t t) {
        if (t != second_ || len_ == 0) {
            std::tm tm{};
            if (utc_) {
                gmtime_r(&t, &tm);
            } else {
                localtime_r(&t, &tm);
            }
            const auto n = std::snprintf(text_, sizeof text_, "%04d-%02d-%02d%c%02d:%02d:%02d.",
                                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                         utc_ ? 'T' : ' ', tm.tm_hour, tm.tm_min, tm.tm_sec);
            len_ = n > 0 ? static_cast<std::size_t>(n) : 0;
            second_ = t;
        }
        return {text_, len_};
    }

  private:
    bool utc_;
    std::time_t second_ = 0;
    char text_[48] = {};
    std::size_t len_ = 0;
};

void append_millis(std::string& out, int ms) {
    out += static_cast<char>('0' + ms / 100);
    out += static_cast<char>('0' + ms / 10 % 10);
    out += static_cast<char>('0' + ms % 10);
}

void append_timestamp(std::string& out, spdlog::log_clock::time_point time, bool utc) {
    thread_local SecondPrefix local(false), universal(true);
    const auto since = time.time_since_epoch();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
    out += (utc ? universal : local).get(static_cast<std::time_t>(secs.count()));
    append_millis(out,
                  static_cast<int>(
                      std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count()));
}

/// "2026-11-27 10:15:03.123 info  message": the text format, with control characters in the
/// message escaped (a model name or session id from a request cannot forge a line).
void format_text(const spdlog::details::log_msg& msg, std::string& out) {
    append_timestamp(out, msg.time, false);
    out += ' ';
    const auto level = spdlog::level::to_string_view(msg.level);
    out.append(level.data(), level.size());
    for (auto n = level.size(); n < 5; ++n) out += ' ';
    out += ' ';
    append_escaped(out, std::string_view(msg.payload.data(), msg.payload.size()));
    out += '\n';
}

/// {"ts":"2026-11-27T10:15:03.123Z","level":"info","msg":"..."} — or the message's own fields
/// when the message is a JSON object.
void format_json(const spdlog::details::log_msg& msg, std::string& out) {
    out += R"({"ts":")";
    append_timestamp(out, msg.time, true);
    out += R"(Z","level":")";
    const auto level = spdlog::level::to_string_view(msg.level);
    out.append(level.data(), level.size());
    out += "\",";
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (payload.size() >= 2 && payload.front() == '{' && payload.back() == '}') {
        out.append(payload.substr(1, payload.size() - 2));
    } else {
        out += "\"msg\":";
        append_quoted(out, payload);
    }
    out += "}\n";
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// The one sink: lines are formatted on the calling thread and appended whole to a shared buffer;
/// only the log thread writes them out, with one write(2) per flush — every 200 ms, and at once
/// when the buffer passes 64 KiB or holds a warning or an error. A thread that logs never waits
/// for the destination: when it stops accepting lines (a full pipe, a terminal paused with
/// Ctrl-S, a stuck disk), lines pile up to 8 MiB, then further lines are dropped and counted, and
/// the count is written where they were lost once the destination moves again. No thread is woken
/// per line and no line is cut in half. The destination is stderr, or a size-rotated file: when
/// the file cannot be written, opened or rotated, lines go to stderr and the problem is reported
/// there (once a minute) until a later attempt succeeds.
class LineSink final : public spdlog::sinks::sink {
  public:
    static constexpr std::size_t kFlushBytes = 64 * 1024;
    static constexpr std::size_t kMaxPendingBytes = 8u << 20;

    LineSink(bool json, std::string path, std::size_t max_bytes, std::size_t files)
        : json_(json), path_(std::move(path)), max_bytes_(max_bytes), files_(files) {
        if (!path_.empty() && !open_file()) {
            throw spdlog::spdlog_ex("cannot open " + path_ + ": " + std::strerror(errno));
        }
    }
    ~LineSink() override {
        write_pending();
        if (fd_ >= 0) ::close(fd_);
    }

    void log(const spdlog::details::log_msg& msg) override {
        thread_local std::string line;
        line.clear();
        if (json_) {
            format_json(msg, line);
        } else {
            format_text(msg, line);
        }
        bool wake = false;
        {
            std::lock_guard lock(mu_);
            if (pending_.size() + line.size() > kMaxPendingBytes) {
                ++dropped_;
                return;
            }
            pending_ += line;
            if (msg.level >= spdlog::level::warn) urgent_ = true;
            wake = urgent_ || pending_.size() >= kFlushBytes;
        }
        if (wake) wake_.notify_one();
    }
    /// Writes out what is buffered (the log thread, and shutdown). Blocks while the destination
    /// does; the threads that log never call it.
    void flush() override { write_pending(); }
    void set_pattern(const std::string&) override {}
    void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

    /// The log thread: writes the buffer out every 200 ms, or at once when woken, until stopped.
    void serve(const std::stop_token& stop) {
        while (!stop.stop_requested()) {
            {
                std::unique_lock lock(mu_);
                wake_.wait_for(lock, stop, std::chrono::milliseconds(200),
                               [&] { return urgent_ || pending_.size() >= kFlushBytes; });
            }
            write_pending();
        }
    }

  private:
    void write_pending() {
        std::lock_guard io(io_mu_);  // one writer at a time; the loggers only take mu_
        std::uint64_t dropped = 0;
        {
            std::lock_guard lock(mu_);
            writing_.swap(pending_);  // pending_ takes the emptied buffer and keeps its capacity
            dropped = std::exchange(dropped_, 0);
            urgent_ = false;
        }
        if (dropped > 0) {
            // Where they were lost: after everything buffered before the first dropped line.
            const std::string text = std::to_string(dropped) +
                                     " log line(s) dropped here: the log destination did not "
                                     "accept lines for a while";
            spdlog::details::log_msg note(spdlog::source_loc{}, "", spdlog::level::warn, text);
            note.time = spdlog::log_clock::now();
            if (json_) {
                format_json(note, writing_);
            } else {
                format_text(note, writing_);
            }
        }
        if (!writing_.empty()) write_out(writing_);
        writing_.clear();
    }

    void write_out(std::string_view data) {
        if (path_.empty()) {
            write_all(STDERR_FILENO, data);
            return;
        }
        if (fd_ < 0) reopen_if_due();
        if (fd_ >= 0 && size_ + data.size() > max_bytes_) rotate();
        if (fd_ >= 0 && write_all(fd_, data)) {
            size_ += data.size();
        } else {
            if (fd_ >= 0) report("cannot write");
            write_all(STDERR_FILENO, data);  // never lose the lines
        }
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

    const bool json_;
    // Guarded by mu_ (held only to append or to swap buffers, never during I/O).
    std::mutex mu_;
    std::condition_variable_any wake_;
    std::string pending_;
    std::uint64_t dropped_ = 0;
    bool urgent_ = false;
    // Guarded by io_mu_: the buffer being written and the destination's state.
    std::mutex io_mu_;
    std::string writing_;
    std::string path_;
    std::size_t max_bytes_, files_;
    int fd_ = -1;
    std::size_t size_ = 0;
    std::chrono::steady_clock::time_point next_reopen_{}, next_report_{};
};

/// Runs the sink's log thread (low priority) until destroyed.
class Flusher {
  public:
    explicit Flusher(std::shared_ptr<LineSink> sink)
        : sink_(std::move(sink)), thread_([this](const std::stop_token& stop) { run(stop); }) {}
    // The jthread's destructor requests the stop (which wakes the wait) and joins.

  private:
    void run(const std::stop_token& stop) {
        sys::name_thread("qcc-log");
        sys::set_thread_priority(sys::ThreadPriority::kBatch);
        sink_->serve(stop);
    }

    std::shared_ptr<LineSink> sink_;
    std::jthread thread_;  // last: starts after the members it uses exist
};

std::unique_ptr<Flusher>& flusher() {
    static std::unique_ptr<Flusher> instance;
    return instance;
}

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

namespace {

/// True when one of the 8 bytes of `w` is a control character (< 0x20) or DEL (0x7f). May also
/// be true next to such a byte (borrows), never when the word has none.
constexpr bool has_control(std::uint64_t w) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    const std::uint64_t del = w ^ (kOnes * 0x7f);
    const std::uint64_t is_del = (del - kOnes) & ~del & kHigh;
    return (below_space | is_del) != 0;
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        // Eight bytes at a time while they hold nothing to escape (the common case).
        if (i + 8 <= text.size()) {
            std::uint64_t w;
            std::memcpy(&w, text.data() + i, 8);
            if (!has_control(w)) {
                i += 8;
                continue;
            }
        }
        const auto u = static_cast<unsigned char>(text[i]);
        if (u >= 0x20 && u != 0x7f) {
            ++i;
            continue;
        }
        out.append(text.substr(start, i - start));
        out += "\\x";
        out += kHex[u >> 4];
        out += kHex[u & 0xf];
        start = ++i;
    }
    out.append(text.substr(start));
}

std::string escape_control(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_escaped(out, text);
    return out;
}

void init(std::string_view level, std::string_view format, const std::string& file) {
    // Synchronous logger, buffered sink: the calling thread formats its line and appends it to
    // the sink's buffer; the flusher writes the buffer out (see LineSink).
    constexpr std::size_t kFileBytes = 10u << 20;
    constexpr std::size_t kFiles = 5;
    g_json = format == "json";
    flusher().reset();
    auto sink = std::make_shared<LineSink>(g_json.load(), file, kFileBytes, kFiles);
    auto logger = std::make_shared<spdlog::logger>("qcc", sink);
    logger->set_level(spdlog::level::from_str(std::string(level)));
    // No flush_on(warn): the sink wakes its log thread for warnings, so a worker that warns never
    // writes (and never waits for the destination) itself.
    logger->flush_on(spdlog::level::off);
    spdlog::set_default_logger(logger);
    flusher() = std::make_unique<Flusher>(std::move(sink));
}

void shutdown() {
    flusher().reset();
    spdlog::default_logger_raw()->flush();
}

}  // namespace qcc::log
