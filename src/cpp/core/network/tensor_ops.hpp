// Element-wise affine layers and combination layers: ScaleShift (batch_norm, scale_shift),
// residual Add, Concat along a per-sample axis, Reshape and Permute.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

// y = x * scale + shift with constants broadcast over the sample: kind "batch_norm" takes one
// value per channel (per-sample axis 0: channels of (C, H, W), features of (F,)); adapters fold
// running statistics into scale = gamma / sqrt(var + eps), shift = beta - mean * scale. Kind
// "scale_shift" (constant arithmetic such as x / 255 - 0.5) takes, for each of scale and shift,
// one value, one per channel, or one per element of the sample.
class ScaleShift final : public Layer {
public:
    ScaleShift(std::string kind, VectorXf scale, VectorXf shift,
               const std::vector<Shape>& input_shapes);
    std::string kind() const override { return kind_; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    // scale and shift per group of inner() consecutive elements of a sample (both expanded to
    // the finer of the two broadcasts)
    const VectorXf& scale() const { return scale_; }
    const VectorXf& shift() const { return shift_; }
    Index inner() const { return inner_; }

private:
    std::string kind_;
    VectorXf scale_, shift_;
    Index inner_ = 1;
};

// The sum of two or more inputs of equal shape.
class Add final : public Layer {
public:
    explicit Add(const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "add"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
};

// Inputs joined along per-sample axis `axis` (0 = channels / features); the other extents must
// match.
class Concat final : public Layer {
public:
    Concat(Index axis, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "concat"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    // Per input: the contiguous run it contributes to each outer slice of the output.
    const std::vector<Index>& chunks() const { return chunks_; }
    Index outer() const { return outer_; }

private:
    Index outer_ = 1;
    std::vector<Index> chunks_;
};

// Same data, new per-sample shape (one extent may be -1: inferred).
class Reshape final : public Layer {
public:
    Reshape(const Shape& target, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "reshape"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
};

// The per-sample axes reordered: output axis d is input axis perm[d] (numpy's transpose). Keras'
// channels-last images enter a native network through one: (H, W, C) -> (C, H, W), perm (2, 0, 1).
// Backward (gradient, LRP, DeepLIFT: the layer is linear) moves each value back to its place.
class Permute final : public Layer {
public:
    Permute(const std::vector<Index>& perm, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "permute"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    std::vector<Index> source_;  // per run of output elements, the input element it starts at
    Index run_ = 1;              // elements per run: the trailing axes the permutation keeps
};

}  // namespace glassbox
