// Guided backprop, deconvnet and Grad-CAM: modified ReLU rules and gradients at a named layer, on
// the network's single backward engine.
#pragma once

#include "core/network/network.hpp"

namespace glassbox {

enum class ReluRuleMode { Guided, Deconv };

// d f_target / d x with every ReLU's backward replaced by the guided or the deconvnet rule.
RowMatrixXf modified_relu_gradients(const Network& net, const ConstRowRef& X,
                                    const std::vector<int>& targets, ReluRuleMode mode,
                                    const RunOptions& options);

// Grad-CAM at layer `layer` (output shape (C, H, W)): per row, w_c = mean over (H, W) of
// d f_target / d A_c, map = ReLU(sum_c w_c A_c) flattened to H * W entries.
RowMatrixXf grad_cam(const Network& net, const ConstRowRef& X, const std::vector<int>& targets,
                     Index layer, const RunOptions& options);

}  // namespace glassbox
