#include "protocol/anthropic/session_key.hpp"

#include "protocol/anthropic/json_reader.hpp"

namespace qcc::anthropic {
namespace {

constexpr bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

// 8-4-4-4-12 hex digits.
bool is_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_position ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
}

bool consume(std::string_view& s, std::string_view prefix) {
    if (s.substr(0, prefix.size()) != prefix) return false;
    s.remove_prefix(prefix.size());
    return true;
}

// user_<token>_account_<uuid-or-empty>_session_<uuid>. Claude Code's token is 64 hex digits;
// other clients and relays put their own user hash there, so any letters, digits and '-' are
// accepted: the session uuid is what identifies the conversation. An opaque user_id without the
// `_session_<uuid>` part identifies a user, not a conversation, and is not a session key
// (binding all of a user's conversations to one endpoint would defeat balancing).
std::string_view legacy_session(std::string_view user_id) {
    if (!consume(user_id, "user_")) return {};
    std::size_t token = 0;
    const auto token_char = [](char c) {
        return is_hex(c) || (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') || c == '-';
    };
    while (token < user_id.size() && token_char(user_id[token])) ++token;
    if (token == 0) return {};
    user_id.remove_prefix(token);
    if (!consume(user_id, "_account_")) return {};
    if (!consume(user_id, "_session_")) {
        if (!is_uuid(user_id.substr(0, 36))) return {};
        user_id.remove_prefix(36);
        if (!consume(user_id, "_session_")) return {};
    }
    return is_uuid(user_id) ? user_id : std::string_view{};
}

// {"device_id":"..","account_uuid":"..","session_id":".."}
std::string json_session(std::string_view user_id) {
    detail::JsonScratch scratch;
    simdjson::ondemand::document doc;
    if (scratch.iterate(user_id, user_id.size(), doc)) return {};
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return {};
    std::string session;
    auto error =
        detail::for_each_field(obj, [&](std::string_view key, simdjson::ondemand::value& v) {
            if (key != "session_id") return simdjson::SUCCESS;
            session.clear();
            return detail::read_string(v, session);
        });
    if (error) return {};
    return std::string(trim(session));
}

}  // namespace

std::string session_key(std::string_view session_header, std::string_view metadata_user_id,
                        std::string_view conversation_header) {
    if (const std::string_view header = trim(session_header); !header.empty()) {
        return std::string(header);
    }
    const std::string_view user_id = trim(metadata_user_id);
    if (!user_id.empty() && user_id.front() == '{') {
        if (std::string session = json_session(user_id); !session.empty()) return session;
    } else if (const std::string_view session = legacy_session(user_id); !session.empty()) {
        return std::string(session);
    }
    return std::string(trim(conversation_header));
}

}  // namespace qcc::anthropic
