// The shared loop of every gradient method: evaluate d output[target(row)] / d (entry) at many
// points per input row (path points, noisy copies, baseline mixtures), block by block.
#pragma once

#include "core/network/network.hpp"

#include <algorithm>
#include <optional>
#include <type_traits>

namespace glassbox {

// Checks the per-row targets against the network's outputs.
void check_targets(const Network& net, Index n_rows, const std::vector<int>& targets);
// The same against `width` seeded values ("outputs" or a layer's neurons).
void check_targets(Index n_rows, const std::vector<int>& targets, Index width, const char* what);

// For rows [0, n_rows) with `points_per_row` points each (point p belongs to row p / points_per_row),
// each thread makes one worker with make_worker() and, block by block, calls
//   worker.fill(p_begin, count, entry)          write the points (count x entry width);
//   worker.reduce(p_begin, count, entry, grads, outputs)
//                                               consume d f_target / d entry at those points
//                                               (outputs: the network's outputs there).
// The entry is the network input (entry_layer = -1) or the output of layer entry_layer, in which
// case only the layers after it run (Network::reads_only_from(entry_layer) must hold).
// Rows are split into chunks processed in parallel; a chunk's points run in blocks sized by the
// memory budget, in order, so a worker sees each row's points contiguously and in ascending
// order. Chunking does not depend on the thread count: results are bit-identical for any count.
// The skeleton every block engine shares: chunks of whole rows in parallel (chunking independent
// of the thread count), each chunk's points in budget-sized blocks in order, one worker and one
// Tape per thread, and the one-hot seed of each block's targets. `step(worker, tape, seed, p,
// count)` does a block's forward, backward and reduce.
template <class MakeWorker, class Step>
void run_point_blocks(const Network& net, Index n_rows, Index points_per_row,
                      const std::vector<int>& targets, const RunOptions& options,
                      std::size_t extra_bytes_per_point, MakeWorker&& make_worker, Step&& step,
                      Index seed_layer = -1) {
    const Index seed_width = seed_layer < 0 ? net.n_outputs() : net.layer_size(seed_layer);
    check_targets(n_rows, targets, seed_width, seed_layer < 0 ? "outputs" : "neurons");
    if (n_rows == 0) return;
    const Index total_points = mul_count(n_rows, points_per_row, "points (rows x points per row)");
    const Index block = plan_block_points(net.bytes_per_point() + extra_bytes_per_point,
                                          options.memory_budget, total_points);
    const Index rows_per_chunk = std::max<Index>(1, block / points_per_row);
    const Index n_chunks = (n_rows + rows_per_chunk - 1) / rows_per_chunk;

    // Exceptions (a bad_alloc, an Interrupted) are carried out of the region; the chunk loop is
    // reached by every thread even when one failed, as the worksharing construct requires.
    ParallelErrors errors;
    add_progress_total(options, total_points);  // progress in points: a row may have millions
#pragma omp parallel num_threads(team_size(options.n_threads, n_chunks))
    {
        std::optional<std::decay_t<decltype(make_worker())>> worker;
        Tape& tape = thread_tape();
        RowMatrixXf seed;
        errors.run([&] {
            worker.emplace(make_worker());
            tape.activations.resize(net.n_layers());
            tape.grads.resize(net.n_layers());
        });
#pragma omp for schedule(dynamic, 1)
        for (Index chunk = 0; chunk < n_chunks; ++chunk) {
            errors.run([&] {
                const Index row_end = std::min(n_rows, (chunk + 1) * rows_per_chunk);
                const Index point_end = row_end * points_per_row;
                for (Index p = chunk * rows_per_chunk * points_per_row; p < point_end; p += block) {
                    check_interrupt(options);  // per block: one row may hold millions of points
                    const Index count = std::min(block, point_end - p);
                    seed.setZero(count, seed_width);
                    for (Index i = 0; i < count; ++i) {
                        seed(i, targets[(p + i) / points_per_row]) = 1.0f;
                    }
                    step(*worker, tape, seed, p, count);
                    report_progress(options, count);
                }
            });
        }
        if (tape.bytes() > kKeptTapeBytes || errors.stopped()) tape = Tape();
    }
    errors.rethrow();
}

// The gradient loop: points enter where `points` says (the input, a layer's output, or one input
// edge of a layer) and the seed is d f_target / d(output of points.seed_layer, default the
// network output). worker.fill writes the points (count x entry width); worker.reduce gets the
// gradient there and the seeded layer's values at the points. A layer's output whose later
// layers read nothing before it runs only those layers; any other inner entry runs the whole
// pass of the row's network input (`row_inputs`, one row per input row, required then) with the
// points in place of the entry.
template <class MakeWorker>
void for_each_gradient_block(const Network& net, Index n_rows, Index points_per_row,
                             const std::vector<int>& targets, const RunOptions& options,
                             std::size_t extra_bytes_per_point, MakeWorker&& make_worker,
                             const PassPoints& points, const ConstRowRef* row_inputs = nullptr,
                             const RuleMap* rules = nullptr) {
    const Index width = net.entry_width(points);
    const Index entry = points.entry_layer;
    const Index end = points.seed_layer < 0 ? -1 : points.seed_layer + 1;
    const bool only_after = points.inner_entry() && points.entry_slot < 0 &&
                            net.reads_only_from(entry);
    const bool whole_pass = points.inner_entry() && !only_after;
    require(!whole_pass || (row_inputs && row_inputs->rows() == n_rows &&
                            row_inputs->cols() == net.n_inputs()),
            "layer attribution: the rows' network inputs are needed (one per row)");
    const std::size_t entry_bytes = whole_pass ? width * sizeof(float) : 0;
    run_point_blocks(
        net, n_rows, points_per_row, targets, options, extra_bytes_per_point + entry_bytes,
        make_worker,
        [&](auto& worker, Tape& tape, const RowMatrixXf& seed, Index p, Index count) {
            RowMatrixXf& values = !points.inner_entry() ? tape.input
                                  : only_after          ? tape.activations[entry]
                                                        : tape.entry;
            values.resize(count, width);
            worker.fill(p, count, values);
            if (whole_pass) {
                tape.input.resize(count, net.n_inputs());
                for (Index i = 0; i < count; ++i) {
                    tape.input.row(i) = row_inputs->row((p + i) / points_per_row);
                }
                net.forward(tape, points, values, end);
            } else {
                net.forward(tape, only_after ? entry + 1 : 0, end);
            }
            net.backward(tape, seed, points, values, rules);
            const RowMatrixXf& seeded =
                points.seed_layer < 0 ? net.output(tape) : tape.activations[points.seed_layer];
            worker.reduce(p, count, values, tape.input_grad, seeded);
        },
        points.seed_layer);
}

// The plain form: points enter as the network input (entry_layer -1) or as the output of a
// layer whose later layers read nothing before it.
template <class MakeWorker>
void for_each_gradient_block(const Network& net, Index n_rows, Index points_per_row,
                             const std::vector<int>& targets, const RunOptions& options,
                             std::size_t extra_bytes_per_point, MakeWorker&& make_worker,
                             Index entry_layer = -1, const RuleMap* rules = nullptr) {
    PassPoints points;
    points.entry_layer = entry_layer;
    for_each_gradient_block(net, n_rows, points_per_row, targets, options, extra_bytes_per_point,
                            std::forward<MakeWorker>(make_worker), points, nullptr, rules);
}

// Adapts a pair of lambdas (fill, reduce) to the worker interface, for stateless methods.
template <class Fill, class Reduce>
struct LambdaWorker {
    Fill fill;
    Reduce reduce;
};
template <class Fill, class Reduce>
auto lambda_worker(Fill fill, Reduce reduce) {
    return [=] { return LambdaWorker<Fill, Reduce>{fill, reduce}; };
}

}  // namespace glassbox
