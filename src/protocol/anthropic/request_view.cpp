#include "protocol/anthropic/request_view.hpp"

#include "protocol/anthropic/json_reader.hpp"
#include "protocol/anthropic/json_util.hpp"

namespace qcc::anthropic {

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING);

namespace {

constexpr bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_json_space(std::string_view s) {
    while (!s.empty() && is_json_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
    return s;
}

void set_error(std::string* error, std::string_view message) {
    if (error != nullptr) error->assign(message);
}

simdjson::error_code read_model(simdjson::ondemand::value& v, const char* base, RequestView& view) {
    view.model.clear();
    view.model_offset = 0;
    view.model_length = 0;
    simdjson::ondemand::json_type type;
    if (auto e = v.type().get(type)) return e;
    if (type != simdjson::ondemand::json_type::string) return simdjson::SUCCESS;
    // The raw token runs up to the next structural character, so it may carry trailing spaces;
    // a string token itself always ends at its closing quote.
    std::string_view token = v.raw_json_token();
    while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
    std::string_view model;
    if (auto e = v.get_string().get(model)) return e;
    if (token.size() < 2 || token.front() != '"' || token.back() != '"') {
        return simdjson::STRING_ERROR;
    }
    view.model.assign(model);
    view.model_offset = static_cast<std::size_t>(token.data() - base);
    view.model_length = token.size();
    return simdjson::SUCCESS;
}

simdjson::error_code read_metadata(simdjson::ondemand::value& v, RequestView& view) {
    view.metadata_user_id.clear();
    simdjson::ondemand::json_type type;
    if (auto e = v.type().get(type)) return e;
    if (type != simdjson::ondemand::json_type::object) return simdjson::SUCCESS;
    simdjson::ondemand::object metadata;
    if (auto e = v.get_object().get(metadata)) return e;
    return detail::for_each_field(metadata,
                                  [&](std::string_view key, simdjson::ondemand::value& field) {
                                      if (key != "user_id") return simdjson::SUCCESS;
                                      view.metadata_user_id.clear();
                                      return detail::read_string(field, view.metadata_user_id);
                                  });
}

}  // namespace

std::optional<RequestView> peek_request(std::string_view body, std::size_t capacity,
                                        std::string* error) {
    // On-demand iteration stops at the object's closing brace; checking the last byte catches
    // truncated bodies and most trailing garbage without another pass.
    const std::string_view trimmed = trim_json_space(body);
    if (trimmed.empty()) {
        set_error(error, "request body is empty; expected a JSON object");
        return std::nullopt;
    }
    if (trimmed.front() != '{') {
        set_error(error, "request body must be a JSON object");
        return std::nullopt;
    }
    if (trimmed.back() != '}') {
        set_error(error, "request body is not valid JSON: unterminated object or trailing content");
        return std::nullopt;
    }

    RequestView view;
    detail::JsonScratch scratch;
    simdjson::ondemand::document doc;
    simdjson::error_code e = scratch.iterate(body, capacity, doc);
    simdjson::ondemand::object obj;
    if (!e) e = doc.get_object().get(obj);
    if (!e) {
        e = detail::for_each_field(obj, [&](std::string_view key, simdjson::ondemand::value& v) {
            if (key == "model") return read_model(v, scratch.base(), view);
            if (key == "stream") {
                simdjson::ondemand::json_type type;
                if (auto te = v.type().get(type)) return te;
                view.stream = false;
                if (type != simdjson::ondemand::json_type::boolean) return simdjson::SUCCESS;
                return v.get_bool().get(view.stream);
            }
            if (key == "metadata") return read_metadata(v, view);
            return simdjson::SUCCESS;
        });
    }
    if (e) {
        if (error != nullptr) {
            *error = "request body is not valid JSON: ";
            *error += simdjson::error_message(e);
        }
        return std::nullopt;
    }
    return view;
}

std::string splice_model(std::string_view body, const RequestView& view,
                         std::string_view new_model) {
    if (view.model_length < 2 || view.model_offset > body.size() ||
        body.size() - view.model_offset < view.model_length) {
        return std::string(body);
    }
    const std::string_view head = body.substr(0, view.model_offset);
    const std::string_view tail = body.substr(view.model_offset + view.model_length);
    std::string out;
    out.reserve(head.size() + new_model.size() + 2 + tail.size() + 16);
    out.append(head);
    out.push_back('"');
    append_json_escaped(out, new_model);
    out.push_back('"');
    out.append(tail);
    return out;
}

}  // namespace qcc::anthropic
