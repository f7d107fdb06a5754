#include "cli/endpoint_cmds.hpp"

#include <fstream>
#include <iostream>

#include <boost/json.hpp>
#include <unistd.h>

#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

/// Flags shared by `add` and `set`; the Option pointers tell which ones were given.
struct EndpointFlags {
    AdminTarget target;
    bool json = false;
    std::string name, url, key, kind, auth;
    int tier = 1, weight = 100;
    bool disabled = false;
    std::vector<std::string> model_map, tags, models;
    std::string key_file;
    CLI::Option* key_file_opt = nullptr;
    CLI::Option *url_opt = nullptr, *key_opt = nullptr, *kind_opt = nullptr, *auth_opt = nullptr,
                *tier_opt = nullptr, *weight_opt = nullptr, *map_opt = nullptr, *tag_opt = nullptr,
                *models_opt = nullptr;
};

void add_field_flags(CLI::App* cmd, EndpointFlags& f, bool for_add) {
    f.url_opt = cmd->add_option("--url", f.url, "Base URL (may carry a path prefix)");
    f.key_opt = cmd->add_option(
        "--key", f.key,
        "Upstream credential (stored encrypted); '-' reads it from standard input, so it stays "
        "out of the shell history and the process list");
    f.key_file_opt =
        cmd->add_option("--key-file", f.key_file,
                        "Read the upstream credential from the first line of this file")
            ->excludes(f.key_opt);
    if (for_add) {
        f.url_opt->required();  // and one of --key / --key-file (checked by `add`)
    }
    f.kind_opt = cmd->add_option("--kind", f.kind, "Wire protocol: anthropic or openai")
                     ->check(CLI::IsMember({"anthropic", "openai"}));
    f.auth_opt = cmd->add_option("--auth", f.auth, "Credential header: x-api-key, bearer or both")
                     ->check(CLI::IsMember({"x-api-key", "bearer", "both"}));
    f.tier_opt = cmd->add_option("--tier", f.tier, "1 primary, 2 secondary, 3 fallback (1..9)");
    f.weight_opt = cmd->add_option("--weight", f.weight, "Share within the tier (1..1000)");
    f.map_opt = cmd->add_option("--model-map", f.model_map,
                                for_add ? "Rewrite a model: from=to (repeatable)"
                                        : "Replace the model map: from=to (repeatable; '' clears)");
    f.tag_opt = cmd->add_option(
        "--tag", f.tags,
        for_add ? "A tag (repeatable)" : "Replace the tags (repeatable; '' clears)");
    f.models_opt = cmd->add_option(
        "--model", f.models,
        for_add ? "Serve only these models (repeatable): an id, a family (haiku, sonnet, opus) "
                  "or a prefix ending in '*'; default every model"
                : "Replace the models served (repeatable; '' = every model)");
}

/// The fields given on the command line as an API body; nullopt (after printing why) on a bad
/// --model-map.
std::optional<json::object> field_body(const EndpointFlags& f) {
    json::object body;
    if (f.url_opt->count() > 0) body["base_url"] = f.url;
    if (f.key_file_opt->count() > 0) {
        // The first line of a file (e.g. one only root can read), never echoed or kept in argv.
        std::ifstream in(f.key_file);
        std::string key;
        if (!in || !std::getline(in, key)) {
            std::cerr << "qcc: --key-file " << f.key_file << ": cannot read a key from it\n";
            return std::nullopt;
        }
        while (!key.empty() && (key.back() == '\r' || key.back() == '\n' || key.back() == ' ')) {
            key.pop_back();
        }
        if (key.empty()) {
            std::cerr << "qcc: --key-file " << f.key_file << ": the first line is empty\n";
            return std::nullopt;
        }
        body["api_key"] = key;
    }
    if (f.key_opt->count() > 0) {
        std::string key = f.key;
        if (key == "-") {
            // One line from stdin (a pipe, a file, or typed at a prompt without echo by the shell).
            if (::isatty(STDIN_FILENO) != 0) std::cerr << "upstream key: " << std::flush;
            std::getline(std::cin, key);
            while (!key.empty() && (key.back() == '\r' || key.back() == '\n')) key.pop_back();
            if (key.empty()) {
                std::cerr << "qcc: --key -: no key on standard input\n";
                return std::nullopt;
            }
        }
        body["api_key"] = key;
    }
    if (f.kind_opt->count() > 0) body["kind"] = f.kind;
    if (f.auth_opt->count() > 0) body["auth"] = f.auth;
    if (f.tier_opt->count() > 0) body["tier"] = f.tier;
    if (f.weight_opt->count() > 0) body["weight"] = f.weight;
    if (f.map_opt->count() > 0) {
        json::object map;
        for (const auto& m : f.model_map) {
            if (m.empty()) continue;
            const auto eq = m.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
                std::cerr << "qcc: --model-map \"" << m << "\": expected from=to\n";
                return std::nullopt;
            }
            map[m.substr(0, eq)] = m.substr(eq + 1);
        }
        body["model_map"] = std::move(map);
    }
    if (f.tag_opt->count() > 0) {
        json::array tags;
        for (const auto& t : f.tags) {
            if (!t.empty()) tags.emplace_back(t);
        }
        body["tags"] = std::move(tags);
    }
    if (f.models_opt->count() > 0) {
        json::array models;
        for (const auto& m : f.models) {
            if (!m.empty()) models.emplace_back(m);
        }
        body["models"] = std::move(models);
    }
    return body;
}

