#include "protocol/openai/translate_stream.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <utility>
#include <vector>

#include "protocol/anthropic/json_util.hpp"
#include "protocol/openai/common.hpp"
#include "protocol/sse/parser.hpp"

namespace qcc::openai {
namespace json = boost::json;
using detail::append_json_string;
using detail::find_array;
using detail::find_object;
using detail::string_or_empty;

namespace {

// One upstream event may carry a whole tool call's arguments (a file written by a tool), so the
// limit is far above typical chunk sizes; beyond it the stream counts as broken.
constexpr std::size_t kMaxEventBytes = std::size_t{16} << 20;
// Chunks are parsed into this much reusable memory before Boost.JSON touches the heap.
constexpr std::size_t kParseBufferBytes = 8192;
constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);

enum class Block { kNone, kText, kThinking, kTool };

// Whether the text fed so far is one complete JSON object or array (trailing text ignored).
// Decides when a streaming tool call is over so the next parallel call's block may open.
class JsonCompleteness {
  public:
    void feed(std::string_view s) {
        for (char c : s) {
            if (complete_ || broken_) return;
            if (in_string_) {
                if (escape_) {
                    escape_ = false;
                } else if (c == '\\') {
                    escape_ = true;
                } else if (c == '"') {
                    in_string_ = false;
                }
                continue;
            }
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
            if (depth_ == 0 && c != '{' && c != '[') {
                broken_ = true;  // a scalar or garbage: never "complete", the block stays open
                return;
            }
            if (c == '"') {
                in_string_ = true;
            } else if (c == '{' || c == '[') {
                ++depth_;
            } else if (c == '}' || c == ']') {
                if (--depth_ == 0) complete_ = true;
            }
        }
    }
    bool complete() const { return complete_; }

