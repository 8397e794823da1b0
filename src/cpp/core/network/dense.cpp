#include "core/network/dense.hpp"

namespace glassbox {

Dense::Dense(RowMatrixXf weight, VectorXf bias, const std::vector<Shape>& input_shapes)
    : weight_(std::move(weight)), bias_(std::move(bias)) {
    require(weight_.rows() > 0 && weight_.cols() > 0, "dense: weight must be a non-empty 2-D array");
    if (bias_.size() == 0) bias_ = VectorXf::Zero(weight_.rows());
    require(bias_.size() == weight_.rows(),
            "dense: bias has " + std::to_string(bias_.size()) + " entries, expected " +
                std::to_string(weight_.rows()));
    const Shape& in = single_input(input_shapes, "dense");
    require(in.size() == 1, "dense: expects a flat input, got shape " + shape_string(in) +
                                "; add a flatten layer first");
    require(in[0] == weight_.cols(), "dense: expects " + std::to_string(weight_.cols()) +
                                         " input features, got " + std::to_string(in[0]));
    output_shape_ = {weight_.rows()};
    checked_activation_size(output_shape_, "dense: output");
}

void Dense::affine_forward(const RowMatrixXf& weight, const VectorXf* bias, const RowMatrixXf& x,
                           RowMatrixXf& z) const {
    z.resize(x.rows(), weight.rows());
    // the bias first, then the product added: Eigen's "=" zeroes z before its GEMM accumulates
    if (bias) {
        z.rowwise() = bias->transpose();
    } else {
        z.setZero();
    }
    z.noalias() += x * weight.transpose();
}

void Dense::affine_transpose(const RowMatrixXf& weight, const RowMatrixXf& s,
                             RowMatrixXf& c) const {
    c.resize(s.rows(), weight.cols());
    c.noalias() = s * weight;
}

void Dense::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    affine_forward(weight_, &bias_, *inputs[0], out);
}

void Dense::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                              std::vector<RowMatrixXf>& grad_in) const {
    affine_transpose(weight_, grad_out, grad_in[0]);
}

double Dense::macs_per_sample() const {
    return static_cast<double>(weight_.rows()) * static_cast<double>(weight_.cols());
}

}  // namespace glassbox
