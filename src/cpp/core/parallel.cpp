#include "core/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdlib>

namespace glassbox {

int resolve_threads(int requested) {
    if (requested > 0) return requested;
    if (const char* env = std::getenv("GLASSBOX_NUM_THREADS")) {
        const int value = std::atoi(env);
        if (value > 0) return value;
    }
    return std::max(1, omp_get_num_procs());
}

Index plan_block_points(std::size_t bytes_per_point, std::size_t memory_budget, Index total_points) {
    // ~2k points keeps a block's activations of a few-hundred-wide layer inside L2/L3 while
    // the GEMMs are still large enough to run near peak.
    constexpr Index kCacheFriendlyPoints = 2048;
    // Aim for at least this many blocks per job so that small jobs still spread over the cores,
    // but never blocks so small that GEMM efficiency collapses.
    constexpr Index kBlocksPerJob = 16;
    constexpr Index kMinimumPoints = 64;
    const std::size_t per_point = std::max<std::size_t>(bytes_per_point, 1);
    const Index by_budget = static_cast<Index>(std::max<std::size_t>(memory_budget / per_point, 1));
    const Index by_job = std::max(kMinimumPoints, (total_points + kBlocksPerJob - 1) / kBlocksPerJob);
    return std::max<Index>(1, std::min({by_budget, kCacheFriendlyPoints, by_job}));
}

}  // namespace glassbox
