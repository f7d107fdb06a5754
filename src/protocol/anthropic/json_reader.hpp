// Internal to qcc_protocol: simdjson on-demand plumbing shared by the Anthropic readers.
// Include from .cpp files only (simdjson.h is large).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "protocol/anthropic/usage.hpp"

namespace qcc::anthropic::detail {

/// Borrows this thread's reusable on-demand parser and padded scratch buffer for one document, so
/// the hot path does not allocate per request. A nested borrow on the same thread gets private
/// ones. Declare the document after the scratch so it is destroyed first.
class JsonScratch {
  public:
    JsonScratch();
    ~JsonScratch();
    JsonScratch(const JsonScratch&) = delete;
    JsonScratch& operator=(const JsonScratch&) = delete;

    /// Starts iterating `json`: in place when `capacity` (readable bytes from json.data()) covers
    /// SIMDJSON_PADDING, otherwise from a padded copy.
    simdjson::error_code iterate(std::string_view json, std::size_t capacity,
                                 simdjson::ondemand::document& doc);
    /// First byte of the text being iterated (json.data() or the copy): token offsets are relative
    /// to it.
    const char* base() const { return base_; }

    struct State;

  private:
    State* state_ = nullptr;
    std::unique_ptr<State> own_;
    const char* base_ = nullptr;
};

/// Calls fn(key, value) for each field of `obj` (keys unescaped); stops at the first error,
/// including one returned by fn.
template <class Fn>
simdjson::error_code for_each_field(simdjson::ondemand::object& obj, Fn&& fn) {
    for (auto field_result : obj) {
        simdjson::ondemand::field field;
        if (auto e = std::move(field_result).get(field)) return e;
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        if (auto e = fn(key, field.value())) return e;
    }
    return simdjson::SUCCESS;
}

/// A token count: non-negative integer (non-integral numbers truncated, negatives clamped to 0);
/// nullopt when `v` is null or not a number. Errors only for malformed input.
simdjson::error_code read_count(simdjson::ondemand::value& v, std::optional<std::int64_t>& out);

/// Overwrites the counters of `usage` that the JSON object `v` carries as numbers (including the
/// cache_creation.ephemeral_5m/1h_input_tokens split); leaves the others. A non-object `v` changes
/// nothing.
simdjson::error_code merge_usage(simdjson::ondemand::value& v, Usage& usage);

/// Assigns the unescaped string `v` to `out` if it is a string; otherwise leaves `out`.
simdjson::error_code read_string(simdjson::ondemand::value& v, std::string& out);

}  // namespace qcc::anthropic::detail
