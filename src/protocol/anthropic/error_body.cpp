#include "protocol/anthropic/error_body.hpp"

#include "protocol/anthropic/json_reader.hpp"
#include "protocol/anthropic/json_util.hpp"

namespace qcc::anthropic {
namespace {

void append_error_body(std::string& out, std::string_view type, std::string_view message) {
    out.append(R"({"type":"error","error":{"type":")");
    append_json_escaped(out, type);
    out.append(R"(","message":")");
    append_json_escaped(out, message);
    out.append(R"("}})");
}

}  // namespace

std::string error_body(std::string_view type, std::string_view message) {
    std::string out;
    out.reserve(48 + type.size() + message.size());
    append_error_body(out, type, message);
    return out;
}

std::string sse_error_event(std::string_view type, std::string_view message) {
    std::string out;
    out.reserve(64 + type.size() + message.size());
    out.append("event: error\ndata: ");
    append_error_body(out, type, message);
    out.append("\n\n");
    return out;
}

std::string parse_error_type(std::string_view body) {
    detail::JsonScratch scratch;
    simdjson::ondemand::document doc;
    if (scratch.iterate(body, body.size(), doc)) return {};
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return {};
    std::string type;
    auto error =
        detail::for_each_field(obj, [&](std::string_view key, simdjson::ondemand::value& v) {
            if (key != "error") return simdjson::SUCCESS;
            simdjson::ondemand::json_type json_type;
            if (auto e = v.type().get(json_type)) return e;
            if (json_type != simdjson::ondemand::json_type::object) return simdjson::SUCCESS;
            simdjson::ondemand::object inner;
            if (auto e = v.get_object().get(inner)) return e;
            return detail::for_each_field(
                inner, [&](std::string_view inner_key, simdjson::ondemand::value& field) {
                    if (inner_key != "type") return simdjson::SUCCESS;
                    return detail::read_string(field, type);
                });
        });
    // A classifier must not act on half a body.
    if (error) return {};
    return type;
}

}  // namespace qcc::anthropic
