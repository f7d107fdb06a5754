#include "cli/admin_client.hpp"

#include <csignal>
#include <filesystem>
#include <iostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "cli/admin_token.hpp"
#include "config/config.hpp"

namespace qcc::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);
// A server that accepted the connection but does not answer is reported after this long; health
// checks (which wait for every endpoint's answer) get longer.
constexpr auto kCallTimeout = std::chrono::seconds(20);
constexpr auto kCheckCallTimeout = std::chrono::minutes(2);
constexpr auto kStopPoll = std::chrono::milliseconds(100);

void print_unreachable(const AdminEndpoint& ep, const std::exception& e) {
    // A system error's own words ("Connection refused"), not Boost's source location.
    const auto* se = dynamic_cast<const boost::system::system_error*>(&e);
    const std::string why = se != nullptr ? se->code().message() : std::string(e.what());
    std::cerr << "qcc: cannot reach QCC at http://" << ep.authority() << " (" << why
              << "); is `qcc serve` running? (--listen or --config select it)\n";
}

http::request<http::string_body> make_request(const AdminEndpoint& ep, std::string_view method,
                                              const std::string& target,
                                              const std::optional<std::string>& json_body) {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, ep.authority());
    req.set(http::field::authorization, "Bearer " + ep.token);
    req.set(http::field::user_agent, "qcc-cli");
    if (json_body) {
        req.set(http::field::content_type, "application/json");
        req.body() = *json_body;
    }
    req.prepare_payload();
    return req;
}

// Splits a byte stream of server-sent events into events (WHATWG rules, minus retry/id).
class SseParser {
  public:
    explicit SseParser(const SseHandler& on_event) : on_event_(on_event) {}

    /// Feeds bytes; returns false when the handler asked to stop.
    bool feed(std::string_view bytes) {
        pending_.append(bytes);
        std::size_t start = 0;
        for (;;) {
            const auto nl = pending_.find('\n', start);
            if (nl == std::string::npos) break;
            std::string_view line(pending_.data() + start, nl - start);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            start = nl + 1;
            if (!line_(line)) {
                pending_.erase(0, start);
                return false;
            }
        }
        pending_.erase(0, start);
        return true;
    }

  private:
    bool line_(std::string_view line) {
        if (line.empty()) {
            if (!has_data_) {
                event_.clear();
                return true;
            }
            const bool go_on = on_event_(event_.empty() ? "message" : event_, data_);
            event_.clear();
            data_.clear();
            has_data_ = false;
            return go_on;
        }
        if (line.front() == ':') return true;  // comment (": ping")
        const auto colon = line.find(':');
        const auto field = line.substr(0, colon);
        std::string_view value =
            colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (field == "event") {
            event_.assign(value);
        } else if (field == "data") {
            if (has_data_) data_ += '\n';
            data_.append(value);
            has_data_ = true;
        }
        return true;
    }

    const SseHandler& on_event_;
    std::string pending_, event_, data_;
    bool has_data_ = false;
};

}  // namespace

std::string AdminEndpoint::authority() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

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

std::optional<AdminEndpoint> resolve_admin_target(const AdminTarget& t, int* exit_code) {
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
        return std::nullopt;
    }
    AdminEndpoint ep;
    try {
        std::tie(ep.host, ep.port) = config::parse_listen(t.listen.empty() ? cfg.listen : t.listen);
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: " << e.what() << "\n";
        *exit_code = kExitUsage;
        return std::nullopt;
    }
    if (ep.host == "0.0.0.0") ep.host = "127.0.0.1";
    if (ep.host == "::") ep.host = "::1";
    ep.token = t.token.empty() ? cli_admin_token(cfg.admin_token, config::expand_home(cfg.data_dir))
                               : t.token;
    return ep;
}

int exit_code_for_status(int status) {
    if (status >= 200 && status < 300) return kExitOk;
    if (status == 401 || status == 403) return kExitUnreachable;
    if (status == 404) return kExitNotFound;
    if (status == 400 || status == 405 || status == 409 || status == 413 || status == 422) {
        return kExitUsage;
    }
    return kExitFailed;
}

std::string server_error_message(int status, std::string_view body) {
    boost::system::error_code ec;
    const auto doc = json::parse(body, ec);
    if (!ec && doc.is_object()) {
        const auto* err = doc.as_object().if_contains("error");
        if (err != nullptr && err->is_object()) {
            const auto* msg = err->as_object().if_contains("message");
            if (msg != nullptr && msg->is_string()) return std::string(msg->as_string());
        }
    }
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
        body.remove_suffix(1);
    }
    if (body.empty()) {
        return "the server answered HTTP " + std::to_string(status) +
               " with no explanation (is --listen pointing at QCC?)";
    }
    return std::string(body);
}

int report_failure(const AdminResponse& r) {
    const auto message = server_error_message(r.status, r.body);
    std::cerr << "qcc: " << message;
    if (message.find("HTTP " + std::to_string(r.status)) == std::string::npos) {
        std::cerr << " (HTTP " << r.status << ")";
    }
    std::cerr << "\n";
    if (r.status == 401 || r.status == 403) {
        std::cerr << "qcc: hint: pass the admin token with --token, QCC_ADMIN_TOKEN or the "
                     "config's admin_token (a local server also writes it to <data_dir>/"
                     "admin.token)\n";
    }
    return exit_code_for_status(r.status);
}

