// ALE finite differences (see ale.hpp).
#include "core/agnostic/inspection/ale.hpp"

#include "core/agnostic/inspection/job_rows.hpp"

#include <algorithm>

namespace glassbox::inspection {

RowMatrixXd ale_differences(const Model& model, const ConstRowRef& X,
                            const std::vector<std::vector<Index>>& jobs, const ConstRowRef& lower,
                            const ConstRowRef& upper, const RunOptions& options) {
    const Index n = X.rows(), k = model.n_outputs(), n_jobs = static_cast<Index>(jobs.size());
    require(n_jobs > 0, "features: expected at least one feature or pair");
    require(n > 0 && X.cols() == model.n_inputs(), "X: width does not match the model");
    std::vector<Index> column_of;  // each job's first column of lower / upper
    Index columns = 0;
    for (const auto& job : jobs) {
        require(job.size() == 1 || job.size() == 2, "features: ALE takes one feature or a pair");
        for (Index c : job) require(c >= 0 && c < X.cols(), "features: out of range");
        column_of.push_back(columns);
        columns += static_cast<Index>(job.size());
    }
    require(lower.rows() == n && upper.rows() == n && lower.cols() == columns &&
                upper.cols() == columns,
            "bins: expected one lower and upper edge per row and feature");
    require_state_fits(bytes_of(mul_count(mul_count(n_jobs, n, "X"), k, "outputs"), sizeof(double)),
                       options, "features",
                       "the differences of " + std::to_string(n_jobs) + " features or pairs");
    RowMatrixXd out(n_jobs * n, k);
    // One pass over the single features, one over the pairs: a virtual job per (ALE job, row)
    // of its 2 or 4 corners (corner bit q set: feature q at its upper edge). Chunks are a
    // multiple of 4 rows, so no chunk splits a row's corners: each output row is summed whole, in
    // corner order, by one chunk (bit-identical for any thread count, no partial sums). Native
    // chunks may be as small as 256 rows, so even one feature's 2n rows spread over the cores.
    for (const std::size_t size : {1, 2}) {
        std::vector<Index> picked;
        for (Index j = 0; j < n_jobs; ++j) {
            if (jobs[static_cast<std::size_t>(j)].size() == size) picked.push_back(j);
        }
        if (picked.empty()) continue;
        const Index corners = Index{1} << size;
        const Index total = mul_count(mul_count(static_cast<Index>(picked.size()), n, "X"),
                                      corners, "features");
        const Index chunk_rows =
            std::max<Index>(4, job_chunk_rows(model, options.memory_budget, total, 256) / 4 * 4);
        for_each_job_row(
            model, total / corners, corners, chunk_rows, options,
            [&](Index cell, Index corner, float* x) {
                const Index j = picked[static_cast<std::size_t>(cell / n)], row = cell % n;
                const auto& job = jobs[static_cast<std::size_t>(j)];
                std::copy_n(X.row(row).data(), X.cols(), x);
                for (std::size_t q = 0; q < job.size(); ++q) {
                    const Index c = column_of[static_cast<std::size_t>(j)] + static_cast<Index>(q);
                    x[job[q]] = (corner >> q) & 1 ? upper(row, c) : lower(row, c);
                }
            },
            [&](Index, Index cell, Index corner, const float* y) {
                const Index j = picked[static_cast<std::size_t>(cell / n)], row = cell % n;
                // + for an even number of lower edges, - for an odd number
                const int uppers = static_cast<int>((corner & 1) + ((corner >> 1) & 1));
                const double sign = (static_cast<int>(size) - uppers) % 2 ? -1.0 : 1.0;
                auto target = out.row(j * n + row);
                const auto values = Eigen::Map<const Eigen::RowVectorXf>(y, k).cast<double>();
                if (corner == 0) {
                    target = sign * values;
                } else {
                    target += sign * values;
                }
            });
    }
    return out;
}

}  // namespace glassbox::inspection
