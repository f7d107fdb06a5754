#include "cli/stats_cmd.hpp"

#include <iostream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli/command_util.hpp"
#include "cli/format.hpp"

namespace qcc::cli {

namespace {

namespace json = boost::json;

struct StatsOptions {
    AdminTarget target;
    bool json = false;
    std::string window = "24h", by = "endpoint", bucket;
};

std::string percentiles(const json::object& row, std::string_view prefix) {
    auto p = [&](std::string_view q) {
        const double v = json_num(row, std::string(prefix) + "_" + std::string(q) + "_ms");
        return v >= 10'000 ? fmt::format("{:.1f}s", v / 1000) : fmt::format("{:.0f}", v);
    };
    return p("p50") + "/" + p("p95") + "/" + p("p99");
}

std::vector<std::string> stats_cells(const json::object& row, std::string group) {
    return {std::move(group),
            format_count(json_int(row, "count")),
            format_percent(json_num(row, "success_ratio")),
            format_count(json_int(row, "failovers")),
            percentiles(row, "latency"),
            percentiles(row, "ttfb"),
            format_count(json_int(row, "input_tokens")),
            format_count(json_int(row, "output_tokens")),
            format_count(json_int(row, "cache_creation_tokens")),
            format_count(json_int(row, "cache_read_tokens")),
            format_usd(json_num(row, "cost_usd"))};
}

/// Requests refused for a missing or wrong client key: never in the rows, OK % or totals above.
void print_refused(const json::object& doc) {
    if (!doc.contains("unauthorized")) return;  // a server from before the field
    const auto n = json_int(doc, "unauthorized");
    std::cout << "\nrefused (bad client key): "
              << paint(format_count(n), n > 0 ? Tone::kWarn : Tone::kPlain, color_enabled())
              << " (not counted in the requests above)\n";
}

int run_stats(const StatsOptions& o) {
    // The server validates window and bucket (15m, 24h, 7d, ...) and names the bad one.
    std::string target =
        "/api/stats?window=" + percent_encode(o.window) + "&by=" + percent_encode(o.by);
    if (!o.bucket.empty()) target += "&bucket=" + percent_encode(o.bucket);
    auto r = call_json(o.target, "GET", target);
    if (r.exit_code != 0) return r.exit_code;
    if (o.json) {
        print_json(r.doc);
        return kExitOk;
    }
    const auto& doc = r.doc.as_object();
    const bool bucketed = json_int(doc, "bucket_ms") > 0;
    std::string group_header = o.by == "none" ? "GROUP" : o.by;
    for (auto& c : group_header) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::vector<std::string> headers{group_header,
                                     "REQS",
                                     "OK",
                                     "FAILOVERS",
                                     "LATENCY p50/95/99 ms",
                                     "TTFB p50/95/99 ms",
                                     "IN",
                                     "OUT",
                                     "CACHE W",
                                     "CACHE R",
                                     "COST"};
    std::vector<bool> right{false, true, true, true, true, true, true, true, true, true, true};
    if (bucketed) {
        headers.insert(headers.begin(), "BUCKET");
        right.insert(right.begin(), false);
    }
    Table t(headers, right);
    for (const auto& v : json_arr(doc, "rows")) {
        if (!v.is_object()) continue;
        const auto& row = v.as_object();
        auto group = json_str(row, "group");
        if (group.empty()) group = o.by == "none" ? "(all)" : "(none)";
        auto cells = stats_cells(row, std::move(group));
        if (bucketed) cells.insert(cells.begin(), format_time(json_int(row, "bucket_unix_ms")));
        t.add_row(std::move(cells));
    }
    auto totals = stats_cells(json_obj(doc, "totals"), "TOTAL");
    if (bucketed) totals.insert(totals.begin(), "");
    t.set_footer(std::move(totals));
    std::cout << "requests from " << format_time(json_int(doc, "from")) << " to "
              << format_time(json_int(doc, "to")) << " by " << o.by << "\n\n";
    if (t.empty()) std::cout << "(no requests in this window)\n";
    t.print(std::cout);
    print_refused(doc);
    return kExitOk;
}

}  // namespace

void add_stats_command(CLI::App& app) {
    auto o = std::make_shared<StatsOptions>();
    auto* cmd = app.add_subcommand(
        "stats", "Request statistics per endpoint, model, key or session over a window");
    cmd->add_option("-w,--window", o->window, "How far back: 30m, 24h, 7d (default 24h)");
    cmd->add_option("--by", o->by, "Group rows by endpoint (default), model, key, session or none")
        ->check(CLI::IsMember({"none", "endpoint", "model", "key", "session"}));
    cmd->add_option("--bucket", o->bucket, "Also split by time buckets of this size, e.g. 1h");
    add_target_options(cmd, o->target);
    add_output_flags(cmd, o->json);
    run_with_exit_code(cmd, [o] { return run_stats(*o); });
}

}  // namespace qcc::cli
