#include "admin/ui.hpp"

#include <algorithm>
#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "admin/ui_assets.hpp"
#include "common/crypto.hpp"
#include "protocol/http/headers.hpp"
#include "protocol/http/response_head.hpp"
#include "proxy/http_io.hpp"

namespace qcc::admin {

namespace {

constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const UiAsset* find_asset(std::string_view rel) {
    for (const auto& a : ui_assets()) {
        if (a.path == rel) return &a;
    }
    return nullptr;
}

bool accepts_gzip(const ClientRequest& req) {
    // "gzip" listed without q=0 (browsers send "gzip, deflate, br, zstd").
    const std::string_view ae = req[http::field::accept_encoding];
    std::size_t pos = 0;
    while (pos < ae.size()) {
        auto end = ae.find(',', pos);
        if (end == std::string_view::npos) end = ae.size();
        auto item = ae.substr(pos, end - pos);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        const auto semi = item.find(';');
        auto coding = item.substr(0, semi);
        while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
        if (qcc::http::iequals(coding, "gzip")) {
            return semi == std::string_view::npos ||
                   item.substr(semi).find("q=0") == std::string_view::npos ||
                   item.substr(semi).find("q=0.") != std::string_view::npos;
        }
        pos = end + 1;
    }
    return false;
}

asio::awaitable<bool> write_all(beast::tcp_stream& client, const std::string& head,
                                std::string_view body) {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head),
                                           asio::buffer(body.data(), body.size())};
    client.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await asio::async_write(client, bufs, asio::as_tuple(asio::use_awaitable));
    co_return !ec;
}

asio::awaitable<bool> write_error(const proxy::LocalRequest& r, int status, std::string_view type,
                                  std::string_view message, std::string_view extra = {}) {
    const bool ok =
        co_await proxy::write_error(r.client, status, type, message, r.keep_alive, extra);
    co_return ok&& r.keep_alive;
}

}  // namespace

// ---- sessions -------------------------------------------------------------------------------

std::string UiSessions::hash_of(std::string_view cookie) { return crypto::sha256_hex(cookie); }

void UiSessions::restore(std::string hash, Clock::time_point expires) {
    std::lock_guard lock(mu_);
    if (sessions_.size() < kMaxSessions) sessions_[std::move(hash)] = expires;
}

