#include "protocol/openai/translate_request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "protocol/openai/common.hpp"

namespace qcc::openai {
namespace json = boost::json;
using detail::find_array;
using detail::find_object;
using detail::find_string;
using detail::string_or_empty;

namespace {

constexpr std::string_view kBillingHeaderPrefix = "x-anthropic-billing-header:";
constexpr std::string_view kTextSeparator = "\n\n";

void join_text(std::string& acc, std::string_view text) {
    if (text.empty()) return;
    if (!acc.empty()) acc.append(kTextSeparator);
    acc.append(text);
}

json::object text_part(std::string_view text) {
    json::object part;
    part["type"] = "text";
    part["text"] = text;
    return part;
}

// The content of one user message being built; text-only content collapses to a string.
class Parts {
  public:
    void add_text(std::string_view text) {
        if (text.empty()) return;
        texts_.emplace_back(text);
        parts_.emplace_back(text_part(text));
    }
    void add_media(json::object part) {
        has_media_ = true;
        parts_.emplace_back(std::move(part));
    }
    bool empty() const { return parts_.empty(); }
    json::value take() {
        if (has_media_) return json::value(std::move(parts_));
        std::string joined;
        for (const std::string& text : texts_) join_text(joined, text);
        return json::value(json::string(joined));
    }

  private:
    json::array parts_;
    std::vector<std::string> texts_;
    bool has_media_ = false;
};

std::optional<json::object> image_part(const json::object& block) {
    const json::object* source = find_object(block, "source");
    if (source == nullptr) return std::nullopt;
    const std::string_view type = string_or_empty(*source, "type");
    std::string url;
    if (type == "base64") {
        std::string_view media_type = string_or_empty(*source, "media_type");
        if (media_type.empty()) media_type = "image/png";
        url.append("data:").append(media_type).append(";base64,");
        url.append(string_or_empty(*source, "data"));
    } else if (type == "url") {
        url = string_or_empty(*source, "url");
    }
    if (url.empty()) return std::nullopt;
    json::object image_url;
    image_url["url"] = url;
    json::object part;
    part["type"] = "image_url";
    part["image_url"] = std::move(image_url);
    return part;
}

// A document block: text-like sources are appended to `text`, a base64 file (PDF) becomes a
// `file` part in `media`. Returns true when something went to `media`.
bool add_document(const json::object& block, std::string& text, Parts& media) {
    const json::object* source = find_object(block, "source");
    if (source == nullptr) return false;
    const std::string_view type = string_or_empty(*source, "type");
    const std::string_view title = string_or_empty(block, "title");
    if (type == "base64") {
        std::string_view media_type = string_or_empty(*source, "media_type");
        if (media_type.empty()) media_type = "application/pdf";
        std::string data = "data:";
        data.append(media_type).append(";base64,").append(string_or_empty(*source, "data"));
        json::object file;
        file["filename"] = title.empty() ? std::string_view("document.pdf") : title;
        file["file_data"] = data;
        json::object part;
        part["type"] = "file";
        part["file"] = std::move(file);
        media.add_media(std::move(part));
        return true;
    }
    std::string body;
    if (type == "text") {
        body = string_or_empty(*source, "data");
    } else if (type == "content") {
        const json::value* content = source->if_contains("content");
        if (content != nullptr && content->is_string()) body = content->get_string();
        if (const json::array* blocks = content ? content->if_array() : nullptr) {
            for (const json::value& item : *blocks) {
                const json::object* b = item.if_object();
                if (b != nullptr && string_or_empty(*b, "type") == "text") {
                    join_text(body, string_or_empty(*b, "text"));
                }
            }
        }
    } else if (type == "url") {
        body = "[document: " + std::string(string_or_empty(*source, "url")) + "]";
    }
    if (body.empty()) return false;
    if (!title.empty()) body = "Document: " + std::string(title) + "\n\n" + body;
    join_text(text, body);
    return false;
}

// role "tool" message for a tool_result block; images and files it carries go to `following`.
json::object tool_message(const json::object& block, Parts& following) {
    std::string text;
    std::size_t moved = 0;
    const json::value* content = block.if_contains("content");
    if (content != nullptr && content->is_string()) text = content->get_string();
    if (const json::array* blocks = content ? content->if_array() : nullptr) {
        for (const json::value& item : *blocks) {
            const json::object* b = item.if_object();
            if (b == nullptr) continue;
            const std::string_view type = string_or_empty(*b, "type");
            if (type == "text") {
                join_text(text, string_or_empty(*b, "text"));
            } else if (type == "image") {
                if (auto part = image_part(*b)) {
                    following.add_media(std::move(*part));
                    ++moved;
                }
            } else if (type == "document") {
                if (add_document(*b, text, following)) ++moved;
            }
        }
    }
    if (moved > 0) {
        // The model should know where the result's attachments went.
        join_text(text, "[" + std::to_string(moved) +
                            (moved == 1 ? " attachment of this tool result follows"
                                        : " attachments of this tool result follow") +
                            " in the next user message]");
    }
    const json::value* is_error = block.if_contains("is_error");
    if (is_error != nullptr && is_error->is_bool() && is_error->get_bool()) {
        text = text.empty() ? std::string("Error") : "Error: " + text;
    }
    json::object message;
    message["role"] = "tool";
    message["tool_call_id"] = string_or_empty(block, "tool_use_id");
    message["content"] = text;
    return message;
}

class MessageBuilder {
  public:
    void add_system(const json::value& system) {
        std::string text;
        if (system.is_string()) text = system.get_string();
        if (const json::array* blocks = system.if_array()) {
            for (const json::value& item : *blocks) {
                const json::object* b = item.if_object();
                if (b == nullptr || string_or_empty(*b, "type") != "text") continue;
                const std::string_view block_text = string_or_empty(*b, "text");
                if (block_text.substr(0, kBillingHeaderPrefix.size()) == kBillingHeaderPrefix) {
                    continue;
                }
                join_text(text, block_text);
            }
        }
        if (text.empty()) return;
        json::object message;
        message["role"] = "system";
        message["content"] = text;
        messages_.emplace_back(std::move(message));
    }

