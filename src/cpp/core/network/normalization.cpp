#include "core/network/normalization.hpp"

#include <cmath>

namespace glassbox {

Normalize::Normalize(bool rms, VectorXf weight, VectorXf bias, double eps,
                     const std::vector<Shape>& input_shapes)
    : rms_(rms), weight_(std::move(weight)), bias_(std::move(bias)), eps_(eps) {
    const Shape& in = single_input(input_shapes, kind());
    dim_ = in.back();
    require(std::isfinite(eps) && eps >= 0.0, kind() + ": eps must be a finite number >= 0");
    if (weight_.size() == 0) weight_ = VectorXf::Ones(dim_);
    if (bias_.size() == 0) bias_ = VectorXf::Zero(dim_);
    require(weight_.size() == dim_ && bias_.size() == dim_,
            kind() + ": weight and bias need " + std::to_string(dim_) +
                " values (the last axis of " + shape_string(in) + "), got " +
                std::to_string(weight_.size()) + " and " + std::to_string(bias_.size()));
    require(!rms_ || (bias_.array() == 0.0f).all(), "rms_norm: takes no bias");
    output_shape_ = in;
}

void Normalize::normalize(const float* x, float* x_hat, double& inv_std) const {
    // float statistics, as torch computes them; the sums run in Eigen's vectorised order
    const Eigen::Map<const Eigen::ArrayXf> v(x, dim_);
    Eigen::Map<Eigen::ArrayXf> h(x_hat, dim_);
    h = v - (rms_ ? 0.0f : v.mean());
    const float variance = h.square().mean();
    inv_std = 1.0 / std::sqrt(static_cast<double>(variance) + eps_);
    h *= static_cast<float>(inv_std);
}

void Normalize::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    out.resize(x.rows(), x.cols());
    const Index positions = x.size() / dim_;
    double inv_std;
    for (Index p = 0; p < positions; ++p) {
        float* y = out.data() + p * dim_;
        normalize(x.data() + p * dim_, y, inv_std);
        Eigen::Map<VectorXf> v(y, dim_);
        v = v.cwiseProduct(weight_) + bias_;
    }
}

void Normalize::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                  std::vector<RowMatrixXf>& grad_in) const {
    // with h = x_hat and u = g * weight: dx = inv_std (u - mean(u) - h mean(u h)) for LayerNorm,
    // inv_std (u - h mean(u h)) for RMSNorm (no centring)
    const RowMatrixXf& x = *io.inputs[0];
    RowMatrixXf& dx = grad_in[0];
    dx.resize(x.rows(), x.cols());
    const Index positions = x.size() / dim_;
    Eigen::ArrayXf h(dim_), u(dim_);
    const auto w = weight_.array();
    double inv_std;
    for (Index p = 0; p < positions; ++p) {
        normalize(x.data() + p * dim_, h.data(), inv_std);
        u = Eigen::Map<const Eigen::ArrayXf>(grad_out.data() + p * dim_, dim_) * w;
        const float mean_u = rms_ ? 0.0f : u.mean();
        const float mean_uh = (u * h).mean();
        Eigen::Map<Eigen::ArrayXf>(dx.data() + p * dim_, dim_) =
            static_cast<float>(inv_std) * (u - mean_u - h * mean_uh);
    }
}

}  // namespace glassbox
