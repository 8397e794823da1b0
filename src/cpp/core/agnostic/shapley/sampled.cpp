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
    result.spread = std::move(ends.spread);
    result.values = RowMatrixXd::Zero(n, d * k);
    result.stderr_ = RowMatrixXd::Zero(n, d * k);
    result.n_samples = IndexVector::Zero(n);
    if (d == 1) {  // one player takes the whole difference
        for (Index i = 0; i < n; ++i) {
            for (Index o = 0; o < k; ++o) result.values(i, o) = result.fx(i, o) - result.base(o);
        }
    }
    return result;
}

double row_tolerance(const SampledResult& result, Index i, Index o,
                     const SampledOptions& options) {
    if (!options.tol_relative) return options.tol;
    double scale = std::abs(result.fx(i, o) - result.base(o));
    if (scale == 0.0) scale = result.spread(o) > 0.0 ? result.spread(o) : 1.0;
    return options.tol * scale;
}

namespace {

bool row_converged(const SampledResult& result, Index i, Index d, const SampledOptions& options,
                   double inflation) {
    const Index k = result.fx.cols();
    for (Index o = 0; o < k; ++o) {
        if (!options.targets.empty() && o != options.targets[static_cast<std::size_t>(i)]) {
            continue;
        }
        const double limit = row_tolerance(result, i, o, options);
        for (Index g = 0; g < d; ++g) {
            const double se = result.stderr_(i, g * k + o);  // exactly 0: no sampling noise
            if (se != 0.0 && !(se * inflation <= limit)) return false;
        }
    }
    return true;
}

}  // namespace

ActiveRows::ActiveRows(Index n) : rows_(static_cast<std::size_t>(n)) {
    for (Index i = 0; i < n; ++i) rows_[static_cast<std::size_t>(i)] = i;
}

void ActiveRows::retire(SampledResult& result, Index d, const SampledOptions& options,
                        Index coalitions, Index draws, bool last, double inflation) {
    const bool all = last || options.tol <= 0.0;
    std::size_t kept = 0;
    for (Index i : rows_) {
        if (all || row_converged(result, i, d, options, inflation)) {
            result.n_samples(i) = coalitions;
            result.n_evaluated = std::max(result.n_evaluated, coalitions);
            result.n_draws = std::max(result.n_draws, draws);
        } else {
            rows_[kept++] = i;
        }
    }
    rows_.resize(kept);
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
        // the coalitions this block's rows did not need (tol stopped them, or duplicates) count
        // as done
        Index unused = 0;
        for (Index i = 0; i < count; ++i) {
            unused += std::max<Index>(0, plan.max_coalitions - part.n_samples(i));
        }
        report_progress(inner, unused * m);
        if (count == n) return part;
        if (first == 0) {
            out.values.resize(n, part.values.cols());
            out.stderr_.resize(n, part.stderr_.cols());
            out.fx.resize(n, part.fx.cols());
            out.base = part.base;
            out.n_samples.resize(n);
        }
        out.n_samples.segment(first, count) = part.n_samples;
        out.values.middleRows(first, count) = part.values;
        out.stderr_.middleRows(first, count) = part.stderr_;
        out.fx.middleRows(first, count) = part.fx;
        out.n_evaluated = std::max(out.n_evaluated, part.n_evaluated);
        out.n_draws = std::max(out.n_draws, part.n_draws);
    }
    return out;
}

}  // namespace glassbox::shapley
