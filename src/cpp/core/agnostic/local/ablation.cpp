// Occlusion and feature ablation over any Model: every (row, set) pair is one row of a virtual
// batch evaluated in chunks; the drops are then spread over each set's features per row.
#include "core/agnostic/local/ablation.hpp"

#include "core/agnostic/model_eval.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace glassbox {

SlidingWindows::SlidingWindows(Shape shape_, Shape window_, Shape strides_)
    : shape(std::move(shape_)), window(std::move(window_)), strides(std::move(strides_)) {
    require(!shape.empty(), "X: samples must have at least one axis");
    require(window.size() == shape.size(),
            "sliding_window_shapes: expected " + std::to_string(shape.size()) +
                " extents (one per axis of a sample " + shape_string(shape) + "), got " +
                std::to_string(window.size()));
    require(strides.size() == shape.size(), "strides: expected one stride per axis of a sample");
    for (std::size_t a = 0; a < shape.size(); ++a) {
        require(window[a] >= 1 && window[a] <= shape[a],
                "sliding_window_shapes: window " + shape_string(window) +
                    " must be at least 1 and fit in the sample " + shape_string(shape));
        require(strides[a] >= 1 && strides[a] <= kMaxCount,
                "strides: must be between 1 and " + std::to_string(kMaxCount) + ", got " +
                    shape_string(strides));
        // a stride longer than the window would skip features (Captum's rule)
        require(window[a] == shape[a] || strides[a] <= window[a],
                "strides: " + shape_string(strides) + " may not exceed the window " +
                    shape_string(window) + " along an axis the window does not fill");
        positions_.push_back((shape[a] - window[a] + strides[a] - 1) / strides[a] + 1);
    }
}

Index SlidingWindows::size() const { return shape_size(positions_); }

FeatureGroups::FeatureGroups(const std::vector<Index>& group_of, Index n_groups)
    : n_features(static_cast<Index>(group_of.size())) {
    // (a group needs a feature: more groups than features is a malformed mask, not a table to
    // allocate)
    require(n_groups >= 1 && n_groups <= std::max<Index>(1, n_features),
            "feature_mask: expected between 1 and " + std::to_string(std::max<Index>(1, n_features)) +
                " groups (one per feature at most), got " + std::to_string(n_groups));
    offsets.assign(static_cast<std::size_t>(n_groups) + 1, 0);
    for (Index g : group_of) {
        require(g >= -1 && g < n_groups, "feature_mask: group index out of range");
        if (g >= 0) ++offsets[static_cast<std::size_t>(g) + 1];
    }
    for (std::size_t g = 0; g + 1 < offsets.size(); ++g) offsets[g + 1] += offsets[g];
    members.resize(static_cast<std::size_t>(offsets.back()));
    std::vector<Index> fill(offsets.begin(), offsets.end() - 1);
    for (std::size_t j = 0; j < group_of.size(); ++j) {
        if (group_of[j] >= 0) members[static_cast<std::size_t>(fill[group_of[j]]++)] = Index(j);
    }
}

namespace {

// Every set's contiguous runs of features, listed once up front (walking a window allocates,
// which per virtual row cost more than the copies themselves).
class SetRuns {
public:
    template <class Sets>
    explicit SetRuns(const Sets& sets) : offsets_{0} {
        for (Index s = 0; s < sets.size(); ++s) {
            sets.for_each_run(s, [&](Index begin, Index length) {
                runs_.push_back({begin, length});
            });
            offsets_.push_back(static_cast<Index>(runs_.size()));
        }
    }

    Index size() const { return static_cast<Index>(offsets_.size()) - 1; }

