#include "cli/key_cmds.hpp"

#include <charconv>
#include <cmath>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

struct KeyOptions {
    AdminTarget target;
    bool json = false;
    std::string name;
    // Limits given on the command line (-1: not given; 0: no limit).
    std::int64_t rpm = -1, tpm = -1;
    double budget_day = -1, budget_month = -1;
    std::string tiers, endpoints;  // "1,2" / "a,b"; "all" removes the restriction; "" not given
};

/// "1,2" → [1, 2]; "all" → [] (every one). The server validates the values.
json::array list_option(const std::string& text, bool numbers) {
    json::array out;
    if (text == "all") return out;
    std::string item;
    std::stringstream in(text);
    while (std::getline(in, item, ',')) {
        if (item.empty()) continue;
        if (!numbers) {
            out.emplace_back(item);
            continue;
        }
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
        if (ec == std::errc() && end == item.data() + item.size()) out.emplace_back(n);
    }
    return out;
}

void add_limit_options(CLI::App* cmd, KeyOptions& o) {
    const CLI::Validator nonneg(
        [](std::string& text) -> std::string {
            return !text.empty() && text.front() == '-' ? "must be 0 or more" : "";
        },
        "0+");
    cmd->add_option("--rpm", o.rpm, "Requests per minute (0: no limit)")->check(nonneg);
    cmd->add_option("--tpm", o.tpm,
                    "Tokens per minute: input, cache writes and output (0: no limit)")
        ->check(nonneg);
    cmd->add_option("--budget-day", o.budget_day, "USD per day, UTC (0: no budget)")->check(nonneg);
    cmd->add_option("--budget-month", o.budget_month, "USD per calendar month, UTC (0: no budget)")
        ->check(nonneg);
    const CLI::Validator tier_list(
        [](std::string& text) -> std::string {
            if (text == "all") return {};
            for (const char c : text) {
                if (c != ',' && (c < '0' || c > '9')) {
                    return "expected tier numbers such as 1,2 (or all)";
                }
            }
            return {};
        },
        "1,2|all");
    cmd->add_option("--tiers", o.tiers, "Tiers the key may use, e.g. 1,2 (all: every tier)")
        ->check(tier_list);
    cmd->add_option("--endpoints", o.endpoints,
                    "Endpoints the key may use, e.g. relay-a,relay-b (all: every endpoint)");
}

/// The limits the options give, as the API takes them (only those given).
json::object limits_body(const KeyOptions& o) {
    json::object l;
    if (o.rpm >= 0) l["requests_per_minute"] = o.rpm;
    if (o.tpm >= 0) l["tokens_per_minute"] = o.tpm;
    if (o.budget_day >= 0) l["budget_daily_usd"] = o.budget_day;
    if (o.budget_month >= 0) l["budget_monthly_usd"] = o.budget_month;
    if (!o.tiers.empty()) l["tiers"] = list_option(o.tiers, true);
    if (!o.endpoints.empty()) l["endpoints"] = list_option(o.endpoints, false);
    return l;
}

/// A budget as people set it: "$10", "$2.50", "$0.0002".
std::string budget_text(double usd) {
    if (usd >= 1 && usd == std::floor(usd)) return fmt::format("${:.0f}", usd);
    return usd >= 1 ? fmt::format("${:.2f}", usd) : format_usd(usd);
}

/// "60 req/min, 200,000 tok/min, $10/day, $200/month", or "-".
std::string limits_text(const json::object& k) {
    const auto* v = k.if_contains("limits");
    if (v == nullptr || !v->is_object() || v->as_object().empty()) return "-";
    const auto& l = v->as_object();
    std::string out;
    const auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
    if (l.contains("requests_per_minute")) {
        add(format_count(json_int(l, "requests_per_minute")) + " req/min");
    }
    if (l.contains("tokens_per_minute")) {
        add(format_count(json_int(l, "tokens_per_minute")) + " tok/min");
    }
    if (l.contains("budget_daily_usd")) {
        add(budget_text(json_num(l, "budget_daily_usd", 0)) + "/day");
    }
    if (l.contains("budget_monthly_usd")) {
        add(budget_text(json_num(l, "budget_monthly_usd", 0)) + "/month");
    }
    for (const auto* field : {"tiers", "endpoints"}) {
        const auto* list = l.if_contains(field);
        if (list == nullptr || !list->is_array()) continue;
        std::string items;
        for (const auto& item : list->as_array()) {
            items += (items.empty() ? "" : ",") +
                     (item.is_string() ? std::string(item.as_string()) : json::serialize(item));
        }
        add(std::string(field) + " " + items);
    }
    return out;
}

