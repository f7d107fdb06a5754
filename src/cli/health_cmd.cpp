#include "cli/health_cmd.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "cli/admin_token.hpp"
#include "config/config.hpp"

namespace qcc::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

/// Exit codes: 0 every check passed; 1 a check failed; 2 usage/config error; 3 the server could
/// not be reached or refused the request.
constexpr int kFailed = 1, kUsage = 2, kUnreachable = 3;

struct HealthOptions {
    std::vector<std::string> endpoints;
    std::string method;
    std::string config_path;
    std::string listen;
    std::string token;
    bool json = false;
};

std::string percent_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

int run_health(const HealthOptions& o) {
    config::Config cfg;
    try {
        std::string path = o.config_path;
        if (path.empty()) {
            const auto fallback = config::expand_home("~/.qcc/config.toml");
            if (std::filesystem::exists(fallback)) path = fallback;
        }
        if (!path.empty()) cfg = config::load_file(path);
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: config error: " << e.what() << "\n";
        return kUsage;
    }
    const std::string listen = o.listen.empty() ? cfg.listen : o.listen;
    std::string host;
    std::uint16_t port = 0;
    try {
        std::tie(host, port) = config::parse_listen(listen);
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: " << e.what() << "\n";
        return kUsage;
    }
    if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
    const auto token = o.token.empty()
                           ? cli_admin_token(cfg.admin_token, config::expand_home(cfg.data_dir))
                           : o.token;
    std::string target = "/api/health/check";
    char sep = '?';
    for (const auto& e : o.endpoints) {
        target += sep;
        target += "endpoint=" + percent_encode(e);
        sep = '&';
    }
    if (!o.method.empty()) target += std::string(1, sep) + "method=" + percent_encode(o.method);

    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    http::response<http::string_body> res;
    try {
        asio::ip::tcp::resolver resolver(ioc);
        stream.expires_after(std::chrono::seconds(5));
        stream.connect(resolver.resolve(host, std::to_string(port)));
        http::request<http::string_body> req{http::verb::post, target, 11};
        req.set(http::field::host, host + ":" + std::to_string(port));
        req.set(http::field::authorization, "Bearer " + token);
        req.prepare_payload();
        stream.expires_after(std::chrono::minutes(2));
        http::write(stream, req);
        beast::flat_buffer buf;
        http::read(stream, buf, res);
    } catch (const std::exception& e) {
        std::cerr << "qcc: cannot reach QCC at http://" << host << ":" << port << " ("
                  << e.what() << "); is `qcc serve` running? (--listen or --config select it)\n";
        return kUnreachable;
    }
    if (res.result_int() != 200) {
        std::cerr << "qcc: the server answered " << res.result_int() << ": " << res.body() << "\n";
        return kUnreachable;
    }
    json::value doc;
    try {
        doc = json::parse(res.body());
    } catch (const std::exception& e) {
        std::cerr << "qcc: unexpected answer from the server: " << e.what() << "\n";
        return kUnreachable;
    }
    const bool all_passed = doc.at("all_passed").as_bool();
    if (o.json) {
        std::cout << json::serialize(doc) << "\n";
        return all_passed ? 0 : kFailed;
    }
    std::cout << std::left << std::setw(18) << "ENDPOINT" << std::setw(9) << "RESULT"
              << std::setw(7) << "VALID" << std::setw(7) << "SCORE" << std::setw(10) << "LATENCY"
              << std::setw(20) << "MODEL" << std::setw(10) << "TOKENS" << "ERROR\n";
    for (const auto& row : doc.at("checks").as_array()) {
        const auto& r = row.as_object();
        const auto tokens = r.at("input_tokens").to_number<std::int64_t>() +
                            r.at("output_tokens").to_number<std::int64_t>();
        std::cout << std::left << std::setw(18) << json::value_to<std::string>(r.at("endpoint"))
                  << std::setw(9) << json::value_to<std::string>(r.at("result")) << std::setw(7)
                  << (r.at("valid").as_bool() ? "yes" : "no") << std::setw(7)
                  << r.at("score").to_number<std::int64_t>() << std::setw(10)
                  << (std::to_string(r.at("latency_ms").to_number<std::int64_t>()) + " ms")
                  << std::setw(20) << json::value_to<std::string>(r.at("model")) << std::setw(10)
                  << tokens << json::value_to<std::string>(r.at("error")) << "\n";
    }
    return all_passed ? 0 : kFailed;
}

}  // namespace

void add_health_command(CLI::App& app) {
    auto o = std::make_shared<HealthOptions>();
    auto* cmd = app.add_subcommand(
        "health", "Run health checks now through the running server and print a score table");
    cmd->add_option("ENDPOINT", o->endpoints, "Endpoints to check (default: every enabled one)");
    cmd->add_option("-m,--method", o->method, "conversation (default setting), models or connect")
        ->check(CLI::IsMember({"conversation", "models", "connect"}));
    cmd->add_option("-c,--config", o->config_path, "TOML config (listen address, admin token)");
    cmd->add_option("-l,--listen", o->listen, "Address of the running QCC (default from config)");
    cmd->add_option("--token", o->token, "Admin token (default: QCC_ADMIN_TOKEN, config, data dir)");
    cmd->add_flag("--json", o->json, "JSON output");
    cmd->callback([o] { throw CLI::RuntimeError(run_health(*o)); });
}

}  // namespace qcc::cli
