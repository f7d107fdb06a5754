#include "protocol/openai/token_estimate.hpp"

#include <exception>
#include <string>

#include "protocol/openai/common.hpp"

namespace qcc::openai {
namespace json = boost::json;
using detail::find_array;
using detail::find_object;
using detail::string_or_empty;

namespace {

constexpr std::int64_t kImageTokens = 1600;
constexpr std::int64_t kPdfPageTokens = 2000;
// Page objects of a PDF are invisible when they sit in compressed object streams; then pages are
// guessed from the size.
constexpr std::size_t kPdfBytesPerPageGuess = 100 * 1024;
constexpr std::int64_t kMessageOverhead = 4;
constexpr std::int64_t kToolOverhead = 8;
constexpr std::int64_t kReplyPriming = 3;

bool is_cjk(std::uint32_t cp) {
    return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFFEF) ||
           (cp >= 0x20000 && cp <= 0x2FFFF);
}

std::int64_t tokens_of(std::string_view text, std::int64_t ascii_per_token) {
    std::int64_t ascii = 0;
    std::int64_t cjk = 0;
    std::int64_t other = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        if (lead < 0x80) {
            ++ascii;
            ++i;
            continue;
        }
        std::size_t length = 1;
        std::uint32_t cp = 0;
        if (lead >= 0xF0) {
            length = 4;
            cp = lead & 0x07u;
        } else if (lead >= 0xE0) {
            length = 3;
            cp = lead & 0x0Fu;
        } else if (lead >= 0xC0) {
            length = 2;
            cp = lead & 0x1Fu;
        }
        for (std::size_t k = 1; k < length && i + k < text.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
        }
        if (is_cjk(cp)) {
            ++cjk;
        } else {
            ++other;
        }
        i += length;
    }
    return (ascii + ascii_per_token - 1) / ascii_per_token + cjk + (other + 1) / 2;
}

std::int64_t json_tokens(const json::value& v) { return tokens_of(detail::to_json(v), 3); }

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

std::string base64_decode(std::string_view data) {
    std::string out;
    out.reserve(data.size() / 4 * 3);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char c : data) {
        const int v = base64_value(c);
        if (v < 0) continue;  // padding, whitespace
        buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    return out;
}

bool is_pdf_space(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

std::int64_t pdf_pages(std::string_view pdf) {
    std::int64_t pages = 0;
    constexpr std::string_view kType = "/Type";
    constexpr std::string_view kPage = "/Page";
    for (std::size_t at = pdf.find(kType); at != std::string_view::npos;
         at = pdf.find(kType, at + 1)) {
        std::size_t p = at + kType.size();
        while (p < pdf.size() && is_pdf_space(pdf[p])) ++p;
        if (pdf.substr(p, kPage.size()) != kPage) continue;
        p += kPage.size();
        // "/Pages" is the page tree, not a page.
        if (p < pdf.size() &&
            ((pdf[p] >= 'a' && pdf[p] <= 'z') || (pdf[p] >= 'A' && pdf[p] <= 'Z'))) {
            continue;
        }
        ++pages;
    }
    if (pages == 0) pages = static_cast<std::int64_t>(pdf.size() / kPdfBytesPerPageGuess);
    return pages < 1 ? 1 : pages;
}

std::int64_t document_tokens(const json::object& block) {
    const json::object* source = find_object(block, "source");
    if (source == nullptr) return 0;
    const std::string_view type = string_or_empty(*source, "type");
    std::int64_t total = estimate_text_tokens(string_or_empty(block, "title"));
    if (type == "base64") {
        total += kPdfPageTokens * pdf_pages(base64_decode(string_or_empty(*source, "data")));
    } else if (type == "text") {
        total += estimate_text_tokens(string_or_empty(*source, "data"));
    } else if (type == "content") {
        if (const json::value* content = source->if_contains("content")) {
            if (content->is_string()) total += estimate_text_tokens(content->get_string());
            if (const json::array* blocks = content->if_array()) {
                for (const json::value& item : *blocks) {
                    if (const json::object* b = item.if_object()) {
                        total += estimate_text_tokens(string_or_empty(*b, "text"));
                    }
                }
            }
        }
    } else {
        total += kPdfPageTokens;  // url / file sources: the size is unknown here
    }
    return total;
}

std::int64_t block_tokens(const json::object& block);

std::int64_t content_tokens(const json::value& content) {
    if (content.is_string()) return estimate_text_tokens(content.get_string());
    std::int64_t total = 0;
    if (const json::array* blocks = content.if_array()) {
        for (const json::value& item : *blocks) {
            if (const json::object* b = item.if_object()) total += block_tokens(*b);
        }
    }
    return total;
}

std::int64_t block_tokens(const json::object& block) {
    const std::string_view type = string_or_empty(block, "type");
    if (type == "text") return estimate_text_tokens(string_or_empty(block, "text"));
    if (type == "image") return kImageTokens;
    if (type == "document") return document_tokens(block);
    if (type == "tool_use") {
        std::int64_t total = estimate_text_tokens(string_or_empty(block, "name"));
        if (const json::value* input = block.if_contains("input")) total += json_tokens(*input);
        return total;
    }
    if (type == "tool_result") {
        const json::value* content = block.if_contains("content");
        return content != nullptr ? content_tokens(*content) : 0;
    }
    return 0;  // thinking (not sent to OpenAI targets) and unknown blocks
}

std::int64_t estimate(std::string_view body_text) {
    auto parsed = detail::parse_json(body_text);
    const json::object* body = parsed ? parsed->if_object() : nullptr;
    if (body == nullptr) return -1;
    std::int64_t total = kReplyPriming;
    if (const json::value* system = body->if_contains("system")) total += content_tokens(*system);
    if (const json::array* messages = find_array(*body, "messages")) {
        for (const json::value& item : *messages) {
            const json::object* message = item.if_object();
            if (message == nullptr) continue;
            total += kMessageOverhead;
            if (const json::value* content = message->if_contains("content")) {
                total += content_tokens(*content);
            }
        }
    }
    if (const json::array* tools = find_array(*body, "tools")) {
        for (const json::value& item : *tools) {
            const json::object* tool = item.if_object();
            if (tool == nullptr) continue;
            const json::string* type = detail::find_string(*tool, "type");
            if (type != nullptr && *type != "custom") continue;  // server tools are not sent
            total += kToolOverhead + estimate_text_tokens(string_or_empty(*tool, "name")) +
                     estimate_text_tokens(string_or_empty(*tool, "description"));
            if (const json::value* schema = tool->if_contains("input_schema")) {
                total += json_tokens(*schema);
            }
        }
    }
    return total;
}

}  // namespace

std::int64_t estimate_text_tokens(std::string_view text) { return tokens_of(text, 4); }

std::int64_t estimate_input_tokens(std::string_view anthropic_body) {
    try {
        return estimate(anthropic_body);
    } catch (const std::exception&) {
        return -1;
    }
}

}  // namespace qcc::openai
