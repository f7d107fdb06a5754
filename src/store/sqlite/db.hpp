// One SQLite connection shared by the parts of SqliteStore: cached prepared statements, typed
// binding and reading, transactions, the schema migrations, and the error messages that name the
// file. Internal to the store module.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

#include "config/config.hpp"

namespace qcc::store::sqlite {

/// Unix milliseconds on the system clock.
std::int64_t now_ms();

/// The connection. Callers hold mu() around any use (one connection, one user at a time).
class Db {
  public:
    /// Opens `path` (":memory:" for a private in-memory database): a new file's directories are
    /// made 0700 and the file 0600; WAL, synchronous=NORMAL, busy timeout 5 s, the qcc_hist_merge
    /// SQL function, then every pending migration. Throws std::runtime_error naming the path.
    explicit Db(std::string path);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    std::mutex& mu() { return mu_; }
    const std::string& path() const { return path_; }
    bool in_memory() const;
    sqlite3* handle() const { return db_; }
    /// Rows changed by the last statement.
    std::int64_t changes() const { return sqlite3_changes64(db_); }
    std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

    /// Runs SQL text without results; throws on failure.
    void exec(const char* sql);
    /// The statement for `sql`, prepared once and cached by its text.
    sqlite3_stmt* prepare(const std::string& sql);
    /// Throws std::runtime_error "sqlite store <path>: <what>: <sqlite message>".
    [[noreturn]] void fail(std::string_view what) const;
    /// Throws std::runtime_error "sqlite store <path>: <what>" (bad data, not a SQLite error).
    [[noreturn]] void fail_data(const std::string& what) const;
    /// Bumps the configuration change counter (inside the caller's transaction).
    void bump_version();

  private:
    std::int64_t schema_version();
    void migrate();

    std::string path_;
    sqlite3* db_ = nullptr;
    std::mutex mu_;
    struct StmtDeleter {
        void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
    };
    std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StmtDeleter>> stmts_;
};

/// A cached prepared statement in use: reset and unbound when the Query goes out of scope.
class Query {
  public:
    Query(Db& db, const std::string& sql) : db_(db), stmt_(db.prepare(sql)) {}
    ~Query() { reset(); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& bind_text(int index, std::string_view value);
    Query& bind_int(int index, std::int64_t value);
    Query& bind_real(int index, double value);
    Query& bind_blob(int index, std::string_view value);
    /// Binds NULL for the empty string / 0 / nullopt (the schema's "unset").
    Query& bind_blob_or_null(int index, std::string_view value);
    Query& bind_int_or_null(int index, std::int64_t value);
    Query& bind_text_or_null(int index, std::string_view value);
    Query& bind_millis(int index, const std::optional<config::Millis>& value);
    /// True when a row is available; false when the statement is done.
    bool step();
    void run() {
        while (step()) {
        }
    }
    std::string text(int column) const;
    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    double real(int column) const { return sqlite3_column_double(stmt_, column); }
    /// The column's bytes as stored (BLOB or TEXT), valid until the next step or reset.
    std::string_view bytes(int column) const;
    bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
    /// Makes the statement ready to be bound and run again (batches reuse one statement).
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

  private:
    void check(int rc) {
        if (rc != SQLITE_OK) db_.fail("bind");
    }
    Db& db_;
    sqlite3_stmt* stmt_;
};

/// BEGIN IMMEDIATE takes the write lock up front so two processes never deadlock upgrading read
/// transactions; busy_timeout makes the loser wait instead of failing. Rolls back unless committed.
class Transaction {
  public:
    explicit Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
    ~Transaction() {
        if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        db_.exec("COMMIT");
        done_ = true;
    }

  private:
    Db& db_;
    bool done_ = false;
};

/// A deferred read transaction: several SELECTs see one snapshot of the database.
class ReadTransaction {
  public:
    explicit ReadTransaction(Db& db) : db_(db) { db_.exec("BEGIN"); }
    ~ReadTransaction() { sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr); }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

  private:
    Db& db_;
};

}  // namespace qcc::store::sqlite
