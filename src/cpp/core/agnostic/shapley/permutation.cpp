// Antithetic permutation sampling of Shapley values: a permutation and its reverse per pair.
#include "core/agnostic/shapley/sampled.hpp"

#include <algorithm>
#include <cmath>

namespace glassbox::shapley {

void draw_permutation(const CounterRng& rng, Index j, Index d, std::vector<Index>& perm) {
    const std::uint64_t key = rng.subkey(static_cast<std::uint64_t>(j), 0);
    perm.resize(static_cast<std::size_t>(d));
    for (Index g = 0; g < d; ++g) perm[static_cast<std::size_t>(g)] = g;
    for (Index t = 0; t + 1 < d; ++t) {
        const auto r = t + std::min<Index>(d - t - 1, static_cast<Index>(
                               CounterRng::uniform_at(key, static_cast<std::uint64_t>(t)) *
                               static_cast<double>(d - t)));
        std::swap(perm[static_cast<std::size_t>(t)], perm[static_cast<std::size_t>(r)]);
    }
}

namespace {

SampledResult permutation_shapley_rows(const Game& game, const SampledOptions& options) {
    const Index n = game.n_rows(), k = game.n_outputs(), d = game.groups.size();
    SampledResult result = start_sampled(game);
    if (d == 1) return result;
    const Index max_pairs = std::max<Index>(2, options.n_samples / (2 * (d - 1)));
    const CounterRng rng(options.seed, kPermutationStream);
    CoalitionSet set(d);
    Bits bits(d);
    std::vector<Index> perms, chain;  // per pair: d groups; 2 (d - 1) coalition indices
    std::vector<Index> perm;
    std::vector<double> store;
    Index pairs = 0;
    Index target = options.tol > 0.0 ? std::min<Index>(max_pairs, 8) : max_pairs;
    while (true) {
        for (; pairs < target; ++pairs) {
            draw_permutation(rng, pairs, d, perm);
            perms.insert(perms.end(), perm.begin(), perm.end());
            bits.clear();  // forward prefixes
            for (Index t = 0; t + 1 < d; ++t) {
                bits.set(perm[static_cast<std::size_t>(t)]);
                chain.push_back(set.insert(bits.data()));
            }
            bits.clear();  // prefixes of the reverse
            for (Index t = 0; t + 1 < d; ++t) {
                bits.set(perm[static_cast<std::size_t>(d - 1 - t)]);
                chain.push_back(set.insert(bits.data()));
            }
        }
        append_coalition_values(game, set, static_cast<Index>(store.size()) / (n * k), store);
        const Index J = pairs;
#pragma omp parallel num_threads(loop_threads(game, n * k, 2.0 * static_cast<double>(J * d)))
        {
            std::vector<double> e(static_cast<std::size_t>(J * d));
#pragma omp for schedule(dynamic, 1)
            for (Index col = 0; col < n * k; ++col) {
                const Index i = col / k, o = col % k;
                auto value = [&](Index c) { return store[static_cast<std::size_t>((c * n + i) * k + o)]; };
                std::fill(e.begin(), e.end(), 0.0);
                for (Index j = 0; j < J; ++j) {
                    const Index* p = perms.data() + j * d;
                    const Index* links = chain.data() + j * 2 * (d - 1);
                    double* ej = e.data() + j * d;
                    for (int direction = 0; direction < 2; ++direction) {
                        double prev = result.base(o);
                        for (Index t = 0; t < d; ++t) {
                            const double cur =
                                t + 1 < d ? value(links[direction * (d - 1) + t]) : result.fx(i, o);
                            ej[direction ? p[d - 1 - t] : p[t]] += 0.5 * (cur - prev);
                            prev = cur;
                        }
                    }
                }
                for (Index g = 0; g < d; ++g) {
                    double mean = 0.0, sq = 0.0;
                    for (Index j = 0; j < J; ++j) mean += e[static_cast<std::size_t>(j * d + g)];
                    mean /= static_cast<double>(J);
                    for (Index j = 0; j < J; ++j) {
                        const double dev = e[static_cast<std::size_t>(j * d + g)] - mean;
                        sq += dev * dev;
                    }
                    result.values(i, g * k + o) = mean;
                    result.stderr_(i, g * k + o) =
                        std::sqrt(sq / static_cast<double>(J - 1) / static_cast<double>(J));
                }
            }
        }
        if (target >= max_pairs) break;
        if (converged(result, d, options)) break;
        target = std::min(max_pairs, 2 * target);
    }
    result.n_evaluated = set.size();
    result.n_draws = pairs;
    return result;
}

}  // namespace

SampledResult permutation_shapley(const Game& game, const SampledOptions& options) {
    const Index d = game.groups.size();
    require(d == 1 || options.n_samples >= 4 * (d - 1),
            "n_samples: PermutationShapley needs at least 4 * (d - 1) = " +
                std::to_string(4 * (d - 1)) + " coalitions (two antithetic pairs) for " +
                std::to_string(d) + " features or groups, got " +
                std::to_string(options.n_samples));
    // per row: the coalition values, k outputs each (at most n_samples distinct coalitions)
    const std::size_t table = sizeof(double) * static_cast<std::size_t>(game.n_outputs()) *
                              static_cast<std::size_t>(options.n_samples + 2);
    return in_row_blocks(game, options, table, permutation_shapley_rows);
}

}  // namespace glassbox::shapley
