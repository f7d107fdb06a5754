// Command-line driver of the OpenAI translation library, for checking its output with real
// clients (tests/e2e/openai_sdk_parse.mjs feeds it to @anthropic-ai/sdk) and for debugging.
//
//   openai_translate_tool [--model M] [--id MSG_ID] [--chunk N] < openai.sse > anthropic.sse
//   openai_translate_tool --json [--model M] < chat_completion.json > message.json
//   openai_translate_tool --request [--target M] < messages_request.json > chat_request.json
//   openai_translate_tool --estimate < messages_request.json
//
// Stream mode feeds stdin in N-byte pieces (default 4096). When the upstream stream is cut or
// carries an error, the Anthropic SSE error event a gateway would write is appended; --json
// prints the Anthropic error body for an error response. Exit status: 0 translated, 1 an error
// was written, 2 bad usage.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

#include "protocol/anthropic/error_body.hpp"
#include "protocol/openai/token_estimate.hpp"
#include "protocol/openai/translate_request.hpp"
#include "protocol/openai/translate_response.hpp"
#include "protocol/openai/translate_stream.hpp"

namespace {

int usage_error() {
    std::cerr << "usage: openai_translate_tool [--json | --request | --estimate] [--model M] "
                 "[--target M] [--id MSG_ID] [--chunk N]\n";
    return 2;
}

std::string read_stdin() {
    std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    return input;
}

int run_stream(const std::string& input, const std::string& model, const std::string& id,
               std::size_t chunk) {
    qcc::openai::StreamTranslator translator(model, id);
    std::string out;
    for (std::size_t at = 0; at < input.size(); at += chunk) {
        translator.feed(std::string_view(input).substr(at, chunk), out);
        std::cout << out;
        out.clear();
    }
    const bool ended = translator.finish(out);
    std::cout << out;
    if (ended) return 0;
    if (translator.error_seen()) {
        std::cout << qcc::anthropic::sse_error_event(translator.error_type(),
                                                     translator.error_message());
    } else {
        std::cout << qcc::anthropic::sse_error_event("api_error", "upstream stream was cut");
    }
    return 1;
}

int run_json(const std::string& input, const std::string& model) {
    qcc::anthropic::Usage usage;
    std::string type;
    std::string error;
    auto body = qcc::openai::translate_response(input, model, &usage, &type, &error);
    if (!body) {
        std::cout << qcc::anthropic::error_body(type, error) << "\n";
        return 1;
    }
    std::cout << *body << "\n";
    return 0;
}

int run_request(const std::string& input, const std::string& target) {
    std::string error;
    auto translated = qcc::openai::translate_request(input, target, {}, &error);
    if (!translated) {
        std::cerr << error << "\n";
        return 1;
    }
    std::cout << translated->body << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = "stream";
    std::string model = "claude-sonnet-4-5";
    std::string target = "gpt-4o";
    std::string id;
    std::size_t chunk = 4096;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--json" || arg == "--request" || arg == "--estimate") {
            mode = arg.substr(2);
        } else if (arg == "--model" && has_value) {
            model = argv[++i];
        } else if (arg == "--target" && has_value) {
            target = argv[++i];
        } else if (arg == "--id" && has_value) {
            id = argv[++i];
        } else if (arg == "--chunk" && has_value) {
            chunk = std::strtoull(argv[++i], nullptr, 10);
            if (chunk == 0) return usage_error();
        } else {
            return usage_error();
        }
    }
    const std::string input = read_stdin();
    if (mode == "json") return run_json(input, model);
    if (mode == "request") return run_request(input, target);
    if (mode == "estimate") {
        std::cout << qcc::openai::estimate_input_tokens(input) << "\n";
        return 0;
    }
    return run_stream(input, model, id, chunk);
}
