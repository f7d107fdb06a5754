#include "common/system.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace qcc::sys {

namespace {

std::string read_first_line(const char* path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

int cgroup_v1_cpus() {
    long long quota = 0, period = 0;
    std::istringstream(read_first_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) >> quota;
    std::istringstream(read_first_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us")) >> period;
    if (quota <= 0 || period <= 0) return 0;
    return static_cast<int>((quota + period - 1) / period);
}

}  // namespace

int cpus_from_cpu_max(const std::string& text) {
    std::istringstream in(text);
    std::string quota;
    long long period = 0;
    in >> quota >> period;
    if (quota.empty() || quota == "max" || period <= 0) return 0;
    long long q = 0;
    try {
        q = std::stoll(quota);
    } catch (const std::exception&) {
        return 0;
    }
    if (q <= 0) return 0;
    return static_cast<int>((q + period - 1) / period);
}

int usable_cpus() {
    int n = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) n = 1;
    int quota = cpus_from_cpu_max(read_first_line("/sys/fs/cgroup/cpu.max"));
    if (quota == 0) quota = cgroup_v1_cpus();
    if (quota > 0) n = std::min(n, quota);
    return std::max(n, 1);
}

std::string allocator_name() {
    // tcmalloc exports tc_version(); looked up at run time so that a preloaded one counts too.
    using Version = const char* (*)(int*, int*, const char**);
    void* sym = dlsym(RTLD_DEFAULT, "tc_version");
    if (sym == nullptr) return "glibc malloc";
    int major = 0, minor = 0;
    const char* patch = nullptr;
    reinterpret_cast<Version>(sym)(&major, &minor, &patch);
    return "tcmalloc " + std::to_string(major) + "." + std::to_string(minor) +
           (patch != nullptr ? std::string(patch) : std::string());
}

std::uint64_t fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    return rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : rl.rlim_cur;
}

std::uint64_t raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return fd_limit();
}

void name_thread(const char* name) {
    char buf[16] = {};
    std::snprintf(buf, sizeof buf, "%s", name);
    pthread_setname_np(pthread_self(), buf);
}

bool set_thread_priority(ThreadPriority p) {
    sched_param param{};
    const int policy = p == ThreadPriority::kIdle    ? SCHED_IDLE
                       : p == ThreadPriority::kBatch ? SCHED_BATCH
                                                     : SCHED_OTHER;
    if (pthread_setschedparam(pthread_self(), policy, &param) != 0) return false;
    if (p == ThreadPriority::kBatch) {
        // nice is per thread on Linux (setpriority on the thread id).
        const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
        setpriority(PRIO_PROCESS, tid, 10);
    }
    return true;
}

bool set_thread_idle(unsigned long pthread_handle, bool idle) {
    sched_param param{};
    return pthread_setschedparam(static_cast<pthread_t>(pthread_handle),
                                 idle ? SCHED_IDLE : SCHED_OTHER, &param) == 0;
}

}  // namespace qcc::sys
