// Leverage SHAP (Musco & Witter, "Provably Accurate Shapley Value Estimation via Leverage Score
// Sampling", ICLR 2025): coalitions sampled in proportion to their leverage scores in the Shapley
// regression (equal per coalition size), paired with their complements, without replacement.
// Sampling without replacement is stratified by size pair: each stratum gets its expected share of
// the units (a systematic rounding keeps the total at the budget and every expectation exact), and
// draws that many distinct units uniformly; a sampled coalition's regression weight is its kernel
// weight over its inclusion probability (Horvitz-Thompson), so Z'WZ and Z'Wy are unbiased.
#include "core/agnostic/shapley/design.hpp"

#include <cmath>

namespace glassbox::shapley {

LeveragePlan plan_leverage(Index d, Index n_samples) {
    LeveragePlan plan;
    plan.d = d;
    const Index H = d / 2;
    plan.units.resize(static_cast<std::size_t>(H));
    plan.expected.assign(static_cast<std::size_t>(H), 0.0);
    // a size pair {s, d - s} holds two sizes' leverage, the middle size d / 2 one
    std::vector<double> share(static_cast<std::size_t>(H));
    double shares = 0.0, all_units = 0.0;
    for (Index h = 0; h < H; ++h) {
        const bool middle = 2 * (h + 1) == d;
        plan.units[static_cast<std::size_t>(h)] = binomial(d, h + 1) * (middle ? 0.5 : 1.0);
        share[static_cast<std::size_t>(h)] = middle ? 0.5 : 1.0;
        shares += share[static_cast<std::size_t>(h)];
        all_units += plan.units[static_cast<std::size_t>(h)];
    }
    const double pairs = std::min(static_cast<double>(n_samples / 2), all_units);
    plan.n_pairs = static_cast<Index>(pairs);
    // enumerate from the outside in while the uniform share covers a stratum (the share grows
    // as strata leave, and strata grow towards the middle)
    double left = pairs;
    for (Index h = 0; h < H; ++h) {
        const auto u = static_cast<std::size_t>(h);
        if (left * share[u] / shares < plan.units[u] - 1e-9) break;
        left -= plan.units[u];
        shares -= share[u];
        plan.enumerated = h + 1;
    }
    if (plan.enumerated == H) return plan;
    plan.sampled_pairs = static_cast<Index>(std::llround(left));
    for (Index h = plan.enumerated; h < H; ++h) {
        plan.expected[static_cast<std::size_t>(h)] = left * share[static_cast<std::size_t>(h)] / shares;
    }
    return plan;
}

namespace {

class LeverageSampler final : public ShapleySampler {
public:
    LeverageSampler(Index d, Index n_samples, std::uint64_t seed, const RunOptions* options)
        : full_(plan_leverage(d, n_samples)), rng_(seed, kLeverageStream), set_(d), bits_(d),
          strata_(static_cast<std::size_t>(d / 2)), counts_(strata_.size(), 0),
          options_(options) {
        set_.reserve(max_design_coalitions(Sampling::leverage, d, n_samples, true));
        const std::vector<double> mass = kernel_size_mass(d);  // per coalition: mass / C(d, s)
        for (Index h = 0; h < d / 2; ++h) {
            strata_[static_cast<std::size_t>(h)].kernel_weight =
                mass[static_cast<std::size_t>(h + 1)] / binomial(d, h + 1);
        }
    }

    const CoalitionSet& set() const override { return set_; }
    Index sample_budget() const override { return 2 * full_.sampled_pairs; }
    bool exhaustive() const override { return full_.exhaustive(); }
    Index n_draws() const override {
        Index units = 0;
        for (Index h = round_.enumerated; h < static_cast<Index>(counts_.size()); ++h) {
            units += counts_[static_cast<std::size_t>(h)];
        }
        return units;
    }

    // The design of the budget that samples `target` coalitions besides the full budget's
    // enumerated ones: the full design when target is the sample budget.
    bool grow(Index target) override {
        const Index fixed = full_.n_pairs - full_.sampled_pairs;
        round_ = plan_leverage(set_.n_groups(), 2 * (fixed + (target + 1) / 2));
        for (Index h = 0; h < round_.enumerated; ++h) enumerate(h);
        // systematic rounding: n_h = the integers of u + Z in [E_{h-1}, E_h), E cumulative
        // expectations; so E[n_h] = expected[h] and the counts sum to sampled_pairs
        const double u = CounterRng::uniform_at(rng_.subkey(0, 0), 0);
        double cumulative = 0.0;
        const Index H = static_cast<Index>(strata_.size());
        for (Index h = round_.enumerated; h < H; ++h) {
            const double before = std::ceil(cumulative - u);
            cumulative += round_.expected[static_cast<std::size_t>(h)];
            if (h == H - 1) cumulative = static_cast<double>(round_.sampled_pairs);
            // at most the stratum's units (compared in double: C(d, s) overflows 64 bits)
            const double count = std::min(std::ceil(cumulative - u) - before,
                                          round_.units[static_cast<std::size_t>(h)]);
            counts_[static_cast<std::size_t>(h)] = static_cast<Index>(count);
            extend(h, counts_[static_cast<std::size_t>(h)]);
        }
        return !full_.exhaustive();
    }

