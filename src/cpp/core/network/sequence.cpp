#include "core/network/sequence.hpp"

#include <cmath>

namespace glassbox {

InputPart::InputPart(Index offset, Shape shape, const std::vector<Shape>& input_shapes)
    : offset_(offset) {
    const Shape& in = single_input(input_shapes, "input");
    const Index total = shape_size(in);
    const Index size = checked_activation_size(shape, "input: shape");
    require(in.size() == 1 && offset >= 0 && offset <= total - size,
            "input: columns [" + std::to_string(offset) + ", " + std::to_string(offset + size) +
                ") are not inside the network input of " + std::to_string(total) + " values");
    output_shape_ = std::move(shape);
}

void InputPart::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out = inputs[0]->middleCols(offset_, shape_size(output_shape_));
}

void InputPart::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                  std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0].setZero(grad_out.rows(), io.inputs[0]->cols());
    grad_in[0].middleCols(offset_, grad_out.cols()) = grad_out;
}

// ---------------------------------------------------------------------------------------------
Embedding::Embedding(RowMatrixXf weight, Index padding_idx, const std::vector<Shape>& input_shapes)
    : weight_(std::move(weight)), padding_idx_(padding_idx) {
    require(weight_.rows() > 0 && weight_.cols() > 0,
            "embedding: weight must be a non-empty (vocabulary, dim) array");
    require(padding_idx_ >= -1 && padding_idx_ < weight_.rows(),
            "embedding: padding_idx " + std::to_string(padding_idx_) + " is outside [0, " +
                std::to_string(weight_.rows()) + ") (or -1 for none)");
    output_shape_ = single_input(input_shapes, "embedding");
    output_shape_.push_back(weight_.cols());
}

void Embedding::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& ids = *inputs[0];
    const Index dim = weight_.cols(), vocabulary = weight_.rows();
    out.resize(ids.rows(), ids.cols() * dim);
    for (Index r = 0; r < ids.rows(); ++r) {
        for (Index t = 0; t < ids.cols(); ++t) {
            const float id = ids(r, t);
            // the Python side checks ids first; this guard keeps a bad id from reading memory
            require(id >= 0.0f && id < static_cast<float>(vocabulary) && id == std::floor(id),
                    "embedding: token id " + std::to_string(id) + " is not a whole number in [0, " +
                        std::to_string(vocabulary) + ")");
            out.block(r, t * dim, 1, dim) = weight_.row(static_cast<Index>(id));
        }
    }
}

void Embedding::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                  std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0].setZero(grad_out.rows(), io.inputs[0]->cols());
}

// ---------------------------------------------------------------------------------------------
Take::Take(Index axis, std::vector<Index> indices, const std::vector<Shape>& input_shapes)
    : indices_(std::move(indices)) {
    const Shape& in = single_input(input_shapes, "take");
    const auto rank = static_cast<Index>(in.size());
    const Index a = axis < 0 ? axis + rank : axis;
    require(a >= 0 && a < rank, "take: axis " + std::to_string(axis) +
                                    " is out of range for per-sample shape " + shape_string(in));
    require(!indices_.empty(), "take: 'indices' is empty");
    extent_ = in[a];
    for (Index& i : indices_) {
        require(i >= -extent_ && i < extent_, "take: index " + std::to_string(i) +
                                                  " is out of range for axis " +
                                                  std::to_string(a) + " of " + shape_string(in));
        if (i < 0) i += extent_;
    }
    for (Index d = 0; d < a; ++d) outer_ *= in[d];
    for (Index d = a + 1; d < rank; ++d) inner_ *= in[d];
    output_shape_ = in;
    output_shape_[a] = static_cast<Index>(indices_.size());
}

template <class F>
void Take::each(F&& f) const {
    const auto n = static_cast<Index>(indices_.size());
    for (Index o = 0; o < outer_; ++o) {
        for (Index k = 0; k < n; ++k) {
            const Index to = (o * n + k) * inner_, from = (o * extent_ + indices_[k]) * inner_;
            f(to, from);
        }
    }
}

void Take::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    out.resize(x.rows(), shape_size(output_shape_));
    each([&](Index to, Index from) { out.middleCols(to, inner_) = x.middleCols(from, inner_); });
}

void Take::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                             std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0].setZero(grad_out.rows(), io.inputs[0]->cols());
    each([&](Index to, Index from) {
        grad_in[0].middleCols(from, inner_) += grad_out.middleCols(to, inner_);
    });
}

// ---------------------------------------------------------------------------------------------
Constant::Constant(RowMatrixXf value, Shape shape, const std::vector<Shape>& input_shapes) {
    single_input(input_shapes, "constant");
    const Index size = checked_activation_size(shape, "constant: shape");
    require(value.size() == size, "constant: 'value' has " + std::to_string(value.size()) +
                                      " values, the shape " + shape_string(shape) + " needs " +
                                      std::to_string(size));
    value_ = Eigen::Map<const Eigen::Matrix<float, 1, Eigen::Dynamic>>(value.data(), size);
    output_shape_ = std::move(shape);
}

void Constant::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out.resize(inputs[0]->rows(), value_.size());
    out.rowwise() = value_;
}

void Constant::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                 std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0].setZero(grad_out.rows(), io.inputs[0]->cols());
}

}  // namespace glassbox
