#include "core/agnostic/shapley/exact.hpp"

#include <algorithm>
#include <cmath>

namespace glassbox::shapley {
namespace {

// The Shapley weights of a game of n players by coalition size: w(s) = s! (n - s - 1)! / n! =
// 1 / (n * C(n - 1, s)) for a coalition of s players leaving out the one scored, s = 0..n-1.
// Looking up a size outside that range is a bug (it once read past the table for the full
// coalition): it throws rather than read beyond the entries.
class SizeWeights {
public:
    explicit SizeWeights(Index n) : w_(static_cast<std::size_t>(std::max<Index>(n, 0))) {
        double binom = 1.0;  // C(n - 1, s)
        for (Index s = 0; s < n; ++s) {
            w_[static_cast<std::size_t>(s)] = 1.0 / (static_cast<double>(n) * binom);
            binom = binom * static_cast<double>(n - 1 - s) / static_cast<double>(s + 1);
        }
    }
    double operator()(Index s) const {
        if (s < 0 || s >= static_cast<Index>(w_.size())) {
            throw std::logic_error("exact Shapley: no weight for a coalition of " +
                                   std::to_string(s) + " of " + std::to_string(w_.size()) +
                                   " players");
        }
        return w_[static_cast<std::size_t>(s)];
    }

private:
    std::vector<double> w_;
};

// phi (d) and optionally the interaction matrix (d x d, shap's convention) from v over all
// 2^d coalitions indexed by their bit mask.
void shapley_from_table(const std::vector<double>& v, Index d, double* phi, double* inter,
                        Index stride) {
    const std::uint64_t full = std::uint64_t{1} << d;
    const SizeWeights w(d);
    std::vector<double> acc(static_cast<std::size_t>(d), 0.0);
    for (std::uint64_t S = 0; S + 1 < full; ++S) {  // the full coalition adds no player
        const double ws = w(__builtin_popcountll(S));
        for (Index g = 0; g < d; ++g) {
            const std::uint64_t bit = std::uint64_t{1} << g;
            if (!(S & bit)) acc[static_cast<std::size_t>(g)] += ws * (v[S | bit] - v[S]);
        }
    }
    for (Index g = 0; g < d; ++g) phi[g * stride] = acc[static_cast<std::size_t>(g)];
    if (!inter) return;
    // raw index I_gh with weights of the game on d - 1 players (S leaves out both g and h)
    const SizeWeights w2(d - 1);
    std::vector<double> I(static_cast<std::size_t>(d * d), 0.0);
    for (std::uint64_t S = 0; S < full && d >= 2; ++S) {
        const Index size = __builtin_popcountll(S);
        if (size + 2 > d) continue;  // no pair left out
        const double ws = w2(size);
        for (Index g = 0; g < d; ++g) {
            const std::uint64_t bg = std::uint64_t{1} << g;
            if (S & bg) continue;
            for (Index h = g + 1; h < d; ++h) {
                const std::uint64_t bh = std::uint64_t{1} << h;
                if (S & bh) continue;
                I[static_cast<std::size_t>(g * d + h)] +=
                    ws * (v[S | bg | bh] - v[S | bg] - v[S | bh] + v[S]);
            }
        }
    }
    for (Index g = 0; g < d; ++g) {
        double off = 0.0;
        for (Index h = 0; h < d; ++h) {
            if (h == g) continue;
            const double half = 0.5 * I[static_cast<std::size_t>(std::min(g, h) * d + std::max(g, h))];
            inter[(g * d + h) * stride] = half;
            off += half;
        }
        inter[(g * d + g) * stride] = acc[static_cast<std::size_t>(g)] - off;
    }
}

}  // namespace

ExactResult exact_shapley(const Game& game, bool interactions) {
    check_game(game);
    const Index n = game.n_rows(), k = game.n_outputs(), d = game.groups.size(),
                m = game.B.rows();
    require(d <= kMaxExactGroups,
            "groups: " + std::to_string(d) + " features or groups is too many for exact Shapley "
            "values (2^d coalitions; at most " + std::to_string(kMaxExactGroups) +
            "); use KernelShap or PermutationShapley, or fewer groups");
    const Index n_coalitions = Index{1} << d;
    // one row's 2^d x k table of values is the least a block holds
    const std::size_t table_bytes = bytes_of(mul_count(n_coalitions, k, "n_outputs"),
                                             sizeof(double));
    require_state_fits(table_bytes, game.options, "n_outputs",
                       "exact Shapley's table of 2^" + std::to_string(d) + " coalition values x " +
                           std::to_string(k) + " outputs for one row");
    // progress in model rows: the endpoints, then every coalition on every background row
    const Index total = add_count(
        add_count(n, m, "X"),
        mul_count(mul_count(n, n_coalitions, "X"), m, "background"), "background");
    const Game job{game.model, game.X, game.B, game.groups,
                   with_progress_total(game.options, total), game.chunk_rows};
    CoalitionSet gray(d);
    for (Index c = 0; c < n_coalitions; ++c) {
        const std::uint64_t code = static_cast<std::uint64_t>(c ^ (c >> 1));
        gray.append(&code);
    }
    ExactResult result;
    Endpoints ends = endpoint_values(job);
    result.fx = std::move(ends.fx);
    result.base = std::move(ends.base);
    result.values.resize(n, d * k);
    if (interactions) result.interactions.resize(n, d * d * k);
    // rows per block: the block's 2^d x k double table within the memory budget
    const Index block_rows = std::max<Index>(
        1, std::min<Index>(n, static_cast<Index>(std::min<std::size_t>(
                                  game.options.memory_budget / table_bytes, kMaxCount))));
    std::vector<double> table(static_cast<std::size_t>(block_rows * n_coalitions * k));
    for (Index r0 = 0; r0 < n; r0 += block_rows) {
        const Index r1 = std::min(n, r0 + block_rows);
        coalition_values(job, gray, 0, n_coalitions, r0, r1, table.data());
        const double cost = static_cast<double>(n_coalitions) * static_cast<double>(d) *
                            (interactions ? static_cast<double>(d) : 1.0);
        ParallelErrors errors;  // no exception (bad_alloc, Interrupted) may leave the region
#pragma omp parallel num_threads(loop_threads(job, (r1 - r0) * k, cost))
        {
            std::vector<double> v;
            errors.run([&] { v.resize(static_cast<std::size_t>(n_coalitions)); });
#pragma omp for schedule(dynamic, 1)
            for (Index row_job = 0; row_job < (r1 - r0) * k; ++row_job) {
                errors.run([&] {
                    check_interrupt(job.options);
                    const Index i = r0 + row_job / k, o = row_job % k;
                    const double* rows = table.data() + (i - r0) * n_coalitions * k;
                    for (Index c = 0; c < n_coalitions; ++c) {
                        v[static_cast<std::size_t>(c ^ (c >> 1))] = rows[c * k + o];
                    }
                    shapley_from_table(
                        v, d, result.values.row(i).data() + o,
                        interactions ? result.interactions.row(i).data() + o : nullptr, k);
                });
            }
        }
        errors.rethrow();
    }
    return result;
}

}  // namespace glassbox::shapley
