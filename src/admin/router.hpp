// The admin side of QCC's listener: the REST API of docs/admin-api.md under /api/ (admin token
// required), the live event stream and /metrics. The data plane hands it every request outside
// /v1/ through the LocalRoutes interface; it reaches the rest of the gateway only through
// control::ControlApi.
#pragma once
#include "admin/call.hpp"
#include "proxy/sinks.hpp"

namespace qcc::admin {

class Router final : public proxy::LocalRoutes {
  public:
    /// Registers the admin API's own gauges (event-stream subscribers) in deps.metrics.
    explicit Router(AdminDeps deps);

    boost::asio::awaitable<bool> handle(proxy::LocalRequest request) override;

  private:
    boost::asio::awaitable<bool> handle_api(proxy::LocalRequest& r);
    boost::asio::awaitable<bool> handle_metrics(proxy::LocalRequest& r);

    AdminDeps deps_;
};

}  // namespace qcc::admin
