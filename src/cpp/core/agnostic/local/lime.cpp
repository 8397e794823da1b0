// LIME tabular: training statistics, the per-row neighbourhood, and the weighted ridge fits.
#include "core/agnostic/local/lime.hpp"

#include "core/agnostic/local/normal.hpp"
#include "core/agnostic/model_eval.hpp"
#include "core/sampling/counter_rng.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace glassbox {
namespace {

// NumPy's default ("linear") percentile of sorted values, with its exact interpolation formula,
// so the bin edges equal lime's bit for bit.
double percentile_sorted(const std::vector<double>& sorted, double q) {
    const Index n = static_cast<Index>(sorted.size());
    const double virtual_index = static_cast<double>(n - 1) * (q / 100.0);
    const double previous = std::floor(virtual_index);
    const auto i = static_cast<Index>(previous);
    if (i >= n - 1) return sorted[n - 1];
    const double gamma = virtual_index - previous;
    const double a = sorted[i], b = sorted[i + 1], diff = b - a;
    // volatile: a fused multiply-add (-march=native) would round differently from NumPy
    volatile double step = gamma >= 0.5 ? diff * (1.0 - gamma) : diff * gamma;
    return gamma >= 0.5 ? b - step : a + step;
}

// Distinct values of `column` (sorted) and their cumulative relative frequencies.
void value_frequencies(const std::vector<double>& column, std::vector<double>& values,
                       std::vector<double>& cumulative) {
    std::map<double, Index> counts;
    for (double v : column) ++counts[v];
    values.clear();
    cumulative.clear();
    double total = 0.0;
    for (const auto& [value, count] : counts) {
        values.push_back(value);
        total += static_cast<double>(count);
        cumulative.push_back(total);
    }
    for (double& c : cumulative) c /= total;
}

double mean_of(const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double std_of(const std::vector<double>& v, double mean) {
    double sum = 0.0;
    for (double x : v) sum += (x - mean) * (x - mean);
    return std::sqrt(sum / static_cast<double>(v.size()));
}

}  // namespace

Index LimeStats::bin_of(Index j, double x) const {
    const auto& e = edges[static_cast<std::size_t>(j)];
    return static_cast<Index>(std::lower_bound(e.begin(), e.end(), x) - e.begin());
}

LimeStats fit_lime_stats(const ConstRowRef& training, const std::vector<char>& categorical,
                         int discretizer) {
    const Index n = training.rows(), d = training.cols();
    require(n >= 1, "training_data: needs at least one row");
    require(static_cast<Index>(categorical.size()) == d,
            "categorical_features: expected one flag per feature");
    require(discretizer == 0 || discretizer == 4 || discretizer == 10,
            "discretizer: expected 'quartile', 'decile' or None");
    LimeStats s;
    s.n_features = d;
    const auto D = static_cast<std::size_t>(d);
    s.binned.assign(D, 0);
    s.sampled.assign(D, 0);
    s.edges.resize(D);
    s.bin_mean.resize(D);
    s.bin_std.resize(D);
    s.bin_min.resize(D);
    s.bin_max.resize(D);
    s.bin_draw.resize(D);
    s.values.resize(D);
    s.cumulative.resize(D);
    s.thresholds.resize(D);
    s.mean.assign(D, 0.0);
    s.scale.assign(D, 1.0);
    std::vector<double> column(static_cast<std::size_t>(n));
    for (Index j = 0; j < d; ++j) {
        const auto J = static_cast<std::size_t>(j);
        for (Index i = 0; i < n; ++i) column[static_cast<std::size_t>(i)] = training(i, j);
        if (categorical[J]) {
            s.sampled[J] = 1;
            value_frequencies(column, s.values[J], s.cumulative[J]);
            continue;
        }
        if (discretizer == 0) {
            // StandardScaler(with_mean=False) still records the mean, and lime centres with it
            s.mean[J] = mean_of(column);
            const double sd = std_of(column, s.mean[J]);
            s.scale[J] = sd < 10.0 * std::numeric_limits<double>::epsilon() ? 1.0 : sd;
            continue;
        }
        s.binned[J] = s.sampled[J] = 1;
        std::vector<double> sorted = column;
        std::sort(sorted.begin(), sorted.end());
        const int n_edges = discretizer - 1;
        std::vector<double>& e = s.edges[J];
        for (int k = 1; k <= n_edges; ++k) {
            e.push_back(percentile_sorted(sorted, 100.0 * k / discretizer));
        }
        e.erase(std::unique(e.begin(), e.end()), e.end());
        const Index n_bins = static_cast<Index>(e.size()) + 1;
        std::vector<std::vector<double>> members(static_cast<std::size_t>(n_bins));
        std::vector<double> bins(static_cast<std::size_t>(n));
        for (Index i = 0; i < n; ++i) {
            const Index b = s.bin_of(j, column[static_cast<std::size_t>(i)]);
            members[static_cast<std::size_t>(b)].push_back(column[static_cast<std::size_t>(i)]);
            bins[static_cast<std::size_t>(i)] = static_cast<double>(b);
        }
        for (Index b = 0; b < n_bins; ++b) {
            const auto& m = members[static_cast<std::size_t>(b)];
            const double mean = m.empty() ? 0.0 : mean_of(m);
            s.bin_mean[J].push_back(mean);
            s.bin_std[J].push_back((m.empty() ? 0.0 : std_of(m, mean)) + 1e-11);
            s.bin_min[J].push_back(b == 0 ? sorted.front() : e[static_cast<std::size_t>(b - 1)]);
            s.bin_max[J].push_back(b == n_bins - 1 ? sorted.back() : e[static_cast<std::size_t>(b)]);
            const double sd = s.bin_std[J].back(), lo = s.bin_min[J].back(),
                         hi = s.bin_max[J].back();
            // a one-value bin: lime returns its standardised bound here (a slip); we return the
            // value
            using Draw = LimeStats::BinDraw;
            s.bin_draw[J].push_back(
                lo == hi ? Draw{TruncatedNormal(0.0, 0.0), lo, 0.0}
                         : Draw{TruncatedNormal((lo - mean) / sd, (hi - mean) / sd), mean, sd});
        }
        value_frequencies(bins, s.values[J], s.cumulative[J]);
    }
    for (std::size_t j = 0; j < D; ++j) {
        // cum <= u = bits * 2^-53 exactly when ceil(cum * 2^53) <= bits (scaling is exact)
        const auto& cum = s.cumulative[j];
        for (std::size_t c = 0; c + 1 < cum.size(); ++c) {
            s.thresholds[j].push_back(static_cast<std::uint64_t>(std::ceil(cum[c] * 0x1.0p53)));
        }
    }
    return s;
}

LimeRowSampler::LimeRowSampler(const LimeStats& stats, const float* row, Index r,
                               std::uint64_t seed)
    : stats_(stats), row_(row), r_(r), value_rng_(seed, kLimeValue), bin_rng_(seed, kLimeWithinBin),
      normal_rng_(seed, kLimeNormal), code_(static_cast<std::size_t>(stats.n_features)) {
    for (Index j = 0; j < stats.n_features; ++j) {
        const auto J = static_cast<std::size_t>(j);
        code_[J] = stats.binned[J] ? static_cast<double>(stats.bin_of(j, row[j])) : row[j];
        has_continuous_ |= !stats.sampled[J];
    }
}

void LimeRowSampler::sample_range(Index s0, Index count, float* input,
                                  double* interpretable) const {
    const Index d = stats_.n_features;
    for (Index s = 0; s < count; s += kTile) {
        sample_block(s0 + s, std::min(kTile, count - s), input + s * d, interpretable + s * d);
    }
}

// Samples [s0, s0 + count) as rows of input / interpretable (count x n_features). Feature by
// feature over the tile, in passes over its samples: the random bits and the bin choices are
// integer loops the compiler vectorises, the bins' lower-half probabilities are a branch-free
// scalar pass, the normal quantiles are taken at once (vectorised), and a last pass maps them
// into the bins. Same values as drawing one sample at a time.
void LimeRowSampler::sample_block(Index s0, Index count, float* input,
                                  double* interpretable) const {
    const LimeStats& stats = stats_;
    const Index d = stats.n_features;
    struct Tile {
        std::vector<std::uint64_t> value_keys, bin_keys, bits, pick;
        std::vector<double> u, side_p, side_x, sign;
    };
    thread_local Tile t;
    const auto n = static_cast<std::size_t>(count);
    for (auto* v : {&t.value_keys, &t.bin_keys, &t.bits, &t.pick}) v->resize(n);
    for (auto* v : {&t.u, &t.side_p, &t.side_x, &t.sign}) v->resize(n);
    for (Index i = 0; i < count; ++i) {
        t.value_keys[static_cast<std::size_t>(i)] = value_rng_.subkey(r_, s0 + i);
        t.bin_keys[static_cast<std::size_t>(i)] = bin_rng_.subkey(r_, s0 + i);
        // the normals land in `interpretable` and are standardised back in place below
        if (has_continuous_) normal_rng_.normals(r_, s0 + i, interpretable + i * d, d);
    }
    for (Index j = 0; j < d; ++j) {
        const auto J = static_cast<std::size_t>(j);
        const auto c = static_cast<std::uint64_t>(j);
        float* in = input + j;
        double* z = interpretable + j;
        if (!stats.sampled[J]) {
            const double mean = stats.mean[J], scale = stats.scale[J];
            for (Index i = 0; i < count; ++i) {
                const double x = z[i * d] * scale + mean;
                in[i * d] = static_cast<float>(x);
                z[i * d] = (x - mean) / scale;
            }
            continue;
        }
        // numpy's choice(): the first value whose cumulative frequency exceeds u, i.e. the
        // number of thresholds u's bits reach
        CounterRng::bits_each(t.value_keys.data(), c, t.bits.data(), count);
        std::fill(t.pick.begin(), t.pick.end(), 0);
        for (const std::uint64_t threshold : stats.thresholds[J]) {
            for (std::size_t i = 0; i < n; ++i) t.pick[i] += t.bits[i] >= threshold;
        }
        const double* values = stats.values[J].data();
        const double code = code_[J];
        for (std::size_t i = 0; i < n; ++i) {
            const double value = values[t.pick[i]];
            z[i * d] = branchless_select((value >= code) & (value <= code), 1.0, 0.0);
        }
        if (!stats.binned[J]) {
            for (std::size_t i = 0; i < n; ++i) in[i * d] = static_cast<float>(values[t.pick[i]]);
            continue;
        }
        // a binned feature's values are bin ids: the truncated normal draw within the bin
        const LimeStats::BinDraw* draw = stats.bin_draw[J].data();
        CounterRng::uniforms_each(t.bin_keys.data(), c, t.u.data(), count);
        for (std::size_t i = 0; i < n; ++i) {
            const auto bin = static_cast<std::size_t>(values[t.pick[i]]);
            t.pick[i] = bin;
            t.side_p[i] = draw[bin].normal.side_probability(t.u[i], t.sign[i]);
        }
        normal_ppf(t.side_p.data(), t.side_x.data(), count);
        for (std::size_t i = 0; i < n; ++i) {
            const LimeStats::BinDraw& bin = draw[t.pick[i]];
            const double x = bin.normal.from_side(t.side_x[i], t.sign[i]);
            in[i * d] = static_cast<float>(bin.shift + bin.scale * x);
        }
    }
    if (s0 == 0) {  // sample 0 is the row itself
        for (Index j = 0; j < d; ++j) {
            const auto J = static_cast<std::size_t>(j);
            input[j] = row_[j];
            interpretable[j] =
                stats.sampled[J] ? 1.0 : (row_[j] - stats.mean[J]) / stats.scale[J];
        }
    }
}

namespace {

// The calling thread's interpretable samples (see lime_tabular).
RowMatrixXd& lime_scratch() {
    thread_local RowMatrixXd Z;
    return Z;
}

// Kernel-weighted moments of [z, y] over some of a row's samples: the total weight, the weighted
// means and the weighted co-moments about them (last index: y). Blocks of kLimeBlock samples are
// merged in sample order (Chan, Golub & LeVeque), so a neighbourhood of any size is fitted from
// O(p^2) state and the result does not depend on how the samples were chunked.
struct Moments {
    double weight = 0.0;
    VectorXd mean;
    Eigen::MatrixXd co;

