#include "sim/anthropic.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace qcc::sim {
namespace {

namespace json = boost::json;

std::atomic<std::uint64_t> g_id_counter{0};

std::string_view sv(const json::string& s) { return {s.data(), s.size()}; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
    if (needle.size() > hay.size()) return std::string_view::npos;
    for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
        bool match = true;
        for (std::size_t j = 0; j < needle.size(); ++j) {
            if (ascii_lower(hay[i + j]) != ascii_lower(needle[j])) {
                match = false;
                break;
            }
        }
        if (match) return i;
    }
    return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// Largest prefix of `s` of at most `n` bytes that does not end inside a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t n) {
    if (n >= s.size()) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

json::object usage_object(const Usage& u, int output_tokens) {
    json::object o;
    o["input_tokens"] = u.input_tokens;
    o["cache_creation_input_tokens"] = u.cache_creation_input_tokens;
    o["cache_read_input_tokens"] = u.cache_read_input_tokens;
    o["output_tokens"] = output_tokens;
    return o;
}

json::object message_object(std::string_view model, json::array content, json::value stop_reason,
                            const Usage& usage, int output_tokens) {
    json::object m;
    m["id"] = next_message_id();
    m["type"] = "message";
    m["role"] = "assistant";
    m["model"] = model;
    m["content"] = std::move(content);
    m["stop_reason"] = std::move(stop_reason);
    m["stop_sequence"] = nullptr;
    m["usage"] = usage_object(usage, output_tokens);
    return m;
}

std::string message_start_event(std::string_view model, const Usage& usage) {
    json::object o;
    o["type"] = "message_start";
    o["message"] = message_object(model, json::array(), nullptr, usage, 1);
    return sse_event("message_start", json::serialize(o));
}

std::string ping_event() { return sse_event("ping", R"({"type": "ping"})"); }

std::string block_stop_event(int index) {
    json::object o;
    o["type"] = "content_block_stop";
    o["index"] = index;
    return sse_event("content_block_stop", json::serialize(o));
}

std::string message_delta_event(std::string_view stop_reason, int output_tokens) {
    json::object delta;
    delta["stop_reason"] = stop_reason;
    delta["stop_sequence"] = nullptr;
    json::object usage;
    usage["output_tokens"] = output_tokens;
    json::object o;
    o["type"] = "message_delta";
    o["delta"] = std::move(delta);
    o["usage"] = std::move(usage);
    return sse_event("message_delta", json::serialize(o));
}

std::string message_stop_event() { return sse_event("message_stop", R"({"type":"message_stop"})"); }

// Text of a tool_result's content: a string or an array of text blocks.
std::string tool_result_text(const json::value& content) {
    if (const auto* s = content.if_string()) return std::string(sv(*s));
    std::string out;
    if (const auto* arr = content.if_array()) {
        for (const auto& b : *arr) {
            const auto* obj = b.if_object();
            if (!obj) continue;
            const auto* text = obj->if_contains("text");
            if (text && text->is_string()) {
                if (!out.empty()) out += "\n";
                out += sv(text->get_string());
            }
        }
    }
    return out;
}

std::optional<std::string> extract_command(std::string_view text) {
    if (auto pos = ifind(text, "run `"); pos != std::string_view::npos) {
        std::size_t start = pos + 5;
        std::size_t end = text.find('`', start);
        if (end != std::string_view::npos && end > start) {
            return std::string(text.substr(start, end - start));
        }
    }
    if (auto pos = ifind(text, "run: "); pos != std::string_view::npos) {
        std::string_view rest = text.substr(pos + 5);
        std::size_t end = std::min(rest.find(" -- "), rest.find('\n'));
        std::string_view cmd = trim(rest.substr(0, end));
        if (!cmd.empty()) return std::string(cmd);
    }
    return std::nullopt;
}

// A health check asks for a random 6-character [A-Z0-9] code and nothing else: answer just that.
std::optional<std::string> health_check_code(std::string_view text) {
    if (ifind(text, "code") == std::string_view::npos) return std::nullopt;
    std::optional<std::string> found;
    std::size_t i = 0;
    auto is_code_char = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    auto is_word_char = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    };
    while (i < text.size()) {
        if (!is_word_char(text[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < text.size() && is_word_char(text[j])) ++j;
        std::string_view word = text.substr(i, j - i);
        if (word.size() == 6 && std::all_of(word.begin(), word.end(), is_code_char)) {
            found = std::string(word);
        }
        i = j;
    }
    return found;
}

bool offers_tool(const json::object& request, std::string_view name) {
    const auto* tools = request.if_contains("tools");
    if (!tools || !tools->is_array()) return false;
    for (const auto& t : tools->get_array()) {
        const auto* obj = t.if_object();
        if (!obj) continue;
        const auto* n = obj->if_contains("name");
        if (n && n->is_string() && sv(n->get_string()) == name) return true;
    }
    return false;
}

Answer decide(const json::object& request, const json::array& messages) {
    const json::object* last_user = nullptr;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
        const auto* m = it->if_object();
        if (!m) continue;
        const auto* role = m->if_contains("role");
        if (role && role->is_string() && sv(role->get_string()) == "user") {
            last_user = m;
            break;
        }
    }
    std::vector<std::string> texts;
    if (last_user) {
        const auto* content = last_user->if_contains("content");
        if (content && content->is_string()) {
            texts.emplace_back(sv(content->get_string()));
        } else if (content && content->is_array()) {
            for (const auto& b : content->get_array()) {
                const auto* block = b.if_object();
                if (!block) continue;
                const auto* type = block->if_contains("type");
                if (!type || !type->is_string()) continue;
                if (sv(type->get_string()) == "tool_result") {
                    const auto* rc = block->if_contains("content");
                    return Answer{
                        "Tool result: " + (rc ? tool_result_text(*rc) : std::string()), {}, {}};
                }
                if (sv(type->get_string()) == "text") {
                    const auto* text = block->if_contains("text");
                    if (text && text->is_string()) texts.emplace_back(sv(text->get_string()));
                }
            }
        }
    }
    return answer_prompt(texts, offers_tool(request, "Bash"));
}

Usage usage_for(const Request& req, std::size_t output_bytes) {
    Usage u;
    int total = estimate_tokens(req.body.size());
    if (req.body.find("\"cache_control\"") != std::string::npos) {
        // Claude Code marks its prefix cacheable: report most of the prompt as a cache read.
        u.cache_read_input_tokens = total * 4 / 5;
        u.input_tokens = total - u.cache_read_input_tokens;
    } else {
        u.input_tokens = total;
    }
    u.output_tokens = estimate_tokens(output_bytes);
    return u;
}

Reply with_request_id(Reply r) {
    r.headers.emplace_back("request-id", next_id("req_"));
    return r;
}

const char* const kModels[][2] = {
    {"claude-opus-4-1-20250805", "Claude Opus 4.1"},
    {"claude-sonnet-4-5-20250929", "Claude Sonnet 4.5"},
    {"claude-haiku-4-5-20251001", "Claude Haiku 4.5"},
};

json::object model_object(const char* id, const char* name) {
    json::object o;
    o["type"] = "model";
    o["id"] = id;
    o["display_name"] = name;
    o["created_at"] = "2025-01-01T00:00:00Z";
    return o;
}

Reply models_reply(std::string_view path) {
    constexpr std::string_view kPrefix = "/v1/models/";
    if (path.substr(0, kPrefix.size()) == kPrefix) {
        std::string_view id = path.substr(kPrefix.size());
        for (const auto& m : kModels) {
            if (id == m[0]) return Reply::json(200, json::serialize(model_object(m[0], m[1])));
        }
        return Reply::error(404, "not_found_error", "model: " + std::string(id));
    }
    json::array data;
    for (const auto& m : kModels) data.push_back(model_object(m[0], m[1]));
    json::object o;
    o["data"] = std::move(data);
    o["has_more"] = false;
    o["first_id"] = kModels[0][0];
    o["last_id"] = kModels[std::size(kModels) - 1][0];
    return Reply::json(200, json::serialize(o));
}

}  // namespace

