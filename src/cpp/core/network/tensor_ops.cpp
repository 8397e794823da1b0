// Element-wise affine and combination layers (tensor_ops.hpp).
#include "core/network/tensor_ops.hpp"

#include <algorithm>

namespace glassbox {

// ---------------------------------------------------------------------------------------------
namespace {

// v (one value per group of a coarser broadcast) repeated so it has one value per group of
// `groups`; the broadcasts nest (1 | C | sample size), so group g of the finer one lies in group
// g / (groups / v.size()) of the coarser.
VectorXf expand(const VectorXf& v, Index groups) {
    if (v.size() == groups) return v;
    const Index repeat = groups / v.size();
    VectorXf out(groups);
    for (Index g = 0; g < groups; ++g) out(g) = v(g / repeat);
    return out;
}

// Throws unless `size` is 1, C or the sample size (scale_shift's broadcasts).
void check_broadcast(const std::string& key, Index size, const Shape& in) {
    const Index channels = in[0], total = shape_size(in);
    require(size == 1 || size == channels || size == total,
            "scale_shift: '" + key + "' has " + std::to_string(size) + " values; expected 1, " +
                std::to_string(channels) + " (one per channel of " + shape_string(in) + ") or " +
                std::to_string(total) + " (one per element)");
}

}  // namespace

ScaleShift::ScaleShift(std::string kind, VectorXf scale, VectorXf shift,
                       const std::vector<Shape>& input_shapes)
    : kind_(std::move(kind)) {
    const Shape& in = single_input(input_shapes, kind_);
    if (kind_ == "batch_norm") {
        require(scale.size() > 0, "batch_norm: 'scale' must be a non-empty 1-D array");
        require(shift.size() == scale.size(),
                "batch_norm: 'shift' has " + std::to_string(shift.size()) +
                    " entries, 'scale' has " + std::to_string(scale.size()));
        require(in[0] == scale.size(), "batch_norm: has " + std::to_string(scale.size()) +
                                           " channels, input shape " + shape_string(in) + " has " +
                                           std::to_string(in[0]));
    } else {
        check_broadcast("scale", scale.size(), in);
        check_broadcast("shift", shift.size(), in);
    }
    const Index groups = std::max(scale.size(), shift.size());
    scale_ = expand(scale, groups);
    shift_ = expand(shift, groups);
    inner_ = shape_size(in) / groups;
    output_shape_ = in;
}

void ScaleShift::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    out.resize(x.rows(), x.cols());
    const Index groups = scale_.size();
    for (Index r = 0; r < x.rows(); ++r) {
        const float* src = x.data() + r * x.cols();
        float* dst = out.data() + r * out.cols();
        if (inner_ == 1) {  // one constant per element: one flat loop
            const float* a = scale_.data();
            const float* b = shift_.data();
            for (Index k = 0; k < groups; ++k) dst[k] = src[k] * a[k] + b[k];
            continue;
        }
        for (Index c = 0; c < groups; ++c) {
            const float a = scale_(c), b = shift_(c);
            for (Index k = c * inner_; k < (c + 1) * inner_; ++k) dst[k] = src[k] * a + b;
        }
    }
}

void ScaleShift::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                                   std::vector<RowMatrixXf>& grad_in) const {
    RowMatrixXf& d = grad_in[0];
    d.resize(grad_out.rows(), grad_out.cols());
    const Index groups = scale_.size();
    for (Index r = 0; r < grad_out.rows(); ++r) {
        const float* src = grad_out.data() + r * grad_out.cols();
        float* dst = d.data() + r * d.cols();
        for (Index c = 0; c < groups; ++c) {
            const float a = scale_(c);
            for (Index k = c * inner_; k < (c + 1) * inner_; ++k) dst[k] = src[k] * a;
        }
    }
}

