// Quadrature rules for path integrals over alpha in [0, 1] (Integrated Gradients).
#pragma once

#include "core/common.hpp"

namespace glassbox {

struct Quadrature {
    std::vector<double> alphas;
    std::vector<double> weights;
};

// method: riemann_left | riemann_right | riemann_middle | riemann_trapezoid | gausslegendre.
Quadrature make_quadrature(const std::string& method, int n_steps);

}  // namespace glassbox
