// Quadrature rules for path integrals over alpha in [0, 1] (Integrated Gradients).
#pragma once

#include "core/common.hpp"
#include "core/parallel.hpp"

namespace glassbox {

struct Quadrature {
    std::vector<double> alphas;
    std::vector<double> weights;
};

// method: riemann_left | riemann_right | riemann_middle | riemann_trapezoid | gausslegendre.
// n_steps in [1, kMaxCount]; the rule's tables must fit the state allowance of `options`.
// Gauss-Legendre: Newton in theta on P_n (recurrence near the ends, Stieltjes' O(1) interior
// expansion elsewhere), O(n) for n steps; the last few rules are cached.
Quadrature make_quadrature(const std::string& method, Index n_steps,
                           const RunOptions& options = RunOptions{});

}  // namespace glassbox