    template <class Run>
    void for_each_run(Index s, Run&& run) const {
        for (Index k = offsets_[s]; k < offsets_[s + 1]; ++k) run(runs_[k].first, runs_[k].second);
    }

private:
    std::vector<Index> offsets_;                   // runs of set s: offsets_[s] .. offsets_[s + 1]
    std::vector<std::pair<Index, Index>> runs_;    // (first feature, length)
};

RowMatrixXd ablate(const Model& model, const ConstRowRef& X, const ConstRowRef& baselines,
                   const SetRuns& sets, const std::vector<int>& targets, bool average,
                   const RunOptions& run) {
    const Index n = X.rows(), d = X.cols(), n_sets = sets.size();
    require(d == model.n_inputs(), "X: expected " + std::to_string(model.n_inputs()) + " features");
    require(baselines.rows() == n && baselines.cols() == d,
            "baselines: expected one row per row of X");
    require(static_cast<Index>(targets.size()) == n, "target: expected one target per row");
    for (int t : targets) require(t >= 0 && t < model.n_outputs(), "target: out of range");
    RowMatrixXd values = RowMatrixXd::Zero(n, d);
    if (n == 0) return values;

    // virtual row v = r * (n_sets + 1) + k: k = 0 is the row itself, k = s + 1 has set s replaced
    const Index per_row = add_count(n_sets, 1, "windows");
    const Index total = mul_count(n, per_row, "rows x windows");
    VectorXd counts = VectorXd::Zero(d);
    for (Index s = 0; s < n_sets; ++s) {
        sets.for_each_run(s, [&](Index begin, Index length) { counts.segment(begin, length).array() += 1.0; });
    }
    // rows in blocks whose target outputs (one double per virtual row) fit the budget, so that
    // memory does not grow with rows x sets; progress in virtual rows, declared once
    require_state_fits(bytes_of(per_row, sizeof(double)), run, "sliding_window_shapes",
                       "one row's outputs for its " + std::to_string(n_sets) + " replaced sets");
    const Index block_rows = std::max<Index>(
        1, std::min<Index>(n, static_cast<Index>(std::min<std::size_t>(
                                  run.memory_budget / bytes_of(per_row, sizeof(double)),
                                  kMaxCount))));
    const RunOptions job = with_progress_total(run, total);
    std::vector<double> outputs(static_cast<std::size_t>(block_rows * per_row));
    for (Index r0 = 0; r0 < n; r0 += block_rows) {
        const Index rows = std::min(block_rows, n - r0);
        for_each_model_chunk(
            model, rows * per_row, plan_chunk_rows(model, run.memory_budget, rows * per_row), job,
            [&](Index first, Index count, RowMatrixXf& batch) {
                for (Index v = 0; v < count; ++v) {
                    const Index r = r0 + (first + v) / per_row, k = (first + v) % per_row;
                    batch.row(v) = X.row(r);
                    if (k == 0) continue;
                    sets.for_each_run(k - 1, [&](Index begin, Index length) {
                        batch.row(v).segment(begin, length) = baselines.row(r).segment(begin, length);
                    });
                }
            },
            [&](Index first, Index count, const RowMatrixXf& Y) {
                for (Index v = 0; v < count; ++v) {
                    const Index r = r0 + (first + v) / per_row;
                    outputs[static_cast<std::size_t>(first + v)] = Y(v, targets[std::size_t(r)]);
                }
            });
        // spreading the drops is cheap next to the model evaluations: threads only for large
        // blocks (a parallel region costs more than a small block's whole spread)
        const bool large = static_cast<double>(rows) * counts.sum() >= double(1 << 22);
        ParallelErrors errors;  // no exception may leave the parallel region
#pragma omp parallel for schedule(static) num_threads(resolve_threads(run.n_threads)) if (large)
        for (Index r = r0; r < r0 + rows; ++r) {
            errors.run([&] {
                const double* out = outputs.data() + (r - r0) * per_row;
                for (Index s = 0; s < n_sets; ++s) {
                    const double drop = out[0] - out[s + 1];
                    sets.for_each_run(s, [&](Index begin, Index length) {
                        values.row(r).segment(begin, length).array() += drop;
                    });
                }
                if (average) {
                    for (Index j = 0; j < d; ++j) {
                        if (counts(j) > 0) values(r, j) /= counts(j);
                    }
                }
            });
        }
        errors.rethrow();
    }
    return values;
}

}  // namespace

RowMatrixXd occlusion(const Model& model, const ConstRowRef& X, const ConstRowRef& baselines,
                      const SlidingWindows& windows, const std::vector<int>& targets,
                      const RunOptions& run) {
    require(shape_size(windows.shape) == X.cols(),
            "X: samples of shape " + shape_string(windows.shape) + " expected");
    // the windows' contiguous runs, listed once: one per window and position of its other axes
    Index runs = windows.size();
    for (std::size_t a = 0; a + 1 < windows.window.size(); ++a) {
        runs = mul_count(runs, windows.window[a], "sliding_window_shapes");
    }
    require_state_fits(bytes_of(runs, 2 * sizeof(Index)), run, "sliding_window_shapes",
                       "the list of the " + std::to_string(windows.size()) + " windows' runs");
    return ablate(model, X, baselines, SetRuns(windows), targets, true, run);
}

RowMatrixXd feature_ablation(const Model& model, const ConstRowRef& X,
                             const ConstRowRef& baselines, const FeatureGroups& groups,
                             const std::vector<int>& targets, const RunOptions& run) {
    require(groups.n_features == X.cols(), "feature_mask: expected one group index per feature");
    return ablate(model, X, baselines, SetRuns(groups), targets, false, run);
}

}  // namespace glassbox
