#include "core/inspect/activations.hpp"

#include "core/agnostic/inspection/job_rows.hpp"
#include "core/agnostic/model_eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace glassbox::inspect {

UnitLayout unit_layout(const Shape& shape) {
    if (shape.size() == 3) return {shape[0], shape[1] * shape[2]};
    return {shape_size(shape), 1};
}

namespace {

// Chunks whose partial sums are kept before they are added (in chunk order) into the totals:
// the chunk loop runs once per window of this many chunks, so memory stays bounded.
constexpr Index kWindowChunks = 64;

// The calling thread's Tape for one chunk loop, released at its end when it grew large (as
// Network::predict does).
struct ThreadTape {
    Tape& tape = thread_tape();
    ~ThreadTape() {
        if (tape.bytes() > kKeptTapeBytes) tape = Tape();
    }
};

void check_rows(const Network& net, const ConstRowRef& X) {
    require(X.cols() == net.n_inputs(), "X: expected " + std::to_string(net.n_inputs()) +
                                            " features per row, got " + std::to_string(X.cols()));
    require(X.rows() >= 1, "X: expected at least one row");
}

void check_layer(const Network& net, Index layer) {
    require(layer >= 0 && layer < net.n_layers(),
            "layers: index " + std::to_string(layer) + " is not a layer (the network has " +
                std::to_string(net.n_layers()) + ")");
}

// One selected layer: where its units start among all units, its histogram and saturation.
struct LayerPlan {
    Index layer, first_unit, units, positions;
    double low, high, inverse_width;  // histogram span and bins / (high - low)
    bool bounded;                     // saturation defined (a known range)
    float saturated_below, saturated_above;
};

// Sums of one chunk (or the totals): per unit the shifted sum and sum of squares and the rows
// where the unit is zero / saturated; per layer the histogram, the values outside it, min, max.
struct Sums {
    VectorXd sum, squares;
    CountVector zero_rows, saturated_rows;
    CountMatrix counts, outside;
    VectorXd min, max;

