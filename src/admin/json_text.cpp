#include "admin/json_text.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>

namespace qcc::admin {

namespace json = boost::json;

namespace {

void write(std::string& out, const json::value& v) {
    switch (v.kind()) {
        case json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, value] : v.as_object()) {
                if (!first) out += ',';
                first = false;
                out += json::serialize(json::string_view(key));
                out += ':';
                write(out, value);
            }
            out += '}';
            return;
        }
        case json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& value : v.as_array()) {
                if (!first) out += ',';
                first = false;
                write(out, value);
            }
            out += ']';
            return;
        }
        case json::kind::double_: {
            const double d = v.as_double();
            if (!std::isfinite(d)) {
                out += "null";  // JSON has no NaN or infinity
                return;
            }
            char buf[64];
            const auto r = std::to_chars(buf, buf + sizeof buf, d);
            out.append(buf, r.ptr);
            return;
        }
        default:
            out += json::serialize(v);
    }
}

}  // namespace

std::string to_json_text(const json::value& v) {
    std::string out;
    out.reserve(256);
    write(out, v);
    return out;
}

}  // namespace qcc::admin
