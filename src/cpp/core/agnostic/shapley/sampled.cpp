// What the sampled estimators share: the endpoint values, the one-group game, the stopping rule.
#include "core/agnostic/shapley/sampled.hpp"

#include <algorithm>
#include <cmath>

namespace glassbox::shapley {

SampledResult start_sampled(const Game& game) {
    check_game(game);
    const Index n = game.n_rows(), k = game.n_outputs(), d = game.groups.size();
    SampledResult result;
    Endpoints ends = endpoint_values(game);
    result.fx = std::move(ends.fx);
    result.base = std::move(ends.base);
    result.values = RowMatrixXd::Zero(n, d * k);
    result.stderr_ = RowMatrixXd::Zero(n, d * k);
    if (d == 1) {  // one player takes the whole difference
        for (Index i = 0; i < n; ++i) {
            for (Index o = 0; o < k; ++o) result.values(i, o) = result.fx(i, o) - result.base(o);
        }
    }
    return result;
}

bool converged(const SampledResult& result, Index d, double tol) {
    const Index n = result.values.rows(), k = result.fx.cols();
    for (Index i = 0; i < n; ++i) {
        for (Index o = 0; o < k; ++o) {
            double lo = INFINITY, hi = -INFINITY, worst = 0.0;
            for (Index g = 0; g < d; ++g) {
                lo = std::min(lo, result.values(i, g * k + o));
                hi = std::max(hi, result.values(i, g * k + o));
                worst = std::max(worst, result.stderr_(i, g * k + o));
            }
            if (worst > tol * (hi - lo)) return false;
        }
    }
    return true;
}

}  // namespace glassbox::shapley