std::string next_id(std::string_view prefix) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(++g_id_counter));
    return std::string(prefix) + "01Sim" + buf;
}

int estimate_tokens(std::size_t bytes) { return static_cast<int>(bytes / 4) + 1; }

Answer answer_prompt(const std::vector<std::string>& texts, bool offers_bash) {
    for (const auto& t : texts) {
        if (auto cmd = extract_command(t); cmd && offers_bash) {
            json::object input;
            input["command"] = *cmd;
            return Answer{{}, "Bash", json::serialize(input)};
        }
    }
    std::string_view prompt = texts.empty() ? std::string_view() : trim(texts.back());
    if (auto code = health_check_code(prompt)) return Answer{*code, {}, {}};
    if (prompt.empty()) return Answer{"Hello from the QCC simulator.", {}, {}};
    std::string_view shown = utf8_prefix(prompt, 200);
    std::string text = "You said: ";
    text += shown;
    if (shown.size() < prompt.size()) text += "...";
    return Answer{std::move(text), {}, {}};
}

std::string sse_event(std::string_view name, std::string_view data) {
    std::string out;
    out.reserve(name.size() + data.size() + 16);
    out += "event: ";
    out += name;
    out += "\ndata: ";
    out += data;
    out += "\n\n";
    return out;
}

