// libFuzzer target: request peeking, model splicing and the small JSON readers on arbitrary bytes.
// Build (not part of the default build):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I src
//   tests/fuzz/request_view_fuzz.cpp src/protocol/anthropic/*.cpp src/protocol/sse/*.cpp -lsimdjson
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/anthropic/error_body.hpp"
#include "protocol/anthropic/request_view.hpp"
#include "protocol/anthropic/session_key.hpp"
#include "protocol/anthropic/usage.hpp"

namespace {

using qcc::anthropic::RequestView;

bool same(const RequestView& a, const RequestView& b) {
    return a.model == b.model && a.model_offset == b.model_offset &&
           a.model_length == b.model_length && a.stream == b.stream &&
           a.metadata_user_id == b.metadata_user_id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);

    // Exact-size copy: forces the padded-copy path and lets ASan see any over-read.
    const std::string exact(body);
    std::string error;
    const auto copied = qcc::anthropic::peek_request(exact, exact.size(), &error);

    std::string padded(body);
    padded.resize(body.size() + qcc::anthropic::kJsonPadding);
    const auto in_place =
        qcc::anthropic::peek_request(std::string_view(padded.data(), size), padded.size(), nullptr);
    if (copied.has_value() != in_place.has_value()) std::abort();
    if (!copied) {
        if (error.empty()) std::abort();
    } else {
        if (!same(*copied, *in_place)) std::abort();
        const RequestView& view = *copied;
        if (view.model_length > 0) {
            if (view.model_offset + view.model_length > size) std::abort();
            if (body[view.model_offset] != '"') std::abort();
            if (body[view.model_offset + view.model_length - 1] != '"') std::abort();
            const std::string new_model = "claude-\"x\"\n\\\xC3";
            const std::string out = qcc::anthropic::splice_model(body, view, new_model);
            const auto again = qcc::anthropic::peek_request(out, out.size(), nullptr);
            if (!again) std::abort();
            if (again->model != "claude-\"x\"\n\\\xEF\xBF\xBD") std::abort();
            if (again->stream != view.stream) std::abort();
            if (again->metadata_user_id != view.metadata_user_id) std::abort();
        }
        (void)qcc::anthropic::session_key("", view.metadata_user_id, "");
    }

    (void)qcc::anthropic::session_key("", body, "");
    (void)qcc::anthropic::parse_usage_json(body);
    (void)qcc::anthropic::parse_error_type(body);
    return 0;
}
