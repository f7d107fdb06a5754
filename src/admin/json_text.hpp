// JSON text of the admin API's answers and live events: like boost::json::serialize, but numbers
// with a fraction are written in their shortest round-trip form ("100", "0.983", "820.5") instead
// of Boost's exponent form ("1E2", "9.83E-1"), which people reading the API with curl trip over.
#pragma once
#include <string>

#include <boost/json/value.hpp>

namespace qcc::admin {

std::string to_json_text(const boost::json::value& v);

}  // namespace qcc::admin
