#include "store/postgres/pg_db.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include <poll.h>
#include <spdlog/spdlog.h>

#include "store/sql/sql_store.hpp"
#include "store/store.hpp"

namespace qcc::store {

namespace {

constexpr unsigned kByteaOid = 17;
constexpr unsigned kBoolOid = 16;
// Held while migrating, so that instances starting together migrate one at a time.
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(7158342113)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(7158342113)";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// libpq's messages span lines ("…failed: X\n\tIs the server running…\n"): one line here.
std::string one_line(const char* message) {
    std::string out;
    bool space = false;
    for (const char* p = message != nullptr ? message : ""; *p != '\0'; ++p) {
        const char c = *p;
        if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

void ignore_notice(void*, const char*) {}

// The URL with connect_timeout=`seconds` unless it sets one.
std::string with_connect_timeout(std::string conninfo, int seconds) {
    if (conninfo.find("connect_timeout=") == std::string::npos) {
        conninfo += conninfo.find('?') == std::string::npos ? "?" : "&";
        conninfo += "connect_timeout=" + std::to_string(seconds);
    }
    return conninfo;
}

// The channel instances announce configuration changes and endpoint signals on.
constexpr const char* kChangeChannel = "qcc_changes";

// LISTEN on a connection of its own; reconnects (at most once a second) after losing it.
class PgChangeListener final : public ChangeListener {
  public:
    PgChangeListener(std::string url, std::string label)
        : url_(std::move(url)), label_(std::move(label)) {
        if (!connect()) throw std::runtime_error(label_ + ": cannot listen: " + error_);
    }
    ~PgChangeListener() override { close(); }
    PgChangeListener(const PgChangeListener&) = delete;
    PgChangeListener& operator=(const PgChangeListener&) = delete;

    bool wait(std::chrono::milliseconds timeout) override {
        if (conn_ == nullptr) {
            const auto now = std::chrono::steady_clock::now();
            if (now < next_attempt_) {
                std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
                    timeout, next_attempt_ - now));  // a bounded wait, like poll() below
                return false;
            }
            next_attempt_ = now + std::chrono::seconds(1);
            if (!connect()) return false;
            spdlog::info("{}: listening for changes again", label_);
            lost_ = false;
            return true;  // announcements made while disconnected were missed
        }
        pollfd p{PQsocket(conn_), POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready <= 0) return false;  // timeout, or EINTR
        if (PQconsumeInput(conn_) == 0) {
            if (!lost_) {
                spdlog::warn("{}: change announcements lost ({}); polling until reconnected",
                             label_, one_line(PQerrorMessage(conn_)));
            }
            lost_ = true;
            close();
            next_attempt_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            return false;
        }
        bool any = false;
        while (PGnotify* n = PQnotifies(conn_)) {
            any = true;
            PQfreemem(n);
        }
        return any;
    }

  private:
    bool connect() {
        close();
        // Short: a listener that cannot connect only delays changes until the next poll.
        conn_ = PQconnectdb(with_connect_timeout(url_, 2).c_str());
        if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
            error_ = conn_ != nullptr ? one_line(PQerrorMessage(conn_)) : "out of memory";
            close();
            return false;
        }
        PQsetNoticeProcessor(conn_, &ignore_notice, nullptr);
        PGresult* r = PQexec(conn_, (std::string("LISTEN ") + kChangeChannel).c_str());
        const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            error_ = one_line(PQerrorMessage(conn_));
            close();
            return false;
        }
        return true;
    }
    void close() {
        if (conn_ != nullptr) PQfinish(conn_);
        conn_ = nullptr;
    }

    std::string url_;
    std::string label_;
    std::string error_;
    PGconn* conn_ = nullptr;
    std::chrono::steady_clock::time_point next_attempt_{};
    bool lost_ = false;  // the loss was logged; the reconnect is logged once
};

// "?N" parameters (outside quoted text) become PostgreSQL's "$N".
std::string to_dollar_params(const std::string& sql) {
    std::string out;
    out.reserve(sql.size());
    char quote = 0;
    for (char c : sql) {
        if (quote != 0) {
            if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '?') {
            c = '$';
        }
        out += c;
    }
    return out;
}

}  // namespace

bool is_postgres_url(std::string_view location) {
    return location.starts_with("postgres://") || location.starts_with("postgresql://");
}

std::string redact_url(std::string_view url) {
    std::string out(url);
    // postgres://user:password@host → postgres://user:***@host
    const auto scheme = out.find("://");
    if (scheme != std::string::npos) {
        const auto at = out.find('@', scheme + 3);
        const auto slash = out.find('/', scheme + 3);
        if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
            const auto colon = out.find(':', scheme + 3);
            if (colon != std::string::npos && colon < at) {
                out.replace(colon + 1, at - colon - 1, "***");
            }
        }
    }
    // …?password=secret&… → …?password=***&…
    for (std::size_t pos = out.find("password="); pos != std::string::npos;
         pos = out.find("password=", pos + 1)) {
        const auto start = pos + 9;
        auto end = out.find('&', start);
        if (end == std::string::npos) end = out.size();
        out.replace(start, end - start, "***");
    }
    return out;
}

