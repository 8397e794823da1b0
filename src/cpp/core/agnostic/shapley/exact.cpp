#include "core/agnostic/shapley/exact.hpp"

#include <algorithm>
#include <cmath>

namespace glassbox::shapley {
namespace {

// w[s] = s! (n - s - 1)! / n! = 1 / (n * C(n - 1, s)), for s = 0..n-1.
std::vector<double> shapley_weights(Index n) {
    std::vector<double> w(static_cast<std::size_t>(std::max<Index>(n, 1)));
    double binom = 1.0;  // C(n - 1, s)
    for (Index s = 0; s < n; ++s) {
        w[static_cast<std::size_t>(s)] = 1.0 / (static_cast<double>(n) * binom);
        binom = binom * static_cast<double>(n - 1 - s) / static_cast<double>(s + 1);
    }
    return w;
}

// phi (d) and optionally the interaction matrix (d x d, shap's convention) from v over all
// 2^d coalitions indexed by their bit mask.
void shapley_from_table(const std::vector<double>& v, Index d, double* phi, double* inter,
                        Index stride) {
    const std::uint64_t full = std::uint64_t{1} << d;
    const std::vector<double> w = shapley_weights(d);
    std::vector<double> acc(static_cast<std::size_t>(d), 0.0);
    for (std::uint64_t S = 0; S < full; ++S) {
        const double ws = w[static_cast<std::size_t>(__builtin_popcountll(S))];
        for (Index g = 0; g < d; ++g) {
            const std::uint64_t bit = std::uint64_t{1} << g;
            if (!(S & bit)) acc[static_cast<std::size_t>(g)] += ws * (v[S | bit] - v[S]);
        }
    }
    for (Index g = 0; g < d; ++g) phi[g * stride] = acc[static_cast<std::size_t>(g)];
    if (!inter) return;
    // raw index I_gh with weights of the game on d - 1 players
    const std::vector<double> w2 = shapley_weights(d - 1);
    std::vector<double> I(static_cast<std::size_t>(d * d), 0.0);
    for (std::uint64_t S = 0; S < full && d >= 2; ++S) {
        const double ws = w2[static_cast<std::size_t>(__builtin_popcountll(S))];
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
    const Index n = game.n_rows(), k = game.n_outputs(), d = game.groups.size();
    require(d <= kMaxExactGroups,
            "groups: " + std::to_string(d) + " features or groups is too many for exact Shapley "
            "values (2^d coalitions; at most " + std::to_string(kMaxExactGroups) +
            "); use KernelShap or PermutationShapley, or fewer groups");
    const Index n_coalitions = Index{1} << d;
    CoalitionSet gray(d);
    for (Index c = 0; c < n_coalitions; ++c) {
        const std::uint64_t code = static_cast<std::uint64_t>(c ^ (c >> 1));
        gray.append(&code);
    }
    ExactResult result;
    Endpoints ends = endpoint_values(game);
    result.fx = std::move(ends.fx);
    result.base = std::move(ends.base);
    result.values.resize(n, d * k);
    if (interactions) result.interactions.resize(n, d * d * k);
    // rows per block: the block's 2^d x k double table within the memory budget
    const std::size_t table_bytes = sizeof(double) * static_cast<std::size_t>(n_coalitions * k);
    const Index block_rows = std::max<Index>(
        1, std::min<Index>(n, static_cast<Index>(game.options.memory_budget / table_bytes)));
    std::vector<double> table(static_cast<std::size_t>(block_rows * n_coalitions * k));
    for (Index r0 = 0; r0 < n; r0 += block_rows) {
        const Index r1 = std::min(n, r0 + block_rows);
        coalition_values(game, gray, 0, n_coalitions, r0, r1, table.data());
        const double cost = static_cast<double>(n_coalitions) * static_cast<double>(d) *
                            (interactions ? static_cast<double>(d) : 1.0);
#pragma omp parallel num_threads(loop_threads(game, (r1 - r0) * k, cost))
        {
            std::vector<double> v(static_cast<std::size_t>(n_coalitions));
#pragma omp for schedule(dynamic, 1)
            for (Index job = 0; job < (r1 - r0) * k; ++job) {
                const Index i = r0 + job / k, o = job % k;
                const double* rows = table.data() + (i - r0) * n_coalitions * k;
                for (Index c = 0; c < n_coalitions; ++c) {
                    v[static_cast<std::size_t>(c ^ (c >> 1))] = rows[c * k + o];
                }
                shapley_from_table(v, d, result.values.row(i).data() + o,
                                   interactions ? result.interactions.row(i).data() + o : nullptr,
                                   k);
            }
        }
    }
    return result;
}

}  // namespace glassbox::shapley