std::string next_message_id() { return next_id("msg_"); }
std::string next_tool_use_id() { return next_id("toolu_"); }

std::vector<std::string> split_utf8(std::string_view text, int pieces) {
    std::vector<std::string> out;
    std::size_t n = static_cast<std::size_t>(std::max(pieces, 1));
    std::size_t start = 0;
    for (std::size_t i = 1; i <= n && start < text.size(); ++i) {
        std::size_t end = i == n ? text.size() : text.size() * i / n;
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
        if (end <= start) continue;
        out.emplace_back(text.substr(start, end - start));
        start = end;
    }
    if (out.empty()) out.emplace_back();
    return out;
}

std::vector<std::string> text_stream(std::string_view model, std::string_view text, int pieces,
                                     const Usage& usage, std::string_view stop_reason) {
    auto parts = split_utf8(text, pieces);
    std::vector<std::string> events;
    events.reserve(parts.size() + 6);
    events.push_back(message_start_event(model, usage));
    events.push_back(sse_event("content_block_start",
                               R"({"type":"content_block_start","index":0,)"
                               R"("content_block":{"type":"text","text":""}})"));
    events.push_back(ping_event());
    for (const auto& p : parts) {
        json::object delta;
        delta["type"] = "text_delta";
        delta["text"] = p;
        json::object o;
        o["type"] = "content_block_delta";
        o["index"] = 0;
        o["delta"] = std::move(delta);
        events.push_back(sse_event("content_block_delta", json::serialize(o)));
    }
    events.push_back(block_stop_event(0));
    events.push_back(message_delta_event(stop_reason, usage.output_tokens));
    events.push_back(message_stop_event());
    return events;
}

std::vector<std::string> tool_use_stream(std::string_view model, std::string_view tool_name,
                                         std::string_view input_json, const Usage& usage,
                                         int pieces) {
    std::vector<std::string> events;
    events.push_back(message_start_event(model, usage));
    json::object block;
    block["type"] = "tool_use";
    block["id"] = next_tool_use_id();
    block["name"] = tool_name;
    block["input"] = json::object();
    json::object start;
    start["type"] = "content_block_start";
    start["index"] = 0;
    start["content_block"] = std::move(block);
    events.push_back(sse_event("content_block_start", json::serialize(start)));
    events.push_back(ping_event());
    for (const auto& p : split_utf8(input_json, pieces)) {
        json::object delta;
        delta["type"] = "input_json_delta";
        delta["partial_json"] = p;
        json::object o;
        o["type"] = "content_block_delta";
        o["index"] = 0;
        o["delta"] = std::move(delta);
        events.push_back(sse_event("content_block_delta", json::serialize(o)));
    }
    events.push_back(block_stop_event(0));
    events.push_back(message_delta_event("tool_use", usage.output_tokens));
    events.push_back(message_stop_event());
    return events;
}

