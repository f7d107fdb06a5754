#include "protocol/sse/parser.hpp"

#include <algorithm>

namespace qcc::sse {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// After an unusually large event, give the memory back rather than hold it for the whole stream.
constexpr std::size_t kShrinkAbove = std::size_t{64} * 1024;

void clear_and_trim(std::string& s) {
    if (s.capacity() > kShrinkAbove) {
        std::string().swap(s);
    } else {
        s.clear();
    }
}

std::size_t find_or_end(std::string_view s, char c, std::size_t from) {
    const std::size_t at = s.find(c, from);  // memchr underneath
    return at == std::string_view::npos ? s.size() : at;
}

}  // namespace

Parser::Parser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

void Parser::feed_impl(std::string_view bytes, Sink sink, void* context) {
    std::size_t pos = 0;
    const std::size_t n = bytes.size();
    if (!bom_done_) pos = skip_bom(bytes);
    if (pos < n && skip_lf_) {
        skip_lf_ = false;
        if (bytes[pos] == '\n') ++pos;
    }
    // Next \n and \r at or after pos (n = none); each is searched once per occurrence, so a
    // chunk costs two memchr passes whatever its line endings.
    std::size_t lf = pos < n ? find_or_end(bytes, '\n', pos) : n;
    std::size_t cr = pos < n ? find_or_end(bytes, '\r', pos) : n;
    while (pos < n) {
        if (lf < pos) lf = find_or_end(bytes, '\n', pos);
        if (cr < pos) cr = find_or_end(bytes, '\r', pos);
        const std::size_t eol = std::min(lf, cr);
        if (eol == n) {
            take_partial(bytes.substr(pos));
            return;
        }
        end_line(bytes.substr(pos, eol - pos), sink, context);
        pos = eol + 1;
        if (bytes[eol] == '\r') {
            if (pos == n) {
                skip_lf_ = true;
            } else if (bytes[pos] == '\n') {
                ++pos;
            }
        }
    }
}

std::size_t Parser::skip_bom(std::string_view bytes) {
    std::size_t i = 0;
    while (bom_matched_ < kBom.size() && i < bytes.size()) {
        if (bytes[i] != kBom[bom_matched_]) {
            bom_done_ = true;
            // What looked like the start of a BOM was line content after all.
            if (bom_matched_ > 0) take_partial(kBom.substr(0, bom_matched_));
            return i;
        }
        ++bom_matched_;
        ++i;
    }
    if (bom_matched_ == kBom.size()) bom_done_ = true;
    return i;
}

void Parser::take_partial(std::string_view segment) {
    if (segment.empty()) return;
    if (skip_line_ || discarding_) {
        skip_line_ = true;
        return;
    }
    // A comment spanning feeds is dropped as it arrives instead of being buffered.
    if (line_.empty() && segment.front() == ':') {
        skip_line_ = true;
        return;
    }
    if (buffered_bytes() + segment.size() > max_event_bytes_) {
        start_discard();
        skip_line_ = true;
        return;
    }
    line_.append(segment);
}

void Parser::end_line(std::string_view segment, Sink sink, void* context) {
    if (skip_line_) {
        skip_line_ = false;  // a non-empty ignored line: never a dispatching blank line
        return;
    }
    if (line_.empty()) {
        process_line(segment, sink, context);
        return;
    }
    if (buffered_bytes() + segment.size() > max_event_bytes_) {
        start_discard();
        return;
    }
    line_.append(segment);
    process_line(line_, sink, context);
    clear_and_trim(line_);
}

void Parser::process_line(std::string_view line, Sink sink, void* context) {
    if (line.empty()) {
        if (discarding_) {
            discarding_ = false;
            reset_event();
        } else {
            dispatch(sink, context);
        }
        return;
    }
    if (discarding_ || line.front() == ':') return;
    const std::size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
        value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        const std::size_t added = value.size() + (has_data_ ? 1 : 0);
        if (name_.size() + data_.size() + added > max_event_bytes_) {
            start_discard();
            return;
        }
        if (has_data_) data_.push_back('\n');
        data_.append(value);
        has_data_ = true;
    } else if (field == "event") {
        if (value.size() + data_.size() > max_event_bytes_) {
            start_discard();
            return;
        }
        name_.assign(value);
    }
}

void Parser::dispatch(Sink sink, void* context) {
    if (!has_data_) {
        name_.clear();
        return;
    }
    // Reset even if the callback throws, so the next event starts clean.
    struct Reset {
        Parser* parser;
        ~Reset() { parser->reset_event(); }
    } reset{this};
    sink(context, Event{name_, data_});
}

void Parser::start_discard() {
    overflow_ = true;
    discarding_ = true;
    reset_event();
    clear_and_trim(line_);
}

void Parser::reset_event() {
    clear_and_trim(name_);
    clear_and_trim(data_);
    has_data_ = false;
}

}  // namespace qcc::sse
