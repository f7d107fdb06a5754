#include "cli/command_util.hpp"

#include <iostream>

#include <boost/json.hpp>

#include "config/config.hpp"

namespace qcc::cli {

namespace json = boost::json;

void add_target_options(CLI::App* cmd, AdminTarget& t) {
    cmd->add_option("-c,--config", t.config_path, "TOML config (listen address, admin token)");
    cmd->add_option("-l,--listen", t.listen, "Address of the running QCC (default from config)");
    cmd->add_option("--token", t.token, "Admin token (default: QCC_ADMIN_TOKEN, config, data dir)");
}

JsonResult call_json(const AdminTarget& t, std::string_view method, const std::string& target,
                     const std::optional<json::object>& body) {
    JsonResult out;
    std::optional<std::string> text;
    if (body) text = json::serialize(*body);
    const auto res = admin_call(t, method, target, text, &out.exit_code);
    out.status = res.status;
    if (out.exit_code != 0) return out;
    if (res.status < 200 || res.status >= 300) {
        out.exit_code = report_failure(res);
        return out;
    }
    boost::system::error_code ec;
    out.doc = json::parse(res.body, ec);
    if (ec) {
        std::cerr << "qcc: unexpected answer from the server to " << method << " " << target
                  << " (not JSON: " << ec.message() << ")\n";
        out.exit_code = kExitFailed;
    }
    return out;
}

int guarded(const std::function<int()>& f) {
    try {
        return f();
    } catch (const config::ConfigError& e) {
        std::cerr << "qcc: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "qcc: " << e.what() << "\n";
        return kExitFailed;
    }
}

void print_json(const json::value& v) { std::cout << json::serialize(v) << "\n"; }

std::string endpoint_path(std::string_view name, std::string_view suffix) {
    return "/api/endpoints/" + percent_encode(name) + std::string(suffix);
}

void run_with_exit_code(CLI::App* cmd, std::function<int()> f) {
    cmd->callback([f = std::move(f)] { throw CLI::RuntimeError(guarded(f)); });
}

}  // namespace qcc::cli