    RegressionDesign design() const override {
        RegressionDesign design;
        std::vector<double> weights;
        const auto add = [&](std::int32_t c, double w) {
            design.rows.push_back(c);
            weights.push_back(w);
            return static_cast<std::int32_t>(design.rows.size() - 1);
        };
        for (Index h = 0; h < round_.enumerated; ++h) {
            const Stratum& stratum = strata_[static_cast<std::size_t>(h)];
            for (std::int32_t c : stratum.members) add(c, stratum.kernel_weight);
        }
        // the units' strata for the stderr, merged with the next (the last with the one before)
        // while a group has fewer than two units: a variance needs two (collapsed strata)
        struct Group {
            Index first = 0, count = 0;
            double population = 0.0;
        };
        std::vector<Group> groups;
        Group group;
        const Index H = static_cast<Index>(strata_.size());
        for (Index h = round_.enumerated; h < H; ++h) {
            const auto u = static_cast<std::size_t>(h);
            const Stratum& stratum = strata_[u];
            const double w = stratum.kernel_weight * round_.units[u] / round_.expected[u];
            for (Index j = 0; j < counts_[u]; ++j) {
                design.units.push_back(add(stratum.members[static_cast<std::size_t>(2 * j)], w));
                design.units.push_back(add(stratum.members[static_cast<std::size_t>(2 * j + 1)], w));
                design.unit_weights.push_back(w);
            }
            group.count += counts_[u];
            group.population += round_.units[u];
            if (group.count >= 2) {
                groups.push_back(group);
                group = Group{design.n_units(), 0, 0.0};
            }
        }
        if (!groups.empty()) {
            groups.back().count += group.count;
            groups.back().population += group.population;
        }
        for (const Group& g : groups) design.strata.push_back({g.first, g.count, scale(g.count, g.population)});
        design.weights = Eigen::Map<const VectorXd>(weights.data(), static_cast<Index>(weights.size()));
        return design;
    }

private:
    struct Stratum {
        double kernel_weight = 0.0;  // per coalition
        std::vector<std::int32_t> members;  // set indices, 2 per unit: coalition, complement
        std::uint64_t attempts = 0;         // draws so far (duplicates included)
        bool enumerated = false;
    };

    // (1 - n / N) n / (n - 1): the variance of a sum of n units drawn from N without replacement
    static double scale(Index n, double population) {
        const double units = static_cast<double>(n);
        return std::max(0.0, 1.0 - units / population) * units / (units - 1.0);
    }

    void poll(Index count) const {
        if (options_ && (count & 0xFFFF) == 0) check_interrupt(*options_);
    }

    void add_unit(Stratum& stratum, Bits& bits) {
        stratum.members.push_back(static_cast<std::int32_t>(set_.insert(bits.data())));
        complement(bits, set_.n_groups());
        stratum.members.push_back(static_cast<std::int32_t>(set_.insert(bits.data())));
    }

    void enumerate(Index h) {
        Stratum& stratum = strata_[static_cast<std::size_t>(h)];
        if (stratum.enumerated) return;
        stratum.enumerated = true;
        stratum.members.clear();
        const Index d = set_.n_groups();
        for_each_subset(d, h + 1, [&](const Bits& z) {
            if (2 * (h + 1) == d && !(z.words[0] & 1u)) return;  // its complement names the unit
            poll(set_.size());
            Bits bits = z;
            add_unit(stratum, bits);
        });
    }

    // The first `count` distinct units of stratum h's draws.
    void extend(Index h, Index count) {
        Stratum& stratum = strata_[static_cast<std::size_t>(h)];
        const Index d = set_.n_groups();
        while (static_cast<Index>(stratum.members.size()) < 2 * count) {
            poll(static_cast<Index>(stratum.attempts));
            const std::uint64_t key = rng_.subkey(static_cast<std::uint64_t>(h + 1), stratum.attempts++);
            draw_subset(key, d, h + 1, bits_, scratch_);
            // in the middle (2 (h + 1) = d) a unit is named by its coalition holding group 0
            if (2 * (h + 1) == d && !(bits_.words[0] & 1u)) complement(bits_, d);
            const Index before = set_.size();
            if (set_.insert(bits_.data()) < before) continue;  // drawn before: without replacement
            add_unit(stratum, bits_);  // finds the coalition just stored, adds its complement
        }
    }

    LeveragePlan full_, round_;
    CounterRng rng_;
    CoalitionSet set_;
    Bits bits_;
    std::vector<Index> scratch_;
    std::vector<Stratum> strata_;
    std::vector<Index> counts_;  // this round's units per sampled stratum
    const RunOptions* options_;
};

}  // namespace

std::unique_ptr<ShapleySampler> make_leverage_sampler(Index d, Index n_samples,
                                                      std::uint64_t seed,
                                                      const RunOptions* options) {
    return std::make_unique<LeverageSampler>(d, n_samples, seed, options);
}

}  // namespace glassbox::shapley
