// The SQL connection SqlStore runs on, whatever the engine: cached prepared statements, typed
// binding and reading, transactions and the error messages that name the database. SQLite
// (store/sqlite) and PostgreSQL (store/postgres) implement it; the store's queries are written
// once, in the SQL both engines accept (numbered parameters ?1…, ON CONFLICT upserts); where
// they differ (locking reads, the id of an inserted row) the Db says what to write.
// Internal to the store module.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "store/change_listener.hpp"

namespace qcc::store::sql {

/// Unix milliseconds on the system clock.
std::int64_t now_ms();

/// One prepared statement of a Db. Parameters are numbered from 1, columns from 0. Reading NULL
/// gives 0 / "" / an empty view.
class Statement {
  public:
    virtual ~Statement() = default;
    virtual void bind_text(int index, std::string_view value) = 0;
    virtual void bind_int(int index, std::int64_t value) = 0;
    virtual void bind_real(int index, double value) = 0;
    virtual void bind_blob(int index, std::string_view value) = 0;
    virtual void bind_null(int index) = 0;
    /// bind_text for bytes that stay valid and unchanged until the statement is reset: an
    /// engine may use them in place instead of copying them (SQLite's SQLITE_STATIC).
    virtual void bind_text_in_place(int index, std::string_view value) { bind_text(index, value); }
    /// Runs the statement on the first call; true while a row is available.
    virtual bool step() = 0;
    virtual std::string text(int column) const = 0;
    virtual std::int64_t integer(int column) const = 0;
    virtual double real(int column) const = 0;
    /// The column's bytes (BLOB/BYTEA decoded, or TEXT), valid until the next step or reset.
    virtual std::string_view bytes(int column) const = 0;
    virtual bool is_null(int column) const = 0;
    /// Ready to be bound and run again; parameters unbound.
    virtual void reset() = 0;
};

/// A connection. Callers hold mu() around any use (one connection, one user at a time).
class Db {
  public:
    virtual ~Db() = default;

    std::mutex& mu() { return mu_; }
    /// A new connection to the same database, or null where the engine gains nothing from one.
    virtual std::unique_ptr<Db> connect_again() const { return nullptr; }
    /// What error messages call the database: "sqlite store <path>", "postgres store <url
    /// without password>".
    virtual const std::string& label() const = 0;
    /// The file of an SQLite database ("" for PostgreSQL); ":memory:" for a private one.
    virtual const std::string& path() const = 0;
    virtual bool in_memory() const { return false; }

    /// Runs SQL text without results; throws on failure.
    virtual void exec(const char* sql) = 0;
    /// The statement for `sql`, prepared once and cached by its text.
    virtual Statement& prepare(const std::string& sql) = 0;
    /// Rows changed by the last INSERT/UPDATE/DELETE.
    virtual std::int64_t changes() const = 0;

    /// A write transaction (taking the write lock up front where the engine has one).
    virtual void begin_write() = 0;
    /// A read transaction: several SELECTs see one snapshot.
    virtual void begin_read() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;
    virtual void end_read() noexcept = 0;

    /// " FOR UPDATE" where rows read in a write transaction must be locked (PostgreSQL, where
    /// writers run concurrently); "" where the write transaction already excludes other writers.
    virtual const char* for_update() const = 0;
    /// What ends an INSERT whose new ids run_insert() reads: " RETURNING id" (PostgreSQL), ""
    /// (SQLite, whose RETURNING builds a temporary table per statement: most of an insert's cost).
    virtual const char* returning_id() const = 0;
    /// How many rows one INSERT may carry when their ids are needed: SQLite assigns consecutive
    /// rowids in VALUES order; PostgreSQL does not promise the order of RETURNING rows, so one.
    virtual std::size_t rows_per_insert() const = 0;
    /// Runs an INSERT of `rows` rows (VALUES in that order) whose text ends with returning_id()
    /// and appends the new rows' ids to `ids`, in the order of the VALUES.
    virtual void run_insert(Statement& insert, std::size_t rows,
                            std::vector<std::int64_t>& ids) = 0;
    /// Hands free pages back after a cleanup where the engine needs to be asked.
    virtual void reclaim_space() {}
    /// Tells the other processes sharing the database that shared data changed (delivered when
    /// the caller's transaction commits). A no-op where nothing listens (SQLite).
    virtual void announce_change() {}
    /// A listener for those announcements, on a connection of its own; null where there are none.
    virtual std::unique_ptr<ChangeListener> change_listener() const { return nullptr; }

    /// Throws std::runtime_error "<label>: <what>: <engine message>".
    [[noreturn]] virtual void fail(std::string_view what) const = 0;
    /// Throws std::runtime_error "<label>: <what>" (bad data, not an engine error).
    [[noreturn]] void fail_data(const std::string& what) const;
    /// Bumps the configuration change counter (inside the caller's transaction) and announces it.
    void bump_version();

  private:
    std::mutex mu_;
};

/// A cached prepared statement in use: reset and unbound when the Query goes out of scope.
class Query {
  public:
    Query(Db& db, const std::string& sql) : stmt_(db.prepare(sql)) {}
    ~Query() { stmt_.reset(); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& bind_text(int index, std::string_view value) {
        stmt_.bind_text(index, value);
        return *this;
    }
    Query& bind_int(int index, std::int64_t value) {
        stmt_.bind_int(index, value);
        return *this;
    }
    Query& bind_real(int index, double value) {
        stmt_.bind_real(index, value);
        return *this;
    }
    Query& bind_blob(int index, std::string_view value) {
        stmt_.bind_blob(index, value);
        return *this;
    }
    /// Binds NULL for the empty string / 0 / nullopt (the schema's "unset").
    Query& bind_blob_or_null(int index, std::string_view value);
    Query& bind_int_or_null(int index, std::int64_t value);
    Query& bind_text_or_null(int index, std::string_view value);
    /// bind_text_or_null for bytes that outlive the statement's next reset (see
    /// Statement::bind_text_in_place): the request log's batch rows.
    Query& bind_text_in_place_or_null(int index, std::string_view value);
    Query& bind_millis(int index, const std::optional<config::Millis>& value);
    /// True when a row is available; false when the statement is done.
    bool step() { return stmt_.step(); }
    void run() {
        while (step()) {
        }
    }
    /// Runs an INSERT of `rows` rows ending with Db::returning_id(); appends their ids to `ids`.
    void insert_rows(Db& db, std::size_t rows, std::vector<std::int64_t>& ids) {
        db.run_insert(stmt_, rows, ids);
    }
    std::string text(int column) const { return stmt_.text(column); }
    std::int64_t integer(int column) const { return stmt_.integer(column); }
    double real(int column) const { return stmt_.real(column); }
    std::string_view bytes(int column) const { return stmt_.bytes(column); }
    bool is_null(int column) const { return stmt_.is_null(column); }
    /// Makes the statement ready to be bound and run again (batches reuse one statement).
    void reset() { stmt_.reset(); }

  private:
    Statement& stmt_;
};

/// A write transaction; rolls back unless committed.
class Transaction {
  public:
    explicit Transaction(Db& db) : db_(db) { db_.begin_write(); }
    ~Transaction() {
        if (!done_) db_.rollback();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        db_.commit();
        done_ = true;
    }

  private:
    Db& db_;
    bool done_ = false;
};

/// A read transaction: several SELECTs see one snapshot of the database.
class ReadTransaction {
  public:
    explicit ReadTransaction(Db& db) : db_(db) { db_.begin_read(); }
    ~ReadTransaction() { db_.end_read(); }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

  private:
    Db& db_;
};

}  // namespace qcc::store::sql