/// What the key spent today and this month ("-" for a revoked key).
std::string spent_text(const json::object& k) {
    const auto* u = k.if_contains("usage");
    if (u == nullptr || !u->is_object()) return "-";
    return format_usd(json_num(u->as_object(), "spent_today_usd", 0)) + " / " +
           format_usd(json_num(u->as_object(), "spent_this_month_usd", 0));
}

}  // namespace

void add_key_commands(CLI::App& app) {
    auto* group =
        app.add_subcommand("key", "Client keys: create (shown once), list, set (limits), revoke");
    group->require_subcommand(1);
    {
        auto o = std::make_shared<KeyOptions>();
        auto* cmd = group->add_subcommand("create", "Create a client key; prints it once");
        cmd->add_option("NAME", o->name, "Key name (shows up in the request log)")->required();
        add_limit_options(cmd, *o);
        add_target_options(cmd, o->target);
        add_output_flags(cmd, o->json);
        run_with_exit_code(cmd, [o] {
            json::object body;
            body["name"] = o->name;
            if (auto limits = limits_body(*o); !limits.empty()) body["limits"] = std::move(limits);
            auto r = call_json(o->target, "POST", "/api/keys", body);
            if (r.exit_code != 0) return r.exit_code;
            if (o->json) {
                print_json(r.doc);
                return kExitOk;
            }
            const auto& k = r.doc.as_object();
            std::cout << "created client key " << json_str(k, "name") << ":\n\n  "
                      << json_str(k, "key")
                      << "\n\nIt is shown only this once: store it now. Clients send it as "
                         "x-api-key or Authorization: Bearer.\n";
            return kExitOk;
        });
    }
    {
        auto o = std::make_shared<KeyOptions>();
        auto* cmd = group->add_subcommand("list", "Every client key (names and prefixes only)");
        add_target_options(cmd, o->target);
        add_output_flags(cmd, o->json);
        run_with_exit_code(cmd, [o] {
            auto r = call_json(o->target, "GET", "/api/keys");
            if (r.exit_code != 0) return r.exit_code;
            if (o->json) {
                print_json(r.doc);
                return kExitOk;
            }
            const auto& keys = json_arr(r.doc.as_object(), "keys");
            if (keys.empty()) {
                std::cout << "no client keys (create one with `qcc key create NAME`)\n";
                return kExitOk;
            }
            Table t({"NAME", "PREFIX", "CREATED", "STATUS", "LIMITS", "SPENT TODAY / MONTH"});
            t.state_column(3);
            for (const auto& v : keys) {
                if (!v.is_object()) continue;
                const auto& k = v.as_object();
                t.add_row({json_str(k, "name"), json_str(k, "prefix") + "…",
                           json_time(k, "created_at"),
                           json_bool(k, "revoked") ? "revoked" : "active", limits_text(k),
                           spent_text(k)});
            }
            t.print(std::cout);
            return kExitOk;
        });
    }
    {
        auto o = std::make_shared<KeyOptions>();
        auto* cmd = group->add_subcommand(
            "set", "Change a key's limits and budgets (the others stay; 0 removes one)");
        cmd->add_option("NAME", o->name, "Key name")->required();
        add_limit_options(cmd, *o);
        add_target_options(cmd, o->target);
        add_output_flags(cmd, o->json);
        run_with_exit_code(cmd, [o] {
            json::object body;
            body["limits"] = limits_body(*o);
            if (body["limits"].as_object().empty()) {
                std::cerr << "qcc: key set: give at least one of --rpm, --tpm, --budget-day, "
                             "--budget-month, --tiers, --endpoints\n";
                return kExitUsage;
            }
            auto r = call_json(o->target, "PATCH", "/api/keys/" + percent_encode(o->name), body);
            if (r.exit_code != 0) return r.exit_code;
            if (o->json) {
                print_json(r.doc);
            } else {
                std::cout << "client key " << o->name
                          << " limits: " << limits_text(r.doc.as_object()) << "\n";
            }
            return kExitOk;
        });
    }
    {
        auto o = std::make_shared<KeyOptions>();
        auto* cmd =
            group->add_subcommand("revoke", "Revoke a client key (takes effect within 1 s)");
        cmd->add_option("NAME", o->name, "Key name")->required();
        add_target_options(cmd, o->target);
        add_output_flags(cmd, o->json);
        run_with_exit_code(cmd, [o] {
            auto r = call_json(o->target, "DELETE", "/api/keys/" + percent_encode(o->name));
            if (r.exit_code != 0) return r.exit_code;
            if (o->json) {
                print_json(r.doc);
            } else {
                std::cout << "revoked client key " << o->name << "\n";
            }
            return kExitOk;
        });
    }
}

}  // namespace qcc::cli
