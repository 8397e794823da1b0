// The sampled Shapley estimators: KernelSHAP and antithetic permutation sampling.
#pragma once

#include "core/agnostic/shapley/value_engine.hpp"
#include "core/sampling/counter_rng.hpp"

#include <algorithm>
#include <functional>
#include <vector>

namespace glassbox::shapley {

// Counter-based streams (glassbox's Shapley range is 10-19).
constexpr std::uint64_t kKernelStream = 10;       // (pair, 0, c): size draw c=0, subset c>=1
constexpr std::uint64_t kPermutationStream = 11;  // (pair, 0, c): Fisher-Yates draws
constexpr std::uint64_t kLeverageStream = 12;  // (stratum + 1, attempt, c) subset; (0, 0, 0) rounding

// KernelShap's samplers: kernel-weighted pairs (Lundberg & Lee) or leverage scores (Musco & Witter).
enum class Sampling { kernel, leverage };

struct SampledOptions {
    Index n_samples = 0;  // budget: distinct coalitions evaluated (besides the empty and full one)
    double tol = 0.0;     // > 0: each row stops once its stderr are within tol (row_tolerance)
    bool tol_relative = true;  // tol relative to the row's gap |f(x) - E f(background)|
    std::uint64_t seed = 0;
    std::vector<int> targets;  // per row, the output the tol rule watches; empty: every output
    Sampling sampling = Sampling::kernel;  // KernelShap's design
};

using IndexVector = Eigen::Matrix<Index, Eigen::Dynamic, 1>;

struct SampledResult {
    RowMatrixXd values;  // n x (d * k)
    RowMatrixXd stderr_;  // n x (d * k)
    RowMatrixXd fx;      // n x k
    VectorXd base;       // k
    VectorXd spread;     // k: standard deviation of f over the background (zero-gap tol rule)
    IndexVector n_samples;  // per row: the distinct coalitions it used
    Index n_evaluated = 0;  // the most distinct coalitions a row used
    Index n_draws = 0;      // the most sampled pairs (KernelSHAP) or permutation pairs a row used
};

// Checks the game, evaluates f(x) and E f(background), zeroes values and stderr; for a single
// group (d = 1) the values are already final: f(x) - E f(background).
SampledResult start_sampled(const Game& game);

// The largest standard error row i may keep on output o: tol (absolute), or tol * |f(x) -
// E f(background)| (relative); a row with a zero gap is held to tol * the output's spread over
// the background, or to tol itself when that is zero too.
double row_tolerance(const SampledResult& result, Index i, Index o, const SampledOptions& options);

// The rows still sampling, round after round. After a round has set their values and stderr,
// retire() drops the rows whose watched outputs (options.targets) all have stderr * inflation
// within row_tolerance, recording the coalitions and draws they used; on the last round (or
// without tol) every row retires. A row's fate depends on that row alone, so blocks of rows and
// thread counts change nothing.
class ActiveRows {
public:
    explicit ActiveRows(Index n);
    const std::vector<Index>& rows() const { return rows_; }
    bool empty() const { return rows_.empty(); }
    void retire(SampledResult& result, Index d, const SampledOptions& options, Index coalitions,
                Index draws, bool last, double inflation = 1.0);

private:
    std::vector<Index> rows_;
};

// What a sampled estimator will keep, known before it starts: the most coalitions it evaluates
// per row, the bytes of its design (shared by every row) and the bytes it keeps per explained row
// (coalition values, fits).
struct SampledPlan {
    const char* method;  // for messages: "KernelShap", "PermutationShapley"
    Index max_coalitions = 0;
    std::size_t design_bytes = 0;
    std::size_t row_bytes = 0;
};

// Runs `estimate` on blocks of rows whose state (plan.row_bytes each) fits the memory budget, and
// stacks the blocks' results. Fails before any work when the design and one row's state do not
// fit (require_state_fits, naming n_samples). The designs are seeded, not drawn from the
// data, and under `tol` each row stops on its own, so a row's estimate does not depend on the
// other rows: blocking changes nothing. Progress is in model rows, the whole job's most declared
// up front (the coalitions rows did not need under `tol` are reported done after each block).
using SampledEstimator = std::function<SampledResult(const Game&, const SampledOptions&)>;
SampledResult in_row_blocks(const Game& game, const SampledOptions& options,
                            const SampledPlan& plan, const SampledEstimator& estimate);

// ---- KernelSHAP ------------------------------------------------------------------------------

// The deterministic part of the KernelSHAP design: the coalition sizes enumerated completely
// (paired sizes s and d - s, from the outside in, while the budget's share of their kernel weight
// covers all their coalitions, as shap does), with their weights, and the sizes left to sample.
struct KernelPlan {
    Index d = 0;
    Index enumerated_pairs = 0;  // sizes 1..e and d-e..d-1 are enumerated
    Index n_enumerated = 0;      // the coalitions of those sizes
    std::vector<double> size_mass;  // kernel mass per size 0..d (normalised over sizes 1..d-1)
    double sampled_mass = 0.0;      // the mass left to the sampled sizes
    Index sample_budget = 0;        // distinct sampled coalitions to aim for
    bool exhaustive() const { return sampled_mass <= 0.0; }
    // Pairs drawn at most (duplicates count): the draws stop there.
    Index max_draws() const { return 8 * sample_budget + 64; }
    // The most distinct coalitions the design holds (a pair may overshoot the budget by one).
    Index max_coalitions() const {
        return n_enumerated + (exhaustive() ? 0 : std::max<Index>(sample_budget + 1, 4));
    }
};
KernelPlan plan_kernel(Index d, Index n_samples);

// Draws sampled pair j: size s with probability proportional to its kernel mass among the sizes
// left to sample, then s groups uniformly (a partial Fisher-Yates shuffle); `bits` gets the
// coalition, the pair's other half is its complement.
void draw_kernel_pair(const KernelPlan& plan, const CounterRng& rng, Index j, Bits& bits,
                      std::vector<Index>& scratch);

// The minimum budget: min(2^d - 2, 2d + 2) distinct coalitions.
Index min_kernel_samples(Index d);

// Under tol, the sampled coalitions of the first round: max(4d, 32) (besides the enumerated
// ones); each later round doubles them, up to the budget. Not fewer: the sandwich stderr of J
// pairs fitting d values underestimates the error until J is well above d.
Index first_kernel_round(Index d);

// The factor the tol rule applies to KernelSHAP's stderr after J pairs: sqrt(J / (J - d)), the
// small-sample correction of a sandwich estimate with d fitted values (measured on a 30-feature
// MLP: the errors of the first rounds exceed the uncorrected stderr by about that); infinite
// (no stop) while J <= d.
double kernel_stderr_inflation(Index pairs, Index d);

// KernelSHAP (Lundberg & Lee 2017): the efficiency-constrained weighted least squares fit of
// v(S) - v(empty) by sum_{g in S} phi_g, in double, one factorisation for every row and output
// (all rows share the design), on options.sampling's design (design.hpp: the kernel's or
// Leverage SHAP's). stderr: the sandwich (delta-method) estimate over the sampled pairs (i.i.d.
// for the kernel's, cf. Covert & Lee 2021; stratified without replacement for leverage); zero
// when every coalition is enumerated. Under tol the rows sample
// in rounds (first_kernel_round, doubling), each row stopping once its stderr are within tol: a
// stopped row's coalitions are no longer evaluated; its estimate is the fit of the design it had.
SampledResult kernel_shap(const Game& game, const SampledOptions& options);

// The design KernelSHAP evaluates for (d, n_samples, seed): coalitions (C x d, 0/1) and their
// regression weights, for reference tests; the pair draws give the multiplicities.
struct KernelDesign {
    Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> masks;
    VectorXd weights;
    Index n_pairs = 0;
};
KernelDesign kernel_design(Index d, Index n_samples, std::uint64_t seed,
                           Sampling sampling = Sampling::kernel);

// ---- Leverage SHAP ---------------------------------------------------------------------------

// Leverage SHAP's plan (Musco & Witter 2025): the leverage scores of the Shapley regression are
// equal across coalition sizes, so every size gets the same expected number of coalitions.
// Strata h = 0.. are the size pairs {s, d - s}, s = h + 1 <= d / 2 (a unit: a coalition of size s
// and its complement; the middle size d / 2 holds half as many units per size). Outer strata are
// enumerated while the budget's uniform share covers them; the others get expected[h] units.
struct LeveragePlan {
    Index d = 0;
    Index n_pairs = 0;            // units the budget buys: n_samples / 2
    Index enumerated = 0;         // strata 0..enumerated-1 are enumerated
    std::vector<double> units;    // per stratum: its units, C(d, s) (half of it for s = d / 2)
    std::vector<double> expected;  // per sampled stratum: its expected units (< units)
    Index sampled_pairs = 0;      // units left to sample (sum of expected)
    bool exhaustive() const { return sampled_pairs == 0; }
};
LeveragePlan plan_leverage(Index d, Index n_samples);

// ---- permutation sampling --------------------------------------------------------------------

// Permutation j of d groups (Fisher-Yates on stream kPermutationStream); its antithetic partner
// is the reverse.
void draw_permutation(const CounterRng& rng, Index j, Index d, std::vector<Index>& perm);

// Antithetic permutation sampling: each pair (a permutation and its reverse) gives the average of
// its two marginal-contribution vectors; phi is their mean over pairs, stderr their standard
// deviation / sqrt(pairs). n_samples caps the coalitions: pairs = max(2, n_samples / (2 (d-1))).
// Under tol the rows sample in rounds of pairs (8, doubling), each row stopping on its own.
SampledResult permutation_shapley(const Game& game, const SampledOptions& options);

}  // namespace glassbox::shapley
