// Shared test data for the protocol unit tests: realistic Anthropic SSE streams and helpers.
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/sse/parser.hpp"

namespace qcc::test {

/// A streamed Messages response as api.anthropic.com sends it: text, then a tool call.
inline constexpr std::string_view kAnthropicStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\","
    "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-opus-4-8\",\"content\":[],"
    "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,"
    "\"cache_creation_input_tokens\":1843,\"cache_read_input_tokens\":17254,"
    "\"output_tokens\":1}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"I'll run that \\\"echo\\\" now.\\n\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"Bash\",\"input\":{}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"command\\\": \\\"echo e2e\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"-tool\\\"}\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

/// Number of events in kAnthropicStream.
inline constexpr std::size_t kAnthropicStreamEvents = 12;

/// A stream that fails after a 200 head: a ping, then an overloaded error (SPEC §2 step 6).
inline constexpr std::string_view kOverloadedStream =
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: error\n"
    "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
    "\"message\":\"Overloaded\"}}\n"
    "\n";

/// `s` with every \n replaced by `eol` ("\r\n" or "\r").
inline std::string with_line_endings(std::string_view s, std::string_view eol) {
    std::string out;
    for (char c : s) {
        if (c == '\n') {
            out.append(eol);
        } else {
            out.push_back(c);
        }
    }
    return out;
}

using EventList = std::vector<std::pair<std::string, std::string>>;

/// Feeds `chunks` in order and returns the dispatched (name, data) pairs.
inline EventList collect(sse::Parser& parser, const std::vector<std::string_view>& chunks) {
    EventList events;
    for (std::string_view chunk : chunks) {
        parser.feed(chunk, [&](const sse::Event& e) {
            events.emplace_back(std::string(e.name), std::string(e.data));
        });
    }
    return events;
}

/// Parses `stream` fed in one piece with a fresh parser.
inline EventList collect_whole(std::string_view stream) {
    sse::Parser parser;
    return collect(parser, {stream});
}

/// Contents of a file under tests/fixtures.
inline std::string read_fixture(const std::string& relative) {
    std::ifstream in(std::string(QCC_FIXTURES_DIR) + "/" + relative, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace qcc::test
