// OpenAI Chat Completions SSE stream -> Anthropic Messages SSE stream.
//
// Output shape: message_start when the first upstream chunk arrives; content blocks opened lazily
// with indices 0, 1, 2, ..., each closed before the next opens (Anthropic blocks cannot
// interleave, and clients append deltas to the last opened block); message_delta (stop_reason,
// stop_sequence, usage) and message_stop at the end. Every event is
// "event: <name>\ndata: <json>\n\n"; no ping is emitted and [DONE] is never forwarded.
//
// - Text: delta.content (and delta.refusal) -> a text block of text_delta events.
// - Reasoning: delta.reasoning_content or delta.reasoning -> a thinking block of thinking_delta
//   events, started with signature "" and closed without a signature_delta (there is nothing to
//   sign; @anthropic-ai/sdk accepts the block as is).
// - Tool calls, identified by tool_calls[].index (position when absent; a delta with another id
//   or name on a known index, or the same name opening a new object after the arguments were
//   complete, starts a new call, as some Gemini-compatible servers reuse index 0): a block opens as
//   soon as the call's name is known (its id, or one synthesized from the message id when the
//   target sends none); every arguments fragment is forwarded at once as input_json_delta, never
//   waiting for valid JSON or assuming cumulative arguments; fragments that arrive earlier are
//   held and sent when the block opens. Parallel calls: while the open call's arguments are not
//   yet a complete JSON value, another call's fragments are held (so interleaving targets work);
//   once they are complete, the next call's block opens. A fragment for a call whose block was
//   already closed cannot be delivered and is dropped (this only happens after its arguments
//   were complete or after other content intervened; trailing whitespace is harmless). A tool
//   call that never got a name is dropped; one whose block got no arguments gets "{}".
// - finish_reason closes the open block and flushes held calls, but message_delta waits for
//   [DONE] or finish(): with stream_options.include_usage the usage chunk (empty choices) comes
//   after the finish_reason chunk. Stop reasons as in translate_response.hpp.
// - Text split inside a UTF-8 sequence between two chunks is rejoined: the incomplete tail of a
//   delta is held for the next delta of the same block, so no emitted string has half a
//   character.
// - An error object in the stream ({"error":{...}} data, or an `event: error`, or finish_reason
//   "error") is only recorded: error_seen() turns true and from then on nothing at all is
//   emitted. Before content the caller fails the attempt over; after content it writes the SSE
//   error event itself (blocks are left open, as with Anthropic's own mid-stream errors).
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "protocol/anthropic/usage.hpp"

namespace qcc::openai {

/// Streaming translation of one upstream response (one instance per attempt).
class StreamTranslator {
  public:
    /// `client_model` is echoed in message_start. An empty `message_id` takes "msg_" + the
    /// upstream chunk id (or a generated one).
    explicit StreamTranslator(std::string client_model, std::string message_id = {});
    ~StreamTranslator();
    StreamTranslator(StreamTranslator&&) noexcept;
    StreamTranslator& operator=(StreamTranslator&&) noexcept;
    StreamTranslator(const StreamTranslator&) = delete;
    StreamTranslator& operator=(const StreamTranslator&) = delete;

    /// Appends the Anthropic SSE bytes produced by `bytes` (any split of the upstream body) to
    /// `out` (may append nothing). Never throws.
    void feed(std::string_view bytes, std::string& out);

    /// The upstream body ended: when it ended properly (finish_reason seen or [DONE]) closes any
    /// open block and appends message_delta + message_stop unless already sent, and returns true.
    /// Returns false and appends nothing when the upstream ended without finish_reason / [DONE]
    /// (a cut stream), produced no chunk, or carried an error: the caller then writes an SSE
    /// error itself. Never throws.
    bool finish(std::string& out);

    /// True once a content block (text, thinking, tool call) has been emitted: the commit point
    /// may be passed.
    bool content_started() const;

    /// An error object arrived in the stream (before or after content), or the stream broke
    /// (an event over the size limit).
    bool error_seen() const;
    /// Anthropic error type of that error (mapped from its code/type; api_error by default).
    const std::string& error_type() const;
    /// Its message.
    const std::string& error_message() const;

    /// Input/output/cache_read tokens and stop_reason as translated; `model` is the model the
    /// upstream named.
    const anthropic::Usage& usage() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace qcc::openai
