// Activation layers: element-wise functions and the row-wise Softmax / LogSoftmax.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

enum class Activation { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus, GELU, GELUTanh, SiLU };

// f applied to every element; the backward uses f'(input) (and the output where cheaper).
class ElementwiseActivation final : public Layer {
public:
    ElementwiseActivation(Activation type, double param_a = 0.0, double param_b = 0.0);

    std::string kind() const override;
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

    Activation type() const { return type_; }
    // The slope left of zero for ReLU (0) and LeakyReLU; meaningless for other types.
    float negative_slope() const { return type_ == Activation::LeakyReLU ? a_ : 0.0f; }

private:
    Activation type_;
    float a_;  // LeakyReLU negative slope, ELU alpha, Softplus beta
    float b_;  // Softplus threshold
};

// Softmax (log = false) or LogSoftmax (log = true) over each row.
class RowSoftmax final : public Layer {
public:
    explicit RowSoftmax(bool log) : log_(log) {}

    std::string kind() const override { return log_ ? "log_softmax" : "softmax"; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    bool log_;
};

// Flatten, Dropout (inference) and Identity: the data passes unchanged (row-major NCHW is
// already flat per sample).
class PassThrough final : public Layer {
public:
    explicit PassThrough(std::string kind) : kind_(std::move(kind)) {}

    std::string kind() const override { return kind_; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    std::string kind_;
};

}  // namespace glassbox
