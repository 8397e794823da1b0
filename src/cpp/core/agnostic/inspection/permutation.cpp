// Permutation importance (see permutation.hpp).
#include "core/agnostic/inspection/permutation.hpp"

#include "core/agnostic/inspection/job_rows.hpp"

#include <algorithm>
#include <numeric>

namespace glassbox::inspection {
namespace {

constexpr Index kMinBlockRows = 1024;

void check_setup(const Model& model, const ConstRowRef& X, const Groups& groups,
                 const PermutationSetup& setup) {
    require(X.rows() > 0, "X: is empty");
    require(X.cols() == model.n_inputs(), "X: width does not match the model");
    require_count(setup.n_repeats, "n_repeats", 1);
    require(setup.n_samples >= 0 && setup.n_samples <= X.rows(),
            "max_samples: must be between 1 and the number of rows");
    for (const auto& group : groups) {
        require(!group.empty(), "groups: a group is empty");
        for (Index c : group) require(c >= 0 && c < X.cols(), "groups: feature out of range");
    }
}

Index samples_of(const ConstRowRef& X, const PermutationSetup& setup) {
    return setup.n_samples > 0 ? setup.n_samples : X.rows();
}

}  // namespace

PermutationRows::PermutationRows(std::uint64_t seed, Index n_rows, Index n_samples)
    : shuffle_(seed, kPermutationShuffle), rows_(seed, kPermutationRows), n_rows_(n_rows),
      n_samples_(n_samples) {}

std::vector<Index> PermutationRows::rows(Index group) const {
    if (n_samples_ == n_rows_) {
        std::vector<Index> all(static_cast<std::size_t>(n_rows_));
        std::iota(all.begin(), all.end(), Index{0});
        return all;
    }
    return shuffled_prefix(rows_.subkey(static_cast<std::uint64_t>(group), 0), n_rows_,
                           n_samples_);
}

std::vector<Index> PermutationRows::sources(Index group, Index repeat) const {
    const auto key = shuffle_.subkey(static_cast<std::uint64_t>(group),
                                     static_cast<std::uint64_t>(repeat));
    return shuffled_prefix(key, n_samples_, n_samples_);
}

RowMatrixXf permuted_predictions(const Model& model, const ConstRowRef& X, const Groups& groups,
                                 const PermutationSetup& setup, Index job_first, Index job_count,
                                 const RunOptions& options, Index chunk_rows) {
    check_setup(model, X, groups, setup);
    const Index n_jobs = mul_count(static_cast<Index>(groups.size()), setup.n_repeats, "n_repeats");
    require(job_first >= 0 && job_count >= 0 && job_first <= n_jobs && job_count <= n_jobs - job_first,
            "jobs: range out of bounds");
    const Index m = samples_of(X, setup), p = X.cols(), k = model.n_outputs();
    require_state_fits(bytes_of(mul_count(job_count, m, "job_count"),
                                sizeof(float) * static_cast<std::size_t>(k) + 2 * sizeof(Index)),
                       options, "job_count",
                       "the outputs and draws of " + std::to_string(job_count) + " jobs");
    const PermutationRows plan(setup.seed, X.rows(), m);
    // the jobs' draws up front (job_count x m indices, next to the job_count x m outputs)
    const Index first_group = job_first / setup.n_repeats;
    std::vector<std::vector<Index>> rows, sources;
    for (Index job = job_first; job < job_first + job_count; ++job) {
        const Index g = job / setup.n_repeats;
        if (g - first_group == static_cast<Index>(rows.size())) rows.push_back(plan.rows(g));
        sources.push_back(plan.sources(g, job % setup.n_repeats));
    }
    RowMatrixXf out(job_count * m, k);
    if (chunk_rows <= 0) chunk_rows = job_chunk_rows(model, options.memory_budget, job_count * m);
    for_each_job_row(
        model, job_count, m, chunk_rows, options,
        [&](Index job, Index i, float* x) {
            const Index g = (job_first + job) / setup.n_repeats;
            const std::vector<Index>& group_rows = rows[std::size_t(g - first_group)];
            std::copy_n(X.row(group_rows[std::size_t(i)]).data(), p, x);
            const Index source = group_rows[std::size_t(sources[std::size_t(job)][std::size_t(i)])];
            for (Index c : groups[static_cast<std::size_t>(g)]) x[c] = X(source, c);
        },
        [&](Index, Index job, Index i, const float* y) {
            std::copy_n(y, k, out.row(job * m + i).data());
        });
    return out;
}

PermutationScores permutation_scores(const Model& model, const ConstRowRef& X,
                                     const VectorXd& y, const VectorXd& w, const Groups& groups,
                                     const PermutationSetup& setup, Metric metric,
                                     Index n_classes, const RunOptions& options) {
    check_setup(model, X, groups, setup);
    require(y.size() == X.rows(), "y: expected one value per row of X");
    require(w.size() == 0 || w.size() == X.rows(), "sample_weight: expected one weight per row");
    const Index m = samples_of(X, setup), k = model.n_outputs();
    const Index n_groups = static_cast<Index>(groups.size());
    const Index n_jobs = mul_count(n_groups, setup.n_repeats, "n_repeats");
    const double* weights = w.size() ? w.data() : nullptr;
    require_state_fits(bytes_of(n_jobs, sizeof(double)), options, "n_repeats",
                       "the table of " + std::to_string(n_groups) + " groups x " +
                           std::to_string(setup.n_repeats) + " repeats' scores");
    // progress in model rows: the baseline, then every job's rows
    const RunOptions run = with_progress_total(
        options, add_count(X.rows(), mul_count(n_jobs, m, "n_repeats"), "n_repeats"));

    PermutationScores result;
    RowMatrixXf baseline(X.rows(), k);
    for_each_job_row(
        model, 1, X.rows(), job_chunk_rows(model, options.memory_budget, X.rows()), run,
        [&](Index, Index i, float* x) { std::copy_n(X.row(i).data(), X.cols(), x); },
        [&](Index, Index, Index i, const float* out) {
            std::copy_n(out, k, baseline.row(i).data());
        });
    result.baseline = metric_score(metric, baseline, y.data(), weights, n_classes);
    result.scores.resize(n_groups, setup.n_repeats);

    // jobs in blocks whose outputs fit the budget, but of at least kMinBlockRows rows so that a
    // Python model still gets thousands of rows per call; each job is then scored on one thread
    const std::size_t job_bytes = sizeof(float) * static_cast<std::size_t>(m * (k + X.cols())) +
                                  sizeof(Index) * static_cast<std::size_t>(2 * m);
    const Index by_budget =
        static_cast<Index>(std::min<std::size_t>(options.memory_budget / job_bytes, kMaxCount));
    const Index block =
        std::min<Index>(n_jobs, std::max<Index>(by_budget, (kMinBlockRows + m - 1) / m));
    const PermutationRows plan(setup.seed, X.rows(), m);
    for (Index first = 0; first < n_jobs; first += block) {
        const Index count = std::min(block, n_jobs - first);
        // a Python model evaluates a block in one call (the block already fits the budget)
        const RowMatrixXf P = permuted_predictions(model, X, groups, setup, first, count, run,
                                                   model.thread_safe() ? 0 : count * m);
        ParallelErrors errors;  // no exception (bad_alloc, Interrupted) may leave the region
#pragma omp parallel for schedule(dynamic, 1) num_threads(team_size(options.n_threads, count))
        for (Index j = 0; j < count; ++j) {
            errors.run([&] {
                check_interrupt(run);
                const Index g = (first + j) / setup.n_repeats, r = (first + j) % setup.n_repeats;
                const std::vector<Index> rows = plan.rows(g);
                VectorXd y_sub(m), w_sub(weights ? m : 0);
                for (Index i = 0; i < m; ++i) {
                    y_sub[i] = y[rows[std::size_t(i)]];
                    if (weights) w_sub[i] = weights[rows[std::size_t(i)]];
                }
                result.scores(g, r) = metric_score(metric, P.middleRows(j * m, m), y_sub.data(),
                                                   weights ? w_sub.data() : nullptr, n_classes);
            });
        }
        errors.rethrow();
    }
    return result;
}

}  // namespace glassbox::inspection
