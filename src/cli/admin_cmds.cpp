#include "cli/admin_cmds.hpp"

#include <iostream>

#include <boost/json.hpp>

#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

struct Options {
    AdminTarget target;
    bool json = false;
    std::string name, key, value, endpoint, reason;
    int limit = 50;
};

/// Prints `doc` as JSON (--json) or runs `table` on its object; returns kExitOk.
template <class Table>
int print(const Options& o, const json::value& doc, Table table) {
    if (o.json) {
        print_json(doc);
    } else {
        table(doc.as_object());
    }
    return kExitOk;
}

void print_settings(const json::array& rows) {
    // Long values (JSON price overrides) are cut: `qcc settings get KEY` prints them whole. On a
    // terminal the description wraps within what is left of its width.
    Table t({"KEY", "VALUE", "DEFAULT", "DESCRIPTION"});
    t.column_width(1, 0, 28).column_width(2, 0, 24).wrap_to_terminal(3);
    for (const auto& v : rows) {
        if (!v.is_object()) continue;
        const auto& s = v.as_object();
        const auto value = json_str(s, "value");
        t.add_row({json_str(s, "key"), json_bool(s, "set") ? value : value + " (default)",
                   json_str(s, "default"), json_str(s, "description")});
    }
    t.print(std::cout);
}

void add_settings(CLI::App& app) {
    auto* cmd = app.add_subcommand("settings", "Show or change runtime settings (applied at once)");
    cmd->require_subcommand(1);
    {
        auto o = std::make_shared<Options>();
        auto* list = cmd->add_subcommand("list", "Every setting with its value and default");
        add_target_options(list, o->target);
        add_output_flags(list, o->json);
        run_with_exit_code(list, [o] {
            auto r = call_json(o->target, "GET", "/api/settings");
            if (r.exit_code != 0) return r.exit_code;
            return print(*o, r.doc,
                         [](const json::object& d) { print_settings(json_arr(d, "settings")); });
        });
    }
    {
        auto o = std::make_shared<Options>();
        auto* get = cmd->add_subcommand("get", "Print one setting's value");
        get->add_option("KEY", o->key, "Setting key")->required();
        add_target_options(get, o->target);
        add_output_flags(get, o->json);
        run_with_exit_code(get, [o] {
            auto r = call_json(o->target, "GET", "/api/settings/" + percent_encode(o->key));
            if (r.exit_code != 0) return r.exit_code;
            return print(*o, r.doc,
                         [](const json::object& s) { std::cout << json_str(s, "value") << "\n"; });
        });
    }
    {
        auto o = std::make_shared<Options>();
        auto* set = cmd->add_subcommand("set",
                                        "Change a setting; the running server applies it "
                                        "before answering");
        set->add_option("KEY", o->key, "Setting key")->required();
        set->add_option("VALUE", o->value, "New value")->required();
        add_target_options(set, o->target);
        add_output_flags(set, o->json);
        run_with_exit_code(set, [o] {
            json::object body;
            body["value"] = o->value;
            auto r = call_json(o->target, "PUT", "/api/settings/" + percent_encode(o->key), body);
            if (r.exit_code != 0) return r.exit_code;
            return print(*o, r.doc, [](const json::object& s) {
                std::cout << json_str(s, "key") << " = " << json_str(s, "value") << "\n";
            });
        });
    }
}

