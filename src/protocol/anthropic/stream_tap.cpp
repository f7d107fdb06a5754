#include "protocol/anthropic/stream_tap.hpp"

#include "protocol/anthropic/error_body.hpp"
#include "protocol/anthropic/json_reader.hpp"

namespace qcc::anthropic {
namespace {

constexpr bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skip_space(std::string_view& s) {
    while (!s.empty() && is_json_space(s.front())) s.remove_prefix(1);
}

bool consume(std::string_view& s, char c) {
    skip_space(s);
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

// The value of a leading "type" member, e.g. `{"type":"message_stop"}` -> message_stop; "" if the
// data does not start that way. Cheap on purpose: it runs only for unnamed events.
std::string_view leading_type(std::string_view data) {
    if (!consume(data, '{')) return {};
    skip_space(data);
    if (data.substr(0, 6) != "\"type\"") return {};
    data.remove_prefix(6);
    if (!consume(data, ':') || !consume(data, '"')) return {};
    const std::size_t end = data.find_first_of("\"\\");
    if (end == std::string_view::npos || data[end] != '"') return {};
    return data.substr(0, end);
}

// message_start: {"type":"message_start","message":{"model":..,"usage":{..},..}}
simdjson::error_code read_message_start(std::string_view data, Usage& usage) {
    detail::JsonScratch scratch;
    simdjson::ondemand::document doc;
    if (auto e = scratch.iterate(data, data.size(), doc)) return e;
    simdjson::ondemand::object obj;
    if (auto e = doc.get_object().get(obj)) return e;
    return detail::for_each_field(obj, [&](std::string_view key, simdjson::ondemand::value& v) {
        if (key != "message") return simdjson::SUCCESS;
        simdjson::ondemand::json_type type;
        if (auto e = v.type().get(type)) return e;
        if (type != simdjson::ondemand::json_type::object) return simdjson::SUCCESS;
        simdjson::ondemand::object message;
        if (auto e = v.get_object().get(message)) return e;
        return detail::for_each_field(
            message, [&](std::string_view message_key, simdjson::ondemand::value& field) {
                if (message_key == "usage") return detail::merge_usage(field, usage);
                if (message_key == "model") return detail::read_string(field, usage.model);
                return simdjson::SUCCESS;
            });
    });
}

// message_delta: {"type":"message_delta","delta":{"stop_reason":..},"usage":{"output_tokens":..}}
simdjson::error_code read_message_delta(std::string_view data, Usage& usage) {
    detail::JsonScratch scratch;
    simdjson::ondemand::document doc;
    if (auto e = scratch.iterate(data, data.size(), doc)) return e;
    simdjson::ondemand::object obj;
    if (auto e = doc.get_object().get(obj)) return e;
    return detail::for_each_field(obj, [&](std::string_view key, simdjson::ondemand::value& v) {
        if (key == "usage") return detail::merge_usage(v, usage);
        if (key != "delta") return simdjson::SUCCESS;
        simdjson::ondemand::json_type type;
        if (auto e = v.type().get(type)) return e;
        if (type != simdjson::ondemand::json_type::object) return simdjson::SUCCESS;
        simdjson::ondemand::object delta;
        if (auto e = v.get_object().get(delta)) return e;
        return detail::for_each_field(
            delta, [&](std::string_view delta_key, simdjson::ondemand::value& field) {
                if (delta_key == "stop_reason")
                    return detail::read_string(field, usage.stop_reason);
                return simdjson::SUCCESS;
            });
    });
}

}  // namespace

void StreamTap::feed(std::string_view bytes) noexcept {
    try {
        parser_.feed(bytes, [this](const sse::Event& event) { on_event(event); });
    } catch (...) {
        // Only allocation failure can get here; the tap is advisory and must never break the
        // relay it observes.
    }
}

void StreamTap::on_event(const sse::Event& event) {
    ++events_;
    const std::string_view name = event.name.empty() ? leading_type(event.data) : event.name;
    if (name == "ping") return;
    const bool is_error = name == "error";
    if (!first_event_seen_) {
        first_event_seen_ = true;
        first_event_is_error_ = is_error;
    }
    if (is_error) {
        if (!error_seen_) error_type_ = parse_error_type(event.data);
        error_seen_ = true;
        if (!content_seen_) error_before_content_ = true;
        return;
    }
    if (name == "content_block_delta" || name == "message_delta" || name == "message_stop") {
        content_seen_ = true;
    }
    if (name == "message_start") {
        // Parse into a copy so a malformed event cannot leave half-applied numbers behind.
        Usage next = usage_;
        if (!read_message_start(event.data, next)) usage_ = std::move(next);
    } else if (name == "message_delta") {
        Usage next = usage_;
        if (!read_message_delta(event.data, next)) usage_ = std::move(next);
    } else if (name == "message_stop") {
        message_stop_seen_ = true;
    }
}

}  // namespace qcc::anthropic
