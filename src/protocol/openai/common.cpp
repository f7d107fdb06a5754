#include "protocol/openai/common.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>

#include "protocol/anthropic/json_util.hpp"

namespace qcc::openai::detail {
namespace json = boost::json;

namespace {

bool read_hex4(std::string_view text, std::size_t at, unsigned& value) {
    if (at + 4 > text.size()) return false;
    value = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
        const char c = text[k];
        unsigned digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
            return false;
        }
        value = value * 16 + digit;
    }
    return true;
}

// `text` with every \uD800-\uDFFF escape that is not half of a high+low pair replaced by \ufffd.
// Backslashes occur only inside strings in JSON, so no string tracking is needed.
std::string repair_lone_surrogates(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '\\' || i + 1 >= text.size()) {
            out.push_back(text[i++]);
            continue;
        }
        unsigned cp = 0;
        if (text[i + 1] != 'u' || !read_hex4(text, i + 2, cp)) {
            out.append(text.substr(i, 2));
            i += 2;
            continue;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low = 0;
            if (i + 12 <= text.size() && text[i + 6] == '\\' && text[i + 7] == 'u' &&
                read_hex4(text, i + 8, low) && low >= 0xDC00 && low <= 0xDFFF) {
                out.append(text.substr(i, 12));
                i += 12;
                continue;
            }
            out.append("\\ufffd");
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            out.append("\\ufffd");
        } else {
            out.append(text.substr(i, 6));
        }
        i += 6;
    }
    return out;
}

template <class T>
void append_number(std::string& out, T n) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, n);
    out.append(buffer, result.ptr);
}

bool is_id_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

std::string sanitized_id(std::string_view id) {
    std::string out(id);
    for (char& c : out) {
        if (!is_id_char(c)) c = '_';
    }
    return out;
}

// splitmix64: spreads a clock reading and a counter over all bits of the generated id.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Anthropic error type for an OpenAI error.type / error.code string; "" when unrecognized.
std::string_view error_type_for_name(std::string_view name) {
    const std::string n = lowercase(name);
    const auto has = [&](std::string_view part) { return n.find(part) != std::string::npos; };
    if (n.empty()) return {};
    if (has("rate_limit") || has("ratelimit")) return "rate_limit_error";
    if (has("quota") || has("billing") || has("payment")) return "billing_error";
    if (has("auth") || has("api_key") || has("unauthorized")) return "authentication_error";
    if (has("permission") || has("forbidden")) return "permission_error";
    if (has("not_found")) return "not_found_error";
    if (has("overload") || has("unavailable") || has("capacity")) return "overloaded_error";
    if (has("timeout")) return "timeout_error";
    if (has("too_large")) return "request_too_large";
    if (has("invalid") || has("context_length") || has("bad_request") || has("validation")) {
        return "invalid_request_error";
    }
    if (has("server") || has("internal") || has("api_error")) return "api_error";
    return {};
}

}  // namespace

std::optional<json::value> parse_json(std::string_view text, json::storage_ptr sp) {
    json::parse_options options;
    options.max_depth = kMaxJsonDepth;
    options.allow_invalid_utf8 = true;
    boost::system::error_code ec;
    json::value parsed = json::parse(text, ec, sp, options);
    if (!ec) return parsed;
    // Only a failed parse pays for the repair scan.
    if (text.find("\\u") == std::string_view::npos) return std::nullopt;
    const std::string repaired = repair_lone_surrogates(text);
    if (repaired == text) return std::nullopt;
    ec = {};
    parsed = json::parse(repaired, ec, sp, options);
    if (ec) return std::nullopt;
    return parsed;
}

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    anthropic::append_json_escaped(out, s);
    out.push_back('"');
}