void add_endpoint_actions(CLI::App& app) {
    CLI::App* group = nullptr;
    try {
        group = app.get_subcommand("endpoint");
    } catch (const CLI::OptionNotFound&) {
        group = app.add_subcommand("endpoint");
        group->require_subcommand(1);
    }
    {
        auto o = std::make_shared<Options>();
        auto* cmd = group->add_subcommand(
            "release", "Release a quarantined endpoint and reset its breaker and cooldown");
        cmd->add_option("NAME", o->name, "Endpoint name")->required();
        add_target_options(cmd, o->target);
        add_output_flags(cmd, o->json);
        run_with_exit_code(cmd, [o] {
            auto r = call_json(o->target, "POST", endpoint_path(o->name, "/release"));
            if (r.exit_code != 0) return r.exit_code;
            return print(*o, r.doc, [&](const json::object& d) {
                std::cout << (json_bool(d, "released") ? "released " : "reset ") << o->name
                          << (json_bool(d, "released") ? "" : " (it was not quarantined)") << "\n";
            });
        });
    }
    {
        auto o = std::make_shared<Options>();
        auto* cmd = group->add_subcommand(
            "quarantine", "Mark an endpoint failed: no traffic until released or a check passes");
        cmd->add_option("NAME", o->name, "Endpoint name")->required();
        cmd->add_option("--reason", o->reason, "Why (shown in status and events)");
        add_target_options(cmd, o->target);
        add_output_flags(cmd, o->json);
        run_with_exit_code(cmd, [o] {
            std::optional<json::object> body;
            if (!o->reason.empty()) body = json::object{{"reason", o->reason}};
            auto r = call_json(o->target, "POST", endpoint_path(o->name, "/quarantine"), body);
            if (r.exit_code != 0) return r.exit_code;
            return print(*o, r.doc, [&](const json::object&) {
                std::cout << "quarantined " << o->name << "\n";
            });
        });
    }
}

/// "/api/<what>?limit=N[&endpoint=E]".
std::string history_target(std::string_view what, const Options& o) {
    std::string t = "/api/" + std::string(what) + "?limit=" + std::to_string(o.limit);
    if (!o.endpoint.empty()) t += "&endpoint=" + percent_encode(o.endpoint);
    return t;
}

/// `qcc events` and `qcc checks`: a newest-first history page of the admin API as a table.
void add_history(CLI::App& app, const char* name, const char* help, std::string_view route,
                 std::string_view field, int default_limit, std::vector<std::string> headers,
                 std::function<std::vector<std::string>(const json::object&)> row,
                 std::string empty_message, std::function<void(Table&)> shape) {
    auto o = std::make_shared<Options>();
    o->limit = default_limit;
    auto* cmd = app.add_subcommand(name, help);
    cmd->add_option("--endpoint", o->endpoint, "Only this endpoint");
    cmd->add_option("-n,--limit", o->limit, "How many (newest first)")->check(CLI::Range(1, 1000));
    add_target_options(cmd, o->target);
    add_output_flags(cmd, o->json);
    run_with_exit_code(cmd, [o, route = std::string(route), field = std::string(field), headers,
                             row, empty_message, shape] {
        auto r = call_json(o->target, "GET", history_target(route, *o));
        if (r.exit_code != 0) return r.exit_code;
        return print(*o, r.doc, [&](const json::object& d) {
            const auto& rows = json_arr(d, field);
            if (rows.empty()) {
                std::cout << empty_message << "\n";
                return;
            }
            Table t(headers);
            shape(t);
            for (const auto& v : rows) {
                if (v.is_object()) t.add_row(row(v.as_object()));
            }
            t.print(std::cout);
        });
    });
}

}  // namespace

void add_admin_commands(CLI::App& app) {
    add_settings(app);
    add_endpoint_actions(app);
    add_history(
        app, "events", "Health state changes: breaker, cooldown, quarantine, release, re-pin",
        "events/history", "events", 50, {"TIME", "ENDPOINT", "KIND", "DETAIL"},
        [](const json::object& e) {
            return std::vector<std::string>{json_time(e, "ts"), json_str(e, "endpoint"),
                                            json_str(e, "kind"), json_str(e, "detail")};
        },
        "no events", [](Table& t) { t.state_column(2); });
    add_history(
        app, "checks", "Health-check history (newest first)", "health/checks", "checks", 20,
        {"TIME", "ENDPOINT", "METHOD", "RESULT", "SCORE", "LATENCY", "ERROR"},
        [](const json::object& c) {
            return std::vector<std::string>{
                json_time(c, "ts"),
                json_str(c, "endpoint"),
                json_str(c, "method"),
                json_str(c, "result"),
                std::to_string(json_int(c, "score")),
                format_ms(static_cast<double>(json_int(c, "latency_ms"))),
                json_str(c, "error")};
        },
        "no health checks recorded",
        [](Table& t) { t.state_column(3).right_align(4).right_align(5); });
}

}  // namespace qcc::cli
