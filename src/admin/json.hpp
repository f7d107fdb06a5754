// JSON forms of what the admin API shows, each built in one place so that a record looks the same
// in every answer and in the live event stream (`event: request`, `event: state`, `event: check`).
#pragma once
#include <boost/json/object.hpp>

#include "control/api.hpp"
#include "proxy/health_state.hpp"
#include "store/records.hpp"
#include "upstream/endpoint.hpp"

namespace qcc::admin {

/// A request-log row as JSON: the RequestRecord field names, `ts` for ts_unix_ms; payloads only
/// when `with_payloads` and captured.
boost::json::object request_json(const store::RequestRecord& r, bool with_payloads = false);

/// A statistics row as JSON (the StatsRow field names).
boost::json::object stats_json(const store::StatsRow& r);

/// A state-change event: id (0 for a live one), ts, endpoint, kind, detail.
boost::json::object event_json(const store::EventRecord& e);
boost::json::object event_json(const proxy::StateEvent& e);

/// A health-check result: id (0 until stored), ts, endpoint, method, result, valid, score,
/// latency_ms, model, input_tokens, output_tokens, error.
boost::json::object check_json(const store::HealthCheckRecord& r);

/// The live state row of one endpoint, as in GET /api/status.
/// A client key's stored limits as a JSON object ({} when none or unreadable).
boost::json::value key_limits_value(const store::ClientKeyRecord& k);

/// An endpoint's configuration as POST /api/endpoints takes it (every field), with `api_key` as
/// given: the credential in clear for a backup, masked for everything else.
boost::json::object endpoint_config_json(const config::EndpointConfig& e, std::string api_key);

boost::json::object endpoint_status_row(control::ControlApi& control, const upstream::Endpoint& ep);

}  // namespace qcc::admin
