#include "harness/proxy_fixture.hpp"

#include <array>
#include <cstdlib>
#include <stdexcept>

#include <gtest/gtest.h>

#include "store/secret.hpp"
#include "store/store.hpp"

namespace qcc::test {

config::EndpointConfig endpoint_config(std::string name, std::string base_url, int tier,
                                       int weight) {
    config::EndpointConfig ep;
    ep.api_key = "sk-ant-" + name;
    ep.name = std::move(name);
    ep.base_url = std::move(base_url);
    ep.tier = tier;
    ep.weight = weight;
    return ep;
}

ProxyFixture::ProxyFixture(std::vector<config::EndpointConfig> endpoints,
                           const std::function<void(config::Config&)>& tweak,
                           std::string store_path, const Clock* clock, int warmup_connections,
                           const StoreWrapper& wrap_store, store::WriterOptions writer) {
    config::Config cfg;
    cfg.listen = "127.0.0.1:0";
    // One worker unless QCC_TEST_WORKERS says otherwise (the ThreadSanitizer run uses several).
    cfg.workers = 1;
    if (const char* w = std::getenv("QCC_TEST_WORKERS"); w != nullptr && std::atoi(w) > 0) {
        cfg.workers = std::atoi(w);
    }
    cfg.drain_timeout = std::chrono::milliseconds(2000);
    cfg.endpoints = std::move(endpoints);
    cfg.keys.push_back(config::KeyConfig{"test", kClientKey});
    cfg.admin_token = kAdminToken;
    if (tweak) tweak(cfg);
    std::unique_ptr<store::Store> st;
    if (store::is_postgres_url(store_path)) {
        // Every fixture on one database seals credentials with the same (test) master key.
        static const auto secrets = std::make_shared<const store::SecretBox>(
            store::SecretBox(std::array<unsigned char, store::SecretBox::kKeyBytes>{7, 7, 7}));
        store::StoreOptions options;
        options.secrets = secrets;
        st = store::open_postgres(store_path, options);
    } else {
        st = store::open_sqlite(store_path.empty() ? ":memory:" : store_path);
    }
    if (wrap_store) st = wrap_store(std::move(st));
    gateway_ = std::make_unique<app::Gateway>(cfg, std::move(st), clock, writer);
    gateway_->seed_from_config();
    gateway_->store().set_setting("warmup.connections", std::to_string(warmup_connections));
    gateway_->start();
}

ProxyFixture::~ProxyFixture() { gateway_->stop(); }

upstream::EndpointState& ProxyFixture::state(const std::string& name) {
    const auto set = gateway_->snapshots().endpoints();
    const auto* ep = set->find(name);
    if (ep == nullptr) throw std::logic_error("no endpoint named " + name);
    return *ep->state;  // states outlive snapshots (StateRegistry)
}

ClientResponse ProxyFixture::send_messages(std::string_view session, bool stream) {
    TestClient client(port());
    auto headers = client_headers();
    if (!session.empty()) headers.emplace_back("x-claude-code-session-id", std::string(session));
    return client.request("POST", "/v1/messages", headers, messages_body(stream));
}

Headers ProxyFixture::client_headers(bool with_key) {
    Headers h{{"content-type", "application/json"},
              {"anthropic-version", "2023-06-01"},
              {"user-agent", "claude-cli/2.1.332 (external, sdk-cli)"}};
    if (with_key) h.emplace_back("x-api-key", kClientKey);
    return h;
}

std::string ProxyFixture::messages_body(bool stream, std::string_view model) {
    std::string body = R"({"model":")" + std::string(model) +
                       R"(","max_tokens":64,"messages":[{"role":"user","content":"Hello"}])";
    if (stream) body += R"(,"stream":true)";
    body += "}";
    return body;
}

}  // namespace qcc::test
