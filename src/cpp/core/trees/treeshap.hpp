// TreeSHAP on a TreeEnsemble: exact Shapley values of a tree ensemble's raw margin.
//
// - path-dependent: the value function is E[f(x) | x_S] estimated by the trees' own covers
//   (Lundberg et al. 2018); computed as Linear TreeSHAP does, O(L * D) per row and tree
//   (treeshap_linear.cpp).
// - interactions: shap's convention, phi_ij = (phi_i | j on - phi_i | j off) / 2 for i != j and
//   phi_ii = phi_i - sum_{j != i} phi_ij, by one such walk per feature the tree splits on.
// - interventional: the value function is the mean over background rows z of f(x_S, z_S-bar);
//   per (row, background row) pair one walk over the nodes where x and z may go (O(L)).
//
// Every result is per row, per feature, per output (outputs last, in double); rows run in
// parallel chunks, each row on one thread, so results do not depend on the thread count.
#pragma once

#include "core/parallel.hpp"
#include "core/trees/ensemble.hpp"

#include <algorithm>

namespace glassbox::trees {

// Whether leaf tables (treeshap_tables.hpp) replace the per-row walks: where the cost estimate
// says they are faster (automatic), on every tree small enough (always), or nowhere (never).
// The values agree to rounding; tests compare them.
enum class TableUse { automatic, always, never };

struct TreeShapResult {
    // (n, d * k): value of feature f for output o at column f * k + o; interactions: (n, d * d * k)
    // with (i, j, o) at (i * d + j) * k + o.
    RowMatrixXd values;
    RowMatrixXd base;  // (1, k): the expected value (interventional: (1, k) mean over background)
    RowMatrixXd fx;    // (n, k): what the values add up to with `base` (the margin, or its link)
};

// Path-dependent TreeSHAP of the raw margin.
TreeShapResult tree_shap_path(const TreeEnsemble& model, const ConstRowRef& X, TableUse use,
                              const RunOptions& options);
// Path-dependent SHAP interaction values of the raw margin.
TreeShapResult tree_shap_interactions(const TreeEnsemble& model, const ConstRowRef& X,
                                      TableUse use, const RunOptions& options);
// Interventional TreeSHAP against `background`. With `probabilities` (a logistic link only) each
// (row, background row) pair's margin attributions are rescaled by
// (sigmoid(f(x)) - sigmoid(f(z))) / (f(x) - f(z)), as shap's model_output="probability" does.
TreeShapResult tree_shap_interventional(const TreeEnsemble& model, const ConstRowRef& X,
                                        const ConstRowRef& background, bool probabilities,
                                        TableUse use, const RunOptions& options);

namespace detail {
// The cover-weighted expected value of every output (shap's expected_value for path-dependent).
RowMatrixXd expected_values(const TreeEnsemble& model);
// Rows per chunk of the row loops (progress and Ctrl-C are checked between chunks).
constexpr Index kRowsPerChunk = 16;
// Runs `chunk_work(begin, end)` over rows [0, n) in parallel chunks (each allocates its own
// scratch), with progress and interruption.
template <class ChunkWork>
void for_each_chunk(Index n, const RunOptions& options, ChunkWork&& chunk_work,
                    Index rows_per_chunk = kRowsPerChunk);
}  // namespace detail

template <class ChunkWork>
void detail::for_each_chunk(Index n, const RunOptions& options, ChunkWork&& chunk_work,
                            Index rows_per_chunk) {
    const Index chunks = (n + rows_per_chunk - 1) / rows_per_chunk;
    add_progress_total(options, n);
    ParallelErrors errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(team_size(options.n_threads, chunks))
    for (Index c = 0; c < chunks; ++c) {
        errors.run([&] {
            check_interrupt(options);
            const Index end = std::min(n, (c + 1) * rows_per_chunk);
            chunk_work(c * rows_per_chunk, end);
            report_progress(options, end - c * rows_per_chunk);
        });
    }
    errors.rethrow();
}

}  // namespace glassbox::trees