namespace postgres {

namespace {

// One prepared statement: parameters collected as text, executed at the first step().
class PgStatement final : public sql::Statement {
  public:
    PgStatement(PgDb& db, std::string sql) : db_(db), sql_(to_dollar_params(sql)) {}
    ~PgStatement() override { clear(); }
    PgStatement(const PgStatement&) = delete;
    PgStatement& operator=(const PgStatement&) = delete;

    void bind_text(int index, std::string_view value) override { slot(index) = std::string(value); }
    void bind_int(int index, std::int64_t value) override { slot(index) = std::to_string(value); }
    void bind_real(int index, double value) override {
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, value);  // shortest round-trip form
        slot(index) = std::string(buf, r.ptr);
    }
    void bind_blob(int index, std::string_view value) override {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string hex = "\\x";
        hex.reserve(2 + value.size() * 2);
        for (const char c : value) {
            const auto b = static_cast<unsigned char>(c);
            hex += kHex[b >> 4];
            hex += kHex[b & 15];
        }
        slot(index) = std::move(hex);
    }
    void bind_null(int index) override { slot(index).reset(); }

    bool step() override {
        if (result_ == nullptr) {
            execute();
            row_ = 0;
        } else {
            ++row_;
        }
        return row_ < PQntuples(result_);
    }
    std::string text(int column) const override {
        if (is_null(column)) return {};
        return std::string(value(column));
    }
    std::int64_t integer(int column) const override {
        if (is_null(column)) return 0;
        const auto v = value(column);
        if (PQftype(result_, column) == kBoolOid) return v == "t" ? 1 : 0;
        std::int64_t out = 0;
        // NUMERIC sums print as integers; a fraction (an average) is cut at the point.
        std::from_chars(v.data(), v.data() + v.size(), out);
        return out;
    }
    double real(int column) const override {
        if (is_null(column)) return 0;
        return std::strtod(std::string(value(column)).c_str(), nullptr);
    }
    std::string_view bytes(int column) const override {
        if (is_null(column)) return {};
        const auto v = value(column);
        if (PQftype(result_, column) != kByteaOid) return v;
        // BYTEA arrives in hex form: \x0a1b…
        auto& decoded = decoded_[column];
        decoded.clear();
        if (v.size() < 2 || v[0] != '\\' || v[1] != 'x') db_.fail_data("unexpected BYTEA form");
        decoded.reserve((v.size() - 2) / 2);
        for (std::size_t i = 2; i + 1 < v.size(); i += 2) {
            const int hi = hex_value(v[i]), lo = hex_value(v[i + 1]);
            if (hi < 0 || lo < 0) db_.fail_data("malformed BYTEA value");
            decoded += static_cast<char>(hi * 16 + lo);
        }
        return decoded;
    }
    bool is_null(int column) const override {
        return result_ == nullptr || PQgetisnull(result_, row_, column) != 0;
    }
    void reset() override {
        clear();
        params_.clear();
    }

  private:
    std::optional<std::string>& slot(int index) {
        const auto i = static_cast<std::size_t>(index - 1);
        if (params_.size() <= i) params_.resize(i + 1);
        return params_[i];
    }
    std::string_view value(int column) const {
        return std::string_view(PQgetvalue(result_, row_, column),
                                static_cast<std::size_t>(PQgetlength(result_, row_, column)));
    }
    void clear() {
        if (result_ != nullptr) PQclear(result_);
        result_ = nullptr;
        decoded_.clear();
    }
    void execute() {
        if (!db_.in_transaction()) db_.ensure_connected();
        if (prepared_generation_ != db_.generation() || name_.empty()) {
            name_ = db_.next_statement_name();
            PGresult* r = PQprepare(db_.conn(), name_.c_str(), sql_.c_str(), 0, nullptr);
            const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
            if (!ok) {
                name_.clear();
                db_.fail("prepare");
            }
            prepared_generation_ = db_.generation();
        }
        std::vector<const char*> values(params_.size());
        for (std::size_t i = 0; i < params_.size(); ++i) {
            values[i] = params_[i] ? params_[i]->c_str() : nullptr;
        }
        result_ = PQexecPrepared(db_.conn(), name_.c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0);
        const auto status = result_ != nullptr ? PQresultStatus(result_) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            const std::string message = one_line(result_ != nullptr ? PQresultErrorMessage(result_)
                                                                    : PQerrorMessage(db_.conn()));
            clear();
            throw std::runtime_error(db_.label() + ": " + message);
        }
        const char* tuples = PQcmdTuples(result_);
        db_.set_changes(tuples != nullptr && *tuples != '\0' ? std::atoll(tuples) : 0);
    }