void append_json(std::string& out, const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            out.append("null");
            break;
        case json::kind::bool_:
            out.append(v.get_bool() ? "true" : "false");
            break;
        case json::kind::int64:
            append_number(out, v.get_int64());
            break;
        case json::kind::uint64:
            append_number(out, v.get_uint64());
            break;
        case json::kind::double_:
            if (std::isfinite(v.get_double())) {
                append_number(out, v.get_double());
            } else {
                out.append("null");
            }
            break;
        case json::kind::string:
            append_json_string(out, v.get_string());
            break;
        case json::kind::array: {
            out.push_back('[');
            bool first = true;
            for (const json::value& item : v.get_array()) {
                if (!first) out.push_back(',');
                first = false;
                append_json(out, item);
            }
            out.push_back(']');
            break;
        }
        case json::kind::object: {
            out.push_back('{');
            bool first = true;
            for (const auto& member : v.get_object()) {
                if (!first) out.push_back(',');
                first = false;
                append_json_string(out, member.key());
                out.push_back(':');
                append_json(out, member.value());
            }
            out.push_back('}');
            break;
        }
    }
}

std::string to_json(const json::value& v) {
    std::string out;
    append_json(out, v);
    return out;
}

const json::string* find_string(const json::object& obj, std::string_view key) {
    const json::value* v = obj.if_contains(key);
    return v ? v->if_string() : nullptr;
}

const json::object* find_object(const json::object& obj, std::string_view key) {
    const json::value* v = obj.if_contains(key);
    return v ? v->if_object() : nullptr;
}

const json::array* find_array(const json::object& obj, std::string_view key) {
    const json::value* v = obj.if_contains(key);
    return v ? v->if_array() : nullptr;
}

std::string_view string_or_empty(const json::object& obj, std::string_view key) {
    const json::string* s = find_string(obj, key);
    return s ? std::string_view(*s) : std::string_view();
}

std::int64_t as_count(const json::value* v) {
    if (v == nullptr) return 0;
    if (const auto* i = v->if_int64()) return *i < 0 ? 0 : *i;
    if (const auto* u = v->if_uint64()) {
        return *u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX
                                                          : static_cast<std::int64_t>(*u);
    }
    if (const auto* d = v->if_double()) {
        if (!std::isfinite(*d) || *d <= 0) return 0;
        return *d < 9.0e18 ? static_cast<std::int64_t>(*d) : INT64_MAX;
    }
    return 0;
}

void read_usage(const json::object& usage, anthropic::Usage& out) {
    // Some servers use the Responses-API names; prefer the Chat Completions ones.
    const json::value* prompt_v = usage.if_contains("prompt_tokens");
    if (prompt_v == nullptr || prompt_v->is_null()) prompt_v = usage.if_contains("input_tokens");
    const json::value* completion_v = usage.if_contains("completion_tokens");
    if (completion_v == nullptr || completion_v->is_null()) {
        completion_v = usage.if_contains("output_tokens");
    }
    const std::int64_t prompt = as_count(prompt_v);
    std::int64_t cached = 0;
    if (const json::object* details = find_object(usage, "prompt_tokens_details")) {
        cached = as_count(details->if_contains("cached_tokens"));
    }
    if (cached == 0) cached = as_count(usage.if_contains("prompt_cache_hit_tokens"));
    if (cached > prompt) cached = prompt;
    out.input_tokens = prompt - cached;
    out.cache_read_input_tokens = cached;
    out.output_tokens = as_count(completion_v);
}

std::string_view stop_reason_for(std::string_view finish_reason, bool matched_stop,
                                 bool has_tool_use) {
    if (finish_reason == "length" || finish_reason == "max_tokens") return "max_tokens";
    if (finish_reason == "content_filter") return "refusal";
    if (has_tool_use) return "tool_use";
    if (finish_reason == "stop" && matched_stop) return "stop_sequence";
    return "end_turn";
}

std::string message_id_for(std::string_view upstream_id) {
    if (!upstream_id.empty()) {
        if (upstream_id.substr(0, 4) == "msg_") return sanitized_id(upstream_id);
        return "msg_" + sanitized_id(upstream_id);
    }
    static std::atomic<std::uint64_t> counter{0};
    const auto now =
        static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    const std::uint64_t a = mix(now ^ mix(counter.fetch_add(1, std::memory_order_relaxed)));
    const std::uint64_t b = mix(a ^ now);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id = "msg_";
    for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(a >> shift) & 0xF]);
    for (int shift = 28; shift >= 0; shift -= 4) id.push_back(kHex[(b >> shift) & 0xF]);
    return id;
}

