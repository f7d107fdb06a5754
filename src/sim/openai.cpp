#include "sim/openai.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace qcc::sim {
namespace {

namespace json = boost::json;

std::string_view sv(const json::string& s) { return {s.data(), s.size()}; }

/// Text of a message's content: a string, or the text parts of an array.
std::string content_text(const json::value* content) {
    if (content == nullptr) return {};
    if (const auto* s = content->if_string()) return std::string(sv(*s));
    std::string out;
    if (const auto* parts = content->if_array()) {
        for (const auto& part : *parts) {
            const auto* o = part.if_object();
            const auto* text = o ? o->if_contains("text") : nullptr;
            if (text && text->is_string()) {
                if (!out.empty()) out += "\n";
                out += sv(text->get_string());
            }
        }
    }
    return out;
}

bool offers_function(const json::object& request, std::string_view name) {
    const auto* tools = request.if_contains("tools");
    if (!tools || !tools->is_array()) return false;
    for (const auto& t : tools->get_array()) {
        const auto* f = t.is_object() ? t.get_object().if_contains("function") : nullptr;
        const auto* n = f && f->is_object() ? f->get_object().if_contains("name") : nullptr;
        if (n && n->is_string() && sv(n->get_string()) == name) return true;
    }
    return false;
}

Answer decide_openai(const json::object& request, const json::array& messages) {
    if (messages.empty()) return answer_prompt({}, false);
    const auto* last = messages.back().if_object();
    const auto* role = last ? last->if_contains("role") : nullptr;
    if (role && role->is_string() && sv(role->get_string()) == "tool") {
        return Answer{"Tool result: " + content_text(last->if_contains("content")), {}, {}};
    }
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
        const auto* m = it->if_object();
        const auto* r = m ? m->if_contains("role") : nullptr;
        if (r && r->is_string() && sv(r->get_string()) == "user") {
            return answer_prompt({content_text(m->if_contains("content"))},
                                 offers_function(request, "Bash"));
        }
    }
    return answer_prompt({}, false);
}

json::object usage_object(std::size_t request_bytes, bool cached, int completion_tokens) {
    const int prompt = estimate_tokens(request_bytes);
    json::object details;
    details["cached_tokens"] = cached ? prompt * 4 / 5 : 0;
    json::object u;
    u["prompt_tokens"] = prompt;
    u["completion_tokens"] = completion_tokens;
    u["total_tokens"] = prompt + completion_tokens;
    u["prompt_tokens_details"] = std::move(details);
    return u;
}

json::object chunk(const std::string& id, std::string_view model, json::value delta,
                   json::value finish_reason) {
    json::object choice;
    choice["index"] = 0;
    choice["delta"] = std::move(delta);
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = std::move(finish_reason);
    json::array choices;
    choices.push_back(std::move(choice));
    json::object o;
    o["id"] = id;
    o["object"] = "chat.completion.chunk";
    o["created"] = 1767225600;
    o["model"] = model;
    o["choices"] = std::move(choices);
    return o;
}

std::string data_line(const json::object& o) { return "data: " + json::serialize(o) + "\n\n"; }

std::vector<std::string> stream_events(std::string_view model, const Answer& a,
                                       const json::object& usage, bool include_usage, int pieces) {
    const std::string id = next_id("chatcmpl-");
    std::vector<std::string> events;
    json::object role;
    role["role"] = "assistant";
    role["content"] = "";
    events.push_back(data_line(chunk(id, model, role, nullptr)));
    if (a.tool.empty()) {
        for (const auto& piece : split_utf8(a.text, pieces)) {
            json::object d;
            d["content"] = piece;
            events.push_back(data_line(chunk(id, model, d, nullptr)));
        }
    } else {
        json::object fn;
        fn["name"] = a.tool;
        fn["arguments"] = "";
        json::object call;
        call["index"] = 0;
        call["id"] = next_id("call_");
        call["type"] = "function";
        call["function"] = std::move(fn);
        json::object d;
        d["tool_calls"] = json::array{std::move(call)};
        events.push_back(data_line(chunk(id, model, d, nullptr)));
        for (const auto& piece : split_utf8(a.tool_input, 3)) {
            json::object args;
            args["arguments"] = piece;
            json::object frag;
            frag["index"] = 0;
            frag["function"] = std::move(args);
            json::object fd;
            fd["tool_calls"] = json::array{std::move(frag)};
            events.push_back(data_line(chunk(id, model, fd, nullptr)));
        }
    }
    events.push_back(
        data_line(chunk(id, model, json::object{}, a.tool.empty() ? "stop" : "tool_calls")));
    if (include_usage) {
        json::object o;
        o["id"] = id;
        o["object"] = "chat.completion.chunk";
        o["created"] = 1767225600;
        o["model"] = model;
        o["choices"] = json::array{};
        o["usage"] = usage;
        events.push_back(data_line(o));
    }
    events.emplace_back("data: [DONE]\n\n");
    return events;
}

