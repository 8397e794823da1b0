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
    require(in.back() == weight_.cols(),
            "dense: expects " + std::to_string(weight_.cols()) + " input features on the last " +
                "axis, got shape " + shape_string(in) +
                (in.size() > 1 ? " (a flat vector needs a flatten layer first)" : ""));
    output_shape_ = in;
    output_shape_.back() = weight_.rows();
    positions_ = shape_size(in) / in.back();
    checked_activation_size(output_shape_, "dense: output");
}

namespace {
// A batch of rows x (positions * width) as (rows * positions) x width: the same memory.
Eigen::Map<const RowMatrixXf> by_position(const RowMatrixXf& m, Index width) {
    return {m.data(), m.size() / width, width};
}
Eigen::Map<RowMatrixXf> by_position(RowMatrixXf& m, Index width) {
    return {m.data(), m.size() / width, width};
}
}  // namespace

void Dense::affine_forward(const RowMatrixXf& weight, const VectorXf* bias, const RowMatrixXf& x,
                           RowMatrixXf& z) const {
    const Index positions = x.cols() / weight.cols();  // positions_, or 1 for LRP's probe rows
    z.resize(x.rows(), positions * weight.rows());
    auto zp = by_position(z, weight.rows());
    // the bias first, then the product added: Eigen's "=" zeroes z before its GEMM accumulates
    if (bias) {
        zp.rowwise() = bias->transpose();
    } else {
        zp.setZero();
    }
    zp.noalias() += by_position(x, weight.cols()) * weight.transpose();
}

void Dense::affine_transpose(const RowMatrixXf& weight, const RowMatrixXf& s,
                             RowMatrixXf& c) const {
    const Index positions = s.cols() / weight.rows();
    c.resize(s.rows(), positions * weight.cols());
    by_position(c, weight.cols()).noalias() = by_position(s, weight.rows()) * weight;
}

void Dense::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    affine_forward(weight_, &bias_, *inputs[0], out);
}

void Dense::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                              std::vector<RowMatrixXf>& grad_in) const {
    affine_transpose(weight_, grad_out, grad_in[0]);
}

double Dense::macs_per_sample() const {
    return static_cast<double>(positions_) * static_cast<double>(weight_.rows()) *
           static_cast<double>(weight_.cols());
}

}  // namespace glassbox