    void reset(Index p) {
        weight = 0.0;
        mean.setZero(p + 1);
        co.setZero(p + 1, p + 1);
    }
    void merge(const Moments& b) {
        if (b.weight == 0.0) return;
        const double total = weight + b.weight;
        const VectorXd delta = b.mean - mean;
        co += b.co;
        co.noalias() += (weight * (b.weight / total)) * (delta * delta.transpose());
        mean += (b.weight / total) * delta;
        weight = total;
    }
};

// Samples per block of the moments: fixed, so results do not depend on budget or threads.
constexpr Index kLimeBlock = 256;

// One row's neighbourhood, folded chunk by chunk in sample order: the row itself (sample 0), the
// moments, and the weight of the perturbed samples (0: every one underflowed).
class RowFold {
public:
    RowFold(Index p, double kernel_width) : p_(p), kernel_width_(kernel_width) { total_.reset(p); }

    // Folds samples [s0, s0 + Z.rows()) (s0 a multiple of kLimeBlock) with outputs y.
    void add(Index s0, const Eigen::Ref<const RowMatrixXd>& Z, const Eigen::Ref<const VectorXd>& y) {
        if (s0 == 0) {
            z0_ = Z.row(0).transpose();
            y0_ = y(0);
        }
        for (Index b = 0; b < Z.rows(); b += kLimeBlock) {
            const Index count = std::min(kLimeBlock, Z.rows() - b);
            add_block(s0 + b, Z.middleRows(b, count), y.segment(b, count));
        }
    }

