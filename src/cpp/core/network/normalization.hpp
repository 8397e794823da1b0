// LayerNorm and RMSNorm over the last per-sample axis (torch's nn.LayerNorm(D), nn.RMSNorm(D),
// ONNX LayerNormalization(axis=-1), Keras LayerNormalization(axis=-1)).
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

// rms = false: y = (x - mean) / sqrt(var + eps) * weight + bias (population variance);
// rms = true:  y = x / sqrt(mean(x^2) + eps) * weight. Statistics per position, in float.
class Normalize final : public Layer {
public:
    Normalize(bool rms, VectorXf weight, VectorXf bias, double eps,
              const std::vector<Shape>& input_shapes);
    std::string kind() const override { return rms_ ? "rms_norm" : "layer_norm"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    // The normalised values and the reciprocal scale 1 / sqrt(var + eps) of one position
    // (length dim() at x); LRP's rule reads them too.
    void normalize(const float* x, float* x_hat, double& inv_std) const;
    Index dim() const { return dim_; }
    bool rms() const { return rms_; }
    const VectorXf& weight() const { return weight_; }
    const VectorXf& bias() const { return bias_; }

private:
    bool rms_;
    VectorXf weight_, bias_;  // ones / zeros when the framework layer had none
    double eps_;
    Index dim_ = 1;
};

}  // namespace glassbox
