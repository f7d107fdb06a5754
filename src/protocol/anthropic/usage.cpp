#include "protocol/anthropic/usage.hpp"

#include "protocol/anthropic/json_reader.hpp"

namespace qcc::anthropic {

Usage parse_usage_json(std::string_view body) {
    Usage usage;
    detail::JsonScratch scratch;
    simdjson::ondemand::document doc;
    if (scratch.iterate(body, body.size(), doc)) return {};
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return {};
    auto error =
        detail::for_each_field(obj, [&](std::string_view key, simdjson::ondemand::value& v) {
            if (key == "usage") return detail::merge_usage(v, usage);
            if (key == "stop_reason") return detail::read_string(v, usage.stop_reason);
            if (key == "model") return detail::read_string(v, usage.model);
            return simdjson::SUCCESS;
        });
    // A body that breaks off midway is not a response we can account for.
    if (error) return {};
    return usage;
}

}  // namespace qcc::anthropic
