// The evaluation loop every model-agnostic method shares: rows of a virtual batch (coalitions x
// background, permuted copies, grid points, perturbed samples, ...) are written in chunks,
// evaluated by any Model, and folded into the method's result, so no method ever materialises
// the whole batch.
#pragma once

#include "core/model.hpp"
#include "core/network/network.hpp"
#include "core/parallel.hpp"

#include <algorithm>

namespace glassbox {

// Rows per chunk for a model-agnostic job: bounded by the memory budget (the chunk's input and
// output rows plus `extra_floats_per_row` of the method's own), at least `min_rows` (a Python
// callable must get thousands of rows per call), never more than the job, and for a native
// network about a 16th of the job, so the chunks spread over the cores. Depends only on the
// budget, the widths and the job size, never on the thread count.
inline Index plan_chunk_rows(const Model& model, std::size_t memory_budget, Index total_rows,
                             Index extra_floats_per_row = 0, Index min_rows = 1024) {
    const auto* net = dynamic_cast<const Network*>(&model);
    const std::size_t per_row =
        sizeof(float) * static_cast<std::size_t>(model.n_inputs() + model.n_outputs() +
                                                 extra_floats_per_row) +
        (net ? net->bytes_per_point() : 0);
    // (a budget may exceed what an Index holds: cap before converting)
    const Index by_budget = static_cast<Index>(std::min<std::size_t>(
        memory_budget / std::max<std::size_t>(per_row, 1), static_cast<std::size_t>(kMaxCount)));
    Index rows = std::min(total_rows, std::max(min_rows, by_budget));
    // a native network runs chunks in parallel: split a job into about 16 chunks so every core
    // gets work (a job in one chunk ran on one thread), but never below min_rows
    if (model.thread_safe()) rows = std::min(rows, std::max(min_rows, (total_rows + 15) / 16));
    return std::max<Index>(1, rows);
}

// The model's outputs Y for one chunk X, on the calling thread: a native network runs single-
// threaded inside the chunk (chunks run in parallel) under the job's control, so a long chunk
// stops early too.
inline void predict_chunk(const Model& model, const RowMatrixXf& X, RowMatrixXf& Y,
                          const RunOptions& options) {
    if (const auto* net = dynamic_cast<const Network*>(&model)) {
        net->predict(X, Y, RunOptions{1, options.memory_budget, options.control});
    } else {
        model.predict(X, Y);
    }
}

// The chunk loop every chunked job runs: rows [0, total_rows) in chunks of `chunk_rows`, each
// chunk handed to body(state, first, count), where `state` is one make_state() per thread (its
// buffers, reused from chunk to chunk). With `parallel` the chunks run under OpenMP (dynamic
// schedule; body is then called concurrently for different chunks and may only touch per-chunk
// or per-thread state), else in order on the calling thread. Chunk boundaries do not depend on
// the thread count. Polls Ctrl-C and reports progress (rows) between chunks.
template <class MakeState, class Body>
void for_each_chunk(Index total_rows, Index chunk_rows, bool parallel, const RunOptions& options,
                    MakeState&& make_state, Body&& body) {
    if (total_rows <= 0) return;
    chunk_rows = std::max<Index>(1, chunk_rows);
    const Index n_chunks = (total_rows + chunk_rows - 1) / chunk_rows;
    auto run_chunk = [&](auto& state, Index chunk) {
        check_interrupt(options);
        const Index first = chunk * chunk_rows;
        const Index count = std::min(chunk_rows, total_rows - first);
        body(state, first, count);
        report_progress(options, count);
    };
    add_progress_total(options, total_rows);
    if (parallel) {
        ParallelErrors errors;  // no exception may leave the parallel region
#pragma omp parallel num_threads(team_size(options.n_threads, n_chunks))
        {
            auto state = make_state();
#pragma omp for schedule(dynamic, 1)
            for (Index chunk = 0; chunk < n_chunks; ++chunk) {
                errors.run([&] { run_chunk(state, chunk); });
            }
        }
        errors.rethrow();
    } else {
        auto state = make_state();
        for (Index chunk = 0; chunk < n_chunks; ++chunk) run_chunk(state, chunk);
    }
}

// Evaluates rows [0, total_rows) of a virtual batch in chunks of `chunk_rows`:
//   fill(first, count, X)      writes rows [first, first + count) into X (count x n_inputs);
//   reduce(first, count, Y)    consumes their outputs Y (count x n_outputs).
// A thread-safe model (a native Network) runs chunks in parallel under OpenMP, each chunk
// single-threaded inside; fill and reduce are then called concurrently for different chunks and
// must only touch per-chunk state. Any other model (a Python callable, which takes the GIL) runs
// the chunks in order on the calling thread. Chunk boundaries do not depend on the thread count.
template <class Fill, class Reduce>
void for_each_model_chunk(const Model& model, Index total_rows, Index chunk_rows,
                          const RunOptions& options, Fill&& fill, Reduce&& reduce) {
    struct Buffers {
        RowMatrixXf X, Y;
    };
    for_each_chunk(
        total_rows, chunk_rows, model.thread_safe(), options, [] { return Buffers{}; },
        [&](Buffers& buffers, Index first, Index count) {
            buffers.X.resize(count, model.n_inputs());
            fill(first, count, buffers.X);
            predict_chunk(model, buffers.X, buffers.Y, options);
            reduce(first, count, static_cast<const RowMatrixXf&>(buffers.Y));
        });
}

}  // namespace glassbox
