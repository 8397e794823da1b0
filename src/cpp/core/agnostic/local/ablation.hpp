// Perturbation attributions by replacing sets of features with a baseline (Captum's
// FeatureAblation and Occlusion): each set costs one model evaluation per row, and a feature's
// attribution is the output drop f(x) - f(x with the set replaced), summed (ablation: disjoint
// groups) or averaged (occlusion: overlapping windows) over the sets that contain it.
#pragma once

#include "core/common.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"

#include <vector>

namespace glassbox {

// Hyper-rectangular windows sliding over a sample of shape `shape` (any rank) with `strides`:
// per axis ceil((extent - window) / stride) + 1 positions, the last one cut off at the edge.
struct SlidingWindows {
    Shape shape, window, strides;

    SlidingWindows(Shape shape, Shape window, Shape strides);
    Index size() const;
    // Calls run(first, length) for the contiguous runs of flattened indices in window `w`.
    template <class Run>
    void for_each_run(Index w, Run&& run) const;

private:
    Shape positions_;
};

// Disjoint groups of flattened features: `group_of[j]` is feature j's group in [0, n_groups),
// or -1 for a feature never replaced (attribution 0).
struct FeatureGroups {
    Index n_features = 0;
    std::vector<Index> offsets, members;  // CSR: members of group g are offsets[g]..offsets[g+1]

    FeatureGroups(const std::vector<Index>& group_of, Index n_groups);
    Index size() const { return static_cast<Index>(offsets.size()) - 1; }
    template <class Run>
    void for_each_run(Index g, Run&& run) const {
        for (Index k = offsets[g]; k < offsets[g + 1]; ++k) run(members[k], Index{1});
    }
};

// Rows x features attributions; baselines has one row per row of X.
RowMatrixXd occlusion(const Model& model, const ConstRowRef& X, const ConstRowRef& baselines,
                      const SlidingWindows& windows, const std::vector<int>& targets,
                      const RunOptions& run);
RowMatrixXd feature_ablation(const Model& model, const ConstRowRef& X,
                             const ConstRowRef& baselines, const FeatureGroups& groups,
                             const std::vector<int>& targets, const RunOptions& run);

template <class Run>
void SlidingWindows::for_each_run(Index w, Run&& run) const {
    const auto rank = static_cast<Index>(shape.size());
    Shape begin(shape.size()), end(shape.size());
    for (Index a = 0; a < rank; ++a) {  // axis 0 varies fastest, as Captum numbers windows
        const auto A = static_cast<std::size_t>(a);
        begin[A] = (w % positions_[A]) * strides[A];
        end[A] = std::min(begin[A] + window[A], shape[A]);
        w /= positions_[A];
    }
    // odometer over every axis but the last, whose run is contiguous
    Shape at = begin;
    const auto last = static_cast<std::size_t>(rank - 1);
    while (true) {
        Index flat = 0;
        for (std::size_t a = 0; a < shape.size(); ++a) flat = flat * shape[a] + at[a];
        run(flat, end[last] - begin[last]);
        Index a = rank - 2;
        for (; a >= 0; --a) {
            const auto A = static_cast<std::size_t>(a);
            if (++at[A] < end[A]) break;
            at[A] = begin[A];
        }
        if (a < 0) return;
    }
}

}  // namespace glassbox
