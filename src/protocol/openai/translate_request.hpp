// Anthropic Messages request -> OpenAI Chat Completions request, for endpoints of kind "openai".
//
// What the translation does with each part of a Messages request (choices where the APIs differ):
// - system (string or text blocks) becomes one leading system message, blocks joined with a blank
//   line. A block that starts with "x-anthropic-billing-header:" (Claude Code's attribution line
//   for Anthropic's billing) is dropped: it is not an instruction and would change the prompt
//   prefix that OpenAI-style prompt caches key on with every CLI release.
// - {"role":"system"} entries inside messages (Claude Code's mid-conversation-system beta) stay
//   system messages in place: Chat Completions allows them anywhere, and merging them into the
//   leading one would move instructions and invalidate the cached prefix each time one appears.
//   A system message between a tool call and its results is placed after the results, which
//   must directly follow the call.
// - Text-only content becomes a plain string (blocks joined with a blank line), the form every
//   OpenAI-compatible server accepts; content with images or files becomes an array of parts.
// - Images: base64 -> data: URL, url -> the URL. Documents: base64 PDF -> a `file` part,
//   text / content sources -> text, a URL source -> a text line naming the URL.
// - tool_use blocks -> the assistant message's tool_calls (its text stays its content; content is
//   null when there is none). tool_result blocks -> role "tool" messages right after the call,
//   in the order of the results; text joined; is_error results are prefixed with "Error: ".
//   Tool messages can carry only text, so images (and PDFs) in a result move to a user message
//   that follows the tool messages, with a note in the tool message; the user's own blocks of
//   that message go there too, in their original order.
// - thinking / redacted_thinking blocks, cache_control, metadata, top_k and every other
//   Anthropic-only field are dropped; unknown block types are skipped. An assistant message left
//   with nothing is omitted.
// - tools -> function tools; Anthropic server tools (a `type` other than "custom", e.g.
//   web_search_20250305, bash_20250124) are skipped since the target cannot run them. With
//   profile.clean_schema, input schemas lose keywords that strict targets (Gemini's OpenAI
//   endpoint, some vLLM guided-decoding backends) reject and that only annotate or constrain
//   beyond what function calling enforces: $schema, $id, $comment, format on strings,
//   propertyNames, boolean additionalProperties, exclusiveMinimum/Maximum; const becomes a
//   one-value enum.
// - tool_choice auto/any/tool/none -> "auto"/"required"/{function}/"none";
//   disable_parallel_tool_use -> parallel_tool_calls:false (both only when tools remain).
// - thinking maps per TargetProfile::reasoning (see there). max_tokens is never clamped.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace qcc::openai {

/// Per-target quirks, chosen per endpoint (the integrator fills it from endpoint config/tags).
struct TargetProfile {
    /// Send max_completion_tokens instead of max_tokens (OpenAI o-series / gpt-5 style).
    bool max_completion_tokens = false;

    /// Where an Anthropic `thinking` setting goes. Budgets come from thinking.budget_tokens
    /// (type "enabled"); type "adaptive" uses output_config.effort when present.
    enum class Reasoning {
        kNone,            // dropped
        kEffort,          // "reasoning_effort": budget < 8192 low, < 24576 medium, else high
                          // (Claude Code's think / megathink / ultrathink: 4000 / 10000 / 31999)
        kOpenRouter,      // "reasoning": {"max_tokens": budget} or {"effort": ...}
        kThinkingBudget,  // Qwen-style switches: "chat_template_kwargs":{"enable_thinking"} (vLLM,
                          // SGLang) plus "enable_thinking" / "thinking_budget" (DashScope); an
                          // explicit type "disabled" sends enable_thinking false
    };
    Reasoning reasoning = Reasoning::kNone;

    /// Remove JSON-schema keywords many targets reject from tool input schemas (listed above).
    bool clean_schema = true;

    /// Ask for stream_options.include_usage when streaming (some old servers reject the field).
    bool stream_usage = true;
};

/// A translated request.
struct TranslatedRequest {
    std::string body;     // the OpenAI Chat Completions JSON request
    bool stream = false;  // the client asked for a stream
};

/// Anthropic Messages request JSON -> Chat Completions request JSON for `target_model`.
/// Errors (not JSON, not an object, no messages) come back as a message in `*error` (when
/// non-null) and nullopt. Never throws.
std::optional<TranslatedRequest> translate_request(std::string_view anthropic_body,
                                                   std::string_view target_model,
                                                   const TargetProfile& profile,
                                                   std::string* error);

/// Whether a Messages request may hold thinking blocks without a signature (a cheap byte search
/// for `"signature":""`): what an OpenAI-compatible target's reasoning becomes once translated.
bool has_unsigned_thinking(std::string_view anthropic_body);

/// For an Anthropic endpoint, which rejects unsigned thinking: the request without its thinking /
/// redacted_thinking blocks that carry no signature (assistant turns left empty are removed) and,
/// when any was removed, without `thinking` (extended thinking needs a signed block in the last
/// turn); `model`, when given, replaces the model. nullopt when nothing had to change or the body
/// is not a Messages request. Never throws.
std::optional<std::string> strip_unsigned_thinking(std::string_view anthropic_body,
                                                   const std::string* model);

}  // namespace qcc::openai
