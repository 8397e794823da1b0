// The loop shared by the inspection methods: a virtual batch of n_jobs x job_rows rows (job-major:
// a permuted copy, a grid point, an ALE cell corner ...), written one row at a time into chunk
// buffers and evaluated through for_each_model_chunk, with deterministic per-job sums.
#pragma once

#include "core/agnostic/model_eval.hpp"

#include <algorithm>
#include <vector>

namespace glassbox::inspection {

// Rows per chunk: the memory-budget plan, capped for a thread-safe model so that even a small
// job spreads over the threads (`native_min_rows`: the smallest chunk plan_chunk_rows may split a
// native network's job into). The cap is a constant, so chunking never depends on n_threads.
inline constexpr Index kNativeChunkRows = 2048;

inline Index job_chunk_rows(const Model& model, std::size_t memory_budget, Index total_rows,
                            Index native_min_rows = 1024) {
    const Index rows = plan_chunk_rows(model, memory_budget, total_rows, 0,
                                       model.thread_safe() ? native_min_rows : 1024);
    return model.thread_safe() ? std::min(rows, kNativeChunkRows) : rows;
}

// Evaluates the virtual batch: fill_row(job, row, x) writes one input row (n_inputs floats);
// consume_row(chunk, job, row, y) reads its outputs (n_outputs floats). For a native network
// chunks run in parallel, so consume_row may only write state owned by its row or its chunk.
template <class FillRow, class ConsumeRow>
void for_each_job_row(const Model& model, Index n_jobs, Index job_rows, Index chunk_rows,
                      const RunOptions& options, FillRow&& fill_row, ConsumeRow&& consume_row) {
    for_each_model_chunk(
        model, mul_count(n_jobs, job_rows, "jobs x rows"), chunk_rows, options,
        [&](Index first, Index count, RowMatrixXf& X) {
            for (Index k = 0; k < count; ++k) {
                fill_row((first + k) / job_rows, (first + k) % job_rows, X.row(k).data());
            }
        },
        [&](Index first, Index count, const RowMatrixXf& Y) {
            const Index chunk = first / chunk_rows;
            for (Index k = 0; k < count; ++k) {
                consume_row(chunk, (first + k) / job_rows, (first + k) % job_rows,
                            Y.row(k).data());
            }
        });
}

// Per-job sums of stat(job, row, y, acc) (acc: `width` doubles) over the rows of each job.
// Partial sums live in one slot per (chunk, job) segment and are added in chunk order at the end,
// so the result is bit-identical for any thread count; memory is (n_chunks + n_jobs) x width.
template <class FillRow, class Stat>
RowMatrixXd job_sums(const Model& model, Index n_jobs, Index job_rows, Index width,
                     Index chunk_rows, const RunOptions& options, FillRow&& fill_row,
                     Stat&& stat) {
    const Index total = mul_count(n_jobs, job_rows, "jobs x rows");
    chunk_rows = std::max<Index>(1, chunk_rows);
    const Index n_chunks = (total + chunk_rows - 1) / chunk_rows;
    // the sums and the partial sums (at most one slot per chunk and per job)
    require_state_fits(bytes_of(mul_count(add_count(n_chunks, mul_count(2, n_jobs, "jobs"), "jobs"),
                                          width, "outputs"),
                                sizeof(double)),
                       options, "jobs", "the partial sums of " + std::to_string(n_jobs) +
                                            " jobs over " + std::to_string(n_chunks) + " chunks");
    RowMatrixXd sums = RowMatrixXd::Zero(n_jobs, width);
    if (total == 0) return sums;
    std::vector<Index> slot_first(static_cast<std::size_t>(n_chunks) + 1, 0);
    for (Index c = 0; c < n_chunks; ++c) {
        const Index first = c * chunk_rows;
        const Index last = std::min(total, first + chunk_rows) - 1;
        slot_first[c + 1] = slot_first[c] + last / job_rows - first / job_rows + 1;
    }
    RowMatrixXd partial = RowMatrixXd::Zero(slot_first[n_chunks], width);
    for_each_job_row(model, n_jobs, job_rows, chunk_rows, options, fill_row,
                     [&](Index chunk, Index job, Index row, const float* y) {
                         const Index slot = slot_first[chunk] + job - chunk * chunk_rows / job_rows;
                         stat(job, row, y, partial.row(slot).data());
                     });
    for (Index c = 0; c < n_chunks; ++c) {
        const Index first_job = c * chunk_rows / job_rows;
        for (Index slot = slot_first[c]; slot < slot_first[c + 1]; ++slot) {
            sums.row(first_job + slot - slot_first[c]) += partial.row(slot);
        }
    }
    return sums;
}

}  // namespace glassbox::inspection
