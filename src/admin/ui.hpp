// The dashboard's side of the admin module: the embedded single-page app at /ui/ (ETag, gzip,
// immutable caching of hashed assets, a strict Content-Security-Policy), and browser sessions:
// POST /api/login exchanges the admin token once for an HttpOnly, SameSite=Strict cookie backed
// by a server-side session; POST /api/logout ends it; GET /api/session tells whether it is live.
// Scripts keep using `Authorization: Bearer`.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "admin/call.hpp"
#include "proxy/sinks.hpp"

namespace qcc::admin {

inline constexpr std::string_view kSessionCookie = "qcc_session";
inline constexpr std::chrono::hours kSessionTtl{12};

/// Server-side browser sessions: random ids (256 bits) kept only as their SHA-256, each with an
/// expiry. Thread-safe; bounded (the oldest are dropped beyond kMaxSessions).
class UiSessions {
  public:
    using Clock = std::chrono::system_clock;
    static constexpr std::size_t kMaxSessions = 10'000;

    /// A new session; returns the cookie value.
    std::string create(Clock::time_point now);
    /// The expiry of the live session `cookie` names, nullopt when there is none (or it expired).
    std::optional<Clock::time_point> find(std::string_view cookie, Clock::time_point now);
    /// Ends the session (logout); false when there was none.
    bool erase(std::string_view cookie);
    /// Adds a session saved earlier (by the SHA-256 of its cookie), e.g. from the store at start.
    void restore(std::string hash, Clock::time_point expires);
    /// Marks a session made here as saved in the store at `at` (the login's save finished).
    void saved(std::string_view cookie, Clock::time_point at);
    /// Makes the sessions those of the store (`stored`: hash and expiry in Unix ms, as every
    /// instance saved them; read from `read_at` on): adopts logins made elsewhere and drops the
    /// sessions no longer stored (logged out elsewhere), except those made here that the read
    /// could not see yet (not saved, or saved after it began).
    void sync(const std::vector<std::pair<std::string, std::int64_t>>& stored,
              Clock::time_point read_at);
    /// What the store keeps of a cookie.
    static std::string hash_of(std::string_view cookie);
    std::size_t size() const;

  private:
    mutable std::mutex mu_;
    std::unordered_map<std::string, Clock::time_point> sessions_;  // sha256(cookie) -> expiry
    struct Local {
        Clock::time_point at;  // when it was created here, or saved
        bool saved = false;
    };
    std::unordered_map<std::string, Local> fresh_;  // sessions made here, until a sync saw them
};

/// The value of cookie `name` in a Cookie header ("" when absent).
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

/// Whether a browser request's Origin is the page's own (http(s)://<Host>). Without an Origin
/// header only GET and HEAD pass (browsers always send one on state-changing requests).
bool same_origin(const ClientRequest& req);

/// Serves GET/HEAD /ui, /ui/ and /ui/<file> from the embedded assets, and GET / from a browser (a
/// redirect to /ui/). False when the client connection must close.
boost::asio::awaitable<bool> serve_ui(const proxy::LocalRequest& r);

/// Whether `path` is one serve_ui answers.
bool is_ui_path(std::string_view path);

}  // namespace qcc::admin
