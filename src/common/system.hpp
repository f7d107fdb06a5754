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

}  // namespace qcc::sys
