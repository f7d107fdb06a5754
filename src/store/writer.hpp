// The request log's writer: I/O threads push finished requests into a bounded queue
// and never wait for the database; one thread drains the queue into Store::append_requests in
// batches (one transaction each). When the queue is full, rows are dropped and counted.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "store/request_log_store.hpp"

namespace qcc::store {

/// Queue bound and batching of a RequestWriter.
struct WriterOptions {
    std::size_t capacity = 20'000;  // rows waiting (the batch being written not included)
    std::size_t max_batch = 1'000;  // rows per append_requests call
    std::chrono::milliseconds max_delay{250};  // a row waits at most this long for a fuller batch
    /// Run at idle priority (SCHED_IDLE), so writing never delays a worker; when the queue fills
    /// past half its capacity the writer is raised to normal priority until it is down to a tenth
    /// (under saturation an idle thread could otherwise starve and rows would be dropped).
    bool background = true;
    /// A batch the store fails on (e.g. the database is unreachable) is tried again, with a
    /// growing pause (100 ms doubling to 2 s), for up to this long before its rows are counted as
    /// lost; rows arriving meanwhile queue up to `capacity`. 0 = never retried.
    std::chrono::milliseconds retry_for{60'000};
};

/// Called on the writer thread after each batch is written (ids assigned). Exceptions are logged.
using WrittenCallback = std::function<void(const std::vector<RequestRecord>&)>;

/// One thread draining a bounded multi-producer queue into append_requests. Thread-safe.
/// A batch the store throws on is retried for up to WriterOptions::retry_for, then lost: its rows
/// are counted in failed(). The error is logged once per run of failures; the thread keeps going.
class RequestWriter {
  public:
    /// Starts the thread. `store` must outlive the writer. `on_written` (may be empty) hears every
    /// written batch, e.g. to publish live events carrying the row ids.
    explicit RequestWriter(RequestLogStore& store, WriterOptions options = {},
                           WrittenCallback on_written = {});
    /// stop().
    ~RequestWriter();
    RequestWriter(const RequestWriter&) = delete;
    RequestWriter& operator=(const RequestWriter&) = delete;

    /// Never blocks on the store (a short mutex at most); false when the queue is full or the
    /// writer is stopped (either way the row is dropped and counted in dropped()).
    bool push(RequestRecord row) noexcept;
    /// Blocks until every row pushed before the call is written (or failed). For tests/shutdown.
    void flush();
    /// Writes everything queued, then stops the thread. Idempotent. Not from on_written.
    void stop();

    std::uint64_t dropped() const noexcept;  // rows dropped: queue full (or writer stopped)
    std::uint64_t written() const noexcept;  // rows written
    std::uint64_t failed() const noexcept;   // rows lost because the store threw
    std::size_t queued() const noexcept;     // rows waiting in the queue
    /// True while the writer runs at normal priority because its queue passed the high watermark.
    bool boosted() const noexcept { return boosted_.load(std::memory_order_relaxed); }

  private:
    void run();
    /// Writes with retries (see WriterOptions::retry_for); the lock is not held.
    void write_with_retries(std::vector<RequestRecord>& batch);
    /// One attempt; false when the store threw. `last`: a failure loses the rows.
    bool write_batch(std::vector<RequestRecord>& batch, bool last);

    RequestLogStore& store_;
    const WriterOptions options_;
    const WrittenCallback on_written_;
    mutable std::mutex mu_;
    std::condition_variable wake_;  // the writer: rows, a flush or stop
    std::condition_variable done_;  // flush(): a batch finished
    std::deque<RequestRecord> queue_;
    std::uint64_t accepted_ = 0;      // rows ever queued
    std::uint64_t finished_ = 0;      // rows ever written or failed
    std::uint64_t flush_target_ = 0;  // highest `accepted_` a flush() waits for
    bool stopping_ = false;
    // Read without the mutex (metrics scrapes).
    std::atomic<std::uint64_t> dropped_{0}, written_{0}, failed_{0};
    std::atomic<std::size_t> queued_{0};
    std::atomic<bool> boosted_{false};
    // Writer thread only: log once per run of failures.
    bool failing_ = false;
    std::uint64_t failed_in_run_ = 0;
    std::mutex stop_mu_;  // serializes stop() callers around join()
    std::thread thread_;
};

}  // namespace qcc::store
