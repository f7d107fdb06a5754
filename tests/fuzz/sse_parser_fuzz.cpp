// libFuzzer target: the SSE parser and the stream tap on arbitrary bytes, split arbitrarily.
// Checks that splitting never changes the events and that memory stays bounded after overflow.
// Build (not part of the default build):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I src
//   tests/fuzz/sse_parser_fuzz.cpp src/protocol/sse/*.cpp src/protocol/anthropic/*.cpp -lsimdjson
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/anthropic/stream_tap.hpp"
#include "protocol/sse/parser.hpp"

namespace {

using Events = std::vector<std::pair<std::string, std::string>>;

Events run(std::string_view input, const std::vector<std::size_t>& cuts) {
    qcc::sse::Parser parser;
    Events events;
    const auto on_event = [&](const qcc::sse::Event& e) {
        events.emplace_back(std::string(e.name), std::string(e.data));
    };
    std::size_t start = 0;
    for (std::size_t cut : cuts) {
        parser.feed(input.substr(start, cut - start), on_event);
        start = cut;
    }
    parser.feed(input.substr(start), on_event);
    if (parser.overflow()) std::abort();  // inputs are far below the default limit
    return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t max_event_bytes = 1 + data[0] % 64;
    const std::size_t stride = 1 + data[1] % 16;
    const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

    std::vector<std::size_t> cuts;
    for (std::size_t cut = stride; cut < input.size(); cut += stride) cuts.push_back(cut);
    if (run(input, {}) != run(input, cuts)) std::abort();

    qcc::sse::Parser small(max_event_bytes);
    std::size_t start = 0;
    for (std::size_t cut : cuts) {
        small.feed(input.substr(start, cut - start), [](const qcc::sse::Event& e) {
            if (e.data.size() + e.name.size() > 64) std::abort();
        });
        if (small.buffered_bytes() > max_event_bytes) std::abort();
        start = cut;
    }

    qcc::anthropic::StreamTap tap;
    start = 0;
    for (std::size_t cut : cuts) {
        tap.feed(input.substr(start, cut - start));
        start = cut;
    }
    tap.feed(input.substr(start));
    if (tap.first_event_is_error() && !tap.error_seen()) std::abort();
    return 0;
}
