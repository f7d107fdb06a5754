// Internal to the OpenAI translation (src/protocol/openai): JSON plumbing and the mappings that the
// request, response and stream translators share. Include from .cpp files only (Boost.JSON is
// large).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "protocol/anthropic/usage.hpp"

namespace qcc::openai::detail {

/// Nesting limit for every document we parse (Boost.JSON's default of 32 is too low for some
/// tool schemas and tool inputs).
inline constexpr std::size_t kMaxJsonDepth = 512;

/// Parses `text` with storage `sp`. Invalid UTF-8 is kept (the writers replace it with U+FFFD)
/// and lone UTF-16 surrogate escapes become U+FFFD, since both occur in model output and losing a
/// whole chunk to them would be worse. nullopt for malformed JSON; only bad_alloc is thrown.
std::optional<boost::json::value> parse_json(std::string_view text,
                                             boost::json::storage_ptr sp = {});

/// Appends `v` as compact JSON. Numbers use the shortest round-trip form ("0.7", not Boost's
/// "7E-1"); strings go through anthropic::append_json_escaped, so the result is valid UTF-8.
void append_json(std::string& out, const boost::json::value& v);

/// append_json into a new string.
std::string to_json(const boost::json::value& v);

/// Appends `s` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view s);

/// obj[key] if it is a string, else nullptr (the same for the object and array variants).
const boost::json::string* find_string(const boost::json::object& obj, std::string_view key);
const boost::json::object* find_object(const boost::json::object& obj, std::string_view key);
const boost::json::array* find_array(const boost::json::object& obj, std::string_view key);

/// obj[key] as a view when it is a string, else "".
std::string_view string_or_empty(const boost::json::object& obj, std::string_view key);

/// A JSON number as a non-negative count (fractions truncated, negatives and non-numbers 0).
std::int64_t as_count(const boost::json::value* v);

/// Fills the token counters of `out` from an OpenAI `usage` object. Cached prompt tokens
/// (prompt_tokens_details.cached_tokens, or DeepSeek's prompt_cache_hit_tokens) are reported as
/// cache_read_input_tokens and excluded from input_tokens, as Anthropic counts them.
void read_usage(const boost::json::object& usage, anthropic::Usage& out);

/// Anthropic stop_reason for an OpenAI finish_reason: stop -> end_turn (stop_sequence when
/// `matched_stop` is known), length -> max_tokens, tool_calls / function_call -> tool_use,
/// content_filter -> refusal. A finish_reason other than length/content_filter becomes tool_use
/// when `has_tool_use` (some targets say "stop" after tool calls); "" means none was sent.
std::string_view stop_reason_for(std::string_view finish_reason, bool matched_stop,
                                 bool has_tool_use);

/// A message id for the response: "msg_" + the upstream id with characters outside
/// [A-Za-z0-9_-] replaced, or a generated unique one when the upstream sent none.
std::string message_id_for(std::string_view upstream_id);

/// A tool_use id from the upstream's tool call id: characters outside [A-Za-z0-9_-] (the
/// Anthropic API's pattern, which matters when the conversation later fails over to an Anthropic
/// endpoint) become '_'. An empty id is synthesized from `message_id` and `ordinal` so that it is
/// unique across the conversation.
std::string tool_use_id_for(std::string_view upstream_id, std::string_view message_id,
                            std::size_t ordinal);

/// The `input` of a tool_use block from OpenAI `function.arguments`: the parsed object; a string
/// holding an object's JSON (double-encoded by some models) is unwrapped; anything else
/// (empty, invalid, not an object) gives {}.
boost::json::object tool_input_from_arguments(const boost::json::value* arguments);

/// The JSON text of `function.arguments` as the stream forwards it: the string itself, or the
/// serialized value when a target sends an object instead of a string.
std::string arguments_text(const boost::json::value* arguments);

/// Anthropic error type for an HTTP status; "" when the status alone does not decide it (2xx,
/// unknown 1xx/3xx).
std::string_view error_type_for_status(int status);

/// Type and message of an OpenAI-style error carried by `v`: {"error":{"message","type","code"}},
/// {"error":"text"}, {"message":...} or {"detail":...} (FastAPI servers). The type is mapped
/// from `status` when it decides, else from error.code / error.type, else api_error. Returns
/// false (outputs untouched) when `v` carries no error member and `require_error_member`.
bool read_error(const boost::json::value& v, int status, bool require_error_member,
                std::string& type, std::string& message);

}  // namespace qcc::openai::detail
