// PoolStat: the size of one endpoint's upstream pool (open and idle connections), as sampled by
// each worker's sweeper and summed by the Server for metrics.
#pragma once
#include <cstddef>
#include <string>

namespace qcc::proxy {

struct PoolStat {
    std::string endpoint;
    int open = 0;
    std::size_t idle = 0;
};

}  // namespace qcc::proxy
