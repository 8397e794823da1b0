// The block loop of methods whose backward pass uses per-layer rules that may carry per-thread
// state (DeepLIFT's reference pass) or whose result is the gradient at an inner layer (Grad-CAM).
#pragma once

#include "core/methods/gradient_engine.hpp"

namespace glassbox {

// Like for_each_gradient_block (and built on the same run_point_blocks skeleton), with the full
// forward pass from the input every block. Each thread
// makes one worker with make_worker(); per block it calls
//   worker.fill(p_begin, count, input)        write the points (count x n_inputs) and prepare
//                                             whatever the worker's rules read (reference pass);
//   worker.forward(net, tape)                 record the forward pass of tape.input on the tape
//                                             (net.forward(tape), or a cheaper equivalent such as
//                                             gathering rows of a pass the worker already ran);
//   worker.rules()                            the RuleMap for this thread (nullptr: gradient);
//   worker.reduce(p_begin, count, tape, grads) consume d f_target / d (input, or the output of
//                                             grad_layer when grad_layer >= 0) at those points.
template <class MakeWorker>
void for_each_rule_block(const Network& net, Index n_rows, Index points_per_row,
                         const std::vector<int>& targets, const RunOptions& options,
                         std::size_t extra_bytes_per_point, MakeWorker&& make_worker,
                         Index grad_layer = -1) {
    // Stop the backward pass at grad_layer when nothing later reads an earlier layer; otherwise
    // run it to the input (the gradient at grad_layer is complete once its readers have run).
    const Index stop = grad_layer >= 0 && net.reads_only_from(grad_layer) ? grad_layer : -1;
    run_point_blocks(
        net, n_rows, points_per_row, targets, options, extra_bytes_per_point, make_worker,
        [&](auto& worker, Tape& tape, const RowMatrixXf& seed, Index p, Index count) {
            tape.input.resize(count, net.n_inputs());
            worker.fill(p, count, tape.input);
            worker.forward(net, tape);
            if (grad_layer >= 0 && stop < 0) {
                // a layer that does not reach the output keeps a zero gradient
                tape.grads[grad_layer].setZero(count, net.layer_size(grad_layer));
            }
            net.backward(tape, seed, worker.rules(), stop);
            const RowMatrixXf& grads = grad_layer < 0 ? tape.input_grad : tape.grads[grad_layer];
            worker.reduce(p, count, static_cast<const Tape&>(tape), grads);
        });
}

}  // namespace glassbox
