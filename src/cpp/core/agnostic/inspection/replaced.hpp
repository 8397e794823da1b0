// Predictions with some columns replaced: the kernel of partial dependence, ICE and the
// H-statistic. Job j evaluates every background row with the columns of sets[job_set[j]] set to
// points.row(job_point[j]) (its values in those columns), written straight into chunk buffers.
#pragma once

#include "core/model.hpp"
#include "core/parallel.hpp"

#include <vector>

namespace glassbox::inspection {

struct ReplacedJobs {
    std::vector<std::vector<Index>> sets;  // column sets
    std::vector<Index> job_set;            // per job: which set
    std::vector<Index> job_point;          // per job: which row of `points`
};

// Mean output over the background rows per job, weighted by `weights` (one per background row;
// empty: uniform): jobs x n_outputs (double).
RowMatrixXd replaced_means(const Model& model, const ConstRowRef& background,
                           const ConstRowRef& points, const ReplacedJobs& jobs,
                           const VectorXd& weights, const RunOptions& options);

// Every output: (jobs * background rows) x n_outputs, job-major (ICE curves).
RowMatrixXf replaced_outputs(const Model& model, const ConstRowRef& background,
                             const ConstRowRef& points, const ReplacedJobs& jobs,
                             const RunOptions& options);

}  // namespace glassbox::inspection