std::string state_summary(const json::object& ep) {
    if (!json_bool(ep, "enabled", true)) return "disabled";
    const auto* s = ep.if_contains("state");
    if (s == nullptr || !s->is_object()) return "-";
    const auto& st = s->as_object();
    if (json_bool(st, "quarantined")) return "quarantined";
    const auto breaker = json_str(st, "breaker", "closed");
    if (breaker != "closed") return "breaker " + breaker;
    if (const auto cooldown = json_int(st, "cooldown_ms"); cooldown > 0) {
        return "cooldown " + std::to_string((cooldown + 999) / 1000) + "s";
    }
    if (json_bool(st, "cuts_streams")) return "cuts streams";
    return json_bool(st, "usable", true) ? "ok" : "unusable";
}

std::string timeout_text(const json::object& ep, std::string_view key) {
    const auto* v = ep.if_contains(key);
    if (v == nullptr || !v->is_number()) return "default";
    return format_ms(v->to_number<double>());
}

std::string model_map_text(const json::object& ep) {
    std::string out;
    for (const auto& [from, to] : json_obj(ep, "model_map")) {
        if (!out.empty()) out += ", ";
        out += std::string(from) + "=" + (to.is_string() ? std::string(to.as_string()) : "?");
    }
    return out.empty() ? "-" : out;
}

/// A string array field as "a, b" ("-" when empty).
std::string list_text(const json::object& ep, std::string_view field,
                      std::string_view empty = "-") {
    std::string out;
    for (const auto& t : json_arr(ep, field)) {
        if (!t.is_string()) continue;
        if (!out.empty()) out += ", ";
        out += std::string(t.as_string());
    }
    return out.empty() ? std::string(empty) : out;
}

void print_endpoint(const json::object& ep) {
    // Two columns without a header: field and value (states coloured on a colour terminal).
    Table t({"", ""});
    t.column_width(0, 20);
    const bool color = color_enabled();
    auto line = [&](std::string label, std::string value) {
        t.add_row({std::move(label), std::move(value)});
    };
    auto state = [&](std::string label, const std::string& value) {
        line(std::move(label), paint(value, state_tone(value), color));
    };
    line("name", json_str(ep, "name"));
    line("base_url", json_str(ep, "base_url"));
    line("kind", json_str(ep, "kind"));
    line("auth", json_str(ep, "auth"));
    line("tier", std::to_string(json_int(ep, "tier")));
    line("weight", std::to_string(json_int(ep, "weight")));
    line("enabled", json_bool(ep, "enabled") ? "yes" : "no");
    line("tls_verify", json_bool(ep, "tls_verify", true) ? "yes" : "no");
    line("api_key", json_str(ep, "api_key", "-"));
    line("model_map", model_map_text(ep));
    line("models", list_text(ep, "models", "every model"));
    line("tags", list_text(ep, "tags"));
    line("connect_timeout", timeout_text(ep, "connect_timeout_ms"));
    line("first_byte_timeout", timeout_text(ep, "first_byte_timeout_ms"));
    line("idle_timeout", timeout_text(ep, "idle_timeout_ms"));
    line("created", json_time(ep, "created_at"));
    line("updated", json_time(ep, "updated_at"));
    state("state", state_summary(ep));
    if (const auto* s = ep.if_contains("state"); s != nullptr && s->is_object()) {
        const auto& st = s->as_object();
        state("  breaker", json_str(st, "breaker", "-"));
        if (const auto c = json_int(st, "cooldown_ms"); c > 0) {
            line("  cooldown",
                 format_ms(static_cast<double>(c)) + " " + json_str(st, "cooldown_reason"));
        }
        if (json_bool(st, "quarantined")) line("  quarantine", json_str(st, "quarantine_reason"));
        line("  in flight", format_count(json_int(st, "in_flight")));
        line("  ok / failed", format_count(json_int(st, "successes")) + " / " +
                                  format_count(json_int(st, "failures")));
        line("  ttfb (ewma)", format_ms(json_num(st, "ewma_ttfb_ms")));
    }
    t.print(std::cout);
}

