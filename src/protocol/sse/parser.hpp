// Incremental text/event-stream parser (WHATWG HTML "event stream interpretation") for the side tap
// on streamed responses. It runs over every streamed byte, so it scans with memchr, keeps one
// reusable buffer per field and allocates nothing per byte.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace qcc::sse {

/// One dispatched event. name "" means the default type "message".
struct Event {
    std::string_view name;
    std::string_view data;
};

/// Lines end in \n, \r\n or \r (split across feeds anywhere); `event:` sets the name, `data:` lines
/// are joined with \n, lines starting with ':' are comments, other fields (id, retry, unknown) are
/// ignored; one space after the colon is stripped; a blank line dispatches an event that had at
/// least one data line. A leading UTF-8 BOM is skipped; an unterminated event at the end of the
/// stream is never dispatched.
class Parser {
  public:
    explicit Parser(std::size_t max_event_bytes = 1 << 20);

    /// Feeds bytes; calls on_event(const Event&) for each complete event; views are valid only
    /// during the call. A pending event larger than max_event_bytes is discarded (up to its
    /// terminating blank line) and overflow() becomes true (memory stays bounded). on_event must
    /// not feed this parser.
    template <class F>
    void feed(std::string_view bytes, F&& on_event);

    /// True once any event has been discarded for exceeding max_event_bytes.
    bool overflow() const { return overflow_; }

    /// Bytes held for the pending event and the partial line (for tests and metrics).
    std::size_t buffered_bytes() const { return name_.size() + data_.size() + line_.size(); }

  private:
    using Sink = void (*)(void* context, const Event& event);

    void feed_impl(std::string_view bytes, Sink sink, void* context);
    std::size_t skip_bom(std::string_view bytes);
    void take_partial(std::string_view segment);
    void end_line(std::string_view segment, Sink sink, void* context);
    void process_line(std::string_view line, Sink sink, void* context);
    void dispatch(Sink sink, void* context);
    void start_discard();
    void reset_event();

    std::size_t max_event_bytes_;
    std::string name_;  // event type buffer
    std::string data_;  // data buffer, without the trailing LF the spec appends then strips
    std::string line_;  // the current line's bytes when it spans feeds
    bool has_data_ = false;
    bool skip_line_ = false;   // the current line is non-empty and ignored (comment / discard)
    bool discarding_ = false;  // the pending event overflowed; drop lines until a blank one
    bool skip_lf_ = false;     // the last feed ended in \r: a leading \n belongs to it
    bool overflow_ = false;
    bool bom_done_ = false;
    std::size_t bom_matched_ = 0;
};

template <class F>
void Parser::feed(std::string_view bytes, F&& on_event) {
    using Callable = std::remove_reference_t<F>;
    // Type-erased so the scanning code lives in parser.cpp rather than in every includer.
    const Sink sink = [](void* context, const Event& event) {
        (*static_cast<Callable*>(context))(event);
    };
    feed_impl(bytes, sink, const_cast<void*>(static_cast<const void*>(std::addressof(on_event))));
}

}  // namespace qcc::sse
