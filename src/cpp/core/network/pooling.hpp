// Pooling: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d over NCHW images with torch's semantics
// (window placement, ceil_mode, -inf / zero padding, count_include_pad, adaptive start/end), and
// ReduceMean over any per-sample axes.
#pragma once

#include "core/network/layer.hpp"

#include <optional>

namespace glassbox {

struct Pool2dOptions {
    Index kernel_h = 1, kernel_w = 1;
    Index stride_h = 1, stride_w = 1;
    Index pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    Index dilation_h = 1, dilation_w = 1;
    bool ceil_mode = false;
    bool count_include_pad = true;  // AvgPool2d only
};

// Geometry shared by the 2-D pooling layers, computed by their constructors.
struct PoolGeometry {
    Index channels = 0, h = 0, w = 0, oh = 0, ow = 0;
};

// Max over each window; padding counts as -inf. The gradient goes to the window's argmax (the
// first maximum in row-major window order, NaN winning, as torch does), recomputed from the
// recorded input in the backward pass.
class MaxPool2d final : public Layer {
public:
    MaxPool2d(Pool2dOptions options, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "max_pool2d"; }
    DeepLiftTrait deeplift_trait() const override { return DeepLiftTrait::MaxPool; }
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
    PoolGeometry geo_;
};

// Mean over each window (torch: windows are clipped to input + padding; the divisor counts the
// padding when count_include_pad, else only the input elements).
class AvgPool2d final : public Layer {
public:
    AvgPool2d(Pool2dOptions options, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "avg_pool2d"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    const Pool2dOptions& options() const { return opt_; }

private:
    // A window's input range [lo, hi) along one axis and its factor of the divisor.
    struct Span {
        Index lo, hi, count;
    };
    // The span of output row (rows) or column `o`, computed when needed: no table of the
    // output's size is kept (it would make a load's memory follow the declared shape).
    Span span(Index o, bool rows) const;

    Pool2dOptions opt_;
    PoolGeometry geo_;
};

// Output (oh, ow); window i spans [floor(i H / oh), ceil((i + 1) H / oh)) like torch.
class AdaptiveAvgPool2d final : public Layer {
public:
    AdaptiveAvgPool2d(Index out_h, Index out_w, const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "adaptive_avg_pool2d"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    PoolGeometry geo_;
};

// The mean over a set of per-sample axes (0-based, negative counted from the end; nothing: every
// axis). The reduced axes are removed, or kept with extent 1 when keepdims; reducing every axis
// without keepdims gives shape (1,).
enum class ReduceOp { Mean, Sum, Max };

// The mean, sum or maximum over per-sample axes (all of them when none are given). The gradient
// of the maximum goes to the first element holding it.
class Reduce final : public Layer {
public:
    Reduce(ReduceOp op, const std::optional<std::vector<Index>>& axes, bool keepdims,
           const std::vector<Shape>& input_shapes);
    std::string kind() const override;
    ReduceOp op() const { return op_; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    // Calls f(k, t) for every input element k of a sample (row-major) and the output element t
    // it feeds, walking the input's axes like an odometer: no per-element table (a table of
    // the input's size would make a load's memory follow the declared shape).
    template <class F>
    void each_target(F&& f) const;

    Shape in_;                       // the per-sample input shape
    std::vector<Index> out_stride_;  // per input axis: its stride in the output, 0 if reduced
    Index n_in_ = 0;                 // input elements per sample
    float count_;                    // elements reduced into each output
    ReduceOp op_;
};

}  // namespace glassbox
