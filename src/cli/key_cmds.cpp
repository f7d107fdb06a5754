#include "cli/key_cmds.hpp"

#include <iostream>

#include <boost/json.hpp>

#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

struct KeyOptions {
    AdminTarget target;
    bool json = false;
    std::string name;
};

}  // namespace

void add_key_commands(CLI::App& app) {
    auto* group = app.add_subcommand("key", "Client keys: create (shown once), list, revoke");
    group->require_subcommand(1);
    {
        auto o = std::make_shared<KeyOptions>();
        auto* cmd = group->add_subcommand("create", "Create a client key; prints it once");
        cmd->add_option("NAME", o->name, "Key name (shows up in the request log)")->required();
        add_target_options(cmd, o->target);
        add_output_flags(cmd, o->json);
        run_with_exit_code(cmd, [o] {
            json::object body;
            body["name"] = o->name;
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
            Table t({"NAME", "PREFIX", "CREATED", "STATUS"});
            t.state_column(3);
            for (const auto& v : keys) {
                if (!v.is_object()) continue;
                const auto& k = v.as_object();
                t.add_row({json_str(k, "name"), json_str(k, "prefix") + "…",
                           json_time(k, "created_at"),
                           json_bool(k, "revoked") ? "revoked" : "active"});
            }
            t.print(std::cout);
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
