#include "core/methods/quadrature.hpp"

#include <cmath>

namespace glassbox {
namespace {

// Gauss-Legendre nodes and weights on [-1, 1] by Newton's method on P_n (Golub-Welsch is not
// needed at these sizes); accurate to double precision for n up to several thousand.
void gauss_legendre(int n, std::vector<double>& nodes, std::vector<double>& weights) {
    nodes.assign(n, 0.0);
    weights.assign(n, 0.0);
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < (n + 1) / 2; ++i) {
        double x = std::cos(pi * (i + 0.75) / (n + 0.5));
        double derivative = 0.0;
        for (int iteration = 0; iteration < 100; ++iteration) {
            double p0 = 1.0, p1 = x;
            for (int k = 2; k <= n; ++k) {
                const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            derivative = n * (x * p1 - p0) / (x * x - 1.0);
            const double step = p1 / derivative;
            x -= step;
            if (std::abs(step) < 1e-16) break;
        }
        const double w = 2.0 / ((1.0 - x * x) * derivative * derivative);
        nodes[i] = -x;  // ascending order, as numpy.polynomial.legendre.leggauss
        nodes[n - 1 - i] = x;
        weights[i] = w;
        weights[n - 1 - i] = w;
    }
}

}  // namespace

Quadrature make_quadrature(const std::string& method, int n_steps) {
    require(n_steps >= 1, "n_steps: must be at least 1, got " + std::to_string(n_steps));
    Quadrature q;
    const double n = n_steps;
    if (method == "gausslegendre") {
        gauss_legendre(n_steps, q.alphas, q.weights);
        for (int k = 0; k < n_steps; ++k) {
            q.alphas[k] = 0.5 * (q.alphas[k] + 1.0);
            q.weights[k] *= 0.5;
        }
        return q;
    }
    if (method == "riemann_trapezoid") {
        require(n_steps >= 2, "n_steps: riemann_trapezoid needs at least 2 steps, got " +
                                  std::to_string(n_steps));
        for (int k = 0; k < n_steps; ++k) {
            q.alphas.push_back(k / (n - 1.0));
            q.weights.push_back((k == 0 || k == n_steps - 1 ? 0.5 : 1.0) / (n - 1.0));
        }
        return q;
    }
    double offset;
    if (method == "riemann_left") {
        offset = 0.0;
    } else if (method == "riemann_right") {
        offset = 1.0;
    } else if (method == "riemann_middle") {
        offset = 0.5;
    } else {
        throw std::invalid_argument(
            "method: expected one of 'riemann_left', 'riemann_right', 'riemann_middle', "
            "'riemann_trapezoid', 'gausslegendre', got '" + method + "'");
    }
    for (int k = 0; k < n_steps; ++k) {
        q.alphas.push_back((k + offset) / n);
        q.weights.push_back(1.0 / n);
    }
    return q;
}

}  // namespace glassbox
