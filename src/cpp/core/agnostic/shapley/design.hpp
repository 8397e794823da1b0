// The one interface of KernelShap's samplers ("kernel", "leverage"): a growing set of coalitions
// and the weighted regression design over them that kernel.cpp solves.
#pragma once

#include "core/agnostic/shapley/sampled.hpp"

#include <memory>

namespace glassbox::shapley {

// Which coalitions enter the Shapley regression, with which weights, and the sampled units its
// standard errors come from. A unit is a pair of coalitions (a coalition and its complement);
// the sampled part of Z'W r is the sum over units of unit_weight * (z_a r_a + z_b r_b), and its
// variance is estimated as the sum over strata of scale * sum_j (q_j - mean q)^2, q_j a unit's
// term, centred within its stratum.
struct RegressionDesign {
    std::vector<Index> rows;  // coalition indices in the set, in fit order
    VectorXd weights;         // regression weight per fit row
    std::vector<std::int32_t> units;  // 2 per unit: the fit rows of its two coalitions
    std::vector<double> unit_weights;  // per unit
    struct Stratum {
        Index first = 0, count = 0;  // units [first, first + count)
        double scale = 0.0;          // the variance estimate's factor
    };
    std::vector<Stratum> strata;
    Index n_units() const { return static_cast<Index>(units.size()) / 2; }
};

// A KernelShap sampler: coalitions in a CoalitionSet (each stored and evaluated once) that grow in
// rounds under tol; design() is the regression of the current round.
class ShapleySampler {
public:
    virtual ~ShapleySampler() = default;
    virtual const CoalitionSet& set() const = 0;
    // Grows the design to `target` sampled coalitions (besides the enumerated ones); false when
    // it cannot grow further.
    virtual bool grow(Index target) = 0;
    virtual RegressionDesign design() const = 0;
    virtual Index sample_budget() const = 0;  // the sampled coalitions of the full budget
    virtual bool exhaustive() const = 0;      // every coalition enumerated: the fit is exact
    virtual Index n_draws() const = 0;        // the pairs sampled so far (reported)
};

std::unique_ptr<ShapleySampler> make_kernel_sampler(Index d, Index n_samples, std::uint64_t seed,
                                                    const RunOptions* options);
std::unique_ptr<ShapleySampler> make_leverage_sampler(Index d, Index n_samples,
                                                      std::uint64_t seed,
                                                      const RunOptions* options);
std::unique_ptr<ShapleySampler> make_sampler(Sampling sampling, Index d, Index n_samples,
                                             std::uint64_t seed, const RunOptions* options);
// The most coalitions a sampler's set holds for the budget (`rounds`: tol's rounds included).
Index max_design_coalitions(Sampling sampling, Index d, Index n_samples, bool rounds);

// Shared by the samplers.
double binomial(Index n, Index s);
// The Shapley kernel's mass per coalition size 0..d, normalised over sizes 1..d-1.
std::vector<double> kernel_size_mass(Index d);
// Calls visit(bits) for every subset of {0..d-1} of size s, in lexicographic order.
template <class Visit>
void for_each_subset(Index d, Index s, Visit&& visit) {
    std::vector<Index> pick(static_cast<std::size_t>(s));
    for (Index t = 0; t < s; ++t) pick[static_cast<std::size_t>(t)] = t;
    Bits bits(d);
    while (true) {
        bits.clear();
        for (Index g : pick) bits.set(g);
        visit(bits);
        Index t = s - 1;
        while (t >= 0 && pick[static_cast<std::size_t>(t)] == d - s + t) --t;
        if (t < 0) return;
        ++pick[static_cast<std::size_t>(t)];
        for (Index u = t + 1; u < s; ++u) pick[static_cast<std::size_t>(u)] = pick[static_cast<std::size_t>(u - 1)] + 1;
    }
}
// `size` groups drawn uniformly from counter key `key` (a partial Fisher-Yates shuffle, draws at
// counters 1..size).
void draw_subset(std::uint64_t key, Index d, Index size, Bits& bits, std::vector<Index>& scratch);
// Clears the bits past group d - 1 (after a complement).
void mask_tail(Bits& bits, Index d);
void complement(Bits& bits, Index d);

}  // namespace glassbox::shapley
