#include "app/gateway.hpp"

#include <array>

#include <unistd.h>

#include "admin/json.hpp"
#include "admin/json_text.hpp"
#include "common/log.hpp"

namespace qcc::app {

namespace {
/// Where this instance can be reached, for the fleet registry: the listen host (this machine's
/// name when it listens on every address) and the bound port.
std::string advertised_address(const std::string& listen, std::uint16_t port) {
    const auto colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
    if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
        std::array<char, 256> name{};
        if (::gethostname(name.data(), name.size() - 1) == 0 && name[0] != '\0') {
            host = name.data();
        }
    }
    return host + ":" + std::to_string(port);
}
}  // namespace

void Gateway::LiveStates::on_state_event(const proxy::StateEvent& e) {
    if (hub_.has_subscribers()) hub_.publish("state", admin::to_json_text(admin::event_json(e)));
}

Gateway::Gateway(config::Config cfg, std::unique_ptr<store::Store> store, const Clock* clock,
                 store::WriterOptions writer)
    : cfg_(std::move(cfg)), store_(std::move(store)), health_(clock, &live_states_) {
    // spdlog builds its registry on first use; build it here, before any thread can log, so two
    // threads never race to construct it.
    (void)spdlog::default_logger_raw();
    // The request log is written on a connection of its own where the database serves several at
    // once, so that its batches never wait behind the control loop's or the admin API's queries.
    try {
        log_store_ = store_->second_connection();
    } catch (const std::exception& e) {
        spdlog::warn("request log: no connection of its own ({}); it shares the store's", e.what());
    }
    // Live "request" events carry the row id, so they are published once the row is written.
    writer_ = std::make_unique<store::RequestWriter>(
        log_store_ ? *log_store_ : *store_, writer,
        [this](const std::vector<store::RequestRecord>& rows) {
            if (!hub_.has_subscribers()) return;
            for (const auto& r : rows) {
                hub_.publish("request", admin::to_json_text(admin::request_json(r)));
            }
        });
    observer_ = std::make_unique<control::Observer>(metrics_, snapshots_, writer_.get());
    controller_ = std::make_unique<control::Controller>(control::ControllerDeps{
        cfg_, *store_, snapshots_, health_, *observer_, *writer_,
        [this](const store::HealthCheckRecord& r) {
            if (hub_.has_subscribers()) {
                hub_.publish("check", admin::to_json_text(admin::check_json(r)));
            }
        }});
    router_ = std::make_unique<admin::Router>(admin::AdminDeps{
        *controller_, metrics_, hub_, cfg_.admin_token, proxy::auth_throttle_policy(cfg_.limits)});
    server_ = std::make_unique<proxy::Server>(
        proxy::ServerDeps{cfg_, snapshots_, health_, *observer_, router_.get()});
    control::register_gauges(
        metrics_, control::GaugeSources{health_, snapshots_, writer_.get(),
                                        [this] { return server_->pool_stats(); },
                                        [this] {
                                            const auto& g = server_->gate();
                                            return control::ConnectionFigures{
                                                g.open(), g.unauthenticated(), g.refused(),
                                                server_->throttle().throttled()};
                                        }});
}

Gateway::~Gateway() { stop(); }

void Gateway::start() {
    controller_->start();
    started_ = true;
    server_->start();
    controller_->set_address(advertised_address(cfg_.listen, server_->port()));
    start_warmup();
}

void Gateway::start_warmup() {
    // Every worker pre-opens (and TLS-handshakes) connections to every enabled endpoint,
    // concurrently; no tokens are spent. One summary line per endpoint, then a total.
    const int n = snapshots_.policy()->warmup_connections;
    auto eps = controller_->enabled_endpoints();
    if (n <= 0 || eps.empty()) return;
    {
        std::lock_guard lock(warm_mu_);
        warm_pending_ = true;
    }
    const auto start = std::chrono::steady_clock::now();
    server_->warm_up(std::move(eps), n, [this, start](std::vector<proxy::WarmupResult> results) {
        int ok = 0;
        for (const auto& r : results) {
            if (r.error.empty()) {
                ++ok;
                spdlog::info("warm-up: {} ok ({} connection(s), {} ms)", r.endpoint, r.opened,
                             r.ms);
            } else {
                spdlog::warn("warm-up: {} failed: {}", r.endpoint, r.error);
            }
        }
        spdlog::info("warm-up: {} of {} endpoint(s) ok in {} ms", ok, results.size(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count());
        {
            std::lock_guard lock(warm_mu_);
            warm_pending_ = false;
        }
        warm_cv_.notify_all();
    });
}

bool Gateway::wait_warmup(std::chrono::milliseconds deadline) {
    std::unique_lock lock(warm_mu_);
    return warm_cv_.wait_for(lock, deadline, [this] { return !warm_pending_; });
}

void Gateway::stop() {
    if (stopped_) return;
    stopped_ = true;
    server_->drain_and_stop();
    writer_->stop();  // every finished request's row reaches the store
    controller_->stop();
}

}  // namespace qcc::app
