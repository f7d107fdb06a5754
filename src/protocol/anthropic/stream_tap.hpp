// Side tap on a streamed Messages response: reads events, errors and usage from
// the bytes as they are relayed, without delaying or altering them.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "protocol/anthropic/usage.hpp"
#include "protocol/sse/parser.hpp"

namespace qcc::anthropic {

/// Feed it every response byte in order. Only message_start, message_delta and error events are
/// JSON-parsed (small padded copies); the rest are only counted. An event without an `event:` line
/// is named by the "type" its JSON data starts with, as some relays omit the line.
class StreamTap {
  public:
    /// Feeds response bytes (any split). Never throws; a bad or oversized event is skipped.
    void feed(std::string_view bytes) noexcept;

    /// An event other than "ping" has been seen (the commit decision can be made).
    bool first_event_seen() const { return first_event_seen_; }
    /// ...and the first such event was "error" (the attempt failed before the commit point).
    bool first_event_is_error() const { return first_event_is_error_; }
    /// Content has begun: a content_block_delta, message_delta or message_stop has been seen (the
    /// first token, or the end of a message without any).
    bool content_seen() const { return content_seen_; }
    /// An "error" event arrived before any content: nothing the client needs was produced yet.
    bool error_before_content() const { return error_before_content_; }
    /// Any "error" event has been seen.
    bool error_seen() const { return error_seen_; }
    /// error.type of the first error event ("" if none or unreadable).
    const std::string& error_type() const { return error_type_; }
    /// "message_stop" has been seen: the stream completed.
    bool message_stop_seen() const { return message_stop_seen_; }
    /// Input/cache tokens (incl. the usage.cache_creation 5m/1h split) and model from
    /// message_start.message(.usage) (its output_tokens too, until a message_delta reports them);
    /// output_tokens from message_delta.usage.output_tokens (latest wins; input/cache fields and
    /// the split are updated too if message_delta.usage carries them); stop_reason from
    /// message_delta.delta.stop_reason.
    const Usage& usage() const { return usage_; }
    /// Number of events dispatched so far, pings included.
    std::size_t events() const { return events_; }

  private:
    void on_event(const sse::Event& event);

    sse::Parser parser_;
    Usage usage_;
    std::string error_type_;
    std::size_t events_ = 0;
    bool first_event_seen_ = false;
    bool first_event_is_error_ = false;
    bool error_seen_ = false;
    bool message_stop_seen_ = false;
    bool content_seen_ = false;
    bool error_before_content_ = false;
};

}  // namespace qcc::anthropic
