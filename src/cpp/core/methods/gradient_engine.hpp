// The shared loop of every gradient method: evaluate d output[target(row)] / d input at many
// points per input row (path points, noisy copies, baseline mixtures), block by block.
#pragma once

#include "core/network/network.hpp"

#include <algorithm>

namespace glassbox {

// Checks the per-row targets against the network's outputs.
void check_targets(const Network& net, Index n_rows, const std::vector<int>& targets);

// For rows [0, n_rows) with `points_per_row` points each (point p belongs to row p / points_per_row):
//   fill(p_begin, count, points, aux)          writes the points (count x n_inputs) and any per-point
//                                              data the reduce needs into aux;
//   reduce(p_begin, count, points, grads, aux) consumes the gradients at those points.
// Rows are split into chunks processed in parallel; a chunk's points run in blocks sized by the
// memory budget, in order, so reduce sees each row's points in ascending order. Chunking does not
// depend on the thread count, so results are bit-identical for any number of threads.
template <class Fill, class Reduce>
void for_each_gradient_block(const Network& net, Index n_rows, Index points_per_row,
                             const std::vector<int>& targets, const RunOptions& options,
                             Index aux_cols, Fill&& fill, Reduce&& reduce) {
    check_targets(net, n_rows, targets);
    const std::size_t point_bytes =
        net.bytes_per_point() + static_cast<std::size_t>(aux_cols + net.n_outputs()) * sizeof(float);
    const Index block = plan_block_points(point_bytes, options.memory_budget);
    const Index rows_per_chunk = std::max<Index>(1, block / points_per_row);
    const Index n_chunks = (n_rows + rows_per_chunk - 1) / rows_per_chunk;
    if (n_rows == 0) return;

#pragma omp parallel num_threads(resolve_threads(options.n_threads))
    {
        Tape tape;
        RowMatrixXf seed, aux;
#pragma omp for schedule(dynamic, 1)
        for (Index chunk = 0; chunk < n_chunks; ++chunk) {
            const Index row_end = std::min(n_rows, (chunk + 1) * rows_per_chunk);
            const Index point_end = row_end * points_per_row;
            for (Index p = chunk * rows_per_chunk * points_per_row; p < point_end; p += block) {
                const Index count = std::min(block, point_end - p);
                tape.input.resize(count, net.n_inputs());
                aux.resize(count, aux_cols);
                fill(p, count, tape.input, aux);
                net.forward(tape);
                seed.setZero(count, net.n_outputs());
                for (Index i = 0; i < count; ++i) seed(i, targets[(p + i) / points_per_row]) = 1.0f;
                net.backward(tape, seed);
                reduce(p, count, tape.input, tape.input_grad, aux);
            }
        }
    }
}

}  // namespace glassbox
