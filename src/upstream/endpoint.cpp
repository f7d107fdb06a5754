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

std::pair<std::string, std::int64_t> EndpointState::last_error() const {
    std::lock_guard lock(reason_mu_);
    return {last_error_, last_error_at_};
}
void EndpointState::set_last_error(std::string error, std::int64_t unix_ms) {
    std::lock_guard lock(reason_mu_);
    last_error_ = std::move(error);
    last_error_at_ = unix_ms;
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

openai::TargetProfile openai_profile(std::string_view host, const std::vector<std::string>& tags) {
    using Reasoning = openai::TargetProfile::Reasoning;
    openai::TargetProfile p;
    const auto host_is = [&](std::string_view domain) {
        return host == domain || (host.size() > domain.size() && host.ends_with(domain) &&
                                  host[host.size() - domain.size() - 1] == '.');
    };
    if (host_is("api.openai.com")) {
        p.max_completion_tokens = true;
        p.reasoning = Reasoning::kEffort;
    } else if (host_is("openrouter.ai")) {
        p.reasoning = Reasoning::kOpenRouter;
    } else if (host_is("aliyuncs.com")) {
        p.reasoning = Reasoning::kThinkingBudget;
    } else if (host_is("generativelanguage.googleapis.com")) {
        p.reasoning = Reasoning::kEffort;
    }
    for (const std::string_view tag : tags) {
        if (tag == "openai:max_completion_tokens") p.max_completion_tokens = true;
        if (tag == "openai:max_tokens") p.max_completion_tokens = false;
        if (tag == "openai:keep_schema") p.clean_schema = false;
        if (tag == "openai:no_stream_usage") p.stream_usage = false;
        if (tag == "openai:reasoning=none") p.reasoning = Reasoning::kNone;
        if (tag == "openai:reasoning=effort") p.reasoning = Reasoning::kEffort;
        if (tag == "openai:reasoning=openrouter") p.reasoning = Reasoning::kOpenRouter;
        if (tag == "openai:reasoning=qwen") p.reasoning = Reasoning::kThinkingBudget;
    }
    return p;
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
    if (cfg.kind == config::EndpointKind::kOpenAI) {
        constexpr std::string_view kChat = "/chat/completions";
        if (ep.path_prefix.ends_with(kChat))
            ep.path_prefix.resize(ep.path_prefix.size() - kChat.size());
        if (ep.path_prefix.empty()) ep.path_prefix = "/v1";
        ep.openai = openai_profile(ep.host, cfg.tags);
    }
    ep.connect_timeout = cfg.connect_timeout.value_or(defaults.connect);
    ep.first_byte_timeout = cfg.first_byte_timeout.value_or(defaults.first_byte);
    ep.idle_timeout = cfg.idle_timeout.value_or(defaults.idle);
    ep.total_timeout = defaults.total;
    ep.state = state ? std::move(state) : std::make_shared<EndpointState>();
    return ep;
}

}  // namespace qcc::upstream
