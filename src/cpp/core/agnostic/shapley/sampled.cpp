// What the sampled estimators share: the endpoint values, the one-group game, the stopping rule,
// the row blocks that keep their value tables inside the memory budget.
#include "core/agnostic/shapley/sampled.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

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

bool converged(const SampledResult& result, Index d, const SampledOptions& options) {
    const Index n = result.values.rows(), k = result.fx.cols();
    const double tol = options.tol;
    for (Index i = 0; i < n; ++i) {
        for (Index o = 0; o < k; ++o) {
            if (!options.targets.empty() && o != options.targets[static_cast<std::size_t>(i)]) {
                continue;
            }
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

SampledResult in_row_blocks(const Game& game, const SampledOptions& options,
                            const SampledPlan& plan, const SampledEstimator& estimate) {
    const Index n = game.n_rows(), m = game.B.rows();
    require(options.targets.empty() || static_cast<Index>(options.targets.size()) == n,
            "target: expected one target per row");
    for (int t : options.targets) require(t >= 0 && t < game.n_outputs(), "target: out of range");
    const std::size_t budget = game.options.memory_budget;
    const std::size_t one_row = plan.design_bytes + plan.row_bytes;
    require_state_fits(one_row < plan.design_bytes ? SIZE_MAX : one_row, game.options, "n_samples",
                       std::string(plan.method) + "'s design of up to " +
                           std::to_string(plan.max_coalitions) +
                           " coalitions and their values for one row (" +
                           std::to_string(game.n_outputs()) + " outputs)");
    // rows per block: their state within the budget (the design is shared and fits, above)
    const Index rows = std::max<Index>(
        1, static_cast<Index>(std::min<std::size_t>(
               budget / std::max<std::size_t>(plan.row_bytes, 1), static_cast<std::size_t>(n))));
    // progress in model rows: per block its endpoints (its rows and the background), then at
    // most max_coalitions coalitions of every row on every background row
    const Index n_blocks = (n + rows - 1) / rows;
    const Index coalition_rows = mul_count(mul_count(n, m, "background"), plan.max_coalitions,
                                           "n_samples");
    const Index total =
        add_count(add_count(n, mul_count(n_blocks, m, "background"), "background"),
                  coalition_rows, "n_samples");
    const RunOptions inner = with_progress_total(game.options, total);
    SampledResult out;
    for (Index first = 0; first < n; first += rows) {
        const Index count = std::min(rows, n - first);
        const Game block{game.model,  game.X.middleRows(first, count), game.B, game.groups,
                         inner, game.chunk_rows};
        SampledOptions block_options = options;
        if (!options.targets.empty()) {
            block_options.targets.assign(options.targets.begin() + first,
                                         options.targets.begin() + first + count);
        }
        SampledResult part = estimate(block, block_options);
        // the coalitions this block did not need (tol stopped it, or duplicates) count as done
        report_progress(inner, std::max<Index>(0, plan.max_coalitions - part.n_evaluated) *
                                   count * m);
        if (count == n) return part;
        if (first == 0) {
            out.values.resize(n, part.values.cols());
            out.stderr_.resize(n, part.stderr_.cols());
            out.fx.resize(n, part.fx.cols());
            out.base = part.base;
        }
        out.values.middleRows(first, count) = part.values;
        out.stderr_.middleRows(first, count) = part.stderr_;
        out.fx.middleRows(first, count) = part.fx;
        out.n_evaluated = std::max(out.n_evaluated, part.n_evaluated);
        out.n_draws = std::max(out.n_draws, part.n_draws);
    }
    return out;
}

}  // namespace glassbox::shapley
