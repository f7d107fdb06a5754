// The admin side of QCC's listener: the REST API of docs/admin-api.md under /api/ (admin token
// required), the live event stream and /metrics. The data plane hands it every request outside
// /v1/ through the LocalRoutes interface; it reaches the rest of the gateway only through
// control::ControlApi.
#pragma once
#include <functional>

#include "admin/call.hpp"
#include "admin/ui.hpp"
#include "proxy/auth_throttle.hpp"
#include "proxy/sinks.hpp"

namespace qcc::admin {

class Router final : public proxy::LocalRoutes {
  public:
    /// Registers the admin API's own gauges (event-stream subscribers) in deps.metrics.
    explicit Router(AdminDeps deps);

    /// /api/* and /metrics (unless public) need the admin token; wrong tokens from one address
    /// are answered 429 with retry-after once they exceed the free attempts.
    proxy::LocalAdmission admit(const ClientRequest& head, std::string_view peer) override;
    boost::asio::awaitable<bool> handle(const proxy::LocalRequest& request) override;

    /// Live dashboard sessions.
    std::size_t ui_sessions() const { return sessions_.size(); }
    /// Wrong admin tokens answered with a delay so far.
    std::uint64_t throttled_logins() const { return throttle_.throttled(); }

  private:
    proxy::LocalAdmission token_admission(const ClientRequest& head, std::string_view peer);

    boost::asio::awaitable<bool> handle_api(const proxy::LocalRequest& r);
    /// POST /api/login, POST /api/logout, GET /api/session (the dashboard's browser session).
    boost::asio::awaitable<bool> handle_session(const proxy::LocalRequest& r);
    void login(const proxy::LocalRequest& r, UiSessions::Clock::time_point now, int& status,
               std::string& type, std::string& message, std::string& body, std::string& headers,
               std::string& session);
    /// Runs a store write for the dashboard's sessions on the admin pool; false when it failed.
    boost::asio::awaitable<bool> persist(std::function<void()> work);
    proxy::LocalAdmission session_admission(const ClientRequest& head, std::string_view peer);
    boost::asio::awaitable<bool> handle_metrics(const proxy::LocalRequest& r);

    AdminDeps deps_;
    proxy::AuthThrottle throttle_;
    UiSessions sessions_;
};

}  // namespace qcc::admin
