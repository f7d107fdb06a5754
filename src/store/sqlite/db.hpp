// The SQLite connection behind SqlStore: a file (or ":memory:") with WAL, the busy timeout and
// the SQLite schema migrations. Internal to the store module.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>

#include <sqlite3.h>

#include "store/sql/db.hpp"

namespace qcc::store::sqlite {

class SqliteDb final : public sql::Db {
  public:
    /// Opens `path` (":memory:" for a private in-memory database): a new file's directories are
    /// made 0700 and the file 0600; WAL, synchronous=NORMAL, busy timeout 5 s, then every pending
    /// migration. Throws std::runtime_error naming the path.
    explicit SqliteDb(std::string path);
    ~SqliteDb() override;
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;

    const std::string& label() const override { return label_; }
    const std::string& path() const override { return path_; }
    bool in_memory() const override;
    sqlite3* handle() const { return db_; }

    void exec(const char* sql) override;
    sql::Statement& prepare(const std::string& sql) override;
    std::int64_t changes() const override { return sqlite3_changes64(db_); }
    /// BEGIN IMMEDIATE takes the write lock up front so two processes never deadlock upgrading
    /// read transactions; the busy timeout makes the loser wait instead of failing.
    void begin_write() override { exec("BEGIN IMMEDIATE"); }
    void begin_read() override { exec("BEGIN"); }
    void commit() override { exec("COMMIT"); }
    void rollback() noexcept override;
    void end_read() noexcept override;
    const char* for_update() const override { return ""; }
    const char* returning_id() const override { return ""; }
    std::size_t rows_per_insert() const override { return 32; }  // 768 parameters
    void run_insert(sql::Statement& insert, std::size_t rows,
                    std::vector<std::int64_t>& ids) override;
    void reclaim_space() override;
    [[noreturn]] void fail(std::string_view what) const override;

  private:
    std::int64_t schema_version();
    void migrate();

    std::string path_;
    std::string label_;
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, std::unique_ptr<sql::Statement>> stmts_;
};

}  // namespace qcc::store::sqlite
