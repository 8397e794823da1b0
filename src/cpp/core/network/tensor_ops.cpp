#include "core/network/tensor_ops.hpp"

namespace glassbox {

// ---------------------------------------------------------------------------------------------
BatchNorm::BatchNorm(VectorXf scale, VectorXf shift)
    : scale_(std::move(scale)), shift_(std::move(shift)) {
    require(scale_.size() > 0, "batch_norm: 'scale' must be a non-empty 1-D array");
    require(shift_.size() == scale_.size(),
            "batch_norm: 'shift' has " + std::to_string(shift_.size()) + " entries, 'scale' has " +
                std::to_string(scale_.size()));
}

Shape BatchNorm::output_shape(const std::vector<Shape>& input_shapes) const {
    require(input_shapes.size() == 1, "batch_norm: expects exactly one input");
    const Shape& in = input_shapes[0];
    require(in[0] == scale_.size(), "batch_norm: has " + std::to_string(scale_.size()) +
                                        " channels, input shape " + shape_string(in) + " has " +
                                        std::to_string(in[0]));
    inner_ = shape_size(in) / in[0];
    return in;
}

void BatchNorm::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    out.resize(x.rows(), x.cols());
    const Index channels = scale_.size();
    for (Index r = 0; r < x.rows(); ++r) {
        const float* src = x.data() + r * x.cols();
        float* dst = out.data() + r * out.cols();
        for (Index c = 0; c < channels; ++c) {
            const float a = scale_(c), b = shift_(c);
            for (Index k = c * inner_; k < (c + 1) * inner_; ++k) dst[k] = src[k] * a + b;
        }
    }
}

void BatchNorm::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                                  std::vector<RowMatrixXf>& grad_in) const {
    RowMatrixXf& d = grad_in[0];
    d.resize(grad_out.rows(), grad_out.cols());
    const Index channels = scale_.size();
    for (Index r = 0; r < grad_out.rows(); ++r) {
        const float* src = grad_out.data() + r * grad_out.cols();
        float* dst = d.data() + r * d.cols();
        for (Index c = 0; c < channels; ++c) {
            const float a = scale_(c);
            for (Index k = c * inner_; k < (c + 1) * inner_; ++k) dst[k] = src[k] * a;
        }
    }
}

// ---------------------------------------------------------------------------------------------
Shape Add::output_shape(const std::vector<Shape>& input_shapes) const {
    require(input_shapes.size() >= 2,
            "add: expects two or more inputs, got " + std::to_string(input_shapes.size()));
    for (std::size_t k = 1; k < input_shapes.size(); ++k) {
        require(input_shapes[k] == input_shapes[0],
                "add: all inputs must have the same shape, got " + shape_string(input_shapes[0]) +
                    " and " + shape_string(input_shapes[k]));
    }
    return input_shapes[0];
}

void Add::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out = *inputs[0];
    for (std::size_t k = 1; k < inputs.size(); ++k) out += *inputs[k];
}

void Add::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                            std::vector<RowMatrixXf>& grad_in) const {
    for (std::size_t k = 0; k < io.inputs.size(); ++k) grad_in[k] = grad_out;
}

// ---------------------------------------------------------------------------------------------
Shape Concat::output_shape(const std::vector<Shape>& input_shapes) const {
    require(!input_shapes.empty(), "concat: expects at least one input");
    const auto rank = static_cast<Index>(input_shapes[0].size());
    const Index axis = axis_ < 0 ? axis_ + rank : axis_;
    require(axis >= 0 && axis < rank, "concat: axis " + std::to_string(axis_) +
                                          " is out of range for per-sample shape " +
                                          shape_string(input_shapes[0]));
    Shape out = input_shapes[0];
    out[axis] = 0;
    outer_ = 1;
    for (Index d = 0; d < axis; ++d) outer_ *= out[d];
    chunks_.clear();
    for (const Shape& shape : input_shapes) {
        bool ok = static_cast<Index>(shape.size()) == rank;
        for (Index d = 0; ok && d < rank; ++d) ok = d == axis || shape[d] == input_shapes[0][d];
        require(ok, "concat: inputs must match except along axis " + std::to_string(axis) +
                        ", got " + shape_string(input_shapes[0]) + " and " + shape_string(shape));
        out[axis] += shape[axis];
        chunks_.push_back(shape_size(shape) / outer_);
    }
    return out;
}

void Concat::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    Index width = 0;
    for (Index chunk : chunks_) width += chunk;
    const Index rows = inputs[0]->rows();
    out.resize(rows, width * outer_);
    for (Index r = 0; r < rows; ++r) {
        float* dst = out.data() + r * out.cols();
        for (Index o = 0; o < outer_; ++o) {
            for (std::size_t k = 0; k < inputs.size(); ++k) {
                const Index chunk = chunks_[k];
                const float* src = inputs[k]->data() + r * inputs[k]->cols() + o * chunk;
                std::copy(src, src + chunk, dst);
                dst += chunk;
            }
        }
    }
}

void Concat::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                               std::vector<RowMatrixXf>& grad_in) const {
    const Index rows = grad_out.rows();
    for (std::size_t k = 0; k < io.inputs.size(); ++k) grad_in[k].resize(rows, chunks_[k] * outer_);
    for (Index r = 0; r < rows; ++r) {
        const float* src = grad_out.data() + r * grad_out.cols();
        for (Index o = 0; o < outer_; ++o) {
            for (std::size_t k = 0; k < io.inputs.size(); ++k) {
                const Index chunk = chunks_[k];
                std::copy(src, src + chunk, grad_in[k].data() + r * grad_in[k].cols() + o * chunk);
                src += chunk;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
Shape Reshape::output_shape(const std::vector<Shape>& input_shapes) const {
    require(input_shapes.size() == 1, "reshape: expects exactly one input");
    require(!target_.empty(), "reshape: 'shape' must have at least one extent");
    const Index size = shape_size(input_shapes[0]);
    Shape out = target_;
    Index known = 1;
    int inferred = -1;
    for (std::size_t d = 0; d < out.size(); ++d) {
        if (out[d] == -1) {
            require(inferred < 0, "reshape: at most one extent of 'shape' may be -1");
            inferred = static_cast<int>(d);
        } else {
            require(out[d] > 0, "reshape: extents of 'shape' must be positive or -1");
            known *= out[d];
        }
    }
    if (inferred >= 0) {
        require(size % known == 0, "reshape: cannot reshape " + shape_string(input_shapes[0]) +
                                       " to " + shape_string(target_));
        out[static_cast<std::size_t>(inferred)] = size / known;
    }
    require(shape_size(out) == size, "reshape: cannot reshape " + shape_string(input_shapes[0]) +
                                         " (" + std::to_string(size) + " elements) to " +
                                         shape_string(target_));
    return out;
}

void Reshape::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out = *inputs[0];
}

void Reshape::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                                std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0] = grad_out;
}

}  // namespace glassbox
