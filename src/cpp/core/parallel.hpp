// Thread-count resolution, chunk planning, job control and the limits every method checks before
// it starts (thread ceiling, count ceiling, memory for state that cannot be chunked).
#pragma once

#include "core/common.hpp"
#include "core/control.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace glassbox {

struct RunOptions {
    int n_threads = 0;                         // <= 0: GLASSBOX_NUM_THREADS, else all cores
    std::size_t memory_budget = 64u << 20;     // bytes one worker's chunk may use
    JobControl* control = nullptr;             // interrupt flag and progress; owned by the caller
    // Set by with_progress_total(): the job's total was added up front, so the loops it runs
    // only report progress (a job of several loops shows one total from the start).
    bool total_declared = false;
    // The index of this call's first row in the whole job. Per-row random streams are keyed by
    // first_row + i, so a job split into batches (a resumed file) or partitions (Dask) draws the
    // numbers one call over every row would.
    std::int64_t first_row = 0;
};

// Throws Interrupted when the job's caller asked it to stop (Ctrl-C). Cheap: call it between
// chunks (inside ParallelErrors::run in a parallel loop).
inline void check_interrupt(const RunOptions& options) {
    if (options.control && options.control->interrupt.load(std::memory_order_relaxed)) {
        throw Interrupted();
    }
}
// Adds `total` units of work to the job's progress total; a no-op when the job declared its
// total up front (with_progress_total).
inline void add_progress_total(const RunOptions& options, std::int64_t total) {
    if (options.control && !options.total_declared) {
        options.control->total.fetch_add(total, std::memory_order_relaxed);
    }
}
// Marks `units` more units of work done.
inline void report_progress(const RunOptions& options, std::int64_t units) {
    if (options.control) options.control->done.fetch_add(units, std::memory_order_relaxed);
}
// Options for the loops of a job made of several loops: adds the job's whole total (in the units
// its loops report) once, so the loops' own add_progress_total calls add nothing.
inline RunOptions with_progress_total(const RunOptions& options, std::int64_t total) {
    add_progress_total(options, total);
    RunOptions inner = options;
    inner.total_declared = true;
    return inner;
}

// ---- threads ---------------------------------------------------------------------------------

// The most threads a call uses: 4 x the processors OpenMP sees, and never more than 256.
// Larger requests (n_threads, GLASSBOX_NUM_THREADS) are clamped to it.
constexpr int kMaxThreadsCeiling = 256;
int max_threads();

// The number of OpenMP threads to use for `requested` (<= 0 means "default": the
// GLASSBOX_NUM_THREADS environment variable, else every processor), clamped to max_threads().
// Throws std::invalid_argument naming GLASSBOX_NUM_THREADS when it is set but not an integer in
// [1, kMaxThreadsCeiling].
int resolve_threads(int requested);

// Threads for a loop of `n_tasks` tasks (chunks, blocks): resolve_threads(requested), but never
// more than the tasks, so a job of one chunk runs on the calling thread alone instead of waking
// a team that has nothing to do (and waiting at its barrier for threads the OS has descheduled).
inline int team_size(int requested, Index n_tasks) {
    return static_cast<int>(std::min<Index>(resolve_threads(requested), std::max<Index>(1, n_tasks)));
}

// ---- limits ----------------------------------------------------------------------------------

// The largest count (steps, samples, repeats, grid points, bins, coalitions, outputs) a method
// accepts: more is more work than any job should be handed at once.
constexpr Index kMaxCount = 1'000'000'000;
// State a job keeps whole however it is chunked (one row's coalition values, a quadrature rule,
// a table of scores) may use up to max(memory_budget, kStateAllowance) bytes; more fails before
// any work starts.
constexpr std::size_t kStateAllowance = std::size_t{256} << 20;

// Throws std::invalid_argument "<name>: must be between <low> and <high>, got <value>".
void require_count(Index value, const char* name, Index low, Index high = kMaxCount);

// a * b and a + b for non-negative counts; throws std::invalid_argument naming `what` when the
// result does not fit in an Index.
Index mul_count(Index a, Index b, const char* what);
Index add_count(Index a, Index b, const char* what);
// Bytes of `count` items of `item_bytes` each, saturating at SIZE_MAX (an impossible size, which
// require_state_fits then rejects).
std::size_t bytes_of(Index count, std::size_t item_bytes);

// Throws std::invalid_argument when `bytes` of state that cannot be chunked exceed
// max(memory_budget, kStateAllowance): "<argument>: <what> needs <size>, more than ...".
void require_state_fits(std::size_t bytes, const RunOptions& options, const char* argument,
                        const std::string& what);
// A byte count for messages: "512 B", "3.0 MiB", "8.0 GiB".
std::string format_bytes(std::size_t bytes);

// How many points one worker evaluates at once: bounded by the memory budget and by a
// cache-friendly ceiling, and small enough that a job of `total_points` splits into enough
// blocks to keep every core busy. Depends only on the budget, the per-point cost and the job
// size, never on the thread count, so seeded results are bit-identical for any number of threads.
Index plan_block_points(std::size_t bytes_per_point, std::size_t memory_budget, Index total_points);

}  // namespace glassbox
