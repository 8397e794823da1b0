// KernelSHAP: the sampling design (enumerated sizes + paired samples), the constrained weighted
// least squares every sampler's design is solved by, and its sandwich standard errors.
#include "core/agnostic/shapley/design.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

namespace glassbox::shapley {

double binomial(Index n, Index s) {
    double value = 1.0;
    for (Index t = 0; t < s; ++t) value = value * static_cast<double>(n - t) / static_cast<double>(t + 1);
    return value;
}

void mask_tail(Bits& bits, Index d) {
    if (d % 64) bits.words.back() &= (std::uint64_t{1} << (d % 64)) - 1;
}

void complement(Bits& bits, Index d) {
    for (auto& word : bits.words) word = ~word;
    mask_tail(bits, d);
}

void draw_subset(std::uint64_t key, Index d, Index size, Bits& bits, std::vector<Index>& scratch) {
    scratch.resize(static_cast<std::size_t>(d));
    for (Index g = 0; g < d; ++g) scratch[static_cast<std::size_t>(g)] = g;
    bits.clear();
    for (Index t = 0; t < size; ++t) {
        const auto r = t + std::min<Index>(d - t - 1, static_cast<Index>(
                               CounterRng::uniform_at(key, static_cast<std::uint64_t>(t + 1)) *
                               static_cast<double>(d - t)));
        std::swap(scratch[static_cast<std::size_t>(t)], scratch[static_cast<std::size_t>(r)]);
        bits.set(scratch[static_cast<std::size_t>(t)]);
    }
}

namespace {

// The growing KernelSHAP design: enumerated coalitions first (fixed weights), then sampled pairs
// (each half weighted sampled_mass / (2 * pairs), duplicates counted with their multiplicity but
// stored and evaluated once).
class KernelSampler final : public ShapleySampler {
public:
    // `options` (optional) is polled between coalitions: a design may hold a billion.
    KernelSampler(Index d, Index n_samples, std::uint64_t seed,
                  const RunOptions* options = nullptr)
        : plan_(plan_kernel(d, n_samples)), rng_(seed, kKernelStream), set_(d), bits_(d),
          options_(options) {
        // the state sized once for the whole design (checked against the allowance by the
        // caller): no reallocation doubles it while it grows
        set_.reserve(plan_.max_coalitions());
        if (!plan_.exhaustive()) pairs_.reserve(static_cast<std::size_t>(plan_.sample_budget + 4));
        for (Index s = 1; s <= plan_.enumerated_pairs; ++s) {
            const double w = plan_.size_mass[static_cast<std::size_t>(s)] / binomial(d, s);
            for_each_subset(d, s, [&](const Bits& z) {
                poll(set_.size());
                set_.append(z.data());
                weights_.push_back(w);
                if (2 * s != d) {
                    Bits other = z;
                    complement(other, d);
                    set_.append(other.data());
                    weights_.push_back(w);
                }
            });
        }
        n_enumerated_ = set_.size();
        max_draws_ = plan_.max_draws();
    }

    const CoalitionSet& set() const override { return set_; }
    Index sample_budget() const override { return plan_.sample_budget; }
    bool exhaustive() const override { return plan_.exhaustive(); }
    Index n_draws() const override { return n_pairs(); }
    Index n_pairs() const { return static_cast<Index>(pairs_.size()) / 2; }

    // Draws pairs until `target` distinct sampled coalitions exist (at least two pairs), or the
    // draw cap is hit. Returns false when no more can be drawn.
    bool grow(Index target) override {
        if (plan_.exhaustive()) return false;
        while ((set_.size() - n_enumerated_ < target || n_pairs() < 2) && n_pairs() < max_draws_) {
            poll(n_pairs());
            draw_kernel_pair(plan_, rng_, n_pairs(), bits_, scratch_);
            pairs_.push_back(static_cast<std::int32_t>(set_.insert(bits_.data())));
            complement(bits_, plan_.d);
            pairs_.push_back(static_cast<std::int32_t>(set_.insert(bits_.data())));
        }
        return n_pairs() < max_draws_;
    }

