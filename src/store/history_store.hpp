// What happened to the endpoints: state-change events and health-check results, each a bounded
// append-only table read newest first.
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

#include "store/records.hpp"

namespace qcc::store {

/// Event and health-check history. Thread-safe; blocking; throws std::runtime_error.
class HistoryStore {
  public:
    virtual ~HistoryStore() = default;
    /// Appends the events in order, in one transaction; ids increase with each event. The table
    /// is bounded (kDefaultMaxEvents): the oldest events beyond the bound are deleted in the same
    /// transaction.
    virtual void append_events(const std::vector<EventRecord>& events) = 0;
    /// At most `limit` events, most recently appended first; `endpoint` empty = every endpoint,
    /// otherwise only events whose `endpoint` equals it.
    virtual std::vector<EventRecord> recent_events(std::size_t limit,
                                                   std::string_view endpoint = {}) = 0;

    /// Appends the check results in order, in one transaction; ids increase with each record.
    /// The table is bounded (kDefaultMaxHealthChecks): the oldest rows beyond the bound are
    /// deleted in the same transaction.
    virtual void append_health_checks(const std::vector<HealthCheckRecord>& checks) = 0;
    /// At most `limit` check results, most recently appended first; `endpoint` empty = every
    /// endpoint, otherwise only results whose `endpoint` equals it.
    virtual std::vector<HealthCheckRecord> recent_health_checks(std::size_t limit,
                                                                std::string_view endpoint = {}) = 0;
};

/// How many health events a store keeps (older ones are deleted as new ones arrive).
inline constexpr std::size_t kDefaultMaxEvents = 100'000;

/// How many health check results a store keeps (older ones are deleted as new ones arrive).
inline constexpr std::size_t kDefaultMaxHealthChecks = 100'000;

}  // namespace qcc::store