    void add(const json::object& message) {
        const std::string_view role = string_or_empty(message, "role");
        const json::value* content = message.if_contains("content");
        if (content == nullptr) return;
        if (role == "user") {
            add_user(*content);
        } else if (role == "assistant") {
            add_assistant(*content);
        } else if (role == "system") {
            add_system(*content);
        }
    }

    json::array take() { return std::move(messages_); }

  private:
    void add_user(const json::value& content) {
        std::vector<json::object> tool_messages;
        Parts parts;
        if (content.is_string()) parts.add_text(content.get_string());
        if (const json::array* blocks = content.if_array()) {
            for (const json::value& item : *blocks) {
                const json::object* b = item.if_object();
                if (b == nullptr) continue;
                const std::string_view type = string_or_empty(*b, "type");
                if (type == "text") {
                    parts.add_text(string_or_empty(*b, "text"));
                } else if (type == "image") {
                    if (auto part = image_part(*b)) parts.add_media(std::move(*part));
                } else if (type == "document") {
                    std::string text;
                    add_document(*b, text, parts);
                    parts.add_text(text);
                } else if (type == "tool_result") {
                    tool_messages.emplace_back(tool_message(*b, parts));
                }
            }
        }
        for (json::object& tool : tool_messages) {
            if (tool_anchor_ <= messages_.size()) {
                messages_.insert(messages_.begin() + static_cast<std::ptrdiff_t>(tool_anchor_),
                                 json::value(std::move(tool)));
                ++tool_anchor_;
            } else {
                messages_.emplace_back(std::move(tool));
            }
        }
        if (parts.empty()) return;
        json::object message;
        message["role"] = "user";
        message["content"] = parts.take();
        messages_.emplace_back(std::move(message));
        tool_anchor_ = kNoAnchor;
    }

