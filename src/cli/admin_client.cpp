#include "cli/admin_client.hpp"

#include <filesystem>
#include <iostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "cli/admin_token.hpp"
#include "config/config.hpp"

namespace qcc::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

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

AdminResponse admin_request(const AdminTarget& t, std::string_view method,
                            const std::string& target, int* exit_code) {
    *exit_code = 0;
    config::Config cfg;
    try {
        std::string path = t.config_path;
        if (path.empty()) {
            const auto fallback = config::expand_home("~/.qcc/config.toml");
            if (std::filesystem::exists(fallback)) path = fallback;
        }
        if (!path.empty()) cfg = config::load_file(path);
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: config error: " << e.what() << "\n";
        *exit_code = kExitUsage;
        return {};
    }
    std::string host;
    std::uint16_t port = 0;
    try {
        std::tie(host, port) = config::parse_listen(t.listen.empty() ? cfg.listen : t.listen);
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: " << e.what() << "\n";
        *exit_code = kExitUsage;
        return {};
    }
    if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
    const auto token = t.token.empty()
                           ? cli_admin_token(cfg.admin_token, config::expand_home(cfg.data_dir))
                           : t.token;
    try {
        asio::io_context ioc;
        beast::tcp_stream stream(ioc);
        asio::ip::tcp::resolver resolver(ioc);
        stream.expires_after(std::chrono::seconds(5));
        stream.connect(resolver.resolve(host, std::to_string(port)));
        http::request<http::string_body> req{http::string_to_verb(method), target, 11};
        req.set(http::field::host, host + ":" + std::to_string(port));
        req.set(http::field::authorization, "Bearer " + token);
        req.prepare_payload();
        stream.expires_after(std::chrono::minutes(2));
        http::write(stream, req);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        if (res.result_int() != 200) {
            std::cerr << "qcc: the server answered " << res.result_int() << ": " << res.body()
                      << "\n";
            *exit_code = kExitUnreachable;
        }
        return AdminResponse{static_cast<int>(res.result_int()), res.body()};
    } catch (const std::exception& e) {
        std::cerr << "qcc: cannot reach QCC at http://" << host << ":" << port << " (" << e.what()
                  << "); is `qcc serve` running? (--listen or --config select it)\n";
        *exit_code = kExitUnreachable;
        return {};
    }
}

}  // namespace qcc::cli
