// Zero-DOM peek at a Messages request body and byte-splicing model rewrite.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace qcc::anthropic {

/// Readable slack after a body that lets peek_request parse it in place (>= SIMDJSON_PADDING).
inline constexpr std::size_t kJsonPadding = 64;

/// The top-level fields of a Messages request that routing needs.
struct RequestView {
    std::string model;             // unescaped top-level "model" ("" if absent or not a string)
    std::size_t model_offset = 0;  // byte offset in the body of the model string token, incl. its
                                   // opening quote
    std::size_t model_length = 0;  // byte length of that token incl. both quotes (0 if absent)
    bool stream = false;           // top-level "stream" is true
    std::string metadata_user_id;  // unescaped metadata.user_id if it is a string, else ""
};

/// Reads the top-level fields of a Messages request without building a DOM (simdjson on-demand;
/// other keys are skipped, keys may come in any order, a repeated key: the last one wins).
/// `capacity` is how many bytes from body.data() are readable; when capacity >= size + kJsonPadding
/// the body is parsed in place, otherwise it is copied into a padded buffer first.
/// Returns nullopt and sets *error (if non-null) when the body is not a JSON object. Values that
/// are skipped are not fully validated (the upstream rejects those).
std::optional<RequestView> peek_request(std::string_view body, std::size_t capacity,
                                        std::string* error);

/// Returns `body` with the model token replaced by the JSON string `new_model` (spliced bytes; the
/// rest is byte-identical). Requires view.model_length > 0 and a view of this body; otherwise
/// returns `body` unchanged.
std::string splice_model(std::string_view body, const RequestView& view,
                         std::string_view new_model);

}  // namespace qcc::anthropic
