// Announcements of changes made by other processes sharing a store, so that a reader picks them up
// at once instead of at its next poll (PostgreSQL: LISTEN/NOTIFY). A missed announcement costs
// nothing but time: readers keep polling as well.
#pragma once
#include <chrono>

namespace qcc::store {

/// Waits for announcements on a database connection of its own. Used by one thread at a time.
class ChangeListener {
  public:
    virtual ~ChangeListener() = default;
    /// Waits up to `timeout` for an announcement; true when one or more arrived (or when the
    /// connection was re-established, since announcements made meanwhile were missed). A lost
    /// connection is re-established by later calls, at most once a second; never throws.
    virtual bool wait(std::chrono::milliseconds timeout) = 0;
};

}  // namespace qcc::store
