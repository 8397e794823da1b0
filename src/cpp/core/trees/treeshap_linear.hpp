// Path-dependent TreeSHAP of one row and one tree in O(L * D) (see treeshap_linear.cpp).
#pragma once

#include "core/trees/ensemble.hpp"

#include <vector>

namespace glassbox::trees::detail {

// The Gauss-Legendre rule on [0, 1] exact for the polynomials of a tree of depth max_depth.
struct LinearRule {
    explicit LinearRule(Index max_depth);
    std::vector<double> t, w;
};

// A feature's factor t * one + (1 - t) * zero on the current path: `one` is 1 when x follows
// every split on it so far, `zero` the product of their cover ratios.
struct PathFactor {
    double one = 0, zero = 0;
    bool on_path = false;
};

// Per-thread buffers of the walk (reused across rows and trees).
struct LinearScratch {
    std::vector<PathFactor> factors;
    std::vector<double> values;
};

// Adds the path-dependent values of row x for tree t into phi (d, k). With cond >= 0, adds
// instead phi_i | cond present - phi_i | cond absent for every i != cond (twice shap's
// interaction value).
void linear_tree_values(const TreeEnsemble& model, const LinearRule& rule, Index t,
                        const float* x, double* phi, LinearScratch& scratch,
                        std::int32_t cond = -1);

}  // namespace glassbox::trees::detail
