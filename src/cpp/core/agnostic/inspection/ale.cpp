// ALE finite differences (see ale.hpp).
#include "core/agnostic/inspection/ale.hpp"

#include "core/agnostic/inspection/job_rows.hpp"

#include <algorithm>

namespace glassbox::inspection {
namespace {

// Where one job's corners sit in the virtual batch: rows first .. first + rows * corners - 1,
// row-major (row, corner); corner bit q set: feature q at its upper edge.
struct JobSpan {
    Index job, first, corners, column;  // column: the job's first column of lower / upper
};

// The span holding virtual row v (spans sorted by first).
const JobSpan& span_of(const std::vector<JobSpan>& spans, Index v) {
    return *(std::upper_bound(spans.begin(), spans.end(), v,
                              [](Index x, const JobSpan& s) { return x < s.first; }) -
             1);
}

}  // namespace

RowMatrixXd ale_differences(const Model& model, const ConstRowRef& X,
                            const std::vector<std::vector<Index>>& jobs, const ConstRowRef& lower,
                            const ConstRowRef& upper, const RunOptions& options) {
    const Index n = X.rows(), k = model.n_outputs(), n_jobs = static_cast<Index>(jobs.size());
    require(n_jobs > 0, "features: expected at least one feature or pair");
    require(n > 0 && X.cols() == model.n_inputs(), "X: width does not match the model");
    Index columns = 0;
    for (const auto& job : jobs) {
        require(job.size() == 1 || job.size() == 2, "features: ALE takes one feature or a pair");
        for (Index c : job) require(c >= 0 && c < X.cols(), "features: out of range");
        columns += static_cast<Index>(job.size());
    }
    require(lower.rows() == n && upper.rows() == n && lower.cols() == columns &&
                upper.cols() == columns,
            "bins: expected one lower and upper edge per row and feature");
    // Pairs first: every span then starts at a multiple of its corner count, and chunks of a
    // multiple of 4 rows never split a row's corners, so each output row is summed whole, in
    // corner order, by one chunk (bit-identical for any thread count, no partial sums).
    std::vector<Index> column_of(static_cast<std::size_t>(n_jobs));
    for (Index j = 0, c = 0; j < n_jobs; c += static_cast<Index>(jobs[j].size()), ++j) {
        column_of[j] = c;
    }
    std::vector<JobSpan> spans;
    Index total = 0;
    for (const std::size_t size : {2, 1}) {
        for (Index j = 0; j < n_jobs; ++j) {
            if (jobs[j].size() != size) continue;
            const Index corners = Index{1} << size;
            spans.push_back({j, total, corners, column_of[j]});
            total = add_count(total, mul_count(n, corners, "X"), "features");
        }
    }
    require_state_fits(bytes_of(mul_count(mul_count(n_jobs, n, "X"), k, "outputs"), sizeof(double)),
                       options, "features",
                       "the differences of " + std::to_string(n_jobs) + " features or pairs");
    // small chunks for a native network (a single feature's 2 x rows spread over the cores)
    Index chunk_rows = plan_chunk_rows(model, options.memory_budget, total, 0,
                                       model.thread_safe() ? 256 : 1024);
    if (model.thread_safe()) chunk_rows = std::min(chunk_rows, kNativeChunkRows);
    chunk_rows = std::max<Index>(4, chunk_rows / 4 * 4);

    RowMatrixXd out(n_jobs * n, k);
    for_each_model_chunk(
        model, total, chunk_rows, options,
        [&](Index first, Index count, RowMatrixXf& B) {
            for (Index v = first; v < first + count; ++v) {
                const JobSpan& s = span_of(spans, v);
                const Index row = (v - s.first) / s.corners, corner = (v - s.first) % s.corners;
                float* x = B.row(v - first).data();
                std::copy_n(X.row(row).data(), X.cols(), x);
                const auto& job = jobs[static_cast<std::size_t>(s.job)];
                for (std::size_t q = 0; q < job.size(); ++q) {
                    const Index c = s.column + static_cast<Index>(q);
                    x[job[q]] = (corner >> q) & 1 ? upper(row, c) : lower(row, c);
                }
            }
        },
        [&](Index first, Index count, const RowMatrixXf& Y) {
            for (Index v = first; v < first + count; ++v) {
                const JobSpan& s = span_of(spans, v);
                const Index row = (v - s.first) / s.corners, corner = (v - s.first) % s.corners;
                // + for an even number of lower edges, - for an odd number
                const int uppers = (corner & 1) + ((corner >> 1) & 1);
                const int lowers = (s.corners == 4 ? 2 : 1) - uppers;
                const double sign = lowers % 2 ? -1.0 : 1.0;
                auto target = out.row(s.job * n + row);
                const auto y = Y.row(v - first).cast<double>();
                if (corner == 0) {
                    target = sign * y;
                } else {
                    target += sign * y;
                }
            }
        });
    return out;
}

}  // namespace glassbox::inspection