    void add_assistant(const json::value& content) {
        std::string text;
        json::array tool_calls;
        if (content.is_string()) text = content.get_string();
        if (const json::array* blocks = content.if_array()) {
            for (const json::value& item : *blocks) {
                const json::object* b = item.if_object();
                if (b == nullptr) continue;
                const std::string_view type = string_or_empty(*b, "type");
                if (type == "text") {
                    join_text(text, string_or_empty(*b, "text"));
                } else if (type == "tool_use") {
                    json::object function;
                    function["name"] = string_or_empty(*b, "name");
                    const json::value* input = b->if_contains("input");
                    function["arguments"] =
                        input != nullptr && !input->is_null() ? detail::to_json(*input) : "{}";
                    json::object call;
                    call["id"] = string_or_empty(*b, "id");
                    call["type"] = "function";
                    call["function"] = std::move(function);
                    tool_calls.emplace_back(std::move(call));
                }
            }
        }
        if (text.empty() && tool_calls.empty()) return;
        json::object message;
        message["role"] = "assistant";
        if (text.empty()) {
            message["content"] = nullptr;
        } else {
            message["content"] = text;
        }
        const bool has_calls = !tool_calls.empty();
        if (has_calls) message["tool_calls"] = std::move(tool_calls);
        messages_.emplace_back(std::move(message));
        tool_anchor_ = has_calls ? messages_.size() : kNoAnchor;
    }

    static constexpr std::size_t kNoAnchor = static_cast<std::size_t>(-1);

