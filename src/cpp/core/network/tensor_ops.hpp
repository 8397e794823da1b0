// Shape and combination layers: BatchNorm (inference, per-channel scale/shift), residual Add,
// Concat along a per-sample axis, and Reshape.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

// y = x * scale[c] + shift[c], c the index along the per-sample axis 0 (channels of (C, H, W) or
// features of (F,)). Adapters fold running statistics: scale = gamma / sqrt(var + eps),
// shift = beta - mean * scale.
class BatchNorm final : public Layer {
public:
    BatchNorm(VectorXf scale, VectorXf shift);
    std::string kind() const override { return "batch_norm"; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    const VectorXf& scale() const { return scale_; }
    const VectorXf& shift() const { return shift_; }
    // Elements per channel of one sample (H * W for images, 1 for vectors).
    Index inner() const { return inner_; }

private:
    VectorXf scale_, shift_;
    mutable Index inner_ = 1;  // set by output_shape
};

// The sum of two or more inputs of equal shape.
class Add final : public Layer {
public:
    std::string kind() const override { return "add"; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
};

// Inputs joined along per-sample axis `axis` (0 = channels / features); the other extents must
// match.
class Concat final : public Layer {
public:
    explicit Concat(Index axis) : axis_(axis) {}
    std::string kind() const override { return "concat"; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    // Per input: the contiguous run it contributes to each outer slice of the output.
    const std::vector<Index>& chunks() const { return chunks_; }
    Index outer() const { return outer_; }

private:
    Index axis_;
    mutable Index outer_ = 1;
    mutable std::vector<Index> chunks_;  // set by output_shape
};

// Same data, new per-sample shape (one extent may be -1: inferred).
class Reshape final : public Layer {
public:
    explicit Reshape(Shape target) : target_(std::move(target)) {}
    std::string kind() const override { return "reshape"; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    Shape target_;
};

}  // namespace glassbox
