#include "cli/logs_cmd.hpp"

#include <atomic>
#include <iostream>

#include <boost/json.hpp>

#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

std::atomic<bool> g_stop_follow{false};

struct LogsOptions {
    AdminTarget target;
    bool json = false, follow = false, errors = false;
    std::size_t limit = 20;
    std::string endpoint;
};

/// The request table. Fixed widths (cells cut with "…"), so that lines printed while following line
/// up with the first table.
const Table& request_table() {
    static const Table table = [] {
        struct Column {
            const char* header;
            std::size_t width;
            bool right;
        };
        constexpr Column kColumns[] = {
            {"TIME", 19, false},     {"ID", 7, true},      {"KEY", 12, false},
            {"ENDPOINT", 14, false}, {"MODEL", 24, false}, {"STATUS", 16, false},
            {"TTFB", 8, true},       {"TOTAL", 8, true},   {"TOKENS IN/OUT", 17, true},
            {"COST", 9, true},       {"TRIED", 0, false}};
        std::vector<std::string> headers;
        for (const auto& c : kColumns) headers.emplace_back(c.header);
        Table t(headers);
        for (std::size_t i = 0; i < std::size(kColumns); ++i) {
            if (kColumns[i].right) t.right_align(i);
            if (kColumns[i].width > 0) t.column_width(i, kColumns[i].width, kColumns[i].width);
        }
        t.state_column(5);
        return t;
    }();
    return table;
}

void print_line(const std::vector<std::string>& cells) {
    std::cout << request_table().row_line(cells, stdout_style()) << "\n";
}

void print_header() { std::cout << request_table().header_line(stdout_style()) << "\n"; }

bool is_success(const json::object& r) {
    const auto status = json_int(r, "status");
    return status >= 200 && status < 400 && json_str(r, "error_class").empty();
}

void print_request(const json::object& r) {
    const auto requested = json_str(r, "model_requested");
    const auto sent = json_str(r, "model_sent");
    std::string model = requested;
    if (!sent.empty() && sent != requested) model += "→" + sent;
    std::string status = std::to_string(json_int(r, "status"));
    if (const auto cls = json_str(r, "error_class"); !cls.empty()) status += " " + cls;
    const auto ts = r.contains("ts") ? json_int(r, "ts") : json_int(r, "ts_unix_ms");
    print_line({format_time(ts), std::to_string(json_int(r, "id")), json_str(r, "client_key", "-"),
                json_str(r, "endpoint", "-"), model.empty() ? "-" : model, status,
                format_ms(json_num(r, "ttfb_ms", -1)), format_ms(json_num(r, "total_ms")),
                format_count(json_int(r, "input_tokens")) + " / " +
                    format_count(json_int(r, "output_tokens")),
                format_usd(json_num(r, "cost_usd")), json_str(r, "tried")});
}

void print_state(const json::object& e) {
    std::int64_t ts = json_int(e, "ts");
    if (ts == 0) ts = json_int(e, "ts_unix_ms");
    const auto kind = json_str(e, "kind");
    std::cout << format_time(ts) << "  == state: " << json_str(e, "endpoint", "-") << " "
              << paint(kind, state_tone(kind), color_enabled()) << (e.contains("detail") ? " " : "")
              << json_str(e, "detail") << "\n";
}

bool wanted(const LogsOptions& o, const json::object& r) {
    if (!o.endpoint.empty() && json_str(r, "endpoint") != o.endpoint) return false;
    if (o.errors && is_success(r)) return false;
    return true;
}

int follow(const LogsOptions& o) {
    const SseHandler on_event = [&](std::string_view event, std::string_view data) {
        if (event != "request" && event != "state") return true;
        boost::system::error_code ec;
        auto doc = json::parse(data, ec);
        if (ec || !doc.is_object()) return true;
        const auto& obj = doc.as_object();
        if (event == "request" && !wanted(o, obj)) return true;
        if (event == "state" && !o.endpoint.empty() && json_str(obj, "endpoint") != o.endpoint) {
            return true;
        }
        if (o.json) {
            json::object line;
            line["event"] = event;
            line["data"] = std::move(doc);
            print_json(line);
        } else if (event == "request") {
            print_request(obj);
        } else {
            print_state(obj);
        }
        std::cout.flush();
        return true;
    };
    const int rc = admin_stream(o.target, "/api/events", on_event, &g_stop_follow);
    g_stop_follow = false;
    return rc;
}

int run_logs(const LogsOptions& o) {
    std::string target = "/api/requests?limit=" + std::to_string(o.limit);
    if (!o.endpoint.empty()) target += "&endpoint=" + percent_encode(o.endpoint);
    if (o.errors) target += "&errors=1";
    auto r = call_json(o.target, "GET", target);
    if (r.exit_code != 0) return r.exit_code;
    if (o.json) {
        print_json(r.doc);
    } else {
        const auto& rows = json_arr(r.doc.as_object(), "requests");
        if (rows.empty() && !o.follow) {
            std::cout << "no requests logged"
                      << (o.endpoint.empty() && !o.errors ? "" : " (with these filters)") << "\n";
        } else {
            print_header();
            // Oldest first, like a log file: -f appends below.
            for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
                if (it->is_object()) print_request(it->as_object());
            }
        }
    }
    if (!o.follow) return kExitOk;
    std::cout.flush();
    return follow(o);
}

}  // namespace

void stop_following_logs() { g_stop_follow = true; }

void add_logs_command(CLI::App& app) {
    auto o = std::make_shared<LogsOptions>();
    auto* cmd = app.add_subcommand(
        "logs", "The newest requests (time, key, endpoint, model, status, latency, tokens, cost)");
    cmd->add_flag("-f,--follow", o->follow, "Keep printing requests and state changes live");
    cmd->add_option("-n,--limit", o->limit, "How many of the newest requests (default 20)")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--endpoint", o->endpoint, "Only requests served by this endpoint");
    cmd->add_flag("--errors", o->errors, "Only failed requests");
    add_target_options(cmd, o->target);
    add_output_flags(cmd, o->json, "JSON output (-f: one {\"event\",\"data\"} object a line)");
    run_with_exit_code(cmd, [o] { return run_logs(*o); });
}

}  // namespace qcc::cli
