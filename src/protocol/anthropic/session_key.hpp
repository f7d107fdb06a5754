// Session identity of a Claude Code request, the key of endpoint affinity.
#pragma once
#include <string>
#include <string_view>

namespace qcc::anthropic {

/// session key, first present wins: x-claude-code-session-id header; metadata.user_id
/// legacy form user_<hex>_account_<uuid-or-empty>_session_<uuid> -> the session uuid, or
/// JSON-string form {"device_id":..,"account_uuid":..,"session_id":..} -> session_id; then
/// x-conversation-id header. "" = none. Header values are trimmed of surrounding whitespace; a
/// user_id of neither form is ignored.
std::string session_key(std::string_view session_header, std::string_view metadata_user_id,
                        std::string_view conversation_header);

}  // namespace qcc::anthropic
