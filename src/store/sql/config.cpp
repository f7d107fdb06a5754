// SqlStore, configuration part: endpoints (credentials sealed with the master key), client keys,
// settings and the change counter.
#include <filesystem>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "common/quoted.hpp"
#include "store/secret.hpp"
#include "store/sql/sql_store.hpp"

namespace qcc::store::sql {

namespace {

// Lists and maps are stored as JSON text so that SQL tools can read them (SQLite's json_each,
// PostgreSQL's json_each_text).
std::string encode_model_map(const std::vector<std::pair<std::string, std::string>>& map) {
    std::string out = "{";
    for (const auto& [from, to] : map) {
        if (out.size() > 1) out += ',';
        append_quoted(out, from);
        out += ':';
        append_quoted(out, to);
    }
    return out + "}";
}

std::string encode_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (const auto& tag : items) {
        if (out.size() > 1) out += ',';
        append_quoted(out, tag);
    }
    return out + "]";
}

// The JSON text of a column, parsed; fail_data() names the endpoint and column when it is not
// the expected shape.
boost::json::value parse_column(const Db& db, const std::string& text, const char* column) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec) db.fail_data(std::string("endpoints.") + column + " is not valid JSON");
    return v;
}

}  // namespace

void SqlStore::decode_model_map(const std::string& text,
                                std::vector<std::pair<std::string, std::string>>& out) const {
    const auto v = parse_column(db_, text, "model_map");
    if (!v.is_object()) db_.fail_data("endpoints.model_map is not a JSON object");
    for (const auto& [from, to] : v.as_object()) {
        if (!to.is_string()) db_.fail_data("endpoints.model_map has a value that is not a string");
        out.emplace_back(std::string(from), std::string(to.as_string()));
    }
}

void SqlStore::decode_list(const std::string& text, std::vector<std::string>& out) const {
    const auto v = parse_column(db_, text, "tags/models");
    if (!v.is_array()) db_.fail_data("endpoints: tags/models is not a JSON array");
    for (const auto& item : v.as_array()) {
        if (!item.is_string()) db_.fail_data("endpoints: tags/models has a non-string item");
        out.emplace_back(item.as_string());
    }
}

namespace {

constexpr const char* kEndpointColumns =
    "name, id, base_url, api_key, kind, auth, tier, weight, enabled, tls_verify, model_map, "
    "connect_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, tags, created_at, updated_at, "
    "models";

}  // namespace

std::vector<EndpointRecord> SqlStore::list_endpoints() {
    std::lock_guard lock(db_.mu());
    std::vector<EndpointRecord> out;
    Query q(db_, std::string("SELECT ") + kEndpointColumns + " FROM endpoints ORDER BY name");
    while (q.step()) out.push_back(read_endpoint(q));
    return out;
}

EndpointRecord SqlStore::upsert_endpoint(const config::EndpointConfig& e) {
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    std::optional<EndpointRecord> existing = find_endpoint(e.name);
    if (existing && existing->config == e) {
        tx.commit();
        return *existing;
    }
    EndpointRecord record;
    record.id = endpoint_id(e.base_url, e.api_key);
    record.config = e;
    record.updated_at = now_ms();
    record.created_at = existing ? existing->created_at : record.updated_at;
    Query q(db_, std::string("INSERT INTO endpoints (") + kEndpointColumns +
                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                     "?16, ?17, ?18) ON CONFLICT (name) DO UPDATE SET id = excluded.id, "
                     "base_url = excluded.base_url, api_key = excluded.api_key, "
                     "kind = excluded.kind, auth = excluded.auth, tier = excluded.tier, "
                     "weight = excluded.weight, enabled = excluded.enabled, "
                     "tls_verify = excluded.tls_verify, model_map = excluded.model_map, "
                     "connect_timeout_ms = excluded.connect_timeout_ms, "
                     "first_byte_timeout_ms = excluded.first_byte_timeout_ms, "
                     "idle_timeout_ms = excluded.idle_timeout_ms, tags = excluded.tags, "
                     "updated_at = excluded.updated_at, models = excluded.models");
    q.bind_text(1, e.name)
        .bind_text(2, record.id)
        .bind_text(3, e.base_url)
        .bind_text(4, secrets().seal(e.api_key))
        .bind_text(5, config::to_string(e.kind))
        .bind_text(6, config::to_string(e.auth))
        .bind_int(7, e.tier)
        .bind_int(8, e.weight)
        .bind_int(9, e.enabled ? 1 : 0)
        .bind_int(10, e.tls_verify ? 1 : 0)
        .bind_text(11, encode_model_map(e.model_map))
        .bind_millis(12, e.connect_timeout)
        .bind_millis(13, e.first_byte_timeout)
        .bind_millis(14, e.idle_timeout)
        .bind_text(15, encode_list(e.tags))
        .bind_int(16, record.created_at)
        .bind_int(17, record.updated_at)
        .bind_text(18, encode_list(e.models));
    q.run();
    db_.bump_version();
    tx.commit();
    return record;
}

