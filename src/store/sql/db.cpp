#include "store/sql/db.hpp"

#include <chrono>
#include <stdexcept>

namespace qcc::store::sql {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void Db::fail_data(const std::string& what) const {
    throw std::runtime_error(label() + ": " + what);
}

void Db::bump_version() {
    Query q(*this, "UPDATE meta SET data_version = data_version + 1 WHERE id = 1");
    q.run();
    announce_change();
}

Query& Query::bind_blob_or_null(int index, std::string_view value) {
    if (!value.empty()) return bind_blob(index, value);
    stmt_.bind_null(index);
    return *this;
}

Query& Query::bind_int_or_null(int index, std::int64_t value) {
    if (value != 0) return bind_int(index, value);
    stmt_.bind_null(index);
    return *this;
}

Query& Query::bind_text_or_null(int index, std::string_view value) {
    if (!value.empty()) return bind_text(index, value);
    stmt_.bind_null(index);
    return *this;
}

Query& Query::bind_text_in_place_or_null(int index, std::string_view value) {
    if (!value.empty()) {
        stmt_.bind_text_in_place(index, value);
    } else {
        stmt_.bind_null(index);
    }
    return *this;
}

Query& Query::bind_millis(int index, const std::optional<config::Millis>& value) {
    if (value) return bind_int(index, value->count());
    stmt_.bind_null(index);
    return *this;
}

}  // namespace qcc::store::sql
