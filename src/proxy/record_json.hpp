// JSON forms of store records shared by the admin API and the live event stream, so a request
// looks the same in GET /api/requests and in `event: request`.
#pragma once
#include <boost/json/object.hpp>

#include "store/store.hpp"

namespace qcc::proxy {

/// A request-log row as JSON: the RequestRecord field names, `ts` for ts_unix_ms; payloads only
/// when `with_payloads` and captured.
boost::json::object request_json(const store::RequestRecord& r, bool with_payloads = false);

/// A statistics row as JSON (the StatsRow field names).
boost::json::object stats_json(const store::StatsRow& r);

}  // namespace qcc::proxy