bool SqlStore::remove_endpoint(std::string_view name) {
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    Query q(db_, "DELETE FROM endpoints WHERE name = ?1");
    q.bind_text(1, name).run();
    const bool removed = db_.changes() > 0;
    if (removed) db_.bump_version();
    tx.commit();
    return removed;
}

std::vector<ClientKeyRecord> SqlStore::list_client_keys() {
    std::lock_guard lock(db_.mu());
    std::vector<ClientKeyRecord> out;
    Query q(db_,
            "SELECT name, key_hash, prefix, created_at, revoked, limits FROM client_keys "
            "ORDER BY name");
    while (q.step()) {
        ClientKeyRecord r;
        r.name = q.text(0);
        r.key_hash = q.text(1);
        r.prefix = q.text(2);
        r.created_at = q.integer(3);
        r.revoked = q.integer(4) != 0;
        r.limits = q.text(5);
        out.push_back(std::move(r));
    }
    return out;
}

void SqlStore::upsert_client_key(std::string_view name, std::string_view key_hash,
                                 std::string_view prefix) {
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    // The WHERE makes re-declaring an unchanged, active key a no-op (no version bump).
    Query q(db_,
            "INSERT INTO client_keys (name, key_hash, prefix, created_at, revoked, revoked_at) "
            "VALUES (?1, ?2, ?3, ?4, 0, NULL) ON CONFLICT (name) DO UPDATE SET "
            "key_hash = excluded.key_hash, prefix = excluded.prefix, "
            "created_at = excluded.created_at, revoked = 0, revoked_at = NULL "
            "WHERE client_keys.key_hash <> excluded.key_hash "
            "OR client_keys.prefix <> excluded.prefix OR client_keys.revoked <> 0");
    q.bind_text(1, name).bind_text(2, key_hash).bind_text(3, prefix).bind_int(4, now_ms());
    q.run();
    if (db_.changes() > 0) db_.bump_version();
    tx.commit();
}

bool SqlStore::set_client_key_limits(std::string_view name, std::string_view limits_json) {
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    Query update(db_, "UPDATE client_keys SET limits = ?2 WHERE name = ?1 AND revoked = 0");
    update.bind_text(1, name).bind_text(2, limits_json).run();
    const bool found = db_.changes() > 0;
    if (found) db_.bump_version();
    tx.commit();
    return found;
}

bool SqlStore::revoke_client_key(std::string_view name) {
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    Query update(db_,
                 "UPDATE client_keys SET revoked = 1, revoked_at = ?2 "
                 "WHERE name = ?1 AND revoked = 0");
    update.bind_text(1, name).bind_int(2, now_ms()).run();
    bool found = db_.changes() > 0;
    if (found) {
        db_.bump_version();
    } else {
        Query exists(db_, "SELECT 1 FROM client_keys WHERE name = ?1");
        found = exists.bind_text(1, name).step();
    }
    tx.commit();
    return found;
}

std::optional<std::string> SqlStore::get_setting(std::string_view key) {
    std::lock_guard lock(db_.mu());
    Query q(db_, "SELECT value FROM settings WHERE key = ?1");
    if (!q.bind_text(1, key).step()) return std::nullopt;
    return q.text(0);
}

