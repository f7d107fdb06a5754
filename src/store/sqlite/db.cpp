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

// ---- SqliteStatement ---------------------------------------------------------------------------

class SqliteStatement final : public sql::Statement {
  public:
    SqliteStatement(const SqliteDb& db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    ~SqliteStatement() override { sqlite3_finalize(stmt_); }
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    void bind_text(int index, std::string_view value) override {
        // A null data pointer would bind NULL instead of the empty string.
        const char* data = value.data() != nullptr ? value.data() : "";
        check(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    void bind_text_in_place(int index, std::string_view value) override {
        const char* data = value.data() != nullptr ? value.data() : "";
        check(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8));
    }
    void bind_int(int index, std::int64_t value) override {
        check(sqlite3_bind_int64(stmt_, index, value));
    }
    void bind_real(int index, double value) override {
        check(sqlite3_bind_double(stmt_, index, value));
    }
    void bind_blob(int index, std::string_view value) override {
        // A null data pointer would bind NULL instead of the empty blob.
        const char* data = value.data() != nullptr ? value.data() : "";
        check(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT));
    }
    void bind_null(int index) override { check(sqlite3_bind_null(stmt_, index)); }
    bool step() override {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        db_.fail("step");
    }
    std::string text(int column) const override {
        const auto* p = sqlite3_column_text(stmt_, column);
        const int n = sqlite3_column_bytes(stmt_, column);
        return p == nullptr
                   ? std::string()
                   : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    }
    std::int64_t integer(int column) const override { return sqlite3_column_int64(stmt_, column); }
    double real(int column) const override { return sqlite3_column_double(stmt_, column); }
    std::string_view bytes(int column) const override {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
        const int n = sqlite3_column_bytes(stmt_, column);
        return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(n));
    }
    bool is_null(int column) const override {
        return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
    }
    void reset() override {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

  private:
    void check(int rc) const {
        if (rc != SQLITE_OK) db_.fail("bind");
    }
    const SqliteDb& db_;
    sqlite3_stmt* stmt_;
};

}  // namespace

SqliteDb::SqliteDb(std::string path) : path_(std::move(path)), label_("sqlite store " + path_) {
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
        // Takes effect only while the file has no table yet (a new database): cleanup can then
        // hand free pages back with PRAGMA incremental_vacuum. Older files keep auto_vacuum=NONE
        // until someone runs VACUUM once.
        exec("PRAGMA auto_vacuum=INCREMENTAL");
        if (!memory) {
            sql::Query q(*this, "PRAGMA journal_mode=WAL");
            if (!q.step() || q.text(0) != "wal") {
                spdlog::warn("sqlite store {}: WAL journal unavailable, using the default", path_);
            }
        }
        exec("PRAGMA synchronous=NORMAL");
        // Statement journals (a multi-row INSERT keeps one, to undo itself alone) and temporary
        // tables stay in memory: on disk, SQLite wrote every page a 32-row INSERT touched to a
        // file under /var/tmp first, three quarters of the request-log writer's write calls.
        exec("PRAGMA temp_store=MEMORY");
        migrate();
    } catch (...) {
        stmts_.clear();
        sqlite3_close_v2(db_);
        throw;
    }
}

SqliteDb::~SqliteDb() {
    stmts_.clear();
    sqlite3_close_v2(db_);
}

bool SqliteDb::in_memory() const { return path_ == kMemory; }

void SqliteDb::fail(std::string_view what) const {
    throw std::runtime_error(label_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

void SqliteDb::exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
}

void SqliteDb::rollback() noexcept { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

void SqliteDb::end_read() noexcept { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }

// Hands free pages back (the file was created with auto_vacuum=INCREMENTAL).
void SqliteDb::reclaim_space() { exec("PRAGMA incremental_vacuum"); }

sql::Statement& SqliteDb::prepare(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return *it->second;
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
        fail("prepare");
    }
    return *stmts_.emplace(sql, std::make_unique<SqliteStatement>(*this, raw)).first->second;
}

void SqliteDb::run_insert(sql::Statement& insert, std::size_t rows,
                          std::vector<std::int64_t>& ids) {
    while (insert.step()) {
    }
    // The rows of one INSERT get consecutive rowids, in VALUES order: each new row takes the
    // largest rowid + 1 (no AUTOINCREMENT, and the write transaction excludes other writers).
    const std::int64_t last = sqlite3_last_insert_rowid(db_);
    const auto n = static_cast<std::int64_t>(rows);
    for (std::int64_t id = last - n + 1; id <= last; ++id) ids.push_back(id);
}

std::int64_t SqliteDb::schema_version() {
    sql::Query q(*this, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    q.step();
    return q.integer(0);
}

// One migration per transaction, re-reading the version under the write lock so two processes
// opening a fresh file at once apply each migration exactly once.
void SqliteDb::migrate() {
    exec(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const auto all = migrations();
    const auto latest = static_cast<std::int64_t>(all.size());
    if (schema_version() == latest) return;
    while (true) {
        sql::Transaction tx(*this);
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
        sql::Query q(*this, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)");
        q.bind_int(1, version + 1).bind_int(2, sql::now_ms()).run();
        tx.commit();
    }
}

}  // namespace qcc::store::sqlite
