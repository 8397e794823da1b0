// Dense (fully connected) layer: y = x W^T + b, W stored (out, in) row-major like torch.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

class Dense final : public Layer {
public:
    Dense(RowMatrixXf weight, VectorXf bias);

    std::string kind() const override { return "dense"; }
    Index output_size(const std::vector<Index>& input_sizes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    double macs_per_sample(const std::vector<Index>& input_sizes) const override;

    const RowMatrixXf& weight() const { return weight_; }
    const VectorXf& bias() const { return bias_; }

private:
    RowMatrixXf weight_;
    VectorXf bias_;  // zeros when the framework layer had no bias
};

}  // namespace glassbox