    // Every stored coalition in set order; the sampled pairs are i.i.d. draws: one stratum.
    RegressionDesign design() const override {
        RegressionDesign design;
        const Index C = set_.size(), J = n_pairs();
        design.rows.resize(static_cast<std::size_t>(C));
        for (Index c = 0; c < C; ++c) design.rows[static_cast<std::size_t>(c)] = c;
        design.weights = VectorXd::Zero(C);
        for (Index c = 0; c < n_enumerated_; ++c) design.weights(c) = weights_[static_cast<std::size_t>(c)];
        if (J > 0) {
            const double half = plan_.sampled_mass / (2.0 * static_cast<double>(J));
            for (Index c : pairs_) design.weights(c) += half;
            if (J >= 2) {
                design.units = pairs_;
                design.unit_weights.assign(static_cast<std::size_t>(J), half);
                design.strata.push_back(
                    {0, J, static_cast<double>(J) / static_cast<double>(J - 1)});
            }
        }
        return design;
    }

private:
    void poll(Index count) const {
        if (options_ && (count & 0xFFFF) == 0) check_interrupt(*options_);
    }

    KernelPlan plan_;
    CounterRng rng_;
    CoalitionSet set_;
    Bits bits_;
    std::vector<Index> scratch_;
    std::vector<double> weights_;
    // 2 per pair: the coalition and its complement (int32: a set holds at most kMaxCount)
    std::vector<std::int32_t> pairs_;
    Index n_enumerated_ = 0;
    Index max_draws_ = 0;
    const RunOptions* options_;
};

// Coalitions per block of the design matrix (the whole C x d matrix is never built).
constexpr Index kDesignBlock = 256;

// Fit rows [c0, c0 + count) of the 0/1 design matrix.
void design_rows(const CoalitionSet& set, const std::vector<Index>& rows, Index c0, Index count,
                 RowMatrixXd& Z) {
    Z.setZero(count, set.n_groups());
    for (Index c = 0; c < count; ++c) {
        const std::uint64_t* row = set.row(rows[static_cast<std::size_t>(c0 + c)]);
        for (Index w = 0; w < set.words(); ++w) {
            for (std::uint64_t bits = row[w]; bits; bits &= bits - 1) {
                Z(c, w * 64 + __builtin_ctzll(bits)) = 1.0;
            }
        }
    }
}

// Solves the constrained WLS of `design` for the (row, output) columns of the rows `rows` and,
// from its sampled units, the sandwich standard errors. store: v(S) coalition-major (set order),
// (C x n * k); base: v(empty) per output; delta: (n * k) v(full) - v(empty). phi and se are
// d x (rows * k), column j * k + o for output o of rows[j]. Works through the design in blocks of
// coalitions and the units in blocks, so its memory is a few blocks besides phi and se. A
// column's numbers depend on the design and that column alone (not on which other rows are solved
// with it).
void solve_kernel(const Game& game, const CoalitionSet& set, const RegressionDesign& design,
                  const std::vector<double>& store, const VectorXd& base,
                  const VectorXd& all_delta, const std::vector<Index>& rows, RowMatrixXd& phi,
                  RowMatrixXd& se) {
    const Index d = set.n_groups(), C = static_cast<Index>(design.rows.size()), k = base.size();
    const Index n = all_delta.size() / k;
    const Index cols = static_cast<Index>(rows.size()) * k;
    const Eigen::Map<const RowMatrixXd> all_values(store.data(), set.size(), n * k);
    // column j of the solve: column source(j) of the store
    const auto source = [&](Index j) { return rows[static_cast<std::size_t>(j / k)] * k + j % k; };
    // v(S) of fit row c in column col
    const auto value = [&](Index c, Index col) {
        return all_values(design.rows[static_cast<std::size_t>(c)], source(col));
    };
    VectorXd delta(cols);
    for (Index j = 0; j < cols; ++j) delta(j) = all_delta(source(j));
    const VectorXd& w = design.weights;
    // A = Z' W Z and rhs = Z' W Y, Y = v(S) - v(empty), block by block. Column by column
    // (matrix-vector products): a column's bits must not depend on how many columns are solved
    // with it (the rows still sampling under tol, the row blocks), as a GEMM's blocking would.
    Eigen::MatrixXd A = Eigen::MatrixXd::Zero(d, d);
    Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(d, cols);
    {
        RowMatrixXd Z, WZ;
        for (Index c0 = 0; c0 < C; c0 += kDesignBlock) {
            check_interrupt(game.options);
            const Index count = std::min(kDesignBlock, C - c0);
            design_rows(set, design.rows, c0, count, Z);
            WZ = w.segment(c0, count).asDiagonal() * Z;
            A.noalias() += Z.transpose() * WZ;
            ParallelErrors errors;  // no exception (bad_alloc) may leave the region
#pragma omp parallel num_threads(loop_threads(game, cols, 2.0 * static_cast<double>(count * d)))
            {
                VectorXd y;
#pragma omp for schedule(static)
                for (Index col = 0; col < cols; ++col) {
                    errors.run([&] {
                        y.resize(count);
                        for (Index c = 0; c < count; ++c) y(c) = value(c0 + c, col) - base(col % k);
                        rhs.col(col).noalias() += WZ.transpose() * y;
                    });
                }
            }
            errors.rethrow();
        }
    }
    Eigen::MatrixXd inverse;
    Eigen::LDLT<Eigen::MatrixXd> ldlt(A);
    const auto diag = ldlt.vectorD();
    if (ldlt.info() == Eigen::Success && diag.minCoeff() > 1e-12 * diag.cwiseAbs().maxCoeff()) {
        inverse = ldlt.solve(Eigen::MatrixXd::Identity(d, d));
    } else {  // too few distinct coalitions for a unique fit: the minimum-norm solution
        inverse = Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd>(A).pseudoInverse();
    }
    const VectorXd a1 = inverse.rowwise().sum();
    const double s = a1.sum();
    // the projection that keeps sum(phi) = delta: M = A^-1 - A^-1 1 1' A^-1 / (1' A^-1 1)
    const Eigen::MatrixXd M = inverse - a1 * a1.transpose() / s;
    phi.resize(d, cols);
    {
        VectorXd p;
        for (Index col = 0; col < cols; ++col) {
            p.noalias() = inverse * rhs.col(col);
            phi.col(col) = p - a1 * ((p.sum() - delta(col)) / s);
        }
    }
    rhs = Eigen::MatrixXd();
    se = RowMatrixXd::Zero(d, cols);
    if (design.strata.empty()) return;
    const std::vector<std::int32_t>& units = design.units;
    // the residual v(S) - v(empty) - sum_{g in S} phi_g of fit row c in column col
    const auto residual = [&](Index c, Index col) {
        double fit = 0.0;
        const std::uint64_t* row = set.row(design.rows[static_cast<std::size_t>(c)]);
        for (Index w8 = 0; w8 < set.words(); ++w8) {
            for (std::uint64_t bits = row[w8]; bits; bits &= bits - 1) {
                fit += phi(w8 * 64 + __builtin_ctzll(bits), col);
            }
        }
        return value(c, col) - base(col % k) - fit;
    };
    // the unit's score z r(z) + z' r(z'), weighted: its influence on the fit is M times it
    const auto score = [&](Index j, Index col, double* q) {
        const Index a = units[static_cast<std::size_t>(2 * j)];
        const Index b = units[static_cast<std::size_t>(2 * j + 1)];
        const Index sa = design.rows[static_cast<std::size_t>(a)];
        const Index sb = design.rows[static_cast<std::size_t>(b)];
        const double ra = residual(a, col), rb = residual(b, col);
        const double weight = design.unit_weights[static_cast<std::size_t>(j)];
        for (Index g = 0; g < d; ++g) {
            q[g] = weight * ((set.contains(sa, g) ? ra : 0.0) + (set.contains(sb, g) ? rb : 0.0));
        }
    };
    constexpr Index kUnitBlock = 256;
    const double cost = static_cast<double>(design.n_units()) * static_cast<double>(d * (d + 2));
    ParallelErrors errors;  // no exception (bad_alloc, Interrupted) may leave the region
#pragma omp parallel num_threads(loop_threads(game, cols, cost))
    {
        Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Q, U;
        VectorXd q, mean, squares, total;
#pragma omp for schedule(dynamic, 1)
        for (Index col = 0; col < cols; ++col) {
            errors.run([&] {
                check_interrupt(game.options);
                q.resize(d);
                total.setZero(d);
                for (const RegressionDesign::Stratum& stratum : design.strata) {
                    const Index J = stratum.count;
                    mean.setZero(d);
                    for (Index j = 0; j < J; ++j) {
                        score(stratum.first + j, col, q.data());
                        mean += q;
                    }
                    mean /= static_cast<double>(J);
                    squares.setZero(d);
                    for (Index j0 = 0; j0 < J; j0 += kUnitBlock) {  // centred scores times M
                        const Index count = std::min(kUnitBlock, J - j0);
                        Q.resize(count, d);
                        for (Index j = 0; j < count; ++j) {
                            score(stratum.first + j0 + j, col, Q.row(j).data());
                        }
                        Q.rowwise() -= mean.transpose();
                        U.noalias() = Q * M;
                        squares += U.colwise().squaredNorm().transpose();
                    }
                    total += stratum.scale * squares;
                }
                for (Index g = 0; g < d; ++g) se(g, col) = std::sqrt(total(g));
            });
        }
    }
    errors.rethrow();
}

}  // namespace

Index first_kernel_round(Index d) { return std::max<Index>(4 * d, 32); }

double kernel_stderr_inflation(Index pairs, Index d) {
    return pairs > d ? std::sqrt(static_cast<double>(pairs) / static_cast<double>(pairs - d))
                     : INFINITY;
}

Index min_kernel_samples(Index d) {
    const Index everything = d >= 62 ? Index{1} << 62 : (Index{1} << d) - 2;
    return std::min(everything, 2 * d + 2);
}

std::vector<double> kernel_size_mass(Index d) {
    std::vector<double> mass(static_cast<std::size_t>(d + 1), 0.0);
    double total = 0.0;
    for (Index s = 1; s < d; ++s) {
        mass[static_cast<std::size_t>(s)] = static_cast<double>(d - 1) / static_cast<double>(s * (d - s));
        total += mass[static_cast<std::size_t>(s)];
    }
    for (double& m : mass) m /= total;
    return mass;
}

KernelPlan plan_kernel(Index d, Index n_samples) {
    KernelPlan plan;
    plan.d = d;
    plan.size_mass = kernel_size_mass(d);
    double budget = static_cast<double>(n_samples), remaining = 1.0;
    for (Index s = 1; 2 * s <= d; ++s) {
        const bool middle = 2 * s == d;
        const double count = binomial(d, s) * (middle ? 1.0 : 2.0);
        const double mass = plan.size_mass[static_cast<std::size_t>(s)] * (middle ? 1.0 : 2.0);
        if (budget * mass / remaining < count - 1e-8) break;
        budget -= count;
        remaining -= mass;
        plan.enumerated_pairs = s;
    }
    plan.sampled_mass = 2 * (plan.enumerated_pairs + 1) > d ? 0.0 : std::max(remaining, 0.0);
    plan.sample_budget = plan.exhaustive() ? 0 : static_cast<Index>(std::floor(budget));
    for (Index s = 1; s <= plan.enumerated_pairs; ++s) {
        plan.n_enumerated += static_cast<Index>(std::llround(binomial(d, s))) * (2 * s == d ? 1 : 2);
    }
    return plan;
}

void draw_kernel_pair(const KernelPlan& plan, const CounterRng& rng, Index j, Bits& bits,
                      std::vector<Index>& scratch) {
    const Index d = plan.d, lo = plan.enumerated_pairs + 1, hi = d - plan.enumerated_pairs - 1;
    const std::uint64_t key = rng.subkey(static_cast<std::uint64_t>(j), 0);
    double u = CounterRng::uniform_at(key, 0) * plan.sampled_mass;
    Index size = hi;
    for (Index s = lo; s < hi; ++s) {
        u -= plan.size_mass[static_cast<std::size_t>(s)];
        if (u < 0.0) {
            size = s;
            break;
        }
    }
    draw_subset(key, d, size, bits, scratch);
}

std::unique_ptr<ShapleySampler> make_kernel_sampler(Index d, Index n_samples, std::uint64_t seed,
                                                    const RunOptions* options) {
    return std::make_unique<KernelSampler>(d, n_samples, seed, options);
}

std::unique_ptr<ShapleySampler> make_sampler(Sampling sampling, Index d, Index n_samples,
                                             std::uint64_t seed, const RunOptions* options) {
    return sampling == Sampling::leverage ? make_leverage_sampler(d, n_samples, seed, options)
                                          : make_kernel_sampler(d, n_samples, seed, options);
}

Index max_design_coalitions(Sampling sampling, Index d, Index n_samples, bool rounds) {
    if (sampling == Sampling::kernel) return plan_kernel(d, n_samples).max_coalitions();
    const LeveragePlan plan = plan_leverage(d, n_samples);
    // under tol, a round's rounding may take one more unit per stratum than the last round's
    const Index most = 2 * plan.n_pairs + (rounds ? 2 * (d / 2 + 1) : 0);
    return d < 62 ? std::min(most, (Index{1} << d) - 2) : most;
}

KernelDesign kernel_design(Index d, Index n_samples, std::uint64_t seed, Sampling sampling) {
    require(d >= 2, "d: KernelSHAP's design needs at least 2 groups");
    require_count(d, "n_groups", 2);
    require_count(n_samples, "n_samples", min_kernel_samples(d));
    const Index most = max_design_coalitions(sampling, d, n_samples, false);
    require_state_fits(bytes_of(most, CoalitionSet::bytes_for(d, 1) + d + 2 * sizeof(double)),
                       RunOptions{}, "n_samples",
                       "the design of up to " + std::to_string(most) + " coalitions");
    const auto sampler = make_sampler(sampling, d, n_samples, seed, nullptr);
    sampler->grow(sampler->sample_budget());
    const RegressionDesign fit = sampler->design();
    KernelDesign design;
    const CoalitionSet& set = sampler->set();
    const Index C = static_cast<Index>(fit.rows.size());
    design.masks.resize(C, d);
    for (Index c = 0; c < C; ++c) {
        for (Index g = 0; g < d; ++g) {
            design.masks(c, g) = set.contains(fit.rows[static_cast<std::size_t>(c)], g) ? 1 : 0;
        }
    }
    design.weights = fit.weights;
    design.n_pairs = sampler->n_draws();
    return design;
}

namespace {

SampledResult kernel_shap_rows(const Game& game, const SampledOptions& options) {
    const Index n = game.n_rows(), k = game.n_outputs(), d = game.groups.size();
    SampledResult result = start_sampled(game);
    if (d == 1) return result;
    VectorXd delta(n * k);
    for (Index i = 0; i < n; ++i) {
        for (Index o = 0; o < k; ++o) delta(i * k + o) = result.fx(i, o) - result.base(o);
    }
    const auto sampler =
        make_sampler(options.sampling, d, options.n_samples, options.seed, &game.options);
    const Index budget = sampler->sample_budget();
    // under tol: rounds of sampled coalitions from first_kernel_round(d), doubling to the budget;
    // the last round is the design of a run without tol ("kernel": each round extends the last;
    // "leverage": each round is the design of its budget, its coalitions mostly the last's)
    Index target = options.tol > 0.0 ? std::min(budget, first_kernel_round(d)) : budget;
    std::vector<double> store;  // v(S), coalition-major (c * n + i) * k + o
    store.reserve(static_cast<std::size_t>(
        max_design_coalitions(options.sampling, d, options.n_samples, options.tol > 0.0) * n * k));
    ActiveRows active(n);
    Index evaluated = 0;  // coalitions every active row has values for
    RowMatrixXd phi, se;
    while (!active.empty()) {
        const bool more = sampler->grow(target);
        append_coalition_values(game, sampler->set(), evaluated, active.rows(), store);
        evaluated = sampler->set().size();
        solve_kernel(game, sampler->set(), sampler->design(), store, result.base, delta,
                     active.rows(), phi, se);
        for (std::size_t j = 0; j < active.rows().size(); ++j) {
            const Index i = active.rows()[j];
            for (Index g = 0; g < d; ++g) {
                for (Index o = 0; o < k; ++o) {
                    result.values(i, g * k + o) = phi(g, static_cast<Index>(j) * k + o);
                    result.stderr_(i, g * k + o) = se(g, static_cast<Index>(j) * k + o);
                }
            }
        }
        const bool last = !more || target >= budget || sampler->exhaustive();
        active.retire(result, d, options, evaluated, sampler->n_draws(), last,
                      kernel_stderr_inflation(sampler->n_draws(), d));
        target = std::min(budget, 2 * target);
    }
    return result;
}

}  // namespace

SampledResult kernel_shap(const Game& game, const SampledOptions& options) {
    const Index d = game.groups.size(), k = game.n_outputs();
    require_count(options.n_samples, "n_samples", 1);
    require(d == 1 || options.n_samples >= min_kernel_samples(d),
            "n_samples: KernelShap needs at least " + std::to_string(min_kernel_samples(d)) +
                " coalitions for " + std::to_string(d) + " features or groups, got " +
                std::to_string(options.n_samples));
    SampledPlan plan{"KernelShap"};
    if (d > 1) {
        plan.max_coalitions =
            max_design_coalitions(options.sampling, d, options.n_samples, options.tol > 0.0);
        const KernelPlan design = plan_kernel(d, options.n_samples);
        // the coalitions and their index, their weights, and the pairs drawn (typically about
        // twice the budget; duplicates count)
        const Index pairs = design.exhaustive() ? 0 : 2 * design.sample_budget + 64;
        plan.design_bytes = CoalitionSet::bytes_for(d, plan.max_coalitions) +
                            bytes_of(plan.max_coalitions, 2 * sizeof(double)) +
                            bytes_of(pairs, 2 * sizeof(Index));
        // per row: the coalition values, and the solve's blocks of centred values and its
        // d x k temporaries, counted as three doubles per (coalition, output)
        const Index most = options.sampling == Sampling::kernel ? options.n_samples
                                                                : plan.max_coalitions;
        plan.row_bytes = bytes_of(mul_count(most + 2, k, "n_outputs"),
                                  3 * sizeof(double));
    }
    return in_row_blocks(game, options, plan, kernel_shap_rows);
}

}  // namespace glassbox::shapley
