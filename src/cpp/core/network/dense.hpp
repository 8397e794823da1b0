// Dense (fully connected) layer: y = x W^T + b, W stored (out, in) row-major like torch. On an
// input (..., in) it maps the last axis at every position (torch's nn.Linear on a sequence):
// one GEMM over all rows x positions.
#pragma once

#include "core/network/affine.hpp"

namespace glassbox {

class Dense final : public AffineLayer {
public:
    // bias: empty for none (zeros); the input's last axis must have weight.cols() features.
    Dense(RowMatrixXf weight, VectorXf bias, const std::vector<Shape>& input_shapes);

    std::string kind() const override { return "dense"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    double macs_per_sample() const override;

    const RowMatrixXf& weight() const override { return weight_; }
    const VectorXf& bias() const override { return bias_; }
    // Positions the layer maps (the product of the input's leading axes; 1 for a flat input).
    Index positions() const { return positions_; }
    void affine_forward(const RowMatrixXf& weight, const VectorXf* bias, const RowMatrixXf& x,
                        RowMatrixXf& z) const override;
    void affine_transpose(const RowMatrixXf& weight, const RowMatrixXf& s,
                          RowMatrixXf& c) const override;

private:
    RowMatrixXf weight_;
    VectorXf bias_;  // zeros when the framework layer had no bias
    Index positions_ = 1;
};

}  // namespace glassbox