AdminResponse admin_call(const AdminTarget& t, std::string_view method, const std::string& target,
                         const std::optional<std::string>& json_body, int* exit_code) {
    const auto ep = resolve_admin_target(t, exit_code);
    if (!ep) return {};
    try {
        asio::io_context ioc;
        beast::tcp_stream stream(ioc);
        asio::ip::tcp::resolver resolver(ioc);
        stream.expires_after(kConnectTimeout);
        stream.connect(resolver.resolve(ep->host, std::to_string(ep->port)));
        auto req = make_request(*ep, method, target, json_body);
        stream.expires_after(target.starts_with("/api/health/check") ? kCheckCallTimeout
                                                                     : kCallTimeout);
        http::write(stream, req);
        beast::flat_buffer buf;
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{256} << 20);
        http::read(stream, buf, parser);
        auto res = parser.release();
        beast::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        return AdminResponse{static_cast<int>(res.result_int()), std::move(res.body())};
    } catch (const std::exception& e) {
        print_unreachable(*ep, e);
        *exit_code = kExitUnreachable;
        return {};
    }
}

int probe(const AdminEndpoint& ep, const std::string& target, std::chrono::milliseconds timeout) {
    try {
        asio::io_context ioc;
        beast::tcp_stream stream(ioc);
        asio::ip::tcp::resolver resolver(ioc);
        stream.expires_after(timeout);
        stream.connect(resolver.resolve(ep.host, std::to_string(ep.port)));
        auto req = make_request(ep, "GET", target, std::nullopt);
        req.erase(http::field::authorization);
        http::write(stream, req);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        return static_cast<int>(res.result_int());
    } catch (const std::exception&) {
        return 0;
    }
}

AdminResponse admin_request(const AdminTarget& t, std::string_view method,
                            const std::string& target, int* exit_code) {
    auto res = admin_call(t, method, target, std::nullopt, exit_code);
    if (*exit_code == 0 && res.status != 200) *exit_code = report_failure(res);
    return res;
}

int admin_stream(const AdminTarget& t, const std::string& target, const SseHandler& on_event,
                 const std::atomic<bool>* stop) {
    int exit_code = 0;
    const auto ep = resolve_admin_target(t, &exit_code);
    if (!ep) return exit_code;
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    beast::flat_buffer buf;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    try {
        asio::ip::tcp::resolver resolver(ioc);
        stream.expires_after(kConnectTimeout);
        stream.connect(resolver.resolve(ep->host, std::to_string(ep->port)));
        auto req = make_request(*ep, "GET", target, std::nullopt);
        req.set(http::field::accept, "text/event-stream");
        stream.expires_after(std::chrono::seconds(30));
        http::write(stream, req);
        http::read_header(stream, buf, parser);
    } catch (const std::exception& e) {
        print_unreachable(*ep, e);
        return kExitUnreachable;
    }
    stream.expires_never();

    bool stopped = false;
    bool handler_done = false;
    beast::error_code failure;
    std::string error_body;
    const int status = static_cast<int>(parser.get().result_int());
    SseParser sse(on_event);
    char chunk[4096];

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const beast::error_code& ec, int) {
        if (ec) return;
        stopped = true;
        beast::error_code ignored;
        stream.socket().close(ignored);
    });
    asio::steady_timer poll(ioc);
    std::function<void()> arm_poll = [&] {
        if (stop == nullptr) return;
        poll.expires_after(kStopPoll);
        poll.async_wait([&](const beast::error_code& ec) {
            if (ec) return;
            if (stop->load()) {
                stopped = true;
                beast::error_code ignored;
                stream.socket().close(ignored);
                return;
            }
            arm_poll();
        });
    };
    arm_poll();

    std::function<void()> read_more = [&] {
        if (parser.is_done()) {
            signals.cancel();
            poll.cancel();
            return;
        }
        parser.get().body().data = chunk;
        parser.get().body().size = sizeof chunk;
        http::async_read_some(stream, buf, parser, [&](const beast::error_code& ec, std::size_t) {
            const auto n = sizeof chunk - parser.get().body().size;
            if (status == 200) {
                if (n > 0 && !sse.feed(std::string_view(chunk, n))) {
                    handler_done = true;
                }
            } else {
                error_body.append(chunk, n);
            }
            if ((ec && ec != http::error::need_buffer) || handler_done) {
                if (ec && ec != http::error::end_of_stream && ec != asio::error::eof) {
                    failure = ec;
                }
                signals.cancel();
                poll.cancel();
                return;
            }
            read_more();
        });
    };
    read_more();
    ioc.run();

    if (status != 200) return report_failure(AdminResponse{status, error_body});
    if (stopped || handler_done) return kExitOk;
    if (failure) {
        std::cerr << "qcc: the event stream broke: " << failure.message() << "\n";
        return kExitFailed;
    }
    return kExitOk;
}

}  // namespace qcc::cli
