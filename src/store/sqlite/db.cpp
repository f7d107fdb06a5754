#include "store/sqlite/db.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/latency_histogram.hpp"
#include "store/migrations.hpp"

namespace qcc::store::sqlite {

namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr std::string_view kMemory = ":memory:";

[[noreturn]] void fail_errno(const std::string& path, std::string_view what) {
    throw std::runtime_error("sqlite store " + path + ": " + std::string(what) + ": " +
                             std::strerror(errno));
}

// Creates the missing directories leading to the database with mode 0700; existing ones are left
// alone, they may be shared (e.g. /tmp).
void make_private_dirs(const std::filesystem::path& dir, const std::string& db_path) {
    std::vector<std::filesystem::path> missing;
    for (auto p = dir; !p.empty() && p != p.parent_path(); p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0) break;
        missing.push_back(p);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
            fail_errno(db_path, "cannot create directory " + it->string());
        }
        ::chmod(it->c_str(), 0700);  // mkdir's mode is filtered by the umask
    }
}

// Creates the file ourselves so it is 0600 from its first byte; SQLite gives its -wal and -shm
// files the same mode as the database.
void make_private_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno(path, "cannot create database file");
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) {
        spdlog::warn("sqlite store {}: cannot make the file private (mode {:o}): {}", path,
                     st.st_mode & 07777, std::strerror(errno));
    }
    ::close(fd);
}

// Merges two encoded LatencyHistograms: the roll-up UPSERT calls it as qcc_hist_merge(old, new).
void sql_hist_merge(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
    auto arg = [&](int i) {
        const auto* p = static_cast<const char*>(sqlite3_value_blob(argv[i]));
        const int n = sqlite3_value_bytes(argv[i]);
        return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
    };
    if (argc != 2) {
        sqlite3_result_error(ctx, "qcc_hist_merge takes 2 arguments", -1);
        return;
    }
    try {
        const auto merged = merge_encoded_histograms(arg(0), arg(1));
        if (!merged) {
            sqlite3_result_error(ctx, "malformed latency histogram", -1);
            return;
        }
        sqlite3_result_blob64(ctx, merged->data(), merged->size(), SQLITE_TRANSIENT);
    } catch (...) {
        sqlite3_result_error_nomem(ctx);
    }
}

}  // namespace

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Db::Db(std::string path) : path_(std::move(path)) {
    const bool memory = in_memory();
    if (!memory) {
        make_private_dirs(std::filesystem::path(path_).parent_path(), path_);
        make_private_file(path_);
    }
    const int rc =
        sqlite3_open_v2(path_.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        throw std::runtime_error("sqlite store " + path_ + ": cannot open: " + message);
    }
    try {
        sqlite3_busy_timeout(db_, kBusyTimeoutMs);
        if (sqlite3_create_function_v2(db_, "qcc_hist_merge", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                       nullptr, &sql_hist_merge, nullptr, nullptr,
                                       nullptr) != SQLITE_OK) {
            fail("register qcc_hist_merge");
        }
        // Takes effect only while the file has no table yet (a new database): cleanup can then
        // hand free pages back with PRAGMA incremental_vacuum. Older files keep auto_vacuum=NONE
        // until someone runs VACUUM once.
        exec("PRAGMA auto_vacuum=INCREMENTAL");
        if (!memory) {
            Query q(*this, "PRAGMA journal_mode=WAL");
            if (!q.step() || q.text(0) != "wal") {
                spdlog::warn("sqlite store {}: WAL journal unavailable, using the default", path_);
            }
        }
        exec("PRAGMA synchronous=NORMAL");
        migrate();
    } catch (...) {
        stmts_.clear();
        sqlite3_close_v2(db_);
        throw;
    }
}

Db::~Db() {
    stmts_.clear();
    sqlite3_close_v2(db_);
}

bool Db::in_memory() const { return path_ == kMemory; }

void Db::fail(std::string_view what) const {
    throw std::runtime_error("sqlite store " + path_ + ": " + std::string(what) + ": " +
                             sqlite3_errmsg(db_));
}

void Db::fail_data(const std::string& what) const {
    throw std::runtime_error("sqlite store " + path_ + ": " + what);
}

void Db::exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
}

sqlite3_stmt* Db::prepare(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
        fail("prepare");
    }
    return stmts_.emplace(sql, std::unique_ptr<sqlite3_stmt, StmtDeleter>(raw)).first->second.get();
}

void Db::bump_version() {
    Query q(*this, "UPDATE meta SET data_version = data_version + 1 WHERE id = 1");
    q.run();
}

std::int64_t Db::schema_version() {
    Query q(*this, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    q.step();
    return q.integer(0);
}

// One migration per transaction, re-reading the version under the write lock so two processes
// opening a fresh file at once apply each migration exactly once.
void Db::migrate() {
    exec(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const auto all = migrations();
    const auto latest = static_cast<std::int64_t>(all.size());
    if (schema_version() == latest) return;
    while (true) {
        Transaction tx(*this);
        const std::int64_t version = schema_version();
        if (version > latest) {
            throw std::runtime_error(
                "sqlite store " + path_ + ": schema version " + std::to_string(version) +
                " is newer than this build supports (" + std::to_string(latest) + ")");
        }
        if (version == latest) {
            tx.commit();
            return;
        }
        const std::string sql(all[static_cast<std::size_t>(version)]);
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
            fail("migration " + std::to_string(version + 1));
        }
        Query q(*this, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)");
        q.bind_int(1, version + 1).bind_int(2, now_ms()).run();
        tx.commit();
    }
}

// ---- Query ------------------------------------------------------------------------------------

Query& Query::bind_text(int index, std::string_view value) {
    // A null data pointer would bind NULL instead of the empty string.
    const char* data = value.data() != nullptr ? value.data() : "";
    check(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
}

Query& Query::bind_int(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
}

Query& Query::bind_real(int index, double value) {
    check(sqlite3_bind_double(stmt_, index, value));
    return *this;
}

Query& Query::bind_blob(int index, std::string_view value) {
    // A null data pointer would bind NULL instead of the empty blob.
    const char* data = value.data() != nullptr ? value.data() : "";
    check(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT));
    return *this;
}

Query& Query::bind_blob_or_null(int index, std::string_view value) {
    if (!value.empty()) return bind_blob(index, value);
    check(sqlite3_bind_null(stmt_, index));
    return *this;
}

Query& Query::bind_int_or_null(int index, std::int64_t value) {
    if (value != 0) return bind_int(index, value);
    check(sqlite3_bind_null(stmt_, index));
    return *this;
}

Query& Query::bind_text_or_null(int index, std::string_view value) {
    if (!value.empty()) return bind_text(index, value);
    check(sqlite3_bind_null(stmt_, index));
    return *this;
}

Query& Query::bind_millis(int index, const std::optional<config::Millis>& value) {
    if (value) return bind_int(index, value->count());
    check(sqlite3_bind_null(stmt_, index));
    return *this;
}

bool Query::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail("step");
}

std::string Query::text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    const int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

std::string_view Query::bytes(int column) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    const int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
}

}  // namespace qcc::store::sqlite
