#include "proxy/gateway.hpp"

#include <algorithm>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "upstream/endpoint.hpp"

namespace qcc::proxy {

std::string hash_client_key(std::string_view key) { return crypto::sha256_hex(key); }

Gateway::Gateway(config::Config cfg, std::unique_ptr<store::Store> store)
    : runtime_(std::move(cfg)), store_(std::move(store)) {
    server_ = std::make_unique<Server>(runtime_);
}

Gateway::~Gateway() { stop(); }

void Gateway::seed_from_config() {
    for (const auto& ep : runtime_.config().endpoints) store_->upsert_endpoint(ep);
    for (const auto& k : runtime_.config().keys) {
        store_->upsert_client_key(k.name, hash_client_key(k.key), k.key.substr(0, 8));
    }
}

void Gateway::reload() {
    const auto version = store_->data_version();
    auto set = std::make_shared<upstream::EndpointSet>();
    set->generation = ++generation_;
    for (const auto& rec : store_->list_endpoints()) {
        try {
            set->endpoints.push_back(std::make_shared<const upstream::Endpoint>(
                upstream::make_endpoint(rec.id, rec.config, runtime_.config().timeouts,
                                        runtime_.states().state_for(rec.id))));
        } catch (const std::exception& e) {
            spdlog::error("endpoint {} skipped: {}", rec.config.name, e.what());
        }
    }
    std::stable_sort(set->endpoints.begin(), set->endpoints.end(),
                     [](const auto& a, const auto& b) { return a->cfg.tier < b->cfg.tier; });
    auto keys = std::make_shared<KeySet>();
    for (const auto& k : store_->list_client_keys()) {
        if (!k.revoked) keys->push_back(ClientKey{k.name, k.key_hash});
    }
    runtime_.set_endpoints(std::move(set));
    runtime_.set_keys(std::move(keys));
    seen_version_ = version;
}

void Gateway::start() {
    if (seen_version_ < 0) reload();
    server_->start();
    control_ = std::thread([this] { control_loop(); });
}

void Gateway::control_loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        try {
            if (store_->data_version() != seen_version_) {
                reload();
                spdlog::info("configuration change picked up from the store");
            }
        } catch (const std::exception& e) {
            spdlog::error("store poll failed: {}", e.what());
        }
        lock.lock();
    }
}

void Gateway::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (control_.joinable()) control_.join();
    server_->drain_and_stop();
}

}  // namespace qcc::proxy