void print_events_and_checks(const json::object& ep) {
    const auto& events = json_arr(ep, "events");
    std::cout << "\nrecent events:" << (events.empty() ? " none\n" : "\n");
    if (!events.empty()) {
        Table t({"TIME", "KIND", "DETAIL"});
        t.state_column(1);
        for (const auto& v : events) {
            if (!v.is_object()) continue;
            const auto& e = v.as_object();
            t.add_row({e.contains("ts") ? json_time(e, "ts") : json_time(e, "ts_unix_ms"),
                       json_str(e, "kind"), json_str(e, "detail")});
        }
        t.print(std::cout);
    }
    const auto& checks = json_arr(ep, "checks");
    std::cout << "\nrecent health checks:" << (checks.empty() ? " none\n" : "\n");
    if (!checks.empty()) {
        Table t({"TIME", "METHOD", "RESULT", "SCORE", "LATENCY", "ERROR"},
                {false, false, false, true, true, false});
        t.state_column(2);
        for (const auto& v : checks) {
            if (!v.is_object()) continue;
            const auto& c = v.as_object();
            t.add_row({c.contains("ts") ? json_time(c, "ts") : json_time(c, "ts_unix_ms"),
                       json_str(c, "method"), json_str(c, "result"),
                       std::to_string(json_int(c, "score")), format_ms(json_num(c, "latency_ms")),
                       json_str(c, "error")});
        }
        t.print(std::cout);
    }
}

int run_list(const AdminTarget& target, bool as_json) {
    auto r = call_json(target, "GET", "/api/endpoints");
    if (r.exit_code != 0) return r.exit_code;
    if (as_json) {
        print_json(r.doc);
        return kExitOk;
    }
    const auto& eps = json_arr(r.doc.as_object(), "endpoints");
    if (eps.empty()) {
        std::cout << "no endpoints (add one with `qcc endpoint add NAME --url URL --key KEY`)\n";
        return kExitOk;
    }
    Table t({"NAME", "TIER", "WEIGHT", "KIND", "AUTH", "STATE", "BASE_URL"},
            {false, true, true, false, false, false, false});
    t.state_column(5);
    for (const auto& v : eps) {
        if (!v.is_object()) continue;
        const auto& ep = v.as_object();
        t.add_row({json_str(ep, "name"), std::to_string(json_int(ep, "tier")),
                   std::to_string(json_int(ep, "weight")), json_str(ep, "kind"),
                   json_str(ep, "auth"), state_summary(ep), json_str(ep, "base_url")});
    }
    t.print(std::cout);
    return kExitOk;
}

/// The server's `warning` (e.g. the endpoint is declared in its config file), on stderr.
void print_warning(const JsonResult& r) {
    if (!r.doc.is_object()) return;
    if (const auto w = json_str(r.doc.as_object(), "warning"); !w.empty()) {
        std::cerr << "qcc: warning: " << w << "\n";
    }
}

/// One endpoint answer: --json prints it, otherwise `verb` + a short summary.
int report_endpoint(const JsonResult& r, bool as_json, std::string_view verb) {
    if (r.exit_code != 0) return r.exit_code;
    print_warning(r);
    if (as_json) {
        print_json(r.doc);
        return kExitOk;
    }
    const auto& ep = r.doc.is_object() ? r.doc.as_object() : json::object();
    std::cout << verb << " endpoint " << json_str(ep, "name") << " (tier " << json_int(ep, "tier")
              << ", weight " << json_int(ep, "weight") << ", " << state_summary(ep) << ", "
              << json_str(ep, "base_url") << ")\n";
    return kExitOk;
}

}  // namespace

