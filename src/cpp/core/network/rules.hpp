// Backward rules: how relevance/gradient flows back through one layer.
//
// The Network runs one backward routine; each layer's step is delegated to the rule a composite
// assigned to it. The plain gradient is GradientRule. To add a rule: derive from BackwardRule,
// implement backward(), and let a composite map layers to it (LRP and DeepLIFT slot in here).
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

class BackwardRule {
public:
    virtual ~BackwardRule() = default;
    virtual void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& grad_out,
                          std::vector<RowMatrixXf>& grad_in) const = 0;
};

// The chain rule: each layer's own derivative.
class GradientRule final : public BackwardRule {
public:
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& grad_out,
                  std::vector<RowMatrixXf>& grad_in) const override {
        layer.backward_gradient(io, grad_out, grad_in);
    }
};

// One rule per layer of a network (nullptr entries mean GradientRule).
using RuleMap = std::vector<const BackwardRule*>;

}  // namespace glassbox
