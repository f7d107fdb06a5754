// Copies one store into another, whatever their backends (`qcc migrate`): configuration,
// resilience state, history and the request log, then compares row counts.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace qcc::store {

/// Rows of one kind in the source and in the target after the copy.
struct CopiedTable {
    std::string name;
    std::int64_t source = 0, target = 0;
};

/// Copies `from` into the empty store `to`: endpoints (credentials re-sealed with the target's
/// master key), client keys with their limits (revoked ones stay revoked), the settings named in
/// `setting_keys`, endpoint states, session bindings, events, health checks and every request row
/// with its payloads (the target rebuilds the hourly roll-ups from the rows, so hours whose rows
/// retention already deleted are not carried over). `progress` (may be empty) hears a line now and
/// then. Throws std::runtime_error when the target is not empty or a store fails.
std::vector<CopiedTable> copy_store(Store& from, Store& to,
                                    const std::vector<std::string>& setting_keys,
                                    const std::function<void(const std::string&)>& progress = {});

}  // namespace qcc::store
