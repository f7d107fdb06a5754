// The PostgreSQL connection behind SqlStore (libpq): statements prepared once per connection with
// the store's "?N" parameters rewritten to "$N", every value sent and read as text (BYTEA in hex
// form), a lost connection re-established at the next call outside a transaction, and the
// PostgreSQL schema migrations applied under an advisory lock so that several instances starting
// at once apply each exactly once. Internal to the store module.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include <libpq-fe.h>

#include "store/sql/db.hpp"

namespace qcc::store::postgres {

class PgDb final : public sql::Db {
  public:
    /// Connects (connect_timeout 10 s unless the URL sets one) and migrates. Throws
    /// std::runtime_error naming the server (never the password).
    explicit PgDb(const std::string& url);
    ~PgDb() override;
    PgDb(const PgDb&) = delete;
    PgDb& operator=(const PgDb&) = delete;

    const std::string& label() const override { return label_; }
    std::unique_ptr<sql::Db> connect_again() const override { return std::make_unique<PgDb>(url_); }
    const std::string& path() const override { return empty_; }

    void exec(const char* sql) override;
    sql::Statement& prepare(const std::string& sql) override;
    std::int64_t changes() const override { return changes_; }
    void begin_write() override;
    void begin_read() override;
    void commit() override;
    void rollback() noexcept override;
    void end_read() noexcept override;
    const char* for_update() const override { return " FOR UPDATE"; }
    const char* returning_id() const override { return " RETURNING id"; }
    std::size_t rows_per_insert() const override { return 1; }
    void run_insert(sql::Statement& insert, std::size_t rows,
                    std::vector<std::int64_t>& ids) override;
    void announce_change() override;
    std::unique_ptr<ChangeListener> change_listener() const override;
    [[noreturn]] void fail(std::string_view what) const override;

    // For PgStatement.
    PGconn* conn() const { return conn_; }
    /// Bumped whenever the connection is re-established: statements prepared before must be
    /// prepared again.
    std::uint64_t generation() const { return generation_; }
    std::string next_statement_name() { return "qcc_" + std::to_string(++statements_); }
    void set_changes(std::int64_t n) { changes_ = n; }
    /// Outside a transaction: reconnects when the connection was lost.
    void ensure_connected();
    bool in_transaction() const { return in_transaction_; }

  private:
    void connect();
    void migrate();
    std::int64_t schema_version();

    std::string url_;
    std::string label_;
    std::string empty_;
    PGconn* conn_ = nullptr;
    std::uint64_t generation_ = 0;
    std::uint64_t statements_ = 0;
    std::int64_t changes_ = 0;
    bool in_transaction_ = false;
    bool reconnecting_ = false;  // a reconnect failed: the next attempt is not logged again
    std::unordered_map<std::string, std::unique_ptr<sql::Statement>> stmts_;
};

/// The PostgreSQL schema migrations: (version, SQL) in order. Versions follow the SQLite schema's
/// numbering; the first brings a new database straight to that version.
struct PgMigration {
    std::int64_t version;
    std::string_view sql;
};
std::span<const PgMigration> pg_migrations();

}  // namespace qcc::store::postgres
