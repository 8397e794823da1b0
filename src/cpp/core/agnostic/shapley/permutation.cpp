// Antithetic permutation sampling of Shapley values: a permutation and its reverse per pair.
#include "core/agnostic/shapley/sampled.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

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

// Pairs of a job: max(2, n_samples / (2 (d - 1))).
Index max_pairs_of(Index n_samples, Index d) { return std::max<Index>(2, n_samples / (2 * (d - 1))); }

SampledResult permutation_shapley_rows(const Game& game, const SampledOptions& options) {
    const Index n = game.n_rows(), k = game.n_outputs(), d = game.groups.size();
    SampledResult result = start_sampled(game);
    if (d == 1) return result;
    const Index max_pairs = max_pairs_of(options.n_samples, d);
    const CounterRng rng(options.seed, kPermutationStream);
    CoalitionSet set(d);
    Bits bits(d);
    // per pair: its d groups, then the 2 (d - 1) coalition indices of its prefixes (int32: at most
    // kMaxCount coalitions)
    std::vector<std::int32_t> perms, chain;
    std::vector<Index> perm;
    std::vector<double> store;  // v(S), coalition-major (c * n + i) * k + o
    store.reserve(static_cast<std::size_t>(
        std::min<Index>(2 * (d - 1) * max_pairs, d < 62 ? (Index{1} << d) : kMaxCount) * n * k));
    Index pairs = 0;
    // under tol: rounds of 8 pairs, doubling; each round extends the last
    Index target = options.tol > 0.0 ? std::min<Index>(max_pairs, 8) : max_pairs;
    ActiveRows active(n);
    Index evaluated = 0;  // coalitions every active row has values for
    while (!active.empty()) {
        for (; pairs < target; ++pairs) {
            if ((pairs & 0xFFF) == 0) check_interrupt(game.options);
            draw_permutation(rng, pairs, d, perm);
            perms.insert(perms.end(), perm.begin(), perm.end());
            bits.clear();  // forward prefixes
            for (Index t = 0; t + 1 < d; ++t) {
                bits.set(perm[static_cast<std::size_t>(t)]);
                chain.push_back(static_cast<std::int32_t>(set.insert(bits.data())));
            }
            bits.clear();  // prefixes of the reverse
            for (Index t = 0; t + 1 < d; ++t) {
                bits.set(perm[static_cast<std::size_t>(d - 1 - t)]);
                chain.push_back(static_cast<std::int32_t>(set.insert(bits.data())));
            }
        }
        append_coalition_values(game, set, evaluated, active.rows(), store);
        evaluated = set.size();
        const Index J = pairs;
        const std::vector<Index>& rows = active.rows();
        const Index cols = static_cast<Index>(rows.size()) * k;
        // pair j's estimate of phi (output o of row i): the mean of the marginal contributions
        // along its permutation and along the reverse
        const auto pair_estimate = [&](Index j, Index i, Index o, double* e) {
            const std::int32_t* p = perms.data() + j * d;
            const std::int32_t* links = chain.data() + j * 2 * (d - 1);
            std::fill(e, e + d, 0.0);
            for (int direction = 0; direction < 2; ++direction) {
                double prev = result.base(o);
                for (Index t = 0; t < d; ++t) {
                    const double cur =
                        t + 1 < d ? store[static_cast<std::size_t>(
                                        (links[direction * (d - 1) + t] * n + i) * k + o)]
                                  : result.fx(i, o);
                    e[direction ? p[d - 1 - t] : p[t]] += 0.5 * (cur - prev);
                    prev = cur;
                }
            }
        };
        ParallelErrors errors;  // no exception (bad_alloc, Interrupted) may leave the region
#pragma omp parallel num_threads(loop_threads(game, cols, 2.0 * static_cast<double>(J * d)))
        {
            // two passes over the pairs (mean, then deviations): memory O(d), not O(pairs * d)
            std::vector<double> e, mean, sq;
#pragma omp for schedule(dynamic, 1)
            for (Index col = 0; col < cols; ++col) {
                errors.run([&] {
                    check_interrupt(game.options);
                    const Index i = rows[static_cast<std::size_t>(col / k)], o = col % k;
                    e.resize(static_cast<std::size_t>(d));
                    mean.assign(static_cast<std::size_t>(d), 0.0);
                    sq.assign(static_cast<std::size_t>(d), 0.0);
                    for (Index j = 0; j < J; ++j) {
                        pair_estimate(j, i, o, e.data());
                        for (Index g = 0; g < d; ++g) mean[std::size_t(g)] += e[std::size_t(g)];
                    }
                    for (double& m : mean) m /= static_cast<double>(J);
                    for (Index j = 0; j < J; ++j) {
                        pair_estimate(j, i, o, e.data());
                        for (Index g = 0; g < d; ++g) {
                            const double dev = e[std::size_t(g)] - mean[std::size_t(g)];
                            sq[std::size_t(g)] += dev * dev;
                        }
                    }
                    for (Index g = 0; g < d; ++g) {
                        result.values(i, g * k + o) = mean[std::size_t(g)];
                        result.stderr_(i, g * k + o) = std::sqrt(
                            sq[std::size_t(g)] / static_cast<double>(J - 1) / static_cast<double>(J));
                    }
                });
            }
        }
        errors.rethrow();
        active.retire(result, d, options, evaluated, pairs, target >= max_pairs);
        target = std::min(max_pairs, 2 * target);
    }
    return result;
}

}  // namespace

SampledResult permutation_shapley(const Game& game, const SampledOptions& options) {
    const Index d = game.groups.size(), k = game.n_outputs();
    require_count(options.n_samples, "n_samples", 1);
    require(d == 1 || options.n_samples >= 4 * (d - 1),
            "n_samples: PermutationShapley needs at least 4 * (d - 1) = " +
                std::to_string(4 * (d - 1)) + " coalitions (two antithetic pairs) for " +
                std::to_string(d) + " features or groups, got " +
                std::to_string(options.n_samples));
    SampledPlan plan{"PermutationShapley"};
    if (d > 1) {
        const Index pairs = max_pairs_of(options.n_samples, d);
        const Index prefixes = mul_count(2 * (d - 1), pairs, "n_samples");
        plan.max_coalitions = d < 62 ? std::min(prefixes, (Index{1} << d) - 2) : prefixes;
        require(plan.max_coalitions <= kMaxCount,
                "n_samples: PermutationShapley would draw " + std::to_string(prefixes) +
                    " coalitions, more than " + std::to_string(kMaxCount));
        // the coalitions and their index, each pair's permutation and prefix chain (int32)
        plan.design_bytes = CoalitionSet::bytes_for(d, plan.max_coalitions) +
                            bytes_of(mul_count(pairs, 3 * d, "n_samples"), sizeof(std::int32_t));
        // per row: the coalition values (at most n_samples distinct coalitions)
        plan.row_bytes = bytes_of(mul_count(options.n_samples + 2, k, "n_outputs"),
                                  sizeof(double));
    }
    return in_row_blocks(game, options, plan, permutation_shapley_rows);
}

}  // namespace glassbox::shapley
