#include "core/network/matmul.hpp"

namespace glassbox {
namespace {
using RowMap = Eigen::Map<const RowMatrixXf>;
using RowMapOut = Eigen::Map<RowMatrixXf>;
}  // namespace

MatMul::MatMul(const std::vector<Shape>& input_shapes) {
    require(input_shapes.size() == 2, "matmul: expects 2 inputs");
    const Shape& a = input_shapes[0];
    const Shape& b = input_shapes[1];
    require(a.size() >= 2 && a.size() == b.size() &&
                std::equal(a.begin(), a.end() - 2, b.begin()) && a.back() == b[b.size() - 2],
            "matmul: expects (..., M, K) and (..., K, N) with the same leading axes, got " +
                shape_string(a) + " and " + shape_string(b));
    for (std::size_t d = 0; d + 2 < a.size(); ++d) batch_ *= a[d];
    m_ = a[a.size() - 2], k_ = a.back(), n_ = b.back();
    output_shape_ = Shape(a.begin(), a.end() - 1);
    output_shape_.push_back(n_);
}

void MatMul::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& a = *inputs[0];
    const RowMatrixXf& b = *inputs[1];
    out.resize(a.rows(), batch_ * m_ * n_);
    for (Index r = 0; r < a.rows(); ++r) {
        for (Index l = 0; l < batch_; ++l) {
            RowMapOut(out.data() + r * out.cols() + l * m_ * n_, m_, n_).noalias() =
                RowMap(a.data() + r * a.cols() + l * m_ * k_, m_, k_) *
                RowMap(b.data() + r * b.cols() + l * k_ * n_, k_, n_);
        }
    }
}

void MatMul::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                               std::vector<RowMatrixXf>& grad_in) const {
    const RowMatrixXf& a = *io.inputs[0];
    const RowMatrixXf& b = *io.inputs[1];
    grad_in[0].resize(a.rows(), a.cols());
    grad_in[1].resize(b.rows(), b.cols());
    for (Index r = 0; r < a.rows(); ++r) {
        for (Index l = 0; l < batch_; ++l) {
            const RowMap g(grad_out.data() + r * grad_out.cols() + l * m_ * n_, m_, n_);
            const RowMap al(a.data() + r * a.cols() + l * m_ * k_, m_, k_);
            const RowMap bl(b.data() + r * b.cols() + l * k_ * n_, k_, n_);
            RowMapOut(grad_in[0].data() + r * a.cols() + l * m_ * k_, m_, k_).noalias() =
                g * bl.transpose();
            RowMapOut(grad_in[1].data() + r * b.cols() + l * k_ * n_, k_, n_).noalias() =
                al.transpose() * g;
        }
    }
}

double MatMul::macs_per_sample() const {
    return static_cast<double>(batch_) * static_cast<double>(m_) * static_cast<double>(k_) *
           static_cast<double>(n_);
}

}  // namespace glassbox
