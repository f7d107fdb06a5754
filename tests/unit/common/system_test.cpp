// What the process may use: the cgroup CPU quota parser and the CPU count it feeds.
#include "common/system.hpp"

#include <gtest/gtest.h>

namespace qcc::sys {
namespace {

TEST(System, CpuMaxQuotaIsRoundedUp) {
    EXPECT_EQ(cpus_from_cpu_max("max 100000"), 0);
    EXPECT_EQ(cpus_from_cpu_max("200000 100000"), 2);
    EXPECT_EQ(cpus_from_cpu_max("150000 100000"), 2);
    EXPECT_EQ(cpus_from_cpu_max("50000 100000"), 1);
    EXPECT_EQ(cpus_from_cpu_max(""), 0);
    EXPECT_EQ(cpus_from_cpu_max("garbage"), 0);
}

TEST(System, UsableCpusIsAtLeastOneAndAtMostTheMachine) {
    const int n = usable_cpus();
    EXPECT_GE(n, 1);
    EXPECT_LE(n, 4096);
    EXPECT_GE(fd_limit(), 1u);
    EXPECT_GE(raise_fd_limit(), fd_limit() - 1);
}

}  // namespace
}  // namespace qcc::sys