std::string UiSessions::create(Clock::time_point now) {
    auto cookie = crypto::random_hex(32);
    std::lock_guard lock(mu_);
    if (sessions_.size() >= kMaxSessions) {
        std::erase_if(sessions_, [&](const auto& kv) { return kv.second <= now; });
        while (sessions_.size() >= kMaxSessions) {
            auto oldest =
                std::min_element(sessions_.begin(), sessions_.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
            sessions_.erase(oldest);
        }
    }
    auto hash = hash_of(cookie);
    sessions_[hash] = now + kSessionTtl;
    fresh_[std::move(hash)] = Local{now, false};
    return cookie;
}

void UiSessions::saved(std::string_view cookie, Clock::time_point at) {
    const auto key = hash_of(cookie);
    std::lock_guard lock(mu_);
    if (const auto it = fresh_.find(key); it != fresh_.end()) it->second = Local{at, true};
}

void UiSessions::sync(const std::vector<std::pair<std::string, std::int64_t>>& stored,
                      Clock::time_point read_at) {
    constexpr auto kUnsavedFor = std::chrono::seconds(30);
    std::unordered_set<std::string_view> in_store;
    std::lock_guard lock(mu_);
    for (const auto& [hash, expires_ms] : stored) {
        const Clock::time_point expires{std::chrono::milliseconds(expires_ms)};
        if (expires <= read_at) continue;
        in_store.insert(hash);
        if (sessions_.size() < kMaxSessions || sessions_.contains(hash)) sessions_[hash] = expires;
    }
    // Missing from the store: logged out elsewhere, unless made here and not saved yet (the save
    // failing, for 30 s at most) or saved after the read began (the read could not see it).
    const auto kept = [&](const std::string& hash) {
        const auto it = fresh_.find(hash);
        if (it == fresh_.end()) return false;
        const auto& [at, is_saved] = it->second;
        return is_saved ? at >= read_at : at + kUnsavedFor > read_at;
    };
    std::erase_if(sessions_,
                  [&](const auto& kv) { return !in_store.contains(kv.first) && !kept(kv.first); });
    std::erase_if(fresh_, [&](const auto& kv) { return !kept(kv.first); });
}

std::optional<UiSessions::Clock::time_point> UiSessions::find(std::string_view cookie,
                                                              Clock::time_point now) {
    if (cookie.size() != 64) return std::nullopt;
    const auto key = hash_of(cookie);
    std::lock_guard lock(mu_);
    const auto it = sessions_.find(key);
    if (it == sessions_.end()) return std::nullopt;
    if (it->second <= now) {
        sessions_.erase(it);
        return std::nullopt;
    }
    return it->second;
}

bool UiSessions::erase(std::string_view cookie) {
    const auto key = hash_of(cookie);
    std::lock_guard lock(mu_);
    fresh_.erase(key);
    return sessions_.erase(key) > 0;
}

std::size_t UiSessions::size() const {
    std::lock_guard lock(mu_);
    return sessions_.size();
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
    std::size_t pos = 0;
    while (pos < header.size()) {
        auto end = header.find(';', pos);
        if (end == std::string_view::npos) end = header.size();
        auto item = header.substr(pos, end - pos);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        const auto eq = item.find('=');
        if (eq != std::string_view::npos && item.substr(0, eq) == name) return item.substr(eq + 1);
        pos = end + 1;
    }
    return {};
}

bool same_origin(const ClientRequest& req) {
    const std::string_view origin = req[http::field::origin];
    const std::string_view host = req[http::field::host];
    if (origin.empty()) return req.method() == http::verb::get || req.method() == http::verb::head;
    if (host.empty()) return false;
    const auto rest = origin.starts_with("http://")    ? origin.substr(7)
                      : origin.starts_with("https://") ? origin.substr(8)
                                                       : std::string_view{};
    return !rest.empty() && rest == host;
}

// ---- the app --------------------------------------------------------------------------------

bool is_ui_path(std::string_view path) {
    return path == "/" || path == "/ui" || path.starts_with("/ui/");
}

asio::awaitable<bool> serve_ui(const proxy::LocalRequest& r) {
    const std::string_view target = r.req.target();
    const auto path = target.substr(0, target.find('?'));
    const auto method = r.req.method();
    if (method != http::verb::get && method != http::verb::head) {
        co_return co_await write_error(r, 405, "invalid_request_error",
                                       "method not allowed (allowed: GET, HEAD)",
                                       "allow: GET, HEAD\r\n");
    }
    if (path == "/" || path == "/ui") {
        // A browser at QCC's address finds the dashboard.
        const auto head = qcc::http::ResponseHead(302)
                              .field("location", "/ui/")
                              .field("cache-control", "no-store")
                              .content_length(0)
                              .close(!r.keep_alive)
                              .take();
        const bool ok = co_await write_all(r.client, head, {});
        co_return ok&& r.keep_alive;
    }
    auto rel = path.substr(4);  // after "/ui/"
    if (rel.empty()) rel = "index.html";
    const UiAsset* asset = find_asset(rel);
    if (asset == nullptr) {
        const std::string message = "no dashboard file " + std::string(path);
        co_return co_await write_error(r, 404, "not_found_error", message);
    }
    const bool not_modified = r.req[http::field::if_none_match] == asset->etag;
    const bool gzip = !asset->gzip.empty() && accepts_gzip(r.req);
    const auto& bytes = gzip ? asset->gzip : asset->raw;
    const std::string_view body(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    qcc::http::ResponseHead head(not_modified ? 304 : 200);
    head.field("content-type", asset->content_type)
        .field("cache-control",
               asset->immutable ? "public, max-age=31536000, immutable" : "no-cache")
        .field("etag", asset->etag)
        .field("vary", "accept-encoding")
        .field("content-security-policy", kCsp)
        .field("x-content-type-options", "nosniff")
        .field("x-frame-options", "DENY")
        .field("referrer-policy", "no-referrer");
    if (gzip) head.field("content-encoding", "gzip");
    const bool no_body = not_modified || method == http::verb::head;
    if (!not_modified) head.content_length(body.size());
    const auto h = head.close(!r.keep_alive).take();
    const bool ok = co_await write_all(r.client, h, no_body ? std::string_view{} : body);
    co_return ok&& r.keep_alive;
}

}  // namespace qcc::admin
