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
constexpr Index kWindowChunks = 256;
// Rows per chunk at most (see activation_stats).
constexpr Index kStatsChunkRows = 256;

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
    double low, high;  // histogram span (float values)
    float low_f, high_f, scale_f;  // the same, and float(bins / (high - low))
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

// Histogram slots of `n` values: 0 below the first edge, 1..bins the bins (the last closed),
// bins + 1 above; four interleaved copies of the counts break the store-to-load chain of runs
// of equal values (a ReLU's zeros). In float (the edges are floats: eight lanes per vector) and
// with selects only, so the slot computation vectorises.
void add_histogram(const float* y, Index n, const LayerPlan& plan, Index bins,
                   std::int64_t* lanes, std::int32_t* slots) {
    const float top = static_cast<float>(bins - 1), low = plan.low_f, high = plan.high_f;
    const float scale = plan.scale_f;
    for (Index p = 0; p < n; ++p) {
        const float v = y[p];
        float t = (v - low) * scale;
        t = 0.0f < t ? t : 0.0f;  // (NaN -> 0)
        t = t < top ? t : top;
        std::int32_t slot = static_cast<std::int32_t>(t) + 1;
        slot = v < low ? 0 : slot;
        slots[p] = v > high ? static_cast<std::int32_t>(bins + 1) : slot;
    }
    const Index stride = bins + 2;
    Index p = 0;
    for (; p + 4 <= n; p += 4) {
        for (Index k = 0; k < 4; ++k) ++lanes[k * stride + slots[p + k]];
    }
    for (; p < n; ++p) ++lanes[slots[p]];
}

// Adds one row's map of a channel (`positions` contiguous values) to `sums`.
void add_map(const float* y, const LayerPlan& plan, Index unit, double shift, Sums& sums) {
    // eight lanes in a fixed order: one vectorised pass, the same result on every run
    constexpr Index kLanes = 8;
    double s[kLanes] = {}, q[kLanes] = {};
    const Index n = plan.positions, whole = n - n % kLanes;
    for (Index p = 0; p < whole; p += kLanes) {
        for (Index k = 0; k < kLanes; ++k) {
            const double d = static_cast<double>(y[p + k]) - shift;
            s[k] += d;
            q[k] += d * d;
        }
    }
    for (Index p = whole; p < n; ++p) {
        const double d = static_cast<double>(y[p]) - shift;
        s[p - whole] += d;
        q[p - whole] += d * d;
    }
    double sum = 0.0, squares = 0.0;
    for (Index k = 0; k < kLanes; ++k) {
        sum += s[k];
        squares += q[k];
    }
    sums.sum[unit] += sum;
    sums.squares[unit] += squares;
    const Eigen::Map<const Eigen::ArrayXf> map(y, n);
    sums.zero_rows[unit] += (map == 0.0f).all();
    sums.saturated_rows[unit] +=
        plan.bounded && ((map < plan.saturated_below) || (map > plan.saturated_above)).all();
}

// Scratch of one thread: the interleaved histogram lanes and a row's slots.
struct Scratch {
    std::vector<std::int64_t> lanes;
    std::vector<std::int32_t> slots;
};

