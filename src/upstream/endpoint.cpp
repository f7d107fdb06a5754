#include "upstream/endpoint.hpp"

#include <stdexcept>

#include <boost/url/parse.hpp>

namespace qcc::upstream {

std::string EndpointState::quarantine_reason() const {
    std::lock_guard lock(reason_mu_);
    return quarantine_reason_;
}
std::string EndpointState::cooldown_reason() const {
    std::lock_guard lock(reason_mu_);
    return cooldown_reason_;
}
void EndpointState::set_quarantine_reason(std::string reason) {
    std::lock_guard lock(reason_mu_);
    quarantine_reason_ = std::move(reason);
}
void EndpointState::set_cooldown_reason(std::string reason) {
    std::lock_guard lock(reason_mu_);
    cooldown_reason_ = std::move(reason);
}

void append_credentials(std::string& head, const Endpoint& ep) {
    const auto auth = ep.cfg.auth;
    if (auth == config::AuthMode::kXApiKey || auth == config::AuthMode::kBoth) {
        head += "x-api-key: ";
        head += ep.cfg.api_key;
        head += "\r\n";
    }
    if (auth == config::AuthMode::kBearer || auth == config::AuthMode::kBoth) {
        head += "authorization: Bearer ";
        head += ep.cfg.api_key;
        head += "\r\n";
    }
}

Endpoint make_endpoint(std::string id, const config::EndpointConfig& cfg,
                       const config::Timeouts& defaults, std::shared_ptr<EndpointState> state) {
    auto parsed = boost::urls::parse_uri(cfg.base_url);
    if (!parsed) {
        throw std::invalid_argument("endpoint " + cfg.name + ": bad base_url '" + cfg.base_url +
                                    "': " + parsed.error().message());
    }
    const auto& u = *parsed;
    Endpoint ep;
    ep.id = std::move(id);
    ep.cfg = cfg;
    const std::string scheme(u.scheme());
    if (scheme == "https") {
        ep.https = true;
    } else if (scheme != "http") {
        throw std::invalid_argument("endpoint " + cfg.name +
                                    ": base_url scheme must be http or https");
    }
    ep.host = std::string(u.host_address());
    if (ep.host.empty())
        throw std::invalid_argument("endpoint " + cfg.name + ": base_url has no host");
    const bool default_port = !u.has_port();
    ep.port = default_port ? (ep.https ? "443" : "80") : std::string(u.port());
    const bool ipv6 = u.host_type() == boost::urls::host_type::ipv6;
    ep.host_header = ipv6 ? "[" + ep.host + "]" : ep.host;
    if (!default_port) ep.host_header += ":" + ep.port;
    ep.path_prefix = std::string(u.encoded_path());
    while (!ep.path_prefix.empty() && ep.path_prefix.back() == '/') ep.path_prefix.pop_back();
    ep.connect_timeout = cfg.connect_timeout.value_or(defaults.connect);
    ep.first_byte_timeout = cfg.first_byte_timeout.value_or(defaults.first_byte);
    ep.idle_timeout = cfg.idle_timeout.value_or(defaults.idle);
    ep.total_timeout = defaults.total;
    ep.state = state ? std::move(state) : std::make_shared<EndpointState>();
    return ep;
}

}  // namespace qcc::upstream
