// Layers of sequence models that move values rather than compute on them: the named inputs of a
// network with several (`input`), token embeddings, selections along an axis (`take`: x[:, 0],
// slices, the last step of a sequence) and per-sample constants.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

// The columns [offset, offset + size) of the network input, as a tensor of `shape`: one named
// input of a network with several (NetworkSpec.inputs). The gradient of the other columns is 0.
class InputPart final : public Layer {
public:
    InputPart(Index offset, Shape shape, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "input"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    Index offset_;
};

// Rows of a (V, D) table picked by the token ids of its input (any shape S; ids are whole
// numbers in [0, V) carried as float32): output S + (D,). Ids are not differentiable: their
// gradient is 0 (attributions go to the embedding's output: LayerIntegratedGradients).
class Embedding final : public Layer {
public:
    Embedding(RowMatrixXf weight, Index padding_idx, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "embedding"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    const RowMatrixXf& weight() const { return weight_; }
    Index padding_idx() const { return padding_idx_; }

private:
    RowMatrixXf weight_;
    Index padding_idx_;  // -1: none (recorded for baselines; the forward pass ignores it)
};

// The entries `indices` along per-sample axis `axis` (numpy's take): x[:, 0], slices, steps.
class Take final : public Layer {
public:
    Take(Index axis, std::vector<Index> indices, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "take"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    // f(output element, input element) for every output element
    template <class F>
    void each(F&& f) const;
    Index outer_ = 1, extent_ = 1, inner_ = 1;  // the input as (outer, extent, inner)
    std::vector<Index> indices_;
};

// The same values for every row (a constant operand of a binary layer); reads the network
// input only to know the number of rows, and passes it no gradient.
class Constant final : public Layer {
public:
    Constant(RowMatrixXf value, Shape shape, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "constant"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    Eigen::Matrix<float, 1, Eigen::Dynamic> value_;
};

}  // namespace glassbox
