// LIME for tabular data (Ribeiro et al., 2016) with lime's LimeTabularExplainer semantics:
// training statistics (quantile bins, bin moments, value frequencies, scaler), the perturbed
// neighbourhood of each row drawn from them, and the kernel-weighted ridge fit per row.
#pragma once

#include "core/agnostic/local/normal.hpp"
#include "core/common.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"
#include "core/sampling/counter_rng.hpp"

#include <cstdint>
#include <vector>

namespace glassbox {

// The counter streams LIME draws from (30-39 belong to the local methods).
enum LimeStream : std::uint64_t {
    kLimeValue = 30,      // which training value / bin a categorical or binned feature takes
    kLimeWithinBin = 31,  // where in its bin a binned feature lands (truncated normal)
    kLimeNormal = 32,     // continuous features without binning (scaled normal)
};

// What lime learns from the training data. Binned features and categorical features are both
// "sampled" (drawn from the training frequencies of their bins / values, interpretable as
// 1 = same bin / value as the row); the rest are continuous (drawn as mean + scale * N(0, 1),
// interpretable as the standardised value).
struct LimeStats {
    Index n_features = 0;
    std::vector<char> binned;     // continuous feature cut into quantile bins
    std::vector<char> sampled;    // binned or categorical
    // binned features: inner bin edges (unique quantiles) and the training values' per-bin
    // mean, std (+1e-11, as lime), lower and upper bound
    std::vector<std::vector<double>> edges, bin_mean, bin_std, bin_min, bin_max;
    // per bin, how a draw lands in it: shift + scale * (a normal truncated to the standardised
    // bounds); shift = mean and scale = std, or for a one-value bin, the value and 0
    struct BinDraw {
        TruncatedNormal normal;
        double shift, scale;
    };
    std::vector<std::vector<BinDraw>> bin_draw;
    // sampled features: the distinct training values (bin ids for binned features) and the
    // cumulative frequencies, normalised so the last is 1
    std::vector<std::vector<double>> values, cumulative;
    // the draw of value k compares u's 53 random bits with ceil(cumulative * 2^53), in integers:
    // k = how many of the first (count - 1) thresholds the bits reach
    std::vector<std::vector<std::uint64_t>> thresholds;
    // the scaler: training mean and population std (1 where zero); 0 and 1 for sampled features
    std::vector<double> mean, scale;

    // The bin of value x of binned feature j: the number of edges below x.
    Index bin_of(Index j, double x) const;
};

// `discretizer`: 0 (no binning), 4 (quartiles) or 10 (deciles). `categorical[j]` marks features
// whose values are categories (never binned).
LimeStats fit_lime_stats(const ConstRowRef& training, const std::vector<char>& categorical,
                         int discretizer);

enum class FeatureSelection { None, Forward, HighestWeights, Auto };

struct LimeOptions {
    Index num_samples = 5000;
    Index num_features = 10;
    FeatureSelection selection = FeatureSelection::Auto;
    double kernel_width = 0.0;  // <= 0: 0.75 * sqrt(n_features)
    std::uint64_t seed = 0;
};

struct LimeResult {
    RowMatrixXd values;         // rows x features: the local model's weights, 0 if not selected
    VectorXd intercept;         // per row
    VectorXd score;             // weighted R^2 of the local model on its neighbourhood
    VectorXd local_prediction;  // the local model at the row
    VectorXd prediction;        // the model at the row (the first sample)
};

// Draws the neighbourhood of row `r` (its position in the batch keys the random streams).
// Sample 0 is the row itself. Each sample gives the model input (n_features floats) and the
// interpretable, scaled representation the local model is fitted on.
class LimeRowSampler {
public:
    LimeRowSampler(const LimeStats& stats, const float* row, Index r, std::uint64_t seed);
    // Samples s0 .. s0 + count - 1 into consecutive rows of input and interpretable.
    void sample_range(Index s0, Index count, float* input, double* interpretable) const;

private:
    // Samples s0 .. s0 + count - 1 (count <= kTile) into consecutive rows.
    void sample_block(Index s0, Index count, float* input, double* interpretable) const;
    // tiles of samples small enough that their rows stay in L2 while every feature is written
    static constexpr Index kTile = 256;

    const LimeStats& stats_;
    const float* row_;
    Index r_;
    CounterRng value_rng_, bin_rng_, normal_rng_;
    std::vector<double> code_;  // the row's bin (binned) or value (categorical) per feature
    bool has_continuous_ = false;
};

LimeResult lime_tabular(const Model& model, const ConstRowRef& X, const LimeStats& stats,
                        const std::vector<int>& targets, const LimeOptions& options,
                        const RunOptions& run);

}  // namespace glassbox
