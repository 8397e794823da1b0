// The model evaluations of accumulated local effects: for every row, the finite difference of
// the model across the ALE cell (one or two features) that contains it.
#pragma once

#include "core/model.hpp"
#include "core/parallel.hpp"

#include <vector>

namespace glassbox::inspection {

// Row i with features[q] set to lower(i, q) or upper(i, q): for one feature
// f(upper) - f(lower); for two, f(u1, u2) - f(l1, u2) - f(u1, l2) + f(l1, l2).
// Returns rows x n_outputs (double). Bins, sums and accumulation happen in the caller.
RowMatrixXd ale_differences(const Model& model, const ConstRowRef& X,
                            const std::vector<Index>& features, const ConstRowRef& lower,
                            const ConstRowRef& upper, const RunOptions& options);

}  // namespace glassbox::inspection
