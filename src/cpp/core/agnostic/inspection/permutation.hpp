// Permutation importance: the score drop when the columns of a feature group are permuted.
// Job (group g, repeat r) reads the rows of g's subsample with g's columns taken from the
// subsample row at a shuffled index; rows are written straight into chunk buffers.
#pragma once

#include "core/agnostic/inspection/shuffle.hpp"
#include "core/agnostic/inspection/scores.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"

#include <vector>

namespace glassbox::inspection {

using Groups = std::vector<std::vector<Index>>;

// Which rows job (group, repeat) reads, as uniformly random draws (scikit-learn's semantics).
// Subsample row i of group g is rows(g)[i], a row of X: all rows in order when n_samples ==
// n_rows, else the first n_samples of a shuffle keyed by (seed, stream 21, g). Its permuted
// columns come from subsample row sources(g, r)[i], a shuffle of [0, n_samples) keyed by
// (seed, stream 20, g, r).
class PermutationRows {
public:
    PermutationRows(std::uint64_t seed, Index n_rows, Index n_samples);
    Index n_samples() const { return n_samples_; }
    std::vector<Index> rows(Index group) const;
    std::vector<Index> sources(Index group, Index repeat) const;

private:
    CounterRng shuffle_, rows_;
    Index n_rows_, n_samples_;
};

struct PermutationSetup {
    Index n_repeats = 5;
    std::uint64_t seed = 0;
    Index n_samples = 0;  // rows per repeat (max_samples); 0: all rows
};

// Outputs for jobs [job_first, job_first + job_count) (job = group * n_repeats + repeat), as
// (job_count * n_samples) x n_outputs rows, job-major. chunk_rows <= 0: planned from the budget.
RowMatrixXf permuted_predictions(const Model& model, const ConstRowRef& X, const Groups& groups,
                                 const PermutationSetup& setup, Index job_first, Index job_count,
                                 const RunOptions& options, Index chunk_rows = 0);

struct PermutationScores {
    double baseline = 0;  // the score on all of X
    RowMatrixXd scores;   // groups x repeats
};

// Scores of every job under `metric` against y (class indices for classification) with optional
// weights w (empty: all 1). Jobs run in blocks whose outputs fit the memory budget.
PermutationScores permutation_scores(const Model& model, const ConstRowRef& X,
                                     const VectorXd& y, const VectorXd& w, const Groups& groups,
                                     const PermutationSetup& setup, Metric metric,
                                     Index n_classes, const RunOptions& options);

}  // namespace glassbox::inspection