    const Moments& moments() const { return total_; }
    const VectorXd& z0() const { return z0_; }
    double y0() const { return y0_; }
    double others_weight() const { return others_; }

private:
    void add_block(Index s0, const Eigen::Ref<const RowMatrixXd>& Z,
                   const Eigen::Ref<const VectorXd>& y) {
        thread_local RowMatrixXd V;
        thread_local VectorXd w;
        thread_local Moments block;
        // a copy in the same aligned buffer whatever chunk the block came from, so that the
        // vectorised sums below add in the same order (bit-identical results for any chunking)
        V.resize(Z.rows(), p_ + 1);
        V.leftCols(p_) = Z;
        V.col(p_) = y;
        // exp(-d^2 / (2 width^2)), divided twice so a tiny width gives 0 / inf (never 0 / 0)
        w = (-0.5 * ((V.leftCols(p_).rowwise() - z0_.transpose()).rowwise().squaredNorm().array() /
                     kernel_width_ / kernel_width_))
                .exp()
                .matrix();
        others_ += s0 == 0 ? w.sum() - w(0) : w.sum();
        block.weight = w.sum();
        if (block.weight == 0.0) return;
        block.mean = (V.transpose() * w) / block.weight;
        V.rowwise() -= block.mean.transpose();
        V.array().colwise() *= w.array().sqrt();
        block.co.noalias() = V.transpose() * V;
        total_.merge(block);
    }

