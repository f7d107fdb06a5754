// The request log: one row per finished request, hourly roll-ups kept in step with the rows, the
// statistics and browsing queries over both, and retention.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "store/records.hpp"

namespace qcc::store {

/// Request rows, roll-ups, stats and cleanup. Written by RequestWriter's thread; not counted in
/// data_version. Thread-safe; blocking; throws std::runtime_error.
class RequestLogStore {
  public:
    virtual ~RequestLogStore() = default;
    /// Inserts the rows in one transaction (assigning ids into the records) and folds them into
    /// the hourly roll-ups in the same transaction. Payloads go to their own table.
    virtual void append_requests(std::vector<RequestRecord>& rows) = 0;
    /// Newest first (by id), filtered, paged. Payload fields are left empty.
    virtual std::vector<RequestRecord> query_requests(const RequestQuery& q) = 0;
    /// One row with its payloads; nullopt when absent.
    virtual std::optional<RequestRecord> get_request(std::int64_t id) = 0;
    /// Statistics over a window (see StatsQuery), ordered by bucket, then group. Whole hours come
    /// from the roll-ups, the partial hours at the edges from raw rows. Throws
    /// std::invalid_argument when bucket_ms < 0; an empty window gives no rows.
    virtual std::vector<StatsRow> stats(const StatsQuery& q) = 0;
    /// Deletes payloads / request rows / roll-ups older than the policy relative to now_unix_ms
    /// (in chunks, so writers interleave), then reclaims free pages where the backend can.
    virtual CleanupResult cleanup(std::int64_t now_unix_ms, const RetentionPolicy& p) = 0;
    /// Number of request rows (tests, status).
    virtual std::int64_t count_requests() = 0;
    /// Counts `n` requests refused for a missing or wrong client key at `unix_ms` (kept per
    /// minute, with the roll-ups' retention; no request row). A backend without it keeps none.
    virtual void add_unauthorized(std::int64_t unix_ms, std::int64_t n) {
        (void)unix_ms;
        (void)n;
    }
    /// Requests refused for a bad client key in the minutes that overlap [from, to).
    virtual std::int64_t count_unauthorized(std::int64_t from_unix_ms, std::int64_t to_unix_ms) {
        (void)from_unix_ms;
        (void)to_unix_ms;
        return 0;
    }
};

}  // namespace qcc::store
