// Local input-token estimate for /v1/messages/count_tokens on endpoints of kind "openai", which
// have no counting endpoint (and whose tokenizers differ per model anyway).
//
// Method (an estimate, typically within ~20% for English prose and code; it does not know the
// target's tokenizer):
// - text: ASCII bytes / 4, plus 1 token per CJK / kana / hangul code point, plus 1 token per 2
//   other non-ASCII code points, rounded up per string;
// - JSON (tool definitions, tool_use inputs): ASCII bytes / 3, as punctuation-dense text
//   tokenizes worse than prose;
// - images: a fixed 1600 tokens each (Anthropic's cost of a ~1.15-megapixel image, the size
//   clients scale to); PDFs: 2000 tokens per page, pages counted from "/Type /Page" objects in
//   the decoded file, or 1 per 100 KB when those sit in compressed object streams (at least 1);
//   documents by URL or file id (size unknown here): 2000;
// - overheads: 4 tokens per message, 8 per tool definition, 3 for the reply priming.
// Counted: system, every message's text / image / document / tool_use (name + input) /
// tool_result content, and custom tools (name, description, input_schema). Thinking blocks and
// server tools are not counted: they are not sent to OpenAI targets.
#pragma once
#include <cstdint>
#include <string_view>

namespace qcc::openai {

/// Estimated input tokens of an Anthropic Messages request body (method above); -1 for a body
/// that is not a JSON object. Never throws.
std::int64_t estimate_input_tokens(std::string_view anthropic_body);

/// The text part of the method: estimated tokens of one string.
std::int64_t estimate_text_tokens(std::string_view text);

}  // namespace qcc::openai