    Index p_;
    double kernel_width_;
    Moments total_;
    VectorXd z0_;
    double y0_ = 0.0, others_ = 0.0;
};

// Kernel-weighted least squares on the neighbourhood of one row, in double, after centring by
// the weighted means (as scikit-learn's Ridge with an intercept and sample weights), from the
// neighbourhood's moments.
class LocalFit {
public:
    explicit LocalFit(const RowFold& row)
        : z0_(row.z0()), p_(row.z0().size()), x_mean_(row.moments().mean.head(p_)),
          cross_(row.moments().co.col(p_).head(p_)), y_mean_(row.moments().mean(p_)),
          total_ss_(row.moments().co(p_, p_)), gram_(row.moments().co.topLeftCorner(p_, p_)) {}

    Index n_features() const { return p_; }

    VectorXd coefficients(const std::vector<Index>& used, double alpha) const {
        const Index k = static_cast<Index>(used.size());
        Eigen::MatrixXd A(k, k);
        VectorXd rhs(k);
        for (Index a = 0; a < k; ++a) {
            rhs(a) = cross_(used[a]);
            for (Index b = 0; b < k; ++b) A(a, b) = gram_(used[a], used[b]);
            A(a, a) += alpha;
        }
        return A.ldlt().solve(rhs);
    }

