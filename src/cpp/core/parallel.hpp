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
// cache-friendly ceiling. Depends only on the budget and the per-point cost, never on the
// thread count, so seeded results are bit-identical for any number of threads.
Index plan_block_points(std::size_t bytes_per_point, std::size_t memory_budget);

}  // namespace glassbox
