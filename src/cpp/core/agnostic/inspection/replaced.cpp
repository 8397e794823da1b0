// Predictions with replaced columns (see replaced.hpp).
#include "core/agnostic/inspection/replaced.hpp"

#include "core/agnostic/inspection/job_rows.hpp"

#include <algorithm>

namespace glassbox::inspection {
namespace {

void check_jobs(const Model& model, const ConstRowRef& background, const ConstRowRef& points,
                const ReplacedJobs& jobs) {
    require(background.rows() > 0, "X: is empty");
    require(background.cols() == model.n_inputs() && points.cols() == model.n_inputs(),
            "X: width does not match the model");
    require(jobs.job_set.size() == jobs.job_point.size(), "jobs: sets and points differ in length");
    for (const auto& set : jobs.sets) {
        for (Index c : set) require(c >= 0 && c < model.n_inputs(), "features: out of range");
    }
    for (std::size_t j = 0; j < jobs.job_set.size(); ++j) {
        require(jobs.job_set[j] >= 0 && jobs.job_set[j] < static_cast<Index>(jobs.sets.size()),
                "jobs: set index out of range");
        require(jobs.job_point[j] >= 0 && jobs.job_point[j] < points.rows(),
                "jobs: point index out of range");
    }
}

// Writes background row `row` with job `job`'s columns replaced.
struct ReplacedRow {
    const ConstRowRef& background;
    const ConstRowRef& points;
    const ReplacedJobs& jobs;
    void operator()(Index job, Index row, float* x) const {
        std::copy_n(background.row(row).data(), background.cols(), x);
        const auto j = static_cast<std::size_t>(job);
        const Index point = jobs.job_point[j];
        for (Index c : jobs.sets[static_cast<std::size_t>(jobs.job_set[j])]) {
            x[c] = points(point, c);
        }
    }
};

}  // namespace

RowMatrixXd replaced_means(const Model& model, const ConstRowRef& background,
                           const ConstRowRef& points, const ReplacedJobs& jobs,
                           const VectorXd& weights, const RunOptions& options) {
    check_jobs(model, background, points, jobs);
    const auto n_jobs = static_cast<Index>(jobs.job_set.size());
    const Index n = background.rows(), k = model.n_outputs();
    const bool weighted = weights.size() > 0;
    require(!weighted || weights.size() == n, "sample_weight: expected one weight per row");
    const double total = weighted ? weights.sum() : static_cast<double>(n);
    require(total > 0, "sample_weight: the weights sum to zero");
    RowMatrixXd sums = job_sums(
        model, n_jobs, n, k,
        job_chunk_rows(model, options.memory_budget, mul_count(n_jobs, n, "grid x rows")), options,
        ReplacedRow{background, points, jobs},
        [&](Index, Index row, const float* y, double* acc) {
            const double w = weighted ? weights[row] : 1.0;
            for (Index o = 0; o < k; ++o) acc[o] += w * y[o];
        });
    return sums / total;
}

RowMatrixXf replaced_outputs(const Model& model, const ConstRowRef& background,
                             const ConstRowRef& points, const ReplacedJobs& jobs,
                             const RunOptions& options) {
    check_jobs(model, background, points, jobs);
    const auto n_jobs = static_cast<Index>(jobs.job_set.size());
    const Index n = background.rows(), k = model.n_outputs();
    RowMatrixXf out(mul_count(n_jobs, n, "grid x rows"), k);
    for_each_job_row(model, n_jobs, n, job_chunk_rows(model, options.memory_budget, out.rows()),
                     options, ReplacedRow{background, points, jobs},
                     [&](Index, Index job, Index row, const float* y) {
                         std::copy_n(y, k, out.row(job * n + row).data());
                     });
    return out;
}

}  // namespace glassbox::inspection