    // R^2 of the unregularised fit on `used` (forward selection): explained / total sum of squares.
    double least_squares_score(const std::vector<Index>& used) const {
        const VectorXd beta = coefficients(used, 0.0);
        double explained = 0.0;
        for (std::size_t a = 0; a < used.size(); ++a) explained += beta(Index(a)) * cross_(used[a]);
        return total_ss_ > 0.0 ? explained / total_ss_ : 1.0;
    }

    double intercept(const std::vector<Index>& used, const VectorXd& beta) const {
        double value = y_mean_;
        for (std::size_t a = 0; a < used.size(); ++a) value -= x_mean_(used[a]) * beta(Index(a));
        return value;
    }

    // The local model at the row itself (sample 0).
    double predict_row(const std::vector<Index>& used, const VectorXd& beta,
                       double intercept) const {
        double value = intercept;
        for (std::size_t a = 0; a < used.size(); ++a) value += z0_(used[a]) * beta(Index(a));
        return value;
    }

    // Weighted R^2 (scikit-learn's r2_score with sample weights): the weighted residual sum of
    // squares from the moments, sum w (yc - Zc beta)^2 = total - 2 beta'cross + beta'G beta.
    double score(const std::vector<Index>& used, const VectorXd& beta) const {
        double residual = total_ss_;
        for (std::size_t a = 0; a < used.size(); ++a) {
            double g = 0.0;
            for (std::size_t b = 0; b < used.size(); ++b) g += gram_(used[a], used[b]) * beta(Index(b));
            residual += beta(Index(a)) * (g - 2.0 * cross_(used[a]));
        }
        residual = std::max(residual, 0.0);
        if (total_ss_ > 0.0) return 1.0 - residual / total_ss_;
        return residual == 0.0 ? 1.0 : 0.0;
    }

