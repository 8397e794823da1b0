// DeepLIFT (rescale rule) against one reference per row and DeepLiftSHAP against a reference
// distribution, on the network's single backward engine with DeepLIFT rules.
#pragma once

#include "core/methods/gradients.hpp"

namespace glassbox {

// (x - b) * m(x, b), where m is the DeepLIFT multiplier of f_target; baselines: one row per row of
// X. delta = sum - (f(x) - f(b)); base_values = f_target(b).
Attribution deeplift(const Network& net, const ConstRowRef& X, const ConstRowRef& baselines,
                     const std::vector<int>& targets, const RunOptions& options);

// mean_j (x - r_j) * m(x, r_j) over the rows r_j of `references`. The references' activations are
// computed once and each block's reference pass is gathered from them. delta = sum - (f(x) -
// mean_j f(r_j)); base_values = mean_j f_target(r_j).
Attribution deeplift_shap(const Network& net, const ConstRowRef& X, const ConstRowRef& references,
                          const std::vector<int>& targets, const RunOptions& options);

}  // namespace glassbox