    json::array messages_;
    // Where the next tool messages go: right after the last assistant message with tool_calls
    // and the tool messages placed so far; kNoAnchor once a user or assistant message follows.
    std::size_t tool_anchor_ = kNoAnchor;
};

bool is_schema_map_keyword(std::string_view key) {
    return key == "properties" || key == "patternProperties" || key == "$defs" ||
           key == "definitions" || key == "dependentSchemas";
}

bool is_schema_keyword(std::string_view key) {
    return key == "items" || key == "additionalProperties" || key == "not" || key == "contains" ||
           key == "if" || key == "then" || key == "else" || key == "unevaluatedProperties" ||
           key == "unevaluatedItems" || key == "additionalItems";
}

bool is_schema_array_keyword(std::string_view key) {
    return key == "anyOf" || key == "oneOf" || key == "allOf" || key == "prefixItems" ||
           key == "items";
}

void clean_schema(json::value& schema, std::size_t depth) {
    json::object* obj = schema.if_object();
    if (obj == nullptr || depth > detail::kMaxJsonDepth) return;
    for (std::string_view key :
         {"$schema", "$id", "$comment", "propertyNames", "exclusiveMinimum", "exclusiveMaximum"}) {
        obj->erase(key);
    }
    if (const json::value* extra = obj->if_contains("additionalProperties");
        extra != nullptr && extra->is_bool()) {
        obj->erase("additionalProperties");
    }
    if (string_or_empty(*obj, "type") == "string") obj->erase("format");
    if (json::value* constant = obj->if_contains("const"); constant && !obj->contains("enum")) {
        json::array values;
        values.emplace_back(std::move(*constant));
        obj->erase("const");
        (*obj)["enum"] = std::move(values);
    }
    for (auto& member : *obj) {
        const std::string_view key = member.key();
        json::value& value = member.value();
        if (is_schema_map_keyword(key)) {
            if (json::object* map = value.if_object()) {
                for (auto& entry : *map) clean_schema(entry.value(), depth + 1);
            }
        } else if (is_schema_array_keyword(key) && value.is_array()) {
            for (json::value& item : value.get_array()) clean_schema(item, depth + 1);
        } else if (is_schema_keyword(key)) {
            clean_schema(value, depth + 1);
        }
    }
}

json::array translate_tools(const json::array& tools, bool clean) {
    json::array out;
    for (const json::value& item : tools) {
        const json::object* tool = item.if_object();
        if (tool == nullptr) continue;
        const json::string* type = find_string(*tool, "type");
        if (type != nullptr && *type != "custom") continue;  // a server tool
        const std::string_view name = string_or_empty(*tool, "name");
        if (name.empty()) continue;
        json::object function;
        function["name"] = name;
        if (const json::string* description = find_string(*tool, "description")) {
            function["description"] = *description;
        }
        json::value parameters;
        if (const json::object* schema = find_object(*tool, "input_schema")) {
            parameters = *schema;
            if (clean) clean_schema(parameters, 0);
        } else {
            json::object empty;
            empty["type"] = "object";
            empty["properties"] = json::object();
            parameters = std::move(empty);
        }
        function["parameters"] = std::move(parameters);
        json::object entry;
        entry["type"] = "function";
        entry["function"] = std::move(function);
        out.emplace_back(std::move(entry));
    }
    return out;
}

void translate_tool_choice(const json::object& choice, json::object& req) {
    const std::string_view type = string_or_empty(choice, "type");
    if (type == "auto") {
        req["tool_choice"] = "auto";
    } else if (type == "any") {
        req["tool_choice"] = "required";
    } else if (type == "none") {
        req["tool_choice"] = "none";
    } else if (type == "tool") {
        json::object function;
        function["name"] = string_or_empty(choice, "name");
        json::object named;
        named["type"] = "function";
        named["function"] = std::move(function);
        req["tool_choice"] = std::move(named);
    }
    const json::value* disable = choice.if_contains("disable_parallel_tool_use");
    if (type != "none" && disable != nullptr && disable->is_bool() && disable->get_bool()) {
        req["parallel_tool_calls"] = false;
    }
}

std::string_view effort_level(std::string_view effort) {
    if (effort == "low" || effort == "medium" || effort == "high") return effort;
    if (effort == "max" || effort == "xhigh") return "high";
    return {};
}

std::string_view effort_for_budget(std::int64_t budget) {
    if (budget < 8192) return "low";
    if (budget < 24576) return "medium";
    return "high";
}

void translate_thinking(const json::object& body, TargetProfile::Reasoning mode,
                        json::object& req) {
    const json::object* thinking = find_object(body, "thinking");
    if (thinking == nullptr || mode == TargetProfile::Reasoning::kNone) return;
    const std::string_view type = string_or_empty(*thinking, "type");
    const bool enabled = type == "enabled" || type == "adaptive";
    const std::int64_t budget =
        type == "enabled" ? detail::as_count(thinking->if_contains("budget_tokens")) : 0;
    std::string_view effort;
    if (const json::object* config = find_object(body, "output_config")) {
        effort = effort_level(string_or_empty(*config, "effort"));
    }
    switch (mode) {
        case TargetProfile::Reasoning::kNone:
            break;
        case TargetProfile::Reasoning::kEffort: {
            if (!enabled) break;
            const std::string_view level = budget > 0 ? effort_for_budget(budget) : effort;
            if (!level.empty()) req["reasoning_effort"] = level;
            break;
        }
        case TargetProfile::Reasoning::kOpenRouter: {
            if (!enabled) break;
            json::object reasoning;
            if (budget > 0) {
                reasoning["max_tokens"] = budget;
            } else if (!effort.empty()) {
                reasoning["effort"] = effort;
            } else {
                reasoning["enabled"] = true;
            }
            req["reasoning"] = std::move(reasoning);
            break;
        }
        case TargetProfile::Reasoning::kThinkingBudget: {
            if (!enabled && type != "disabled") break;
            json::object kwargs;
            kwargs["enable_thinking"] = enabled;
            req["chat_template_kwargs"] = std::move(kwargs);
            req["enable_thinking"] = enabled;
            if (budget > 0) req["thinking_budget"] = budget;
            break;
        }
    }
}

void copy_number(const json::object& body, std::string_view from, json::object& req,
                 std::string_view to) {
    const json::value* v = body.if_contains(from);
    if (v != nullptr && v->is_number()) req[to] = *v;
}

std::optional<TranslatedRequest> translate(std::string_view anthropic_body,
                                           std::string_view target_model,
                                           const TargetProfile& profile, std::string& error) {
    auto parsed = detail::parse_json(anthropic_body);
    if (!parsed) {
        error = "request body is not valid JSON";
        return std::nullopt;
    }
    const json::object* body = parsed->if_object();
    if (body == nullptr) {
        error = "request body is not a JSON object";
        return std::nullopt;
    }
    const json::array* messages = find_array(*body, "messages");
    if (messages == nullptr || messages->empty()) {
        error = "request has no messages";
        return std::nullopt;
    }

    MessageBuilder builder;
    if (const json::value* system = body->if_contains("system")) builder.add_system(*system);
    for (const json::value& item : *messages) {
        if (const json::object* message = item.if_object()) builder.add(*message);
    }

    json::object req;
    req["model"] = target_model;
    req["messages"] = builder.take();
    copy_number(*body, "max_tokens", req,
                profile.max_completion_tokens ? "max_completion_tokens" : "max_tokens");
    copy_number(*body, "temperature", req, "temperature");
    copy_number(*body, "top_p", req, "top_p");
    if (const json::array* stops = find_array(*body, "stop_sequences")) {
        json::array stop;
        for (const json::value& s : *stops) {
            if (s.is_string()) stop.emplace_back(s);
        }
        if (!stop.empty()) req["stop"] = std::move(stop);
    }
    const json::value* stream_v = body->if_contains("stream");
    const bool stream = stream_v != nullptr && stream_v->is_bool() && stream_v->get_bool();
    if (stream) {
        req["stream"] = true;
        if (profile.stream_usage) {
            json::object options;
            options["include_usage"] = true;
            req["stream_options"] = std::move(options);
        }
    }
    if (const json::array* tools = find_array(*body, "tools")) {
        json::array translated = translate_tools(*tools, profile.clean_schema);
        if (!translated.empty()) {
            req["tools"] = std::move(translated);
            if (const json::object* choice = find_object(*body, "tool_choice")) {
                translate_tool_choice(*choice, req);
            }
        }
    }
    translate_thinking(*body, profile.reasoning, req);

    TranslatedRequest out;
    out.body.reserve(anthropic_body.size());
    detail::append_json(out.body, req);
    out.stream = stream;
    return out;
}

}  // namespace

std::optional<TranslatedRequest> translate_request(std::string_view anthropic_body,
                                                   std::string_view target_model,
                                                   const TargetProfile& profile,
                                                   std::string* error) {
    std::string message;
    std::optional<TranslatedRequest> result;
    try {
        result = translate(anthropic_body, target_model, profile, message);
    } catch (const std::exception& e) {
        message = std::string("request translation failed: ") + e.what();
        result.reset();
    }
    if (!result && error != nullptr) *error = std::move(message);
    return result;
}

}  // namespace qcc::openai

