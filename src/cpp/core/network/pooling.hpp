// Pooling over NCHW images: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d with torch's semantics
// (window placement, ceil_mode, -inf / zero padding, count_include_pad, adaptive start/end).
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

struct Pool2dOptions {
    Index kernel_h = 1, kernel_w = 1;
    Index stride_h = 1, stride_w = 1;
    Index pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    Index dilation_h = 1, dilation_w = 1;
    bool ceil_mode = false;
    bool count_include_pad = true;  // AvgPool2d only
};

// Geometry shared by the pooling layers, set by output_shape (called once by Network::add_layer).
struct PoolGeometry {
    Index channels = 0, h = 0, w = 0, oh = 0, ow = 0;
};

// Max over each window; padding counts as -inf. The gradient goes to the window's argmax (the
// first maximum in row-major window order, NaN winning, as torch does), recomputed from the
// recorded input in the backward pass.
class MaxPool2d final : public Layer {
public:
    explicit MaxPool2d(Pool2dOptions options);
    std::string kind() const override { return "max_pool2d"; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    const Pool2dOptions& options() const { return opt_; }

private:
    // Calls emit(row, output index, argmax input index within the sample or -1, max value) for
    // every output of every row.
    template <class Emit>
    void scan(const RowMatrixXf& x, Emit emit) const;
    Pool2dOptions opt_;
    mutable PoolGeometry geo_;
};

// Mean over each window (torch: windows are clipped to input + padding; the divisor counts the
// padding when count_include_pad, else only the input elements).
class AvgPool2d final : public Layer {
public:
    explicit AvgPool2d(Pool2dOptions options);
    std::string kind() const override { return "avg_pool2d"; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    const Pool2dOptions& options() const { return opt_; }

private:
    struct Window {
        Index h0, h1, w0, w1;
        float scale;  // 1 / divisor, 0 for an empty window
    };
    std::vector<Window> windows() const;
    Pool2dOptions opt_;
    mutable PoolGeometry geo_;
};

// Output (oh, ow); window i spans [floor(i H / oh), ceil((i + 1) H / oh)) like torch.
class AdaptiveAvgPool2d final : public Layer {
public:
    AdaptiveAvgPool2d(Index out_h, Index out_w);
    std::string kind() const override { return "adaptive_avg_pool2d"; }
    Shape output_shape(const std::vector<Shape>& input_shapes) const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    Index out_h_, out_w_;
    mutable PoolGeometry geo_;
};

}  // namespace glassbox
