// Realistic Anthropic Messages API responses for the simulator: SSE event sequences, JSON messages,
// error bodies, and a deterministic tiny "model" that answers a Messages request.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "sim/server.hpp"

namespace qcc::sim {

/// Anthropic's usage block: message_start carries input/cache counts, message_delta output_tokens.
struct Usage {
    int input_tokens = 0;
    int output_tokens = 0;
    int cache_creation_input_tokens = 0;
    int cache_read_input_tokens = 0;
};

/// How respond_like_anthropic paces a reply: text deltas per answer, gap between SSE events, and
/// delay before the response head.
struct ResponseShape {
    int pieces = 4;
    Millis gap{0};
    Millis head_delay{0};
};

/// One SSE event exactly as Anthropic frames it: "event: <name>\ndata: <data>\n\n".
std::string sse_event(std::string_view name, std::string_view data);

/// What the simulator's tiny model answers.
struct Answer {
    std::string text;        // text answer, when tool is empty
    std::string tool;        // tool name for a tool_use answer
    std::string tool_input;  // JSON object text
};

/// The tiny model's answer to the texts of the last user message (no tool result in it): a Bash
/// call when one says "run `CMD`" (or "run: CMD") and `offers_bash`; the code alone for a
/// health-check prompt; else a short echo of the last text.
Answer answer_prompt(const std::vector<std::string>& texts, bool offers_bash);

/// A process-unique id: `prefix` + "01Sim" + 16 hex digits.
std::string next_id(std::string_view prefix);
/// The simulator's token count of `bytes` bytes of text (bytes / 4 + 1).
int estimate_tokens(std::size_t bytes);

/// A process-unique message id ("msg_01Sim…") / tool-use id ("toolu_01Sim…").
std::string next_message_id();
std::string next_tool_use_id();

/// Splits `text` into at most `pieces` consecutive parts of similar size, never inside a UTF-8
/// sequence. Always returns at least one part (possibly empty).
std::vector<std::string> split_utf8(std::string_view text, int pieces);

/// SSE events of a streamed text answer: message_start (usage input/cache tokens),
/// content_block_start, ping, one content_block_delta per piece of `text`, content_block_stop,
/// message_delta (stop_reason, usage.output_tokens), message_stop.
std::vector<std::string> text_stream(std::string_view model, std::string_view text, int pieces,
                                     const Usage& usage, std::string_view stop_reason = "end_turn");

/// SSE events of a streamed tool call: a tool_use block whose `input_json` (a JSON object text)
/// arrives as `pieces` input_json_delta fragments; stop_reason "tool_use".
std::vector<std::string> tool_use_stream(std::string_view model, std::string_view tool_name,
                                         std::string_view input_json, const Usage& usage,
                                         int pieces = 3);

/// Non-streaming equivalents: a complete Messages response object as JSON text.
std::string text_message_json(std::string_view model, std::string_view text, const Usage& usage,
                              std::string_view stop_reason = "end_turn");
std::string tool_use_message_json(std::string_view model, std::string_view tool_name,
                                  std::string_view input_json, const Usage& usage);

/// {"type":"error","error":{"type":<type>,"message":<message>}} and the same as an `error` event.
std::string error_json(std::string_view type, std::string_view message);
std::string error_event(std::string_view type, std::string_view message);

/// A deterministic stand-in for the Messages API. POST /v1/messages: if the last user message
/// holds a tool_result -> text "Tool result: <its text>"; else if its text says "run `CMD`" (or
/// "run: CMD") and the request offers a tool named "Bash" -> tool_use Bash {"command": CMD}; else
/// a short text echoing the prompt (or, for a health-check style "reply with only this code"
/// prompt, just the code). Streams when the body has "stream": true. Also answers GET /v1/models
/// (+ /v1/models/<id>) and POST /v1/messages/count_tokens; anything else is a 404 not_found_error,
/// a body that is not a JSON object a 400 invalid_request_error.
Reply respond_like_anthropic(const Request& req, const ResponseShape& shape = {});

}  // namespace qcc::sim