    PgDb& db_;
    std::string sql_;
    std::string name_;
    std::uint64_t prepared_generation_ = 0;
    std::vector<std::optional<std::string>> params_;
    PGresult* result_ = nullptr;
    int row_ = 0;
    mutable std::unordered_map<int, std::string> decoded_;
};

}  // namespace

PgDb::PgDb(const std::string& url) : url_(url), label_("postgres store " + redact_url(url)) {
    try {
        connect();
        migrate();
    } catch (...) {  // no destructor runs for a constructor that throws
        stmts_.clear();
        if (conn_ != nullptr) PQfinish(conn_);
        conn_ = nullptr;
        throw;
    }
}

PgDb::~PgDb() {
    stmts_.clear();
    if (conn_ != nullptr) PQfinish(conn_);
}

void PgDb::connect() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = PQconnectdb(with_connect_timeout(url_, 10).c_str());
    if (conn_ == nullptr) throw std::runtime_error(label_ + ": cannot connect: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
        const std::string message = one_line(PQerrorMessage(conn_));
        PQfinish(conn_);
        conn_ = nullptr;  // the next call connects again
        throw std::runtime_error(label_ + ": cannot connect: " + message);
    }
    PQsetNoticeProcessor(conn_, &ignore_notice, nullptr);
    ++generation_;
    // A server that stops answering must not hold the store (and its callers) forever.
    exec("SET statement_timeout = '60s'");
}

void PgDb::ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    // Logged once per outage; callers report their own failures (rate-limited).
    if (!reconnecting_) spdlog::warn("{}: connection lost, reconnecting", label_);
    reconnecting_ = true;
    connect();
    reconnecting_ = false;
    spdlog::info("{}: reconnected", label_);
}

void PgDb::fail(std::string_view what) const {
    throw std::runtime_error(label_ + ": " + std::string(what) + ": " +
                             one_line(PQerrorMessage(conn_)));
}

void PgDb::announce_change() { exec((std::string("NOTIFY ") + kChangeChannel).c_str()); }

std::unique_ptr<ChangeListener> PgDb::change_listener() const {
    return std::make_unique<PgChangeListener>(url_, label_);
}

void PgDb::exec(const char* sql) {
    PGresult* r = PQexec(conn_, sql);
    const auto status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    PQclear(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(sql);
}

void PgDb::run_insert(sql::Statement& insert, std::size_t rows, std::vector<std::int64_t>& ids) {
    std::size_t got = 0;
    while (insert.step()) {
        ids.push_back(insert.integer(0));
        ++got;
    }
    if (got != rows)
        fail_data("insert returned " + std::to_string(got) + " ids for " + std::to_string(rows) +
                  " rows");
}

sql::Statement& PgDb::prepare(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return *it->second;
    return *stmts_.emplace(sql, std::make_unique<PgStatement>(*this, sql)).first->second;
}

void PgDb::begin_write() {
    ensure_connected();
    exec("BEGIN");
    in_transaction_ = true;
}

void PgDb::begin_read() {
    ensure_connected();
    exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    in_transaction_ = true;
}

void PgDb::commit() {
    in_transaction_ = false;
    exec("COMMIT");
}

void PgDb::rollback() noexcept {
    in_transaction_ = false;
    PQclear(PQexec(conn_, "ROLLBACK"));
}

void PgDb::end_read() noexcept {
    in_transaction_ = false;
    PQclear(PQexec(conn_, "COMMIT"));
}

std::int64_t PgDb::schema_version() {
    sql::Query q(*this, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    q.step();
    return q.integer(0);
}

void PgDb::migrate() {
    exec(kMigrationLock);
    try {
        exec(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)");
        const auto all = pg_migrations();
        const std::int64_t latest = all.back().version;
        const std::int64_t version = schema_version();
        if (version > latest) {
            throw std::runtime_error(label_ + ": schema version " + std::to_string(version) +
                                     " is newer than this build supports (" +
                                     std::to_string(latest) + ")");
        }
        for (const auto& m : all) {
            if (m.version <= version) continue;
            sql::Transaction tx(*this);
            const std::string text(m.sql);
            exec(text.c_str());
            sql::Query q(*this, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)");
            q.bind_int(1, m.version).bind_int(2, sql::now_ms()).run();
            tx.commit();
        }
    } catch (...) {
        PQclear(PQexec(conn_, kMigrationUnlock));
        throw;
    }
    exec(kMigrationUnlock);
}

}  // namespace postgres

std::unique_ptr<Store> open_postgres(const std::string& url, const StoreOptions& options) {
    const std::string what = "postgres store " + redact_url(url);
    sql::check_bounds(what, options);
    if (!options.secrets) {
        throw std::invalid_argument(what + ": needs the master key (options.secrets)");
    }
    return std::make_unique<sql::SqlStore>(std::make_unique<postgres::PgDb>(url), options);
}

}  // namespace qcc::store