    const VectorXd& z0() const { return z0_; }

private:
    const VectorXd& z0_;
    Index p_;
    VectorXd x_mean_, cross_;
    double y_mean_ = 0.0, total_ss_ = 0.0;
    Eigen::MatrixXd gram_;
};

std::vector<Index> forward_selection(const LocalFit& fit, Index num_features) {
    const Index d = fit.n_features();
    std::vector<Index> used;
    std::vector<char> taken(static_cast<std::size_t>(d), 0);
    for (Index step = 0; step < std::min(num_features, d); ++step) {
        Index best = -1;
        double best_score = -1e8;
        used.push_back(0);
        for (Index j = 0; j < d; ++j) {
            if (taken[static_cast<std::size_t>(j)]) continue;
            used.back() = j;
            const double score = fit.least_squares_score(used);
            if (best < 0 || score > best_score) {
                best = j;
                best_score = score;
            }
        }
        if (best < 0) break;  // (never: step < d leaves a feature untaken)
        used.back() = best;
        taken[static_cast<std::size_t>(best)] = 1;
    }
    return used;
}

std::vector<Index> highest_weights(const LocalFit& fit, Index num_features) {
    const Index d = fit.n_features();
    std::vector<Index> all(static_cast<std::size_t>(d));
    std::iota(all.begin(), all.end(), Index{0});
    const VectorXd beta = fit.coefficients(all, 0.01);
    std::vector<double> key(static_cast<std::size_t>(d));
    for (Index j = 0; j < d; ++j) key[static_cast<std::size_t>(j)] = std::abs(beta(j) * fit.z0()(j));
    std::stable_sort(all.begin(), all.end(), [&](Index a, Index b) {
        return key[static_cast<std::size_t>(a)] > key[static_cast<std::size_t>(b)];
    });
    all.resize(static_cast<std::size_t>(std::min(num_features, d)));
    return all;
}

// Fits row r from its folded neighbourhood: feature selection, then Ridge(alpha=1).
void fit_row(const RowFold& row, Index num_samples, const LimeOptions& options, LimeResult& result,
             Index r) {
    // only the row itself keeps a weight: the local model would be fitted on one point
    require(num_samples == 1 || row.others_weight() > 0.0,
            "kernel_width: so small that the kernel weight of every perturbed sample of row " +
                std::to_string(r) + " underflows to 0; use a larger kernel_width");
    const LocalFit fit(row);
    const Index d = fit.n_features();
    FeatureSelection selection = options.selection;
    if (selection == FeatureSelection::Auto) {
        selection = options.num_features <= 6 ? FeatureSelection::Forward
                                              : FeatureSelection::HighestWeights;
    }
    std::vector<Index> used;
    if (selection == FeatureSelection::Forward) {
        used = forward_selection(fit, options.num_features);
    } else if (selection == FeatureSelection::HighestWeights) {
        used = highest_weights(fit, options.num_features);
    } else {
        used.resize(static_cast<std::size_t>(d));
        std::iota(used.begin(), used.end(), Index{0});
    }
    const VectorXd beta = fit.coefficients(used, 1.0);
    const double intercept = fit.intercept(used, beta);
    result.values.row(r).setZero();
    for (std::size_t a = 0; a < used.size(); ++a) result.values(r, used[a]) = beta(Index(a));
    result.intercept(r) = intercept;
    result.score(r) = fit.score(used, beta);
    result.local_prediction(r) = fit.predict_row(used, beta, intercept);
    result.prediction(r) = row.y0();
}

// The target outputs of `count` samples from row `offset` of Y, in double.
const VectorXd& target_outputs(const RowMatrixXf& Y, Index offset, Index count, int target) {
    thread_local VectorXd y;
    y = Y.col(target).segment(offset, count).cast<double>();
    return y;
}

// Rows whose neighbourhood fits a chunk: whole neighbourhoods per chunk, fitted in the reduce of
// the chunk that evaluated them.
void lime_whole_rows(const Model& model, const ConstRowRef& X, const LimeStats& stats,
                     const std::vector<int>& targets, const LimeOptions& options,
                     double kernel_width, Index rows_per_chunk, const RunOptions& run,
                     LimeResult& result) {
    const Index n = X.rows(), d = X.cols(), S = options.num_samples;
    for_each_model_chunk(
        model, n * S, rows_per_chunk * S, run,
        [&](Index first, Index count, RowMatrixXf& batch) {
            // fill and reduce of a chunk run back to back on one thread, so the interpretable
            // samples live in that thread's scratch from one to the other (kept between calls,
            // as the pages of a fresh buffer per chunk cost more than sampling them)
            RowMatrixXd& Z = lime_scratch();
            Z.resize(count, d);
            for (Index offset = 0; offset < count; offset += S) {
                const Index r = (first + offset) / S;
                const LimeRowSampler sampler(stats, X.row(r).data(), run.first_row + r, options.seed);
                sampler.sample_range(0, S, batch.row(offset).data(), Z.row(offset).data());
            }
        },
        [&](Index first, Index count, const RowMatrixXf& Y) {
            RowMatrixXd& Z = lime_scratch();
            for (Index offset = 0; offset < count; offset += S) {
                const Index r = (first + offset) / S;
                RowFold row(d, kernel_width);
                row.add(0, Z.middleRows(offset, S),
                        target_outputs(Y, offset, S, targets[static_cast<std::size_t>(r)]));
                fit_row(row, S, options, result, r);
            }
            if (static_cast<std::size_t>(Z.size()) * sizeof(double) > kKeptTapeBytes) {
                Z = RowMatrixXd();
            }
        });
}

// Rows whose neighbourhood exceeds a chunk: each row's samples in chunks of `piece` samples (a
// multiple of kLimeBlock), evaluated and folded in order; rows in parallel for a native model.
void lime_row_pieces(const Model& model, const ConstRowRef& X, const LimeStats& stats,
                     const std::vector<int>& targets, const LimeOptions& options,
                     double kernel_width, Index piece, const RunOptions& run, LimeResult& result) {
    const Index n = X.rows(), d = X.cols(), S = options.num_samples;
    add_progress_total(run, n * S);
    auto fit_one = [&](Index r) {
        const LimeRowSampler sampler(stats, X.row(r).data(), run.first_row + r, options.seed);
        RowFold row(d, kernel_width);
        RowMatrixXf batch, Y;
        RowMatrixXd& Z = lime_scratch();
        for (Index s0 = 0; s0 < S; s0 += piece) {
            check_interrupt(run);
            const Index count = std::min(piece, S - s0);
            batch.resize(count, d);
            Z.resize(count, d);
            sampler.sample_range(s0, count, batch.data(), Z.data());
            predict_chunk(model, batch, Y, run);
            row.add(s0, Z, target_outputs(Y, 0, count, targets[static_cast<std::size_t>(r)]));
            report_progress(run, count);
        }
        Z = RowMatrixXd();
        fit_row(row, S, options, result, r);
    };
    if (!model.thread_safe()) {
        for (Index r = 0; r < n; ++r) fit_one(r);
        return;
    }
    ParallelErrors errors;  // no exception (bad_alloc, Interrupted) may leave the region
#pragma omp parallel for schedule(dynamic, 1) num_threads(team_size(run.n_threads, n))
    for (Index r = 0; r < n; ++r) errors.run([&] { fit_one(r); });
    errors.rethrow();
}

}  // namespace

LimeResult lime_tabular(const Model& model, const ConstRowRef& X, const LimeStats& stats,
                        const std::vector<int>& targets, const LimeOptions& options,
                        const RunOptions& run) {
    const Index n = X.rows(), d = X.cols(), S = options.num_samples;
    require(d == stats.n_features && d == model.n_inputs(),
            "X: expected " + std::to_string(stats.n_features) + " features (the training data's)");
    require_count(S, "num_samples", 1);
    require(options.num_features >= 1, "num_features: must be at least 1");
    require(std::isfinite(options.kernel_width), "kernel_width: must be a positive number");
    require(static_cast<Index>(targets.size()) == n, "target: expected one target per row");
    for (int t : targets) require(t >= 0 && t < model.n_outputs(), "target: out of range");
    const double kernel_width =
        options.kernel_width > 0.0 ? options.kernel_width : 0.75 * std::sqrt(double(d));
    const Index total = mul_count(n, S, "num_samples");
    // per thread: the moments of a row and of a block, and the fit's Gram matrix
    require_state_fits(bytes_of(mul_count(d + 1, d + 1, "X"), 4 * sizeof(double)), run, "X",
                       "the local model's normal equations over " + std::to_string(d) +
                           " features");

    LimeResult result;
    result.values.setZero(n, d);
    result.intercept.setZero(n);
    result.score.setZero(n);
    result.local_prediction.setZero(n);
    result.prediction.setZero(n);
    if (n == 0) return result;

    // Chunks within the budget (the interpretable samples are kept next to the model's rows). A
    // neighbourhood that fits is evaluated whole: a Python model gets as many rows per call as
    // the budget allows; a native network one row per chunk, so its tape is small enough to be
    // kept between chunks, the rows spread over the cores, and each row is evaluated in the same
    // call whichever other rows the job explains (a job split into parts gives the same bits).
    // A larger one is evaluated in pieces of whole blocks.
    const Index budget_rows = plan_chunk_rows(model, run.memory_budget, total, 2 * d + 2);
    if (budget_rows < S) {
        const Index piece = std::max(kLimeBlock, budget_rows / kLimeBlock * kLimeBlock);
        lime_row_pieces(model, X, stats, targets, options, kernel_width, piece, run, result);
        return result;
    }
    const Index rows_per_chunk = model.thread_safe() ? 1 : budget_rows / S;
    lime_whole_rows(model, X, stats, targets, options, kernel_width, rows_per_chunk, run, result);
    return result;
}

}  // namespace glassbox
