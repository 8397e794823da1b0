// The model evaluations of accumulated local effects: for every row, the finite difference of
// the model across the ALE cell (one feature or a pair) that contains it, for several ALE jobs
// in one pass over the model.
#pragma once

#include "core/model.hpp"
#include "core/parallel.hpp"

#include <vector>

namespace glassbox::inspection {

// jobs[j]: one feature or a pair; its columns of `lower` and `upper` (rows x the total number of
// features over all jobs) follow those of jobs[0 .. j). Row i of job j with jobs[j][q] set to
// the lower or upper edge of its column q: for one feature f(upper) - f(lower); for a pair
// f(u1, u2) - f(l1, u2) - f(u1, l2) + f(l1, l2). Returns (jobs x rows) x n_outputs (double),
// job-major. Bins, sums and accumulation happen in the caller.
RowMatrixXd ale_differences(const Model& model, const ConstRowRef& X,
                            const std::vector<std::vector<Index>>& jobs, const ConstRowRef& lower,
                            const ConstRowRef& upper, const RunOptions& options);

}  // namespace glassbox::inspection
