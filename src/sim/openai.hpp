// A deterministic stand-in for an OpenAI-compatible Chat Completions server (the same tiny model as
// respond_like_anthropic), so that `qcc serve --demo` and the tests show translation working.
#pragma once
#include "sim/anthropic.hpp"
#include "sim/server.hpp"

namespace qcc::sim {

/// POST /v1/chat/completions (or /chat/completions): if the last message is a `tool` message ->
/// text "Tool result: <its content>"; else the tiny model's answer to the last user message
/// (answer_prompt, a Bash tool call when the request offers a function named "Bash"). Streams
/// when "stream": true, the way OpenAI does: a role chunk, content deltas (tool-call arguments in
/// several fragments after a first delta carrying id and name), a chunk with finish_reason, a usage
/// chunk with empty choices when stream_options.include_usage is set, then `data: [DONE]`.
/// Usage reports cached prompt tokens (prompt_tokens_details.cached_tokens). Also answers GET
/// /v1/models. Errors use OpenAI's shape {"error":{"message","type","code"}}: a body that is not
/// a JSON object or has no messages -> 400; anything else -> 404.
Reply respond_like_openai(const Request& req, const ResponseShape& shape = {});

/// {"error":{"message":..,"type":..,"code":..}} with `status`.
Reply openai_error(int status, std::string_view type, std::string_view message);

}  // namespace qcc::sim