std::string completion_json(std::string_view model, const Answer& a, json::object usage) {
    json::object message;
    message["role"] = "assistant";
    if (a.tool.empty()) {
        message["content"] = a.text;
    } else {
        message["content"] = nullptr;
        json::object fn;
        fn["name"] = a.tool;
        fn["arguments"] = a.tool_input;
        json::object call;
        call["id"] = next_id("call_");
        call["type"] = "function";
        call["function"] = std::move(fn);
        message["tool_calls"] = json::array{std::move(call)};
    }
    json::object choice;
    choice["index"] = 0;
    choice["message"] = std::move(message);
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = a.tool.empty() ? "stop" : "tool_calls";
    json::object o;
    o["id"] = next_id("chatcmpl-");
    o["object"] = "chat.completion";
    o["created"] = 1767225600;
    o["model"] = model;
    o["choices"] = json::array{std::move(choice)};
    o["usage"] = std::move(usage);
    return json::serialize(o);
}

}  // namespace

Reply openai_error(int status, std::string_view type, std::string_view message) {
    json::object err;
    err["message"] = message;
    err["type"] = type;
    err["param"] = nullptr;
    err["code"] = nullptr;
    json::object o;
    o["error"] = std::move(err);
    return Reply::json(status, json::serialize(o));
}

Reply respond_like_openai(const Request& req, const ResponseShape& shape) {
    const std::string_view path = req.path();
    Reply reply;
    if (req.method == "GET" && (path == "/v1/models" || path == "/models")) {
        reply = Reply::json(
            200,
            R"({"object":"list","data":[{"id":"sim-gpt","object":"model","created":1767225600,"owned_by":"qcc-sim"}]})");
    } else if (req.method == "POST" &&
               (path == "/v1/chat/completions" || path == "/chat/completions")) {
        boost::system::error_code ec;
        const json::value body = json::parse(req.body, ec);
        const json::object* obj = ec ? nullptr : body.if_object();
        const json::value* messages = obj ? obj->if_contains("messages") : nullptr;
        const json::value* model = obj ? obj->if_contains("model") : nullptr;
        if (!obj) {
            reply = openai_error(400, "invalid_request_error",
                                 "We could not parse the JSON body of your request.");
        } else if (!messages || !messages->is_array() || !model || !model->is_string()) {
            reply = openai_error(400, "invalid_request_error",
                                 "you must provide a model parameter and a messages array");
        } else {
            const Answer a = decide_openai(*obj, messages->get_array());
            const bool cached = req.body.size() > 4096;  // a long prefix is served from cache
            auto usage =
                usage_object(req.body.size(), cached,
                             estimate_tokens(a.tool.empty() ? a.text.size() : a.tool_input.size()));
            const auto* stream = obj->if_contains("stream");
            const auto* options = obj->if_contains("stream_options");
            const auto* include = options && options->is_object()
                                      ? options->get_object().if_contains("include_usage")
                                      : nullptr;
            const std::string_view model_name = sv(model->get_string());
            if (stream && stream->is_bool() && stream->get_bool()) {
                reply =
                    Reply::sse(stream_events(model_name, a, usage,
                                             include && include->is_bool() && include->get_bool(),
                                             shape.pieces),
                               shape.gap);
            } else {
                reply = Reply::json(200, completion_json(model_name, a, std::move(usage)));
            }
        }
    } else {
        reply = openai_error(404, "invalid_request_error",
                             "Unknown request URL: " + req.method + " " + std::string(path));
    }
    reply.head_delay = shape.head_delay;
    reply.headers.emplace_back("x-request-id", next_id("req_"));
    return reply;
}

}  // namespace qcc::sim
