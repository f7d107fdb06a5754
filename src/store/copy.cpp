#include "store/copy.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace qcc::store {
namespace {

constexpr std::size_t kBatch = 500;
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

std::int64_t count(std::size_t n) { return static_cast<std::int64_t>(n); }

std::int64_t count_settings(Store& st, const std::vector<std::string>& keys) {
    std::int64_t n = 0;
    for (const auto& k : keys) n += st.get_setting(k) ? 1 : 0;
    return n;
}

// Hands `newest_first` to `append` oldest first, in batches of kBatch.
template <class Record, class Append>
void append_oldest_first(std::vector<Record>& newest_first, const Append& append) {
    std::reverse(newest_first.begin(), newest_first.end());
    for (std::size_t i = 0; i < newest_first.size(); i += kBatch) {
        const auto end = std::min(newest_first.size(), i + kBatch);
        append(std::vector<Record>(newest_first.begin() + static_cast<std::ptrdiff_t>(i),
                                   newest_first.begin() + static_cast<std::ptrdiff_t>(end)));
    }
}

// Every request id of `st`, oldest first.
std::vector<std::int64_t> request_ids(Store& st) {
    std::vector<std::int64_t> ids;
    RequestQuery q;
    q.limit = 1000;
    while (true) {
        const auto page = st.query_requests(q);
        for (const auto& r : page) ids.push_back(r.id);
        if (page.size() < q.limit) break;
        q.before_id = page.back().id;
    }
    std::reverse(ids.begin(), ids.end());
    return ids;
}

}  // namespace

std::vector<CopiedTable> copy_store(Store& from, Store& to,
                                    const std::vector<std::string>& setting_keys,
                                    const std::function<void(const std::string&)>& progress) {
    auto say = [&](const std::string& line) {
        if (progress) progress(line);
    };
    {
        const auto endpoints = to.list_endpoints().size();
        const auto keys = to.list_client_keys().size();
        const auto requests = to.count_requests();
        if (endpoints != 0 || keys != 0 || requests != 0) {
            throw std::runtime_error("the target is not empty (" + std::to_string(endpoints) +
                                     " endpoint(s), " + std::to_string(keys) + " key(s), " +
                                     std::to_string(requests) +
                                     " request row(s)): migrate copies into an empty store");
        }
    }

    const auto endpoints = from.list_endpoints();
    for (const auto& e : endpoints) to.upsert_endpoint(e.config);
    const auto keys = from.list_client_keys();
    for (const auto& k : keys) {
        to.upsert_client_key(k.name, k.key_hash, k.prefix);
        if (k.limits != "{}" && !k.limits.empty()) to.set_client_key_limits(k.name, k.limits);
        if (k.revoked) to.revoke_client_key(k.name);
    }
    for (const auto& key : setting_keys) {
        if (auto v = from.get_setting(key)) to.set_setting(key, *v);
    }
    say("configuration: " + std::to_string(endpoints.size()) + " endpoint(s), " +
        std::to_string(keys.size()) + " client key(s)");

    const auto states = from.load_endpoint_states();
    to.save_endpoint_states(states);
    const auto bindings = from.load_bindings();
    to.save_bindings(bindings);

    auto events = from.recent_events(kAll);
    append_oldest_first(events, [&](std::vector<EventRecord> b) { to.append_events(b); });
    auto checks = from.recent_health_checks(kAll);
    append_oldest_first(checks,
                        [&](std::vector<HealthCheckRecord> b) { to.append_health_checks(b); });
    say("history: " + std::to_string(events.size()) + " event(s), " +
        std::to_string(checks.size()) + " health check(s)");

    const auto ids = request_ids(from);
    std::vector<RequestRecord> batch;
    std::size_t copied = 0;
    for (const auto id : ids) {
        auto row = from.get_request(id);
        if (!row) continue;  // deleted meanwhile (retention)
        row->id = 0;
        batch.push_back(std::move(*row));
        if (batch.size() == kBatch) {
            to.append_requests(batch);
            copied += batch.size();
            batch.clear();
            if (copied % 50'000 == 0) {
                say("request log: " + std::to_string(copied) + " of " + std::to_string(ids.size()) +
                    " row(s)");
            }
        }
    }
    if (!batch.empty()) to.append_requests(batch);

    std::vector<CopiedTable> report{
        {"endpoints", count(endpoints.size()), count(to.list_endpoints().size())},
        {"client keys", count(keys.size()), count(to.list_client_keys().size())},
        {"settings", count_settings(from, setting_keys), count_settings(to, setting_keys)},
        {"endpoint states", count(states.size()), count(to.load_endpoint_states().size())},
        {"session bindings", count(bindings.size()), count(to.load_bindings().size())},
        {"events", count(events.size()), count(to.recent_events(kAll).size())},
        {"health checks", count(checks.size()), count(to.recent_health_checks(kAll).size())},
        {"request rows", from.count_requests(), to.count_requests()},
    };
    return report;
}

}  // namespace qcc::store
