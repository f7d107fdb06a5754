// OpenAI Chat Completions response / error bodies -> Anthropic Messages bodies.
//
// Content of a translated message, in order: a thinking block for `reasoning_content` (DeepSeek,
// vLLM, Qwen) or `reasoning` (OpenRouter, Ollama) with signature "" (the SDKs accept it; the
// target gives nothing to sign, and the request translator drops thinking from history anyway),
// a text block for the content (or, without content, for `refusal`), then one tool_use block per
// tool call. Tool ids keep the upstream's id with characters outside [A-Za-z0-9_-] replaced (the
// Anthropic API's id pattern, for failover to Anthropic endpoints later in the conversation);
// arguments that are not a JSON object (invalid, empty, truncated) give input {}, while
// arguments JSON-encoded twice are unwrapped. Stop reasons: stop -> end_turn (stop_sequence when
// the server names the matched string in choices[].stop_reason, as vLLM does), length ->
// max_tokens, tool_calls / function_call -> tool_use (also for "stop" with tool calls, which some
// targets send), content_filter -> refusal (the API's stop reason for declined output).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "protocol/anthropic/usage.hpp"

namespace qcc::openai {

/// Non-streaming: a Chat Completions response body -> an Anthropic Messages response body echoing
/// `client_model`; fills `*usage` (tokens with cached prompt tokens as cache_read_input_tokens,
/// stop_reason, and `model` = the model the upstream named). A body that is an error object (even
/// with HTTP 200), not JSON, without choices or with finish_reason "error" -> nullopt with an
/// Anthropic error type in `*error_type` and a message in `*error`. Pointers may be null. Never
/// throws.
std::optional<std::string> translate_response(std::string_view openai_body,
                                              std::string_view client_model,
                                              anthropic::Usage* usage, std::string* error_type,
                                              std::string* error);

/// An OpenAI-style error body ({"error":{"message","type","code"}}, {"error":"..."},
/// {"detail":...}, or any text) with HTTP `status` -> an Anthropic error body
/// ({"type":"error","error":{"type":...,"message":...}}). Types are mapped by status: 400/422
/// invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error, 404
/// not_found_error, 408/504 timeout_error, 413 request_too_large, 429 rate_limit_error, 503/529
/// overloaded_error, other 4xx invalid_request_error, other 5xx api_error; for any other status
/// by the body's error code/type. The message is the body's, else the (truncated) body text,
/// else "upstream returned HTTP <status>". Never throws.
std::string anthropic_error_from_openai(int status, std::string_view body);

}  // namespace qcc::openai
