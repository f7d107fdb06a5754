#include "protocol/openai/translate_response.hpp"

#include <exception>

#include "protocol/anthropic/error_body.hpp"
#include "protocol/openai/common.hpp"

namespace qcc::openai {
namespace json = boost::json;
using detail::append_json_string;
using detail::find_array;
using detail::find_object;
using detail::find_string;
using detail::string_or_empty;

namespace {

// A raw error body quoted as the message is cut here (HTML error pages can be large).
constexpr std::size_t kMaxQuotedBody = 1024;

const json::object* first_choice(const json::object& response) {
    const json::array* choices = find_array(response, "choices");
    if (choices == nullptr) return nullptr;
    const json::object* first = nullptr;
    for (const json::value& item : *choices) {
        const json::object* choice = item.if_object();
        if (choice == nullptr) continue;
        const json::value* index = choice->if_contains("index");
        if (index == nullptr || detail::as_count(index) == 0) return choice;
        if (first == nullptr) first = choice;
    }
    return first;
}

std::string message_text(const json::object& message) {
    std::string text;
    const json::value* content = message.if_contains("content");
    if (content != nullptr && content->is_string()) text = content->get_string();
    if (const json::array* parts = content ? content->if_array() : nullptr) {
        for (const json::value& item : *parts) {
            const json::object* part = item.if_object();
            if (part != nullptr && string_or_empty(*part, "type") == "text") {
                text.append(string_or_empty(*part, "text"));
            }
        }
    }
    if (text.empty()) text = string_or_empty(message, "refusal");
    return text;
}

void append_tool_use(std::string& out, std::string_view id, std::string_view name,
                     const json::value* arguments) {
    out.append(R"({"type":"tool_use","id":)");
    append_json_string(out, id);
    out.append(R"(,"name":)");
    append_json_string(out, name);
    out.append(R"(,"input":)");
    detail::append_json(out, json::value(detail::tool_input_from_arguments(arguments)));
    out.push_back('}');
}

std::optional<std::string> translate(std::string_view body, std::string_view client_model,
                                     anthropic::Usage& usage, std::string& error_type,
                                     std::string& error) {
    auto parsed = detail::parse_json(body);
    if (!parsed) {
        error_type = "api_error";
        error = "upstream response is not valid JSON";
        return std::nullopt;
    }
    if (detail::read_error(*parsed, 0, true, error_type, error)) {
        if (error.empty()) error = "upstream returned an error";
        return std::nullopt;
    }
    const json::object* response = parsed->if_object();
    const json::object* choice = response ? first_choice(*response) : nullptr;
    if (choice == nullptr) {
        error_type = "api_error";
        error = "upstream response has no choices";
        return std::nullopt;
    }
    const std::string_view finish_reason = string_or_empty(*choice, "finish_reason");
    if (finish_reason == "error") {
        error_type = "api_error";
        error = "upstream reported finish_reason \"error\"";
        return std::nullopt;
    }
    if (const json::object* u = find_object(*response, "usage")) detail::read_usage(*u, usage);
    usage.model = string_or_empty(*response, "model");
    const std::string id = detail::message_id_for(string_or_empty(*response, "id"));

    std::string out;
    out.reserve(body.size() + 256);
    out.append(R"({"id":)");
    append_json_string(out, id);
    out.append(R"(,"type":"message","role":"assistant","model":)");
    append_json_string(out, client_model);
    out.append(R"(,"content":[)");
    bool first_block = true;
    const auto next_block = [&] {
        if (!first_block) out.push_back(',');
        first_block = false;
    };
    bool has_tool_use = false;
    if (const json::object* message = find_object(*choice, "message")) {
        std::string_view reasoning = string_or_empty(*message, "reasoning_content");
        if (reasoning.empty()) reasoning = string_or_empty(*message, "reasoning");
        if (!reasoning.empty()) {
            next_block();
            out.append(R"({"type":"thinking","thinking":)");
            append_json_string(out, reasoning);
            out.append(R"(,"signature":""})");
        }
        if (const std::string text = message_text(*message); !text.empty()) {
            next_block();
            out.append(R"({"type":"text","text":)");
            append_json_string(out, text);
            out.push_back('}');
        }
        std::size_t ordinal = 0;
        if (const json::array* calls = find_array(*message, "tool_calls")) {
            for (const json::value& item : *calls) {
                const json::object* call = item.if_object();
                const json::object* function = call ? find_object(*call, "function") : nullptr;
                if (function == nullptr) continue;
                const std::string_view name = string_or_empty(*function, "name");
                if (name.empty()) continue;  // a nameless call cannot be run
                next_block();
                append_tool_use(
                    out, detail::tool_use_id_for(string_or_empty(*call, "id"), id, ordinal++), name,
                    function->if_contains("arguments"));
                has_tool_use = true;
            }
        }
        // The legacy single function call.
        if (const json::object* function = find_object(*message, "function_call")) {
            const std::string_view name = string_or_empty(*function, "name");
            if (!name.empty()) {
                next_block();
                append_tool_use(out, detail::tool_use_id_for({}, id, ordinal++), name,
                                function->if_contains("arguments"));
                has_tool_use = true;
            }
        }
    }
    // vLLM names the stop string that ended generation; others give no way to know.
    const std::string_view matched =
        finish_reason == "stop" ? string_or_empty(*choice, "stop_reason") : std::string_view();
    const std::string_view stop_reason =
        detail::stop_reason_for(finish_reason, !matched.empty(), has_tool_use);
    usage.stop_reason = stop_reason;
    out.append(R"(],"stop_reason":)");
    append_json_string(out, stop_reason);
    out.append(R"(,"stop_sequence":)");
    if (stop_reason == "stop_sequence") {
        append_json_string(out, matched);
    } else {
        out.append("null");
    }
    out.append(R"(,"usage":{"input_tokens":)");
    out.append(std::to_string(usage.input_tokens));
    out.append(R"(,"cache_creation_input_tokens":0,"cache_read_input_tokens":)");
    out.append(std::to_string(usage.cache_read_input_tokens));
    out.append(R"(,"output_tokens":)");
    out.append(std::to_string(usage.output_tokens));
    out.append("}}");
    return out;
}

}  // namespace

std::optional<std::string> translate_response(std::string_view openai_body,
                                              std::string_view client_model,
                                              anthropic::Usage* usage, std::string* error_type,
                                              std::string* error) {
    anthropic::Usage parsed_usage;
    std::string type;
    std::string message;
    std::optional<std::string> result;
    try {
        result = translate(openai_body, client_model, parsed_usage, type, message);
    } catch (const std::exception& e) {
        result.reset();
        type = "api_error";
        message = std::string("response translation failed: ") + e.what();
    }
    if (usage != nullptr) *usage = std::move(parsed_usage);
    if (!result) {
        if (error_type != nullptr) *error_type = std::move(type);
        if (error != nullptr) *error = std::move(message);
    }
    return result;
}

std::string anthropic_error_from_openai(int status, std::string_view body) {
    try {
        std::string type;
        std::string message;
        if (auto parsed = detail::parse_json(body)) {
            detail::read_error(*parsed, status, false, type, message);
        }
        if (type.empty()) type = detail::error_type_for_status(status);
        if (type.empty()) type = "api_error";
        if (message.empty()) {
            std::string_view quoted = body;
            while (!quoted.empty() && (quoted.front() == ' ' || quoted.front() == '\n' ||
                                       quoted.front() == '\r' || quoted.front() == '\t')) {
                quoted.remove_prefix(1);
            }
            while (!quoted.empty() && (quoted.back() == ' ' || quoted.back() == '\n' ||
                                       quoted.back() == '\r' || quoted.back() == '\t')) {
                quoted.remove_suffix(1);
            }
            message = quoted.substr(0, kMaxQuotedBody);
        }
        if (message.empty()) message = "upstream returned HTTP " + std::to_string(status);
        return anthropic::error_body(type, message);
    } catch (const std::exception&) {
        return anthropic::error_body("api_error", "upstream returned an error");
    }
}

}  // namespace qcc::openai
