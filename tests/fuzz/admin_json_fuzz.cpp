// libFuzzer target: the admin API's JSON input — a body parsed as POST /api/endpoints parses it,
// its fields checked and applied, the endpoint validated. Bad input must surface as an ApiError
// (a 4xx with a message), never as a crash or another exception; an accepted endpoint carries no
// control character in its credential.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "admin/json_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    try {
        const auto o = qcc::admin::parse_body_object(body, true);
        qcc::admin::reject_unknown_fields(o, qcc::admin::kEndpointFields);
        qcc::config::EndpointConfig e;
        qcc::admin::apply_endpoint_fields(o, e);
        qcc::admin::validate_endpoint_fields(e);
        if (!qcc::config::check_header_value(e.api_key).empty()) std::abort();
        if (e.tier < 1 || e.tier > 9 || e.weight < 1 || e.weight > 1000) std::abort();
    } catch (const qcc::admin::ApiError& e) {
        if (e.status() < 400 || e.status() > 499) std::abort();
    }
    return 0;
}