std::string text_message_json(std::string_view model, std::string_view text, const Usage& usage,
                              std::string_view stop_reason) {
    json::object block;
    block["type"] = "text";
    block["text"] = text;
    json::array content;
    content.push_back(std::move(block));
    return json::serialize(message_object(model, std::move(content), json::string(stop_reason),
                                          usage, usage.output_tokens));
}

std::string tool_use_message_json(std::string_view model, std::string_view tool_name,
                                  std::string_view input_json, const Usage& usage) {
    json::object block;
    block["type"] = "tool_use";
    block["id"] = next_tool_use_id();
    block["name"] = tool_name;
    boost::system::error_code ec;
    json::value input = json::parse(input_json, ec);
    block["input"] = ec ? json::value(json::object()) : std::move(input);
    json::array content;
    content.push_back(std::move(block));
    return json::serialize(message_object(model, std::move(content), json::string("tool_use"),
                                          usage, usage.output_tokens));
}

std::string error_json(std::string_view type, std::string_view message) {
    json::object err;
    err["type"] = type;
    err["message"] = message;
    json::object o;
    o["type"] = "error";
    o["error"] = std::move(err);
    return json::serialize(o);
}

std::string error_event(std::string_view type, std::string_view message) {
    return sse_event("error", error_json(type, message));
}

Reply respond_like_anthropic(const Request& req, const ResponseShape& shape) {
    std::string_view path = req.path();
    Reply reply;
    if (req.method == "GET" && (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0)) {
        reply = models_reply(path);
    } else if (req.method == "POST" &&
               (path == "/v1/messages" || path == "/v1/messages/count_tokens")) {
        boost::system::error_code ec;
        json::value body = json::parse(req.body, ec);
        const json::object* obj = ec ? nullptr : body.if_object();
        const json::value* model = obj ? obj->if_contains("model") : nullptr;
        const json::value* messages = obj ? obj->if_contains("messages") : nullptr;
        if (!obj) {
            reply =
                Reply::error(400, "invalid_request_error", "The request body is not valid JSON.");
        } else if (!model || !model->is_string()) {
            reply = Reply::error(400, "invalid_request_error", "model: Field required");
        } else if (!messages || !messages->is_array()) {
            reply = Reply::error(400, "invalid_request_error", "messages: Field required");
        } else if (path == "/v1/messages/count_tokens") {
            json::object o;
            o["input_tokens"] = estimate_tokens(req.body.size());
            reply = Reply::json(200, json::serialize(o));
        } else {
            std::string_view model_name = sv(model->get_string());
            const json::value* stream = obj->if_contains("stream");
            const bool streaming = stream && stream->is_bool() && stream->get_bool();
            Answer a = decide(*obj, messages->get_array());
            Usage usage = usage_for(req, a.tool.empty() ? a.text.size() : a.tool_input.size());
            if (streaming) {
                reply = Reply::sse(a.tool.empty()
                                       ? text_stream(model_name, a.text, shape.pieces, usage)
                                       : tool_use_stream(model_name, a.tool, a.tool_input, usage),
                                   shape.gap);
            } else {
                reply = Reply::json(
                    200, a.tool.empty()
                             ? text_message_json(model_name, a.text, usage)
                             : tool_use_message_json(model_name, a.tool, a.tool_input, usage));
            }
        }
    } else {
        reply = Reply::error(404, "not_found_error",
                             "Not found: " + req.method + " " + std::string(path));
    }
    reply.head_delay = shape.head_delay;
    return with_request_id(std::move(reply));
}

}  // namespace qcc::sim
