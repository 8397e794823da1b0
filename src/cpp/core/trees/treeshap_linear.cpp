// Path-dependent TreeSHAP in O(L * D) per row and tree, after Linear TreeSHAP (Bifet et al.,
// 2022): a leaf l with unique path features F, each with its product of cover ratios z_j and
// o_j = 1 when x follows every split of j on the path (else 0), gives feature i
//     v_l (o_i - z_i) * sum_{S in F - i} |S|! (|F| - |S| - 1)! / |F|! prod_S o_j prod_rest z_j
//   = v_l (o_i - z_i) * integral_0^1 prod_{j in F - i} (t o_j + (1 - t) z_j) dt
// (the weights are Beta integrals). The integrand is a polynomial of degree < D, so a
// Gauss-Legendre rule of ceil(D / 2) points integrates it exactly; each node's polynomial
// (the sum over its leaves of v_l prod_F f_j) is kept as its values at those points, summed
// bottom-up, and the edge into a child splitting on i adds (o_i - z_i) * integral S_child / f_i
// (all leaves below share i's factor). A feature met again deeper moves its leaves' share to
// the deeper edge: that edge subtracts the share the earlier edge counted with the old factor.
//
// Interactions: phi_i with feature c always present minus phi_i with c always absent is the same
// sum with c's factor replaced by the constant (o_c - z_c) (c is no longer a player, and the
// Beta integrals give the weights of the remaining players), so one walk per conditioned feature
// gives 2 * phi_ic for every i.
#include "core/trees/treeshap_linear.hpp"

#include <algorithm>
#include <cmath>

namespace glassbox::trees::detail {

LinearRule::LinearRule(Index max_depth) {
    const Index n = std::max<Index>(1, (max_depth + 1) / 2);
    t.resize(static_cast<std::size_t>(n));
    w.resize(t.size());
    const double pi = 3.14159265358979323846;
    for (Index i = 0; i < n; ++i) {
        // Newton's method on the Legendre polynomial P_n from the usual first guess.
        double x = std::cos(pi * (i + 0.75) / (n + 0.5)), derivative = 1;
        for (int iteration = 0; iteration < 100; ++iteration) {
            double p1 = 1, p2 = 0;
            for (Index j = 1; j <= n; ++j) {
                const double p3 = p2;
                p2 = p1;
                p1 = ((2.0 * j - 1) * x * p2 - (j - 1.0) * p3) / j;
            }
            derivative = n * (x * p1 - p2) / (x * x - 1);
            const double step = p1 / derivative;
            x -= step;
            if (std::abs(step) < 1e-16) break;
        }
        t[i] = (1 - x) / 2;  // on [0, 1]
        w[i] = 1 / ((1 - x * x) * derivative * derivative);
    }
}

namespace {

struct LinearWalker {
    const TreeEnsemble& model;
    const TreeEnsembleArrays& a;
    const LinearRule& rule;
    const float* x;
    double* phi;  // (d, k) of this row
    Index k;
    std::int32_t first_output, width;
    std::vector<PathFactor>& factors;  // per feature: its factor on the current path
    std::vector<double>& scratch;  // per level: P (q) and S (q * width)
    std::int32_t cond;             // -1, or the feature whose factor is (one - zero) (see header)

    Index q() const { return static_cast<Index>(rule.t.size()); }
    double* down_product(int level) const { return scratch.data() + level * q() * (1 + width); }
    double* sums(int level) const { return down_product(level) + q(); }

    // integral of S / f for the factor f = t * one + (1 - t) * zero, output o.
    double integral(const double* S, std::int32_t o, const PathFactor& f) const {
        double total = 0;
        for (Index i = 0; i < q(); ++i) {
            total += rule.w[i] * S[i * width + o] / (rule.t[i] * f.one + (1 - rule.t[i]) * f.zero);
        }
        return total;
    }

    // Adds into sums(level) the values at the rule's points of the node's polynomial.
    void walk(std::int32_t node, int level) const {
        const std::int32_t f = a.features[node];
        const double* P = down_product(level);
        double* S = sums(level);
        if (f < 0) {
            double scale = 1;
            if (cond >= 0) {
                const PathFactor& c = factors[cond];
                scale = c.on_path ? c.one - c.zero : 0;  // a leaf without it: on - off = 0
            }
            const double* leaf = a.values.data() + a.value_offsets[node];
            for (Index i = 0; i < q(); ++i) {
                for (std::int32_t o = 0; o < width; ++o) S[i * width + o] += scale * P[i] * leaf[o];
            }
            return;
        }
        const std::int32_t hot = model.next(node, x[f]);
        const PathFactor previous = factors[f];
        double* child_P = down_product(level + 1);
        double* child_S = sums(level + 1);
        double* out = phi + static_cast<Index>(f) * k + first_output;
        for (const std::int32_t child : {a.children_left[node], a.children_right[node]}) {
            PathFactor now{child == hot ? 1.0 : 0.0, a.covers[child] / a.covers[node], true};
            if (previous.on_path) {
                now.one *= previous.one;
                now.zero *= previous.zero;
            }
            if (f == cond) {  // its factor is a constant, applied at the leaves
                std::copy(P, P + q(), child_P);
            } else if (!previous.on_path) {
                for (Index i = 0; i < q(); ++i) {
                    child_P[i] = P[i] * (rule.t[i] * now.one + (1 - rule.t[i]) * now.zero);
                }
            } else {
                for (Index i = 0; i < q(); ++i) {
                    const double t = rule.t[i];
                    const double old = t * previous.one + (1 - t) * previous.zero;
                    // A factor that vanishes stays zero (both its fractions are then zero).
                    child_P[i] = old == 0 ? 0 : P[i] / old * (t * now.one + (1 - t) * now.zero);
                }
            }
            std::fill(child_S, child_S + q() * width, 0.0);
            factors[f] = now;
            walk(child, level + 1);
            factors[f] = previous;
            for (std::int32_t o = 0; o < width && f != cond; ++o) {
                if (now.one != now.zero) out[o] += (now.one - now.zero) * integral(child_S, o, now);
                if (previous.on_path && previous.one != previous.zero) {
                    out[o] -= (previous.one - previous.zero) * integral(child_S, o, previous);
                }
            }
            for (Index i = 0; i < q() * width; ++i) S[i] += child_S[i];
        }
    }
};

}  // namespace

void linear_tree_values(const TreeEnsemble& model, const LinearRule& rule, Index t,
                        const float* x, double* phi, LinearScratch& scratch, std::int32_t cond) {
    const TreeEnsembleArrays& a = model.arrays();
    const std::int32_t width = a.tree_widths[t];
    const Index q = static_cast<Index>(rule.t.size());
    // The walk restores every factor it sets: the buffer is all off between trees.
    if (scratch.factors.size() != static_cast<std::size_t>(a.n_features)) {
        scratch.factors.assign(static_cast<std::size_t>(a.n_features), {});
    }
    scratch.values.resize(static_cast<std::size_t>((model.max_depth() + 2) * q * (1 + width)));
    const LinearWalker walker{model, a, rule, x, phi, model.n_outputs(), a.tree_outputs[t], width,
                              scratch.factors, scratch.values, cond};
    std::fill(walker.down_product(0), walker.down_product(0) + q, 1.0);
    std::fill(walker.sums(0), walker.sums(0) + q * width, 0.0);
    walker.walk(static_cast<std::int32_t>(a.tree_offsets[t]), 0);
}

}  // namespace glassbox::trees::detail
