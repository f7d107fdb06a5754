#include "store/writer.hpp"

#include <algorithm>
#include <exception>
#include <iterator>

#include <spdlog/spdlog.h>

#include "common/system.hpp"

namespace qcc::store {
namespace {

long long duration_cast_seconds(std::chrono::milliseconds d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

WriterOptions checked(WriterOptions o) {
    o.max_batch = std::max<std::size_t>(o.max_batch, 1);
    return o;
}

}  // namespace

RequestWriter::RequestWriter(RequestLogStore& store, WriterOptions options,
                             WrittenCallback on_written)
    : store_(store),
      options_(checked(options)),
      on_written_(std::move(on_written)),
      thread_([this] { run(); }) {}

RequestWriter::~RequestWriter() { stop(); }

bool RequestWriter::push(RequestRecord row) noexcept {
    try {
        bool wake = false;
        {
            std::lock_guard lock(mu_);
            if (stopping_ || queue_.size() >= options_.capacity) {
                dropped_.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            queue_.push_back(std::move(row));
            ++accepted_;
            const std::size_t size = queue_.size();
            queued_.store(size, std::memory_order_relaxed);
            // The writer waits for a first row, then for a full batch; nothing else wakes it.
            wake = size == 1 || size == options_.max_batch;
            if (options_.background && size >= options_.capacity / 2 && !boosted_.load()) {
                // An idle-priority writer may be starved by busy workers: raise it now (from
                // this thread; it cannot do it itself while starved).
                boosted_.store(true, std::memory_order_relaxed);
                sys::set_thread_idle(thread_.native_handle(), false);
            }
        }
        if (wake) wake_.notify_one();
        return true;
    } catch (...) {  // allocation failure: the row is lost like any other dropped row
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
}

void RequestWriter::flush() {
    std::unique_lock lock(mu_);
    const std::uint64_t target = accepted_;
    if (finished_ >= target) return;
    flush_target_ = std::max(flush_target_, target);
    wake_.notify_one();
    done_.wait(lock, [&] { return finished_ >= target; });
}

void RequestWriter::stop() {
    std::lock_guard serial(stop_mu_);
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

std::uint64_t RequestWriter::dropped() const noexcept {
    return dropped_.load(std::memory_order_relaxed);
}
std::uint64_t RequestWriter::written() const noexcept {
    return written_.load(std::memory_order_relaxed);
}
std::uint64_t RequestWriter::failed() const noexcept {
    return failed_.load(std::memory_order_relaxed);
}
std::size_t RequestWriter::queued() const noexcept {
    return queued_.load(std::memory_order_relaxed);
}

void RequestWriter::run() {
    sys::name_thread("qcc-writer");
    if (options_.background) sys::set_thread_priority(sys::ThreadPriority::kIdle);
    std::vector<RequestRecord> batch;
    std::unique_lock lock(mu_);
    while (true) {
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything is written
        // Give the batch up to max_delay to fill, unless someone is waiting for it.
        wake_.wait_for(lock, options_.max_delay, [&] {
            return stopping_ || queue_.size() >= options_.max_batch || flush_target_ > finished_;
        });
        const std::size_t n = std::min(queue_.size(), options_.max_batch);
        batch.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        queued_.store(queue_.size(), std::memory_order_relaxed);
        lock.unlock();
        write_with_retries(batch);
        batch.clear();
        lock.lock();
        finished_ += n;
        if (boosted_.load(std::memory_order_relaxed) && queue_.size() <= options_.capacity / 10) {
            sys::set_thread_priority(sys::ThreadPriority::kIdle);
            boosted_.store(false, std::memory_order_relaxed);
        }
        done_.notify_all();
    }
}

void RequestWriter::write_with_retries(std::vector<RequestRecord>& batch) {
    using namespace std::chrono;
    const auto give_up = steady_clock::now() + options_.retry_for;
    milliseconds pause{100};
    bool last = options_.retry_for.count() <= 0;
    while (!write_batch(batch, last)) {
        if (last) return;
        std::unique_lock lock(mu_);
        // A stop cuts the wait short and makes the next attempt the last.
        const bool stopping = wake_.wait_for(lock, pause, [&] { return stopping_; });
        lock.unlock();
        last = stopping || steady_clock::now() + pause >= give_up;
        pause = std::min<milliseconds>(pause * 2, milliseconds(2000));
    }
}

bool RequestWriter::write_batch(std::vector<RequestRecord>& batch, bool last) {
    auto failed = [&](const char* what) {
        if (!failing_) {
            spdlog::error(
                "request log: cannot write {} row(s) (retrying for up to {} s; repeats are not "
                "logged until a write succeeds): {}",
                batch.size(), duration_cast_seconds(options_.retry_for), what);
        }
        failing_ = true;
        if (!last) return false;
        failed_.fetch_add(batch.size(), std::memory_order_relaxed);
        failed_in_run_ += batch.size();
        return false;
    };
    try {
        store_.append_requests(batch);
    } catch (const std::exception& e) {
        return failed(e.what());
    } catch (...) {
        return failed("unknown error");
    }
    written_.fetch_add(batch.size(), std::memory_order_relaxed);
    if (failing_) {
        spdlog::info("request log: writing works again; {} row(s) were lost", failed_in_run_);
        failing_ = false;
        failed_in_run_ = 0;
    }
    if (!on_written_) return true;
    try {
        on_written_(batch);
    } catch (const std::exception& e) {
        spdlog::warn("request log: on_written callback failed: {}", e.what());
    } catch (...) {
        spdlog::warn("request log: on_written callback failed");
    }
    return true;
}

}  // namespace qcc::store