    void reset(Index units, Index layers, Index bins) {
        sum.setZero(units);
        squares.setZero(units);
        zero_rows.setZero(units);
        saturated_rows.setZero(units);
        counts.setZero(layers, bins);
        outside.setZero(layers, 2);
        min.setConstant(layers, std::numeric_limits<double>::infinity());
        max.setConstant(layers, -std::numeric_limits<double>::infinity());
    }
    void add(const Sums& other) {
        sum += other.sum;
        squares += other.squares;
        zero_rows += other.zero_rows;
        saturated_rows += other.saturated_rows;
        counts += other.counts;
        outside += other.outside;
        min = min.cwiseMin(other.min);
        max = max.cwiseMax(other.max);
    }
};

// Adds one unit's map on one row (`positions` contiguous values) to `sums`.
void add_map(const float* y, const LayerPlan& plan, Index l, Index unit, double shift,
             Sums& sums) {
    const Index n = plan.positions;
    // four lanes in a fixed order: vectorisable, and the same result on every run
    double s[4] = {0, 0, 0, 0}, q[4] = {0, 0, 0, 0};
    Index p = 0;
    for (; p + 4 <= n; p += 4) {
        for (int k = 0; k < 4; ++k) {
            const double d = static_cast<double>(y[p + k]) - shift;
            s[k] += d;
            q[k] += d * d;
        }
    }
    for (; p < n; ++p) {
        const double d = static_cast<double>(y[p]) - shift;
        s[0] += d;
        q[0] += d * d;
    }
    sums.sum[unit] += (s[0] + s[1]) + (s[2] + s[3]);
    sums.squares[unit] += (q[0] + q[1]) + (q[2] + q[3]);

    Index zeros = 0, saturated = 0;
    float lo = y[0], hi = y[0];
    for (p = 0; p < n; ++p) {
        zeros += y[p] == 0.0f;
        saturated += (y[p] < plan.saturated_below) | (y[p] > plan.saturated_above);
        lo = std::min(lo, y[p]);
        hi = std::max(hi, y[p]);
    }
    sums.zero_rows[unit] += zeros == n;
    sums.saturated_rows[unit] += plan.bounded && saturated == n;
    sums.min[l] = std::min(sums.min[l], static_cast<double>(lo));
    sums.max[l] = std::max(sums.max[l], static_cast<double>(hi));

    // histogram of the non-zero values (zeros, often most of a ReLU's, are added at once)
    std::int64_t* counts = sums.counts.row(l).data();
    const Index last_bin = sums.counts.cols() - 1;
    auto add_value = [&](double v, std::int64_t times) {
        if (v >= plan.low && v <= plan.high) {
            counts[std::min(static_cast<Index>((v - plan.low) * plan.inverse_width), last_bin)] +=
                times;
        } else {
            sums.outside(l, v < plan.low ? 0 : 1) += times;
        }
    };
    for (p = 0; p < n; ++p) {
        if (y[p] != 0.0f) add_value(static_cast<double>(y[p]), 1);
    }
    if (zeros) add_value(0.0, zeros);
}

// Adds rows of the layers' activations (on `tape`) to `sums`.
void add_rows(const Tape& tape, const std::vector<LayerPlan>& plans, const VectorXd& shift,
              Sums& sums) {
    for (std::size_t l = 0; l < plans.size(); ++l) {
        const LayerPlan& plan = plans[l];
        const RowMatrixXf& a = tape.activations[plan.layer];
        for (Index r = 0; r < a.rows(); ++r) {
            const float* row = a.row(r).data();
            for (Index u = 0; u < plan.units; ++u) {
                add_map(row + u * plan.positions, plan, static_cast<Index>(l),
                        plan.first_unit + u, shift[plan.first_unit + u], sums);
            }
        }
    }
}

// The plans, with the shifts and the unbounded layers' histogram edges from a first pass over
// the first rows of X.
std::vector<LayerPlan> plan_layers(const Network& net, const ConstRowRef& X,
                                   const std::vector<Index>& layers, const RowMatrixXd& ranges,
                                   Index bins, const RunOptions& options, VectorXd& shift) {
    std::vector<LayerPlan> plans;
    Index units = 0;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        check_layer(net, layers[l]);
        const UnitLayout layout = unit_layout(net.layer_shape(layers[l]));
        const double low = ranges(Index(l), 0), high = ranges(Index(l), 1);
        const bool bounded = std::isfinite(low) && std::isfinite(high);
        require(bounded ? low < high : std::isnan(low) && std::isnan(high),
                "ranges: row " + std::to_string(l) + " must be a finite (low, high) with low < "
                "high, or NaN for an unbounded layer");
        plans.push_back(LayerPlan{layers[l], units, layout.units, layout.positions, low, high,
                                  0.0, bounded, -std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::infinity()});
        units = add_count(units, layout.units, "units");
    }
    const Index preview = std::min<Index>(
        {X.rows(), kPreviewRows,
         std::max<Index>(1, static_cast<Index>(options.memory_budget /
                                               std::max<std::size_t>(1, net.bytes_per_point())))});
    ThreadTape scope;
    Tape& tape = scope.tape;
    tape.input = X.topRows(preview);
    Index end = 0;
    for (Index layer : layers) end = std::max(end, layer + 1);
    net.forward(tape, 0, end);
    shift.resize(units);
    for (LayerPlan& plan : plans) {
        const RowMatrixXf& a = tape.activations[plan.layer];
        for (Index u = 0; u < plan.units; ++u) {
            double sum = 0.0;
            for (Index r = 0; r < a.rows(); ++r) {
                const float* map = a.row(r).data() + u * plan.positions;
                for (Index p = 0; p < plan.positions; ++p) sum += map[p];
            }
            shift[plan.first_unit + u] = sum / static_cast<double>(a.rows() * plan.positions);
        }
        if (plan.bounded) {
            const double margin = kSaturationMargin * (plan.high - plan.low);
            plan.saturated_below = static_cast<float>(plan.low + margin);
            plan.saturated_above = static_cast<float>(plan.high - margin);
        } else {
            const double lo = a.minCoeff(), hi = a.maxCoeff();
            const double span = hi > lo ? hi - lo : std::max(1.0, std::abs(hi));
            plan.low = lo >= 0.0 ? 0.0 : lo - 0.1 * span;
            plan.high = hi + 0.1 * span;
        }
        plan.inverse_width = static_cast<double>(bins) / (plan.high - plan.low);
    }
    return plans;
}

}  // namespace

