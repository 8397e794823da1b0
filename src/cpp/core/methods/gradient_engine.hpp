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
                      std::size_t extra_bytes_per_point, MakeWorker&& make_worker, Step&& step) {
    check_targets(net, n_rows, targets);
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
                    seed.setZero(count, net.n_outputs());
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

template <class MakeWorker>
void for_each_gradient_block(const Network& net, Index n_rows, Index points_per_row,
                             const std::vector<int>& targets, const RunOptions& options,
                             std::size_t extra_bytes_per_point, MakeWorker&& make_worker,
                             Index entry_layer = -1, const RuleMap* rules = nullptr) {
    const Index entry_width = entry_layer < 0 ? net.n_inputs() : net.layer_size(entry_layer);
    run_point_blocks(
        net, n_rows, points_per_row, targets, options, extra_bytes_per_point, make_worker,
        [&](auto& worker, Tape& tape, const RowMatrixXf& seed, Index p, Index count) {
            RowMatrixXf& entry = entry_layer < 0 ? tape.input : tape.activations[entry_layer];
            entry.resize(count, entry_width);
            worker.fill(p, count, entry);
            net.forward(tape, entry_layer + 1);
            net.backward(tape, seed, rules, entry_layer);
            const RowMatrixXf& entry_grad =
                entry_layer < 0 ? tape.input_grad : tape.grads[entry_layer];
            worker.reduce(p, count, entry, entry_grad, net.output(tape));
        });
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