std::string tool_use_id_for(std::string_view upstream_id, std::string_view message_id,
                            std::size_t ordinal) {
    if (!upstream_id.empty()) return sanitized_id(upstream_id);
    std::string_view base = message_id;
    if (base.substr(0, 4) == "msg_") base.remove_prefix(4);
    std::string id = "toolu_" + sanitized_id(base) + "_";
    append_number(id, ordinal);
    return id;
}

json::object tool_input_from_arguments(const json::value* arguments) {
    if (arguments == nullptr) return {};
    if (const json::object* obj = arguments->if_object()) return *obj;
    const json::string* text = arguments->if_string();
    if (text == nullptr) return {};
    auto parsed = parse_json(*text);
    if (!parsed) return {};
    if (json::object* obj = parsed->if_object()) return std::move(*obj);
    // Some models JSON-encode the arguments twice.
    if (const json::string* inner = parsed->if_string()) {
        auto reparsed = parse_json(*inner);
        if (reparsed && reparsed->is_object()) return std::move(reparsed->get_object());
    }
    return {};
}

std::string arguments_text(const json::value* arguments) {
    if (arguments == nullptr || arguments->is_null()) return {};
    if (const json::string* s = arguments->if_string()) return std::string(*s);
    return to_json(*arguments);
}

std::string_view error_type_for_status(int status) {
    switch (status) {
        case 400:
        case 422:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 402:
            return "billing_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 408:
        case 504:
            return "timeout_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
        case 529:
            return "overloaded_error";
        default:
            break;
    }
    if (status >= 400 && status < 500) return "invalid_request_error";
    if (status >= 500 && status < 600) return "api_error";
    return {};
}

bool read_error(const json::value& v, int status, bool require_error_member, std::string& type,
                std::string& message) {
    const json::object* obj = v.if_object();
    const json::value* err = obj ? obj->if_contains("error") : nullptr;
    if (err != nullptr && err->is_null()) err = nullptr;
    if (err == nullptr && require_error_member) return false;

    std::string found_message;
    std::string_view found_type;
    const json::object* err_obj = err ? err->if_object() : nullptr;
    if (err_obj != nullptr) {
        if (const json::value* m = err_obj->if_contains("message"); m && !m->is_null()) {
            found_message = m->is_string() ? std::string(m->get_string()) : to_json(*m);
        }
        if (const json::value* code = err_obj->if_contains("code")) {
            // OpenRouter puts the HTTP status of the failed provider call here.
            if (code->is_int64() || code->is_uint64()) {
                found_type = error_type_for_status(static_cast<int>(as_count(code)));
            } else if (const json::string* s = code->if_string()) {
                found_type = error_type_for_name(*s);
            }
        }
        if (found_type.empty()) found_type = error_type_for_name(string_or_empty(*err_obj, "type"));
    } else if (err != nullptr && err->is_string()) {
        found_message = std::string(err->get_string());
    }
    if (found_message.empty() && obj != nullptr) {
        if (const json::value* m = obj->if_contains("message"); m && m->is_string()) {
            found_message = std::string(m->get_string());
        } else if (const json::value* d = obj->if_contains("detail"); d && !d->is_null()) {
            found_message = d->is_string() ? std::string(d->get_string()) : to_json(*d);
        }
    }
    if (found_type.empty() && obj != nullptr && err_obj == nullptr) {
        found_type = error_type_for_name(string_or_empty(*obj, "type"));
    }
    std::string_view mapped = error_type_for_status(status);
    if (mapped.empty()) mapped = found_type;
    if (mapped.empty()) mapped = "api_error";
    type.assign(mapped);
    message = std::move(found_message);
    return true;
}

}  // namespace qcc::openai::detail