void SqlStore::set_setting(std::string_view key, std::string_view value) {
    std::lock_guard lock(db_.mu());
    Transaction tx(db_);
    Query q(db_,
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at WHERE settings.value <> excluded.value");
    q.bind_text(1, key).bind_text(2, value).bind_int(3, now_ms()).run();
    if (db_.changes() > 0) db_.bump_version();
    tx.commit();
}

std::int64_t SqlStore::data_version() {
    std::lock_guard lock(db_.mu());
    Query q(db_, "SELECT data_version FROM meta WHERE id = 1");
    if (!q.step()) db_.fail("meta row missing");
    return q.integer(0);
}

std::optional<EndpointRecord> SqlStore::find_endpoint(std::string_view name) {
    Query q(db_, std::string("SELECT ") + kEndpointColumns + " FROM endpoints WHERE name = ?1");
    if (!q.bind_text(1, name).step()) return std::nullopt;
    return read_endpoint(q);
}

EndpointRecord SqlStore::read_endpoint(const Query& q) {
    EndpointRecord r;
    auto& e = r.config;
    e.name = q.text(0);
    r.id = q.text(1);
    e.base_url = q.text(2);
    e.api_key = secrets().open(q.text(3));
    const auto kind = config::parse_endpoint_kind(q.text(4));
    const auto auth = config::parse_auth_mode(q.text(5));
    if (!kind || !auth) db_.fail_data("endpoint " + e.name + " has an unknown kind or auth mode");
    e.kind = *kind;
    e.auth = *auth;
    e.tier = static_cast<int>(q.integer(6));
    e.weight = static_cast<int>(q.integer(7));
    e.enabled = q.integer(8) != 0;
    e.tls_verify = q.integer(9) != 0;
    decode_model_map(q.text(10), e.model_map);
    auto millis = [&](int column) -> std::optional<config::Millis> {
        if (q.is_null(column)) return std::nullopt;
        return config::Millis(q.integer(column));
    };
    e.connect_timeout = millis(11);
    e.first_byte_timeout = millis(12);
    e.idle_timeout = millis(13);
    decode_list(q.text(14), e.tags);
    decode_list(q.text(17), e.models);
    r.created_at = q.integer(15);
    r.updated_at = q.integer(16);
    return r;
}

// The credential sealer, resolved on first use so that a store used only for the request log
// or settings never needs the master key (and an unreadable key file fails the endpoint
// operations with SecretBox's message instead of every open). Called with mu_ held or from
// the constructor.
const SecretBox& SqlStore::secrets() {
    if (!secrets_) {
        if (db_.in_memory()) {
            secrets_ = std::make_shared<const SecretBox>(SecretBox::ephemeral());
        } else {
            auto dir = std::filesystem::path(db_.path()).parent_path();
            if (dir.empty()) dir = ".";
            secrets_ = std::make_shared<const SecretBox>(SecretBox::load_or_create(dir.string()));
        }
    }
    return *secrets_;
}

// Credentials written by builds before sealing existed ("plain:<secret>") are sealed in
// place, once, when the store opens; the plaintext is read back through SecretBox::open so a
// row that is neither form fails loudly instead of being sealed as garbage.
void SqlStore::reseal_plain_credentials() {
    constexpr const char* kPlainRows =
        "SELECT name, api_key FROM endpoints WHERE substr(api_key, 1, 6) = 'plain:'";
    {
        Query probe(db_, kPlainRows);
        if (!probe.step()) return;
    }
    const SecretBox& box = secrets();
    Transaction tx(db_);
    std::vector<std::pair<std::string, std::string>> rows;
    {
        Query q(db_, kPlainRows);  // again, under the write lock
        while (q.step()) rows.emplace_back(q.text(0), q.text(1));
    }
    Query update(db_, "UPDATE endpoints SET api_key = ?2 WHERE name = ?1");
    for (const auto& [name, stored] : rows) {
        update.bind_text(1, name).bind_text(2, box.seal(box.open(stored))).run();
        update.reset();
    }
    tx.commit();
    if (!rows.empty()) {
        spdlog::info("{}: sealed {} stored credential(s) with the master key", db_.label(),
                     rows.size());
    }
}

}  // namespace qcc::store::sql
