// The product of two computed tensors (attention: Q K^T and weights x V): A (..., M, K) times
// B (..., K, N) for each of the leading positions, which must be equal in both.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

class MatMul final : public Layer {
public:
    explicit MatMul(const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "matmul"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    double macs_per_sample() const override;
    Index batch() const { return batch_; }
    Index m() const { return m_; }
    Index k() const { return k_; }
    Index n() const { return n_; }

private:
    Index batch_ = 1, m_ = 1, k_ = 1, n_ = 1;
};

}  // namespace glassbox
