// DeepLIFT rescale rules: a non-linearity's derivative replaced by the multiplier dy/dx against a
// reference pass (Shrikumar et al., 2017), with Captum's fallback to the gradient where |dx| < eps.
//
// A rule holds pointers to the reference pass's input and output of its layer (rows aligned with
// the pass being explained); the method that owns the reference Tape keeps them valid.
#pragma once

#include "core/network/rules.hpp"

namespace glassbox {

// Captum's threshold below which |x - x_ref| counts as no change (the gradient is used).
constexpr float kDeepLiftEps = 1e-10f;

// What every DeepLIFT rule holds: the reference pass's input and output of its layer, and the
// threshold below which |x - x_ref| falls back to the gradient.
class DeepLiftRule : public BackwardRule {
public:
    DeepLiftRule(const RowMatrixXf* reference_input, const RowMatrixXf* reference_output,
                 float eps = kDeepLiftEps)
        : ref_in_(reference_input), ref_out_(reference_output), eps_(eps) {}

protected:
    const RowMatrixXf* ref_in_;
    const RowMatrixXf* ref_out_;
    float eps_;
};

// Element-wise activations: grad_in = grad_out * (y - y_ref) / (x - x_ref).
class DeepLiftRescaleRule final : public DeepLiftRule {
public:
    using DeepLiftRule::DeepLiftRule;
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& grad_out,
                  std::vector<RowMatrixXf>& grad_in) const override;
};

// Softmax, as Captum: the element-wise rescale multipliers m, then m minus its mean over the
// sample's features (Captum averages over the whole batch; per sample equals it for one row).
class DeepLiftSoftmaxRule final : public DeepLiftRule {
public:
    using DeepLiftRule::DeepLiftRule;
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& grad_out,
                  std::vector<RowMatrixXf>& grad_in) const override;
};

// Max pooling, as Captum: with m = max(y, y_ref), the input's switches carry g * (m - y_ref), the
// reference's switches carry g * (y - m); their sum divided by (x - x_ref) where |x - x_ref| >= eps,
// the gradient elsewhere. Uses only the layer's own gradient (its switches), so it works for any
// max-pooling geometry.
class DeepLiftMaxPoolRule final : public DeepLiftRule {
public:
    using DeepLiftRule::DeepLiftRule;
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& grad_out,
                  std::vector<RowMatrixXf>& grad_in) const override;
};

// Guided backprop (Springenberg et al.) on ReLU: grad_out where both x > 0 and grad_out > 0.
class GuidedReluRule final : public BackwardRule {
public:
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& grad_out,
                  std::vector<RowMatrixXf>& grad_in) const override;
};

// Deconvnet (Zeiler & Fergus) on ReLU: max(grad_out, 0), ignoring the forward mask.
class DeconvReluRule final : public BackwardRule {
public:
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& grad_out,
                  std::vector<RowMatrixXf>& grad_in) const override;
};

}  // namespace glassbox
