// What the process may use of the machine: CPUs (affinity mask and cgroup quota) and file
// descriptors (RLIMIT_NOFILE), read once at start to size workers and connection limits.
#pragma once
#include <cstdint>
#include <string>

namespace qcc::sys {

/// CPUs this process may run on: the affinity mask, further limited by a cgroup CPU quota
/// (cgroup v2 cpu.max, or v1 cfs_quota/cfs_period), rounded up; at least 1.
int usable_cpus();

/// The CPU quota of a cgroup v2 `cpu.max` text ("max 100000" or "200000 100000") in CPUs,
/// rounded up; 0 when unlimited or unreadable. Exposed for tests.
int cpus_from_cpu_max(const std::string& text);

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns the resulting soft limit.
std::uint64_t raise_fd_limit();

/// The current soft RLIMIT_NOFILE.
std::uint64_t fd_limit();

/// The memory allocator serving malloc in this process: "tcmalloc 2.10" when the executable was
/// linked with (or preloads) tcmalloc, else "glibc malloc".
std::string allocator_name();

/// Names the calling thread (what top -H, ps -L and perf show); at most 15 characters are kept.
void name_thread(const char* name);

/// How a background thread yields the CPU to the workers, whose latency is the product.
enum class ThreadPriority {
    kNormal,  // SCHED_OTHER, nice 0 (the workers)
    kBatch,   // SCHED_BATCH, nice 10: control loop, checks, admin work, logging
    kIdle,    // SCHED_IDLE: runs only when nothing else wants the CPU (the request-log writer)
};

/// Sets the calling thread's scheduling; false when the kernel refused.
bool set_thread_priority(ThreadPriority p);

/// Sets another thread's scheduling policy (SCHED_OTHER or SCHED_IDLE) by its pthread handle;
/// false when the kernel refused.
bool set_thread_idle(unsigned long pthread_handle, bool idle);

}  // namespace qcc::sys