  private:
    int depth_ = 0;
    bool in_string_ = false;
    bool escape_ = false;
    bool complete_ = false;
    bool broken_ = false;
};

struct ToolCall {
    std::int64_t upstream_index = 0;
    std::string upstream_id;
    std::string name;
    std::string held;  // arguments received while the block could not be open
    JsonCompleteness scan;
    bool opened = false;
    bool closed = false;
    bool sent_arguments = false;
};

// Bytes at the end of `s` that start a UTF-8 sequence but do not finish it.
std::size_t incomplete_utf8_tail(std::string_view s) {
    const std::size_t limit = s.size() < 3 ? s.size() : 3;
    for (std::size_t k = 1; k <= limit; ++k) {
        const auto byte = static_cast<unsigned char>(s[s.size() - k]);
        if ((byte & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
        if (byte < 0xC0) return 0;
        const std::size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
        return length > k ? k : 0;
    }
    return 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

struct StreamTranslator::Impl {
    Impl(std::string model, std::string id)
        : client_model(std::move(model)),
          message_id(std::move(id)),
          parser(kMaxEventBytes),
          parse_buffer(std::make_unique<unsigned char[]>(kParseBufferBytes)) {}

    void feed(std::string_view bytes, std::string& sink) {
        out = &sink;
        try {
            parser.feed(bytes, [this](const sse::Event& e) { on_event(e); });
            if (parser.overflow() && !error && !stopped) {
                fail("api_error", "upstream stream event exceeds the size limit");
            }
        } catch (const std::exception& e) {
            fail("api_error", std::string("stream translation failed: ") + e.what());
        }
        out = nullptr;
    }

    bool finish(std::string& sink) {
        if (error) return false;
        if (stopped) return true;
        if (!started || (!finish_seen && !done_seen)) return false;
        out = &sink;
        bool ok = true;
        try {
            finalize();
        } catch (const std::exception& e) {
            fail("api_error", std::string("stream translation failed: ") + e.what());
            ok = false;
        }
        out = nullptr;
        return ok;
    }

    void fail(std::string_view type, std::string message) {
        if (error) return;
        error = true;
        error_type = type;
        error_message = std::move(message);
    }

    // ---- upstream side ----

    void on_event(const sse::Event& e) {
        if (stopped || error) return;
        const std::string_view data = trim(e.data);
        json::monotonic_resource memory(parse_buffer.get(), kParseBufferBytes);
        if (e.name == "error") {
            record_error(detail::parse_json(data, &memory));
            return;
        }
        if (data == "[DONE]") {
            done_seen = true;
            if (started) finalize();
            return;
        }
        auto parsed = detail::parse_json(data, &memory);
        const json::object* chunk = parsed ? parsed->if_object() : nullptr;
        if (chunk == nullptr) return;  // not a chunk: nothing to translate
        if (const json::value* err = chunk->if_contains("error"); err && !err->is_null()) {
            record_error(parsed);
            return;
        }
        on_chunk(*chunk);
    }

    void record_error(const std::optional<json::value>& body) {
        std::string type;
        std::string message;
        if (body) detail::read_error(*body, 0, false, type, message);
        if (type.empty()) type = "api_error";
        if (message.empty()) message = "upstream stream reported an error";
        fail(type, std::move(message));
    }

    void on_chunk(const json::object& chunk) {
        if (const json::object* u = find_object(chunk, "usage")) {
            detail::read_usage(*u, usage);
            usage_seen = true;
        }
        if (const std::string_view model = string_or_empty(chunk, "model"); !model.empty()) {
            usage.model = model;
        }
        if (!started) {
            if (message_id.empty())
                message_id = detail::message_id_for(string_or_empty(chunk, "id"));
            write_message_start();
            started = true;
        }
        const json::array* choices = find_array(chunk, "choices");
        if (choices == nullptr) return;
        for (const json::value& item : *choices) {
            const json::object* choice = item.if_object();
            if (choice == nullptr) continue;
            const json::value* index = choice->if_contains("index");
            if (index != nullptr && detail::as_count(index) != 0) continue;  // n > 1: first only
            if (const json::object* delta = find_object(*choice, "delta")) on_delta(*delta);
            const std::string_view reason = string_or_empty(*choice, "finish_reason");
            if (reason == "error") {
                fail("api_error", "upstream reported finish_reason \"error\"");
                return;
            }
            if (!reason.empty()) {
                on_finish_reason(reason, string_or_empty(*choice, "stop_reason"));
            }
        }
    }

    void on_delta(const json::object& delta) {
        std::string_view reasoning = string_or_empty(delta, "reasoning_content");
        if (reasoning.empty()) reasoning = string_or_empty(delta, "reasoning");
        if (!reasoning.empty()) emit_content(Block::kThinking, reasoning);
        if (const std::string_view text = string_or_empty(delta, "content"); !text.empty()) {
            emit_content(Block::kText, text);
        }
        if (const std::string_view refusal = string_or_empty(delta, "refusal"); !refusal.empty()) {
            emit_content(Block::kText, refusal);
        }
        if (const json::array* calls = find_array(delta, "tool_calls")) {
            for (std::size_t position = 0; position < calls->size(); ++position) {
                const json::object* call = (*calls)[position].if_object();
                if (call == nullptr) continue;
                const json::value* index_v = call->if_contains("index");
                const std::int64_t index = index_v != nullptr && index_v->is_number()
                                               ? detail::as_count(index_v)
                                               : static_cast<std::int64_t>(position);
                const json::object* function = find_object(*call, "function");
                on_tool_delta(index, string_or_empty(*call, "id"),
                              function ? string_or_empty(*function, "name") : std::string_view(),
                              function ? detail::arguments_text(function->if_contains("arguments"))
                                       : std::string());
            }
        }
        if (const json::object* function = find_object(delta, "function_call")) {
            on_tool_delta(0, {}, string_or_empty(*function, "name"),
                          detail::arguments_text(function->if_contains("arguments")));
        }
    }

    void on_tool_delta(std::int64_t index, std::string_view id, std::string_view name,
                       const std::string& arguments) {
        std::size_t slot = kNoSlot;
        for (std::size_t i = tools.size(); i-- > 0;) {
            if (tools[i].upstream_index == index) {
                slot = i;
                break;
            }
        }
        if (slot != kNoSlot && starts_new_call(tools[slot], id, name, arguments)) slot = kNoSlot;
        if (slot == kNoSlot) {
            slot = tools.size();
            tools.emplace_back();
            tools.back().upstream_index = index;
        }
        ToolCall& call = tools[slot];
        if (call.upstream_id.empty()) call.upstream_id = id;
        if (call.name.empty()) call.name = name;
        if (!arguments.empty()) {
            call.scan.feed(arguments);
            if (open == Block::kTool && open_tool == slot) {
                send_fragment(arguments);
                call.sent_arguments = true;
            } else if (!call.closed) {
                call.held.append(arguments);
            }
            // else: its block is closed; the fragment cannot be delivered (see the header).
        }
        advance_tools();
    }

    // Servers that put every call at index 0 (or send none) are told apart by what the delta
    // carries: another id, another name, or the same name opening a new object after the
    // previous arguments completed. OpenAI never repeats id or name within a call.
    static bool starts_new_call(const ToolCall& call, std::string_view id, std::string_view name,
                                std::string_view arguments) {
        if (!id.empty() && !call.upstream_id.empty() && id != call.upstream_id) return true;
        if (name.empty() || call.name.empty()) return false;
        if (name != call.name) return true;
        const std::size_t first = arguments.find_first_not_of(" \t\r\n");
        return call.scan.complete() && first != std::string_view::npos && arguments[first] == '{';
    }

    void on_finish_reason(std::string_view reason, std::string_view matched) {
        finish_seen = true;
        finish_reason = reason;
        matched_stop = reason == "stop" ? matched : std::string_view();
        flush_held_tools();
        close_block();
    }

    // ---- Anthropic side ----

    // Opens held tool calls in arrival order, one block at a time: a streaming call keeps its
    // block until its arguments are complete JSON.
    void advance_tools() {
        for (;;) {
            if (open == Block::kTool && !tools[open_tool].scan.complete()) return;
            const std::size_t next = next_ready_tool();
            if (next == kNoSlot) return;
            close_block();
            open_tool_block(next);
        }
    }

    // Opens every held named call (each closing the previous); the last one is left open.
    void flush_held_tools() {
        for (std::size_t next = next_ready_tool(); next != kNoSlot; next = next_ready_tool()) {
            close_block();
            open_tool_block(next);
        }
    }

    std::size_t next_ready_tool() const {
        for (std::size_t i = 0; i < tools.size(); ++i) {
            if (!tools[i].opened && !tools[i].name.empty()) return i;
        }
        return kNoSlot;
    }

    void emit_content(Block kind, std::string_view text) {
        if (open != kind) {
            flush_held_tools();
            close_block();
            open_block(kind);
        }
        send_fragment(text);
    }

    void open_block(Block kind) {
        begin_event("content_block_start");
        out->append(R"({"type":"content_block_start","index":)");
        out->append(std::to_string(next_index));
        if (kind == Block::kText) {
            out->append(R"(,"content_block":{"type":"text","text":""}})");
        } else {
            out->append(R"(,"content_block":{"type":"thinking","thinking":"","signature":""}})");
        }
        end_event();
        open = kind;
        open_index = next_index++;
        content_started = true;
    }

    void open_tool_block(std::size_t slot) {
        ToolCall& call = tools[slot];
        const std::string id =
            detail::tool_use_id_for(call.upstream_id, message_id, tool_ordinal++);
        begin_event("content_block_start");
        out->append(R"({"type":"content_block_start","index":)");
        out->append(std::to_string(next_index));
        out->append(R"(,"content_block":{"type":"tool_use","id":)");
        append_json_string(*out, id);
        out->append(R"(,"name":)");
        append_json_string(*out, call.name);
        out->append(R"(,"input":{}}})");
        end_event();
        open = Block::kTool;
        open_index = next_index++;
        open_tool = slot;
        content_started = true;
        any_tool = true;
        call.opened = true;
        if (!call.held.empty()) {
            const std::string held = std::move(call.held);
            call.held.clear();
            send_fragment(held);
            call.sent_arguments = true;
        }
    }

    void close_block() {
        if (open == Block::kNone) return;
        if (!utf8_tail.empty()) {
            // The character was never completed: one U+FFFD stands for it.
            utf8_tail.clear();
            write_delta("\xEF\xBF\xBD");
        }
        if (open == Block::kTool) {
            ToolCall& call = tools[open_tool];
            // Clients parse the accumulated partial_json; a call without arguments means {}.
            if (!call.sent_arguments) write_delta("{}");
            call.closed = true;
        }
        begin_event("content_block_stop");
        out->append(R"({"type":"content_block_stop","index":)");
        out->append(std::to_string(open_index));
        out->push_back('}');
        end_event();
        open = Block::kNone;
    }

    // A delta for the open block, holding back a trailing incomplete UTF-8 sequence.
    void send_fragment(std::string_view text) {
        std::string joined;
        if (!utf8_tail.empty()) {
            joined = std::move(utf8_tail);
            utf8_tail.clear();
            joined.append(text);
            text = joined;
        }
        if (const std::size_t keep = incomplete_utf8_tail(text); keep > 0) {
            utf8_tail.assign(text.substr(text.size() - keep));
            text.remove_suffix(keep);
        }
        if (!text.empty()) write_delta(text);
    }

    void write_delta(std::string_view text) {
        begin_event("content_block_delta");
        out->append(R"({"type":"content_block_delta","index":)");
        out->append(std::to_string(open_index));
        switch (open) {
            case Block::kText:
                out->append(R"(,"delta":{"type":"text_delta","text":)");
                break;
            case Block::kThinking:
                out->append(R"(,"delta":{"type":"thinking_delta","thinking":)");
                break;
            case Block::kTool:
            case Block::kNone:
                out->append(R"(,"delta":{"type":"input_json_delta","partial_json":)");
                break;
        }
        append_json_string(*out, text);
        out->append("}}");
        end_event();
    }

    void write_message_start() {
        begin_event("message_start");
        out->append(R"({"type":"message_start","message":{"id":)");
        append_json_string(*out, message_id);
        out->append(R"(,"type":"message","role":"assistant","model":)");
        append_json_string(*out, client_model);
        out->append(R"(,"content":[],"stop_reason":null,"stop_sequence":null,"usage":)");
        append_usage(true);
        out->append("}}");
        end_event();
    }

    void append_usage(bool full) {
        out->append(R"({"input_tokens":)");
        out->append(std::to_string(usage.input_tokens));
        if (full) {
            out->append(R"(,"cache_creation_input_tokens":0,"cache_read_input_tokens":)");
            out->append(std::to_string(usage.cache_read_input_tokens));
        }
        out->append(R"(,"output_tokens":)");
        out->append(std::to_string(usage.output_tokens));
        out->push_back('}');
    }

    void finalize() {
        if (stopped) return;
        flush_held_tools();
        close_block();
        const std::string_view reason =
            detail::stop_reason_for(finish_reason, !matched_stop.empty(), any_tool);
        usage.stop_reason = reason;
        begin_event("message_delta");
        out->append(R"({"type":"message_delta","delta":{"stop_reason":)");
        append_json_string(*out, reason);
        out->append(R"(,"stop_sequence":)");
        if (reason == "stop_sequence") {
            append_json_string(*out, matched_stop);
        } else {
            out->append("null");
        }
        out->append(R"(},"usage":)");
        if (usage_seen) {
            append_usage(true);
        } else {
            out->append(R"({"output_tokens":0})");
        }
        out->push_back('}');
        end_event();
        begin_event("message_stop");
        out->append(R"({"type":"message_stop"})");
        end_event();
        stopped = true;
    }

    void begin_event(std::string_view name) {
        out->append("event: ");
        out->append(name);
        out->append("\ndata: ");
    }
    void end_event() { out->append("\n\n"); }

    std::string client_model;
    std::string message_id;
    sse::Parser parser;
    std::unique_ptr<unsigned char[]> parse_buffer;
    anthropic::Usage usage;
    std::string error_type;
    std::string error_message;
    std::string finish_reason;
    std::string matched_stop;
    std::string utf8_tail;  // incomplete UTF-8 sequence held from the open block's last delta
    std::vector<ToolCall> tools;
    std::string* out = nullptr;  // the caller's sink during feed() / finish()
    Block open = Block::kNone;
    std::size_t open_tool = 0;  // tools[] slot of the open block when open == kTool
    int open_index = 0;
    int next_index = 0;
    std::size_t tool_ordinal = 0;
    bool started = false;      // message_start written
    bool finish_seen = false;  // a finish_reason arrived
    bool done_seen = false;    // [DONE] arrived
    bool stopped = false;      // message_stop written
    bool error = false;
    bool content_started = false;
    bool usage_seen = false;
    bool any_tool = false;
};

StreamTranslator::StreamTranslator(std::string client_model, std::string message_id)
    : impl_(std::make_unique<Impl>(std::move(client_model), std::move(message_id))) {}

StreamTranslator::~StreamTranslator() = default;
StreamTranslator::StreamTranslator(StreamTranslator&&) noexcept = default;
StreamTranslator& StreamTranslator::operator=(StreamTranslator&&) noexcept = default;

void StreamTranslator::feed(std::string_view bytes, std::string& out) { impl_->feed(bytes, out); }

bool StreamTranslator::finish(std::string& out) { return impl_->finish(out); }

bool StreamTranslator::content_started() const { return impl_->content_started; }

bool StreamTranslator::error_seen() const { return impl_->error; }

const std::string& StreamTranslator::error_type() const { return impl_->error_type; }

const std::string& StreamTranslator::error_message() const { return impl_->error_message; }

const anthropic::Usage& StreamTranslator::usage() const { return impl_->usage; }

}  // namespace qcc::openai