// ---------------------------------------------------------------------------------------------
Add::Add(const std::vector<Shape>& input_shapes) {
    require(input_shapes.size() >= 2,
            "add: expects two or more inputs, got " + std::to_string(input_shapes.size()));
    for (std::size_t k = 1; k < input_shapes.size(); ++k) {
        require(input_shapes[k] == input_shapes[0],
                "add: all inputs must have the same shape, got " + shape_string(input_shapes[0]) +
                    " and " + shape_string(input_shapes[k]));
    }
    output_shape_ = input_shapes[0];
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
Concat::Concat(Index axis_param, const std::vector<Shape>& input_shapes) {
    require(!input_shapes.empty(), "concat: expects at least one input");
    const auto rank = static_cast<Index>(input_shapes[0].size());
    const Index axis = axis_param < 0 ? axis_param + rank : axis_param;
    require(axis >= 0 && axis < rank, "concat: axis " + std::to_string(axis_param) +
                                          " is out of range for per-sample shape " +
                                          shape_string(input_shapes[0]));
    Shape out = input_shapes[0];
    out[axis] = 0;
    outer_ = 1;
    for (Index d = 0; d < axis; ++d) outer_ = checked_mul(outer_, out[d], "concat: outer size");
    chunks_.clear();
    for (const Shape& shape : input_shapes) {
        bool ok = static_cast<Index>(shape.size()) == rank;
        for (Index d = 0; ok && d < rank; ++d) ok = d == axis || shape[d] == input_shapes[0][d];
        require(ok, "concat: inputs must match except along axis " + std::to_string(axis) +
                        ", got " + shape_string(input_shapes[0]) + " and " + shape_string(shape));
        out[axis] = checked_add(out[axis], shape[axis], "concat: joined extent");
        chunks_.push_back(shape_size(shape) / outer_);
    }
    checked_activation_size(out, "concat: output");
    output_shape_ = out;
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
Reshape::Reshape(const Shape& target, const std::vector<Shape>& input_shapes) {
    const Shape& in = single_input(input_shapes, "reshape");
    require(!target.empty(), "reshape: 'shape' must have at least one extent");
    const Index size = shape_size(in);
    Shape out = target;
    Index known = 1;
    int inferred = -1;
    for (std::size_t d = 0; d < out.size(); ++d) {
        if (out[d] == -1) {
            require(inferred < 0, "reshape: at most one extent of 'shape' may be -1");
            inferred = static_cast<int>(d);
        } else {
            require(out[d] > 0, "reshape: extents of 'shape' must be positive or -1");
            known = checked_mul(known, out[d], "reshape: target size");
        }
    }
    if (inferred >= 0) {
        require(size % known == 0,
                "reshape: cannot reshape " + shape_string(in) + " to " + shape_string(target));
        out[static_cast<std::size_t>(inferred)] = size / known;
    }
    require(shape_size(out) == size, "reshape: cannot reshape " + shape_string(in) + " (" +
                                         std::to_string(size) + " elements) to " +
                                         shape_string(target));
    checked_activation_size(out, "reshape: output");
    output_shape_ = out;
}

void Reshape::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out = *inputs[0];
}

void Reshape::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                                std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0] = grad_out;
}

// ---------------------------------------------------------------------------------------------
Permute::Permute(const std::vector<Index>& perm, const std::vector<Shape>& input_shapes) {
    const Shape& in = single_input(input_shapes, "permute");
    const auto rank = static_cast<Index>(in.size());
    require(static_cast<Index>(perm.size()) == rank,
            "permute: 'perm' must list each of the " + std::to_string(rank) + " axes of " +
                shape_string(in) + " once, got " + std::to_string(perm.size()) + " axes");
    std::vector<bool> seen(in.size(), false);
    Shape out(in.size());
    for (std::size_t d = 0; d < perm.size(); ++d) {
        require(perm[d] >= 0 && perm[d] < rank && !seen[static_cast<std::size_t>(perm[d])],
                "permute: 'perm' must be an order of the axes 0.." + std::to_string(rank - 1) +
                    " of " + shape_string(in));
        seen[static_cast<std::size_t>(perm[d])] = true;
        out[d] = in[static_cast<std::size_t>(perm[d])];
    }
    checked_activation_size(out, "permute: output");
    // input strides (row-major), then walk the output in order
    std::vector<Index> stride(in.size(), 1);
    for (Index d = rank - 2; d >= 0; --d) {
        stride[static_cast<std::size_t>(d)] =
            stride[static_cast<std::size_t>(d + 1)] * in[static_cast<std::size_t>(d + 1)];
    }
    // trailing axes the permutation keeps in place move as contiguous runs
    Index kept = rank;
    while (kept > 0 && perm[static_cast<std::size_t>(kept - 1)] == kept - 1) --kept;
    run_ = 1;
    for (Index d = kept; d < rank; ++d) run_ *= in[static_cast<std::size_t>(d)];
    const Index size = shape_size(out);
    source_.resize(static_cast<std::size_t>(size / run_));
    std::vector<Index> index(out.size(), 0);  // the multi-index of the run's first element
    for (Index j = 0; j < size / run_; ++j) {
        Index from = 0;
        for (std::size_t d = 0; d < out.size(); ++d) {
            from += index[d] * stride[static_cast<std::size_t>(perm[d])];
        }
        source_[static_cast<std::size_t>(j)] = from;
        for (Index d = kept - 1; d >= 0; --d) {  // next run, the last permuted axis fastest
            auto& i = index[static_cast<std::size_t>(d)];
            if (++i < out[static_cast<std::size_t>(d)]) break;
            i = 0;
        }
    }
    output_shape_ = out;
}

void Permute::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    out.resize(x.rows(), x.cols());
    const auto runs = static_cast<Index>(source_.size());
    for (Index r = 0; r < x.rows(); ++r) {
        const float* src = x.data() + r * x.cols();
        float* dst = out.data() + r * out.cols();
        for (Index j = 0; j < runs; ++j) {
            std::copy_n(src + source_[static_cast<std::size_t>(j)], run_, dst + j * run_);
        }
    }
}

void Permute::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                                std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0].resize(grad_out.rows(), grad_out.cols());
    const auto runs = static_cast<Index>(source_.size());
    for (Index r = 0; r < grad_out.rows(); ++r) {
        const float* src = grad_out.data() + r * grad_out.cols();
        float* dst = grad_in[0].data() + r * grad_in[0].cols();
        for (Index j = 0; j < runs; ++j) {
            std::copy_n(src + j * run_, run_, dst + source_[static_cast<std::size_t>(j)]);
        }
    }
}

}  // namespace glassbox
