#include "core/network/dense.hpp"

namespace glassbox {

Dense::Dense(RowMatrixXf weight, VectorXf bias) : weight_(std::move(weight)), bias_(std::move(bias)) {
    require(weight_.rows() > 0 && weight_.cols() > 0, "dense: weight must be a non-empty 2-D array");
    if (bias_.size() == 0) bias_ = VectorXf::Zero(weight_.rows());
    require(bias_.size() == weight_.rows(),
            "dense: bias has " + std::to_string(bias_.size()) + " entries, expected " +
                std::to_string(weight_.rows()));
}

Index Dense::output_size(const std::vector<Index>& input_sizes) const {
    require(input_sizes.size() == 1 && input_sizes[0] == weight_.cols(),
            "dense: expects " + std::to_string(weight_.cols()) + " input features, got " +
                std::to_string(input_sizes.empty() ? 0 : input_sizes[0]));
    return weight_.rows();
}

void Dense::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    out.resize(x.rows(), weight_.rows());
    out.noalias() = x * weight_.transpose();
    out.rowwise() += bias_.transpose();
}

void Dense::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                              std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0].resize(grad_out.rows(), weight_.cols());
    grad_in[0].noalias() = grad_out * weight_;
}

double Dense::macs_per_sample(const std::vector<Index>& /*input_sizes*/) const {
    return static_cast<double>(weight_.rows()) * static_cast<double>(weight_.cols());
}

}  // namespace glassbox