ActivationStats activation_stats(const Network& net, const ConstRowRef& X,
                                 const std::vector<Index>& layers, const RowMatrixXd& ranges,
                                 Index bins, const RunOptions& options) {
    check_rows(net, X);
    require(!layers.empty(), "layers: expected at least one layer");
    require(ranges.rows() == Index(layers.size()) && ranges.cols() == 2,
            "ranges: expected one (low, high) row per layer");
    require_count(bins, "bins", 1, 1'000'000);
    VectorXd shift;
    std::vector<LayerPlan> plans = plan_layers(net, X, layers, ranges, bins, options, shift);
    const Index n_units = shift.size(), n_layers = Index(plans.size());
    Index end = 0;
    for (Index layer : layers) end = std::max(end, layer + 1);

    const Index n = X.rows();
    const Index chunk_rows = inspection::job_chunk_rows(net, options.memory_budget, n, 64);
    const Index n_chunks = (n + chunk_rows - 1) / chunk_rows;
    const std::size_t slot_bytes =
        bytes_of(add_count(mul_count(n_units, 4, "units"), mul_count(n_layers, bins + 4, "bins"),
                           "units"),
                 8);
    require_state_fits(slot_bytes, options, "layers",
                       "the sums of " + std::to_string(n_units) + " units");
    const Index window = std::clamp<Index>(
        static_cast<Index>(std::max(options.memory_budget, kStateAllowance) / slot_bytes), 1,
        std::min(kWindowChunks, n_chunks));
    std::vector<Sums> slots(static_cast<std::size_t>(window));
    Sums total;
    total.reset(n_units, n_layers, bins);

    const RunOptions inner = with_progress_total(options, n);
    for (Index w = 0; w < n_chunks; w += window) {
        const Index count = std::min(window, n_chunks - w);
        const Index row0 = w * chunk_rows, rows = std::min(n, (w + count) * chunk_rows) - row0;
        for (Index s = 0; s < count; ++s) slots[std::size_t(s)].reset(n_units, n_layers, bins);
        for_each_chunk(
            rows, chunk_rows, true, inner, [] { return ThreadTape{}; },
            [&](ThreadTape& scope, Index first, Index chunk_count) {
                scope.tape.input = X.middleRows(row0 + first, chunk_count);
                net.forward(scope.tape, 0, end);
                add_rows(scope.tape, plans, shift, slots[std::size_t(first / chunk_rows)]);
            });
        for (Index s = 0; s < count; ++s) total.add(slots[std::size_t(s)]);  // in chunk order
    }

    ActivationStats out;
    out.layers = layers;
    out.n_rows = n;
    out.units.resize(n_layers);
    out.mean.resize(n_units);
    out.std.resize(n_units);
    out.edges.resize(n_layers, bins + 1);
    for (Index l = 0; l < n_layers; ++l) {
        const LayerPlan& plan = plans[std::size_t(l)];
        out.units[l] = plan.units;
        const double values = static_cast<double>(n) * static_cast<double>(plan.positions);
        for (Index u = plan.first_unit; u < plan.first_unit + plan.units; ++u) {
            const double centred = total.sum[u] / values;
            out.mean[u] = shift[u] + centred;
            out.std[u] = std::sqrt(std::max(0.0, total.squares[u] / values - centred * centred));
        }
        for (Index b = 0; b <= bins; ++b) {
            out.edges(l, b) = plan.low + (plan.high - plan.low) * static_cast<double>(b) /
                                             static_cast<double>(bins);
        }
    }
    out.zero_rows = std::move(total.zero_rows);
    out.saturated_rows = std::move(total.saturated_rows);
    out.counts = std::move(total.counts);
    out.outside = std::move(total.outside);
    out.min = std::move(total.min);
    out.max = std::move(total.max);
    return out;
}

RowMatrixXf layer_features(const Network& net, const ConstRowRef& X, Index layer, Pool pool,
                           const RunOptions& options) {
    check_rows(net, X);
    check_layer(net, layer);
    const Shape& shape = net.layer_shape(layer);
    require(pool == Pool::none || shape.size() == 3,
            "pool: layer '" + net.layer_name(layer) +
                "' is not an image layer (C, H, W); pool only image layers, or pass pool=None");
    const UnitLayout layout = unit_layout(shape);
    const Index width = pool == Pool::none ? net.layer_size(layer) : layout.units;
    const Index n = X.rows();
    RowMatrixXf out(n, width);
    for_each_chunk(
        n, inspection::job_chunk_rows(net, options.memory_budget, n, 64), true, options,
        [] { return ThreadTape{}; },
        [&](ThreadTape& scope, Index first, Index count) {
            scope.tape.input = X.middleRows(first, count);
            net.forward(scope.tape, 0, layer + 1);
            const RowMatrixXf& a = scope.tape.activations[layer];
            if (pool == Pool::none) {
                out.middleRows(first, count) = a;
                return;
            }
            for (Index r = 0; r < count; ++r) {
                for (Index c = 0; c < layout.units; ++c) {
                    const float* map = a.row(r).data() + c * layout.positions;
                    if (pool == Pool::max) {
                        out(first + r, c) = *std::max_element(map, map + layout.positions);
                    } else {
                        double sum = 0.0;
                        for (Index p = 0; p < layout.positions; ++p) sum += map[p];
                        out(first + r, c) =
                            static_cast<float>(sum / static_cast<double>(layout.positions));
                    }
                }
            }
        });
    return out;
}

}  // namespace glassbox::inspect
