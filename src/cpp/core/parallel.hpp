// Thread-count resolution and chunk planning shared by every method.
#pragma once

#include "core/common.hpp"

namespace glassbox {

struct RunOptions {
    int n_threads = 0;                         // <= 0: GLASSBOX_NUM_THREADS, else all cores
    std::size_t memory_budget = 64u << 20;     // bytes one worker's chunk may use
};

// The number of OpenMP threads to use for `requested` (<= 0 means "default").
int resolve_threads(int requested);

// How many points one worker evaluates at once: bounded by the memory budget and by a
// cache-friendly ceiling, and small enough that a job of `total_points` splits into enough
// blocks to keep every core busy. Depends only on the budget, the per-point cost and the job
// size, never on the thread count, so seeded results are bit-identical for any number of threads.
Index plan_block_points(std::size_t bytes_per_point, std::size_t memory_budget, Index total_points);

}  // namespace glassbox