// Runs the chunk on tape.input through the layers, adding each inspected layer's rows to `sums`
// as soon as it is computed (while its activations are still in cache).
void add_rows(const Network& net, Tape& tape, const std::vector<LayerPlan>& plans,
              const std::vector<std::size_t>& order, const VectorXd& shift, Index bins,
              Scratch& scratch, Sums& sums) {
    Index done = 0;
    for (std::size_t l : order) {
        const LayerPlan& plan = plans[l];
        if (plan.layer >= done) {
            net.forward(tape, done, plan.layer + 1);
            done = plan.layer + 1;
        }
        const RowMatrixXf& a = tape.activations[plan.layer];
        const Index width = a.cols();
        scratch.lanes.assign(static_cast<std::size_t>(4 * (bins + 2)), 0);
        scratch.slots.resize(static_cast<std::size_t>(width));
        const auto unit_shift = shift.segment(plan.first_unit, plan.units);
        auto sum = sums.sum.segment(plan.first_unit, plan.units);
        auto squares = sums.squares.segment(plan.first_unit, plan.units);
        auto zero_rows = sums.zero_rows.segment(plan.first_unit, plan.units);
        auto saturated_rows = sums.saturated_rows.segment(plan.first_unit, plan.units);
        for (Index r = 0; r < a.rows(); ++r) {
            const float* row = a.row(r).data();
            if (plan.positions == 1) {  // one value per unit: vectorised across the units
                const Eigen::Map<const Eigen::ArrayXf> y(row, width);
                const auto centred = y.cast<double>() - unit_shift.array();  // lazy
                sum.array() += centred;
                squares.array() += centred.square();
                zero_rows.array() += (y == 0.0f).cast<std::int64_t>();
                if (plan.bounded) {
                    saturated_rows.array() +=
                        ((y < plan.saturated_below) || (y > plan.saturated_above))
                            .cast<std::int64_t>();
                }
            } else {
                for (Index u = 0; u < plan.units; ++u) {
                    add_map(row + u * plan.positions, plan, plan.first_unit + u,
                            unit_shift[u], sums);
                }
            }
            const Eigen::Map<const Eigen::ArrayXf> y(row, width);
            sums.min[Index(l)] = std::min(sums.min[Index(l)], double(y.minCoeff()));
            sums.max[Index(l)] = std::max(sums.max[Index(l)], double(y.maxCoeff()));
            add_histogram(row, width, plan, bins, scratch.lanes.data(), scratch.slots.data());
        }
        const Index stride = bins + 2;
        for (Index k = 0; k < 4; ++k) {
            const std::int64_t* lane = scratch.lanes.data() + k * stride;
            sums.outside(Index(l), 0) += lane[0];
            sums.outside(Index(l), 1) += lane[bins + 1];
            for (Index b = 0; b < bins; ++b) sums.counts(Index(l), b) += lane[b + 1];
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
                                  0.0f, 0.0f, 0.0f, bounded, -std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::infinity()});
        units = add_count(units, layout.units, "units");
    }
    // the first rows, in pieces the memory budget holds (the rows, and so the edges, do not
    // depend on the budget)
    const Index preview = std::min(X.rows(), kPreviewRows);
    const Index piece = std::clamp<Index>(
        static_cast<Index>(options.memory_budget / std::max<std::size_t>(1, net.bytes_per_point())),
        1, preview);
    Index end = 0;
    for (Index layer : layers) end = std::max(end, layer + 1);
    shift.setZero(units);
    VectorXd lo = VectorXd::Constant(Index(plans.size()), std::numeric_limits<double>::infinity());
    VectorXd hi = -lo;
    ThreadTape scope;
    Tape& tape = scope.tape;
    for (Index first = 0; first < preview; first += piece) {
        check_interrupt(options);
        tape.input = X.middleRows(first, std::min(piece, preview - first));
        net.forward(tape, 0, end);
        for (std::size_t l = 0; l < plans.size(); ++l) {
            const LayerPlan& plan = plans[l];
            const RowMatrixXf& a = tape.activations[plan.layer];
            for (Index r = 0; r < a.rows(); ++r) {
                for (Index u = 0; u < plan.units; ++u) {
                    const float* map = a.row(r).data() + u * plan.positions;
                    for (Index p = 0; p < plan.positions; ++p) shift[plan.first_unit + u] += map[p];
                }
            }
            lo[Index(l)] = std::min(lo[Index(l)], double(a.minCoeff()));
            hi[Index(l)] = std::max(hi[Index(l)], double(a.maxCoeff()));
        }
    }
    for (std::size_t l = 0; l < plans.size(); ++l) {
        LayerPlan& plan = plans[l];
        shift.segment(plan.first_unit, plan.units) /= static_cast<double>(preview * plan.positions);
        if (plan.bounded) {
            const double margin = kSaturationMargin * (plan.high - plan.low);
            plan.saturated_below = static_cast<float>(plan.low + margin);
            plan.saturated_above = static_cast<float>(plan.high - margin);
        } else {
            const double min = lo[Index(l)], max = hi[Index(l)];
            const double span = max > min ? max - min : std::max(1.0, std::abs(max));
            plan.low = min >= 0.0 ? 0.0 : min - 0.1 * span;
            plan.high = max + 0.1 * span;
        }
        // edges on float values, so that the float bin computation and the edges agree
        plan.low_f = static_cast<float>(plan.low);
        plan.high_f = std::max(static_cast<float>(plan.high),
                               std::nextafter(plan.low_f, std::numeric_limits<float>::infinity()));
        plan.low = plan.low_f;
        plan.high = plan.high_f;
        plan.scale_f = static_cast<float>(static_cast<double>(bins) / (plan.high - plan.low));
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
    std::vector<std::size_t> order(plans.size());  // the plans by layer
    for (std::size_t l = 0; l < order.size(); ++l) order[l] = l;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return plans[a].layer < plans[b].layer; });

    const Index n = X.rows();
    // at most kStatsChunkRows: the statistics read each inspected layer right after the forward
    // wrote it, from cache rather than memory
    const Index chunk_rows =
        std::min(kStatsChunkRows, inspection::job_chunk_rows(net, options.memory_budget, n, 64));
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
        struct State {
            ThreadTape scope;
            Scratch scratch;
        };
        for_each_chunk(
            rows, chunk_rows, true, inner, [] { return State{}; },
            [&](State& state, Index first, Index chunk_count) {
                state.scope.tape.input = X.middleRows(row0 + first, chunk_count);
                add_rows(net, state.scope.tape, plans, order, shift, bins, state.scratch,
                         slots[std::size_t(first / chunk_rows)]);
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
