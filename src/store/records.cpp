#include "store/records.hpp"

#include "common/crypto.hpp"
#include "store/store.hpp"

namespace qcc::store {

bool is_success(const RequestRecord& r) {
    return r.status >= 200 && r.status < 400 && r.error_class.empty();
}

std::optional<GroupBy> parse_group_by(std::string_view s) {
    for (const GroupBy g : {GroupBy::kNone, GroupBy::kEndpoint, GroupBy::kModel,
                            GroupBy::kClientKey, GroupBy::kSession}) {
        if (s == to_string(g)) return g;
    }
    return std::nullopt;
}

std::string_view to_string(GroupBy g) {
    switch (g) {
        case GroupBy::kNone:
            return "none";
        case GroupBy::kEndpoint:
            return "endpoint";
        case GroupBy::kModel:
            return "model";
        case GroupBy::kClientKey:
            return "key";
        case GroupBy::kSession:
            return "session";
    }
    return "none";
}

std::string endpoint_id(std::string_view base_url, std::string_view credential) {
    std::string input(base_url);
    input += '\n';
    input += credential;
    return crypto::sha256_hex(input).substr(0, 16);
}

}  // namespace qcc::store