namespace qcc::openai {

bool has_unsigned_thinking(std::string_view anthropic_body) {
    constexpr std::string_view kNeedle = R"("signature":"")";
    return ::memmem(anthropic_body.data(), anthropic_body.size(), kNeedle.data(), kNeedle.size()) !=
           nullptr;
}

std::optional<std::string> strip_unsigned_thinking(std::string_view anthropic_body,
                                                   const std::string* model) {
    try {
        auto parsed = detail::parse_json(anthropic_body);
        if (!parsed || !parsed->is_object()) return std::nullopt;
        auto& req = parsed->as_object();
        auto* messages = req.if_contains("messages");
        if (messages == nullptr || !messages->is_array()) return std::nullopt;
        bool stripped = false;
        json::array kept;
        for (auto& m : messages->as_array()) {
            auto* msg = m.if_object();
            auto* content = msg != nullptr ? msg->if_contains("content") : nullptr;
            if (content != nullptr && content->is_array()) {
                auto& blocks = content->as_array();
                const auto before = blocks.size();
                for (std::size_t i = blocks.size(); i-- > 0;) {
                    const auto* b = blocks[i].if_object();
                    if (b == nullptr) continue;
                    const auto type = string_or_empty(*b, "type");
                    const auto* sig = find_string(*b, "signature");
                    if ((type == "thinking" && (sig == nullptr || sig->empty())) ||
                        (type == "redacted_thinking" && string_or_empty(*b, "data").empty())) {
                        blocks.erase(blocks.begin() + static_cast<std::ptrdiff_t>(i));
                    }
                }
                if (blocks.size() != before) {
                    stripped = true;
                    if (blocks.empty()) continue;  // a turn that held only reasoning
                }
            }
            kept.push_back(std::move(m));
        }
        if (!stripped) return std::nullopt;
        *messages = std::move(kept);
        // Extended thinking requires a signed thinking block before the last turn's tool calls:
        // without one the request is answered without extended thinking.
        req.erase("thinking");
        if (model != nullptr) req["model"] = *model;
        return detail::to_json(*parsed);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace qcc::openai
