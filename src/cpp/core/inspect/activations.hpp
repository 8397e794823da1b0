// Inside a native network: streamed statistics of its hidden activations and the features of one
// layer, each a forward pass per chunk of rows through the shared chunk loop, reduced on the fly
// so that memory does not grow with the number of rows.
#pragma once

#include "core/network/network.hpp"

#include <cstdint>
#include <vector>

namespace glassbox::inspect {

using CountVector = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;
using CountMatrix = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A layer's units: the channels of a (C, H, W) output, each over its H x W positions; for any
// other shape every element is a unit with one position.
struct UnitLayout {
    Index units;
    Index positions;
};
UnitLayout unit_layout(const Shape& shape);

// Activations within this fraction of a bounded layer's range from either end are saturated
// (tanh: |y| > 0.99; sigmoid: y < 0.005 or y > 0.995).
constexpr double kSaturationMargin = 0.005;
// Rows of the first pass that fixes each unit's shift (for the variance) and the histogram
// edges of unbounded layers: the first min(n, kPreviewRows) rows.
constexpr Index kPreviewRows = 256;

struct ActivationStats {
    std::vector<Index> layers;  // the layers, in the order asked
    CountVector units;          // per layer: its units (the layers' units follow one another)
    VectorXd mean, std;         // per unit, over rows x positions (std: population, ddof 0)
    CountVector zero_rows;       // per unit: rows where its whole map is exactly zero
    CountVector saturated_rows;  // per unit: rows where its whole map is saturated (0 unbounded)
    RowMatrixXd edges;           // per layer: bins + 1 histogram edges
    CountMatrix counts;          // per layer: values per bin (last bin closed)
    CountMatrix outside;         // per layer: values below the first edge, above the last
    VectorXd min, max;           // per layer, over every value
    Index n_rows = 0;
};

// Statistics of the outputs of `layers` over the rows of X. ranges (layers x 2): a bounded
// activation's (low, high) range, which is its histogram's span and defines saturation; NaN for
// an unbounded layer, whose edges come from the first pass's min and max (widened by 10% of
// their span each way, from 0 when the minimum is >= 0) and which is never saturated. Chunks
// run in parallel; partial sums are kept per chunk and added in chunk order, so results are
// bit-identical for any thread count.
ActivationStats activation_stats(const Network& net, const ConstRowRef& X,
                                 const std::vector<Index>& layers, const RowMatrixXd& ranges,
                                 Index bins, const RunOptions& options);

// How features pool a (C, H, W) layer over its positions.
enum class Pool { none, mean, max };

// The output of `layer` for every row of X (rows x layer size), or with pooling per channel
// (rows x C; mean accumulated in double). Pooling a layer that is not (C, H, W) throws.
RowMatrixXf layer_features(const Network& net, const ConstRowRef& X, Index layer, Pool pool,
                           const RunOptions& options);

}  // namespace glassbox::inspect
