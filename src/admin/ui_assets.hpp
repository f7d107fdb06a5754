// The dashboard's files (web/, built and embedded at build time by web/embed.mjs): the binary
// needs nothing at run time to serve /ui/.
#pragma once
#include <span>
#include <string_view>

namespace qcc::admin {

struct UiAsset {
    std::string_view path;  // relative to /ui/: "index.html", "assets/app-<hash>.js"
    std::string_view content_type;
    std::span<const unsigned char> raw;
    std::span<const unsigned char> gzip;  // the same bytes, gzip level 9
    std::string_view etag;                // quoted, from the content's hash
    bool immutable = false;               // content-hashed name: cached for a year
};

/// Every embedded file.
std::span<const UiAsset> ui_assets();
/// False when the build had no Node.js or its dashboard build failed (a placeholder page only).
bool ui_built();

}  // namespace qcc::admin
