#include "core/methods/quadrature.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <utility>

namespace glassbox {
namespace {

constexpr double kPi = 3.14159265358979323846;

// P_n at cos(theta) and its theta-derivative by the three-term recurrence, O(n). Near x = 1 the
// P_k are all close to 1: the recurrence runs on the differences u_k = P_k - P_{k-1},
//   k u_k = (k - 1) u_{k-1} - (2k - 1) y P_{k-1},  y = 1 - x = 2 sin^2(theta / 2),
// so a node near the end keeps its relative precision (x = cos theta itself would lose it).
void legendre_recurrence(Index n, double theta, double& value, double& derivative) {
    const double s = std::sin(0.5 * theta), y = 2.0 * s * s;
    double p = 1.0 - y, u = -y, d0 = 0.0, d1 = 1.0;  // P_1, P_1 - P_0, dP_0/dx, dP_1/dx
    for (Index k = 2; k <= n; ++k) {
        const double K = static_cast<double>(k), c = 2.0 * K - 1.0;
        u = ((K - 1.0) * u - c * y * p) / K;
        const double d2 = d0 + c * p;  // P'_k = P'_{k-2} + (2k - 1) P_{k-1}
        d0 = d1;
        d1 = d2;
        p += u;
    }
    value = p;
    derivative = -std::sin(theta) * d1;
}

// P_n(cos theta) / C_n and its theta-derivative by Stieltjes' interior expansion (20 terms):
// sum_m h_m cos((n + m + 1/2) theta - (m + 1/2) pi / 2) / (2 sin theta)^(m + 1/2), with
// h_0 = 1, h_{m+1} = h_m (m + 1/2)^2 / ((m + 1)(n + m + 3/2)); O(1). Used where 2 n sin(theta)
// >= 100, where term m shrinks like m! / (2 n sin theta)^m (below 1e-20 at 20 terms).
void legendre_stieltjes(Index n, double theta, double& value, double& derivative) {
    const double two_sin = 2.0 * std::sin(theta), cot = std::cos(theta) / std::sin(theta);
    const double N = static_cast<double>(n);
    double h = 1.0, f = 0.0, df = 0.0, power = 1.0 / std::sqrt(two_sin);
    // the angle advances by theta - pi/2 from one term to the next: rotate (two sines in all)
    const double a0 = (N + 0.5) * theta - 0.25 * kPi;
    double c = std::cos(a0), sn = std::sin(a0);
    const double step_c = std::sin(theta), step_s = -std::cos(theta);  // cos, sin of theta - pi/2
    for (int m = 0; m < 20; ++m) {
        if (m > 0) {
            const double next_c = c * step_c - sn * step_s;
            sn = sn * step_c + c * step_s;
            c = next_c;
        }
        f += h * c * power;
        df -= h * power * ((N + m + 0.5) * sn + (m + 0.5) * cot * c);
        h *= (m + 0.5) * (m + 0.5) / ((m + 1.0) * (N + m + 1.5));
        power /= two_sin;
    }
    value = f;
    derivative = df;
}

// C_n = (4 / pi) prod_{j <= n} j / (j + 1/2), from a compensated sum of logarithms (O(n)).
double stieltjes_constant(Index n) {
    double sum = 0.0, carry = 0.0;
    for (Index j = 1; j <= n; ++j) {
        const double term = std::log1p(0.5 / static_cast<double>(j)) - carry;
        const double next = sum + term;
        carry = (next - sum) - term;
        sum = next;
    }
    return 4.0 / kPi * std::exp(-sum);
}

// The zero of P_n at theta_k (k = 1: nearest x = 1). Starting points: Bessel zeros
// j_{0,k} / (n + 1/2) (McMahon's expansion) near the end, Tricomi's formula inside.
double initial_theta(Index n, Index k) {
    const double N = static_cast<double>(n), K = static_cast<double>(k);
    if (k <= 20) {
        const double b = kPi * (K - 0.25), b2 = b * b;
        const double j0 = b + 1.0 / (8.0 * b) - 31.0 / (384.0 * b * b2) +
                          3779.0 / (15360.0 * b * b2 * b2);
        return j0 / (N + 0.5);
    }
    const double t = kPi * (4.0 * K - 1.0) / (4.0 * N + 2.0);
    return std::acos((1.0 - (N - 1.0) / (8.0 * N * N * N)) * std::cos(t));
}

using Rule = std::pair<std::vector<double>, std::vector<double>>;

// Gauss-Legendre nodes and weights on [0, 1], ascending, in O(n) time: Newton in theta
// (x = cos theta) on P_n, evaluated by the recurrence for the few nodes near the ends (and for
// every node when n <= 128) and by the O(1) interior expansion elsewhere. Nodes near 0 come as
// sin^2(theta / 2), so they keep their relative precision. Weight: 2 / (dP_n / dtheta)^2.
Rule compute_gauss_legendre(Index n) {
    std::vector<double> nodes(static_cast<std::size_t>(n)), weights(static_cast<std::size_t>(n));
    const double C = n > 128 ? stieltjes_constant(n) : 1.0;
    for (Index k = 1; k <= (n + 1) / 2; ++k) {
        double theta = initial_theta(n, k);
        const bool interior = n > 128 && 2.0 * n * std::sin(theta) >= 100.0;
        double value = 0.0, derivative = 1.0;
        auto evaluate = [&] {
            if (interior) {
                legendre_stieltjes(n, theta, value, derivative);
                derivative *= C;
                value *= C;
            } else {
                legendre_recurrence(n, theta, value, derivative);
            }
        };
        // quadratic convergence from these starting points: stop once a step is at rounding level
        // or no longer shrinks
        double previous = std::numeric_limits<double>::infinity();
        for (int iteration = 0; iteration < 20; ++iteration) {
            evaluate();
            const double step = value / derivative;
            if (!(std::abs(step) < previous)) break;
            theta -= step;
            previous = std::abs(step);
            if (previous <= 1e-15 * theta) break;
        }
        evaluate();  // the derivative at the converged node, for the weight
        if (2 * k - 1 == n) theta = 0.5 * kPi;  // the middle node of an odd rule
        const double half = std::sin(0.5 * theta), w = 1.0 / (derivative * derivative);
        const auto low = static_cast<std::size_t>(k - 1), high = static_cast<std::size_t>(n - k);
        nodes[low] = half * half;
        nodes[high] = 1.0 - half * half;
        if (low == high) nodes[low] = 0.5;
        weights[low] = weights[high] = w;  // 2 / P'^2 on [-1, 1], halved on [0, 1]
    }
    return {std::move(nodes), std::move(weights)};
}

// The last few rules, shared between threads (a rule of 10^6 steps takes ~0.1 s).
Rule gauss_legendre(Index n) {
    static std::mutex mutex;
    static std::vector<std::pair<Index, std::shared_ptr<const Rule>>> cache;  // newest last
    constexpr std::size_t kCachedRules = 4;
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (auto it = cache.begin(); it != cache.end(); ++it) {
            if (it->first != n) continue;
            auto entry = *it;
            cache.erase(it);
            cache.push_back(entry);
            return *entry.second;
        }
    }
    auto rule = std::make_shared<const Rule>(compute_gauss_legendre(n));
    std::lock_guard<std::mutex> lock(mutex);
    if (cache.size() == kCachedRules) cache.erase(cache.begin());
    cache.emplace_back(n, rule);
    return *rule;
}

}  // namespace

Quadrature make_quadrature(const std::string& method, Index n_steps, const RunOptions& options) {
    require_count(n_steps, "n_steps", 1);
    // the rule's nodes and weights (and the cached copy of a Gauss-Legendre rule)
    require_state_fits(bytes_of(n_steps, 4 * sizeof(double)), options, "n_steps",
                       "the quadrature rule of " + std::to_string(n_steps) + " steps");
    Quadrature q;
    const double n = static_cast<double>(n_steps);
    if (method == "gausslegendre") {
        Rule rule = gauss_legendre(n_steps);
        q.alphas = std::move(rule.first);
        q.weights = std::move(rule.second);
        return q;
    }
    if (method == "riemann_trapezoid") {
        require(n_steps >= 2, "n_steps: riemann_trapezoid needs at least 2 steps, got " +
                                  std::to_string(n_steps));
        for (Index k = 0; k < n_steps; ++k) {
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
    for (Index k = 0; k < n_steps; ++k) {
        q.alphas.push_back((k + offset) / n);
        q.weights.push_back(1.0 / n);
    }
    return q;
}

}  // namespace glassbox
