// Thread-count resolution and chunk planning shared by every method.
#pragma once

#include "core/common.hpp"
#include "core/control.hpp"

namespace glassbox {

struct RunOptions {
    int n_threads = 0;                         // <= 0: GLASSBOX_NUM_THREADS, else all cores
    std::size_t memory_budget = 64u << 20;     // bytes one worker's chunk may use
    JobControl* control = nullptr;             // interrupt flag and progress; owned by the caller
};

// Throws Interrupted when the job's caller asked it to stop (Ctrl-C). Cheap: call it between
// chunks (inside ParallelErrors::run in a parallel loop).
inline void check_interrupt(const RunOptions& options) {
    if (options.control && options.control->interrupt.load(std::memory_order_relaxed)) {
        throw Interrupted();
    }
}
// Adds `total` units of work to the job's progress total (a method may call it several times,
// e.g. once per row block).
inline void add_progress_total(const RunOptions& options, std::int64_t total) {
    if (options.control) options.control->total.fetch_add(total, std::memory_order_relaxed);
}
// Marks `units` more units of work done.
inline void report_progress(const RunOptions& options, std::int64_t units) {
    if (options.control) options.control->done.fetch_add(units, std::memory_order_relaxed);
}

// The number of OpenMP threads to use for `requested` (<= 0 means "default").
int resolve_threads(int requested);

// How many points one worker evaluates at once: bounded by the memory budget and by a
// cache-friendly ceiling, and small enough that a job of `total_points` splits into enough
// blocks to keep every core busy. Depends only on the budget, the per-point cost and the job
// size, never on the thread count, so seeded results are bit-identical for any number of threads.
Index plan_block_points(std::size_t bytes_per_point, std::size_t memory_budget, Index total_points);

}  // namespace glassbox