void add_endpoint_commands(CLI::App& app) {
    CLI::App* group = nullptr;
    try {
        group = app.get_subcommand("endpoint");
    } catch (const CLI::OptionNotFound&) {
        group = app.add_subcommand("endpoint");
        group->require_subcommand(1);
    }
    group->description(
        "Manage endpoints: add, list, show, set, enable, disable, rm, release, quarantine");

    {
        auto f = std::make_shared<EndpointFlags>();
        auto* cmd = group->add_subcommand("add", "Add an endpoint (the server applies it at once)");
        cmd->add_option("NAME", f->name, "Endpoint name (letters, digits, '.', '_', '-')")
            ->required();
        add_field_flags(cmd, *f, true);
        cmd->add_flag("--disabled", f->disabled, "Add it disabled (no traffic until enabled)");
        add_target_options(cmd, f->target);
        add_output_flags(cmd, f->json);
        run_with_exit_code(cmd, [f] {
            if (f->key_opt->count() == 0 && f->key_file_opt->count() == 0) {
                std::cerr << "qcc: endpoint add needs the upstream key: --key KEY, --key - (read "
                             "from standard input) or --key-file FILE (--key '' for none)\n";
                return kExitUsage;
            }
            auto body = field_body(*f);
            if (!body) return kExitUsage;
            json::object b;
            b["name"] = f->name;
            for (auto& [k, v] : *body) b[k] = v;
            if (f->disabled) b["enabled"] = false;
            // As in the config file: OpenAI-compatible servers expect a bearer token.
            if (f->kind == "openai" && f->auth_opt->count() == 0) b["auth"] = "bearer";
            return report_endpoint(call_json(f->target, "POST", "/api/endpoints", b), f->json,
                                   "added");
        });
    }
    {
        auto o = std::make_shared<std::pair<AdminTarget, bool>>();
        auto* cmd = group->add_subcommand("list", "Every endpoint with its tier, weight and state");
        add_target_options(cmd, o->first);
        add_output_flags(cmd, o->second);
        run_with_exit_code(cmd, [o] { return run_list(o->first, o->second); });
    }
    {
        auto f = std::make_shared<EndpointFlags>();
        auto* cmd = group->add_subcommand(
            "show", "One endpoint: every field, live state, recent events and health checks");
        cmd->add_option("NAME", f->name, "Endpoint name")->required();
        add_target_options(cmd, f->target);
        add_output_flags(cmd, f->json);
        run_with_exit_code(cmd, [f] {
            auto r = call_json(f->target, "GET", endpoint_path(f->name));
            if (r.exit_code != 0) return r.exit_code;
            if (f->json) {
                print_json(r.doc);
                return kExitOk;
            }
            print_endpoint(r.doc.as_object());
            print_events_and_checks(r.doc.as_object());
            return kExitOk;
        });
    }
    {
        auto f = std::make_shared<EndpointFlags>();
        auto* cmd = group->add_subcommand("set", "Change fields of an endpoint");
        cmd->add_option("NAME", f->name, "Endpoint name")->required();
        add_field_flags(cmd, *f, false);
        add_target_options(cmd, f->target);
        add_output_flags(cmd, f->json);
        run_with_exit_code(cmd, [f] {
            auto body = field_body(*f);
            if (!body) return kExitUsage;
            if (body->empty()) {
                std::cerr << "qcc: nothing to change: give at least one of --url, --key, --kind, "
                             "--auth, --tier, --weight, --model-map, --tag\n";
                return kExitUsage;
            }
            return report_endpoint(call_json(f->target, "PATCH", endpoint_path(f->name), *body),
                                   f->json, "updated");
        });
    }
    for (const auto& [verb, done, help] :
         {std::tuple{"enable", "enabled", "Send traffic to the endpoint again"},
          std::tuple{"disable", "disabled",
                     "Stop sending traffic to the endpoint (kept in the store)"}}) {
        auto f = std::make_shared<EndpointFlags>();
        auto* cmd = group->add_subcommand(verb, help);
        cmd->add_option("NAME", f->name, "Endpoint name")->required();
        add_target_options(cmd, f->target);
        add_output_flags(cmd, f->json);
        const std::string suffix = std::string("/") + verb;
        const std::string done_s = done;
        run_with_exit_code(cmd, [f, suffix, done_s] {
            return report_endpoint(call_json(f->target, "POST", endpoint_path(f->name, suffix)),
                                   f->json, done_s);
        });
    }
    {
        auto f = std::make_shared<EndpointFlags>();
        auto* cmd = group->add_subcommand("rm", "Delete an endpoint");
        cmd->add_option("NAME", f->name, "Endpoint name")->required();
        add_target_options(cmd, f->target);
        add_output_flags(cmd, f->json);
        run_with_exit_code(cmd, [f] {
            auto r = call_json(f->target, "DELETE", endpoint_path(f->name));
            if (r.exit_code != 0) return r.exit_code;
            print_warning(r);
            if (f->json) {
                print_json(r.doc);
            } else {
                std::cout << "deleted endpoint " << f->name << "\n";
            }
            return kExitOk;
        });
    }
}

}  // namespace qcc::cli
