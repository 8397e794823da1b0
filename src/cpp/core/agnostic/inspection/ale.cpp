// ALE finite differences (see ale.hpp).
#include "core/agnostic/inspection/ale.hpp"

#include "core/agnostic/inspection/job_rows.hpp"

#include <algorithm>

namespace glassbox::inspection {

RowMatrixXd ale_differences(const Model& model, const ConstRowRef& X,
                            const std::vector<Index>& features, const ConstRowRef& lower,
                            const ConstRowRef& upper, const RunOptions& options) {
    const auto d = static_cast<Index>(features.size());
    require(d == 1 || d == 2, "features: ALE takes one feature or a pair");
    require(X.rows() > 0 && X.cols() == model.n_inputs(), "X: width does not match the model");
    require(lower.rows() == X.rows() && upper.rows() == X.rows() && lower.cols() == d &&
                upper.cols() == d,
            "bins: expected one lower and upper edge per row and feature");
    for (Index c : features) require(c >= 0 && c < X.cols(), "features: out of range");
    const Index corners = Index{1} << d, k = model.n_outputs();
    const Index chunk_rows =
        job_chunk_rows(model, options.memory_budget, mul_count(X.rows(), corners, "X"));
    // corner bit q set: feature q at its upper edge
    return job_sums(
        model, X.rows(), corners, k, chunk_rows, options,
        [&](Index row, Index corner, float* x) {
            std::copy_n(X.row(row).data(), X.cols(), x);
            for (Index q = 0; q < d; ++q) {
                x[features[static_cast<std::size_t>(q)]] =
                    (corner >> q) & 1 ? upper(row, q) : lower(row, q);
            }
        },
        [&](Index, Index corner, const float* y, double* acc) {
            // + for an even number of lower edges, - for an odd number
            Index lowers = d;
            for (Index q = 0; q < d; ++q) lowers -= (corner >> q) & 1;
            const double s = lowers % 2 ? -1.0 : 1.0;
            for (Index o = 0; o < k; ++o) acc[o] += s * y[o];
        });
}

}  // namespace glassbox::inspection
