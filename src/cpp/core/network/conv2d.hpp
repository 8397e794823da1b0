// Conv2d: 2-D convolution over NCHW images (stride, asymmetric zero padding, dilation, groups).
// Few channels per group at column stride 1: direct register-tiled kernels (forward, and a
// scatter for the transpose); otherwise im2col over a block of samples + one Eigen GEMM per group,
// and for the transpose (input gradient, LRP) GEMM + col2im.
#pragma once

#include "core/network/affine.hpp"

namespace glassbox {

struct Conv2dOptions {
    Index stride_h = 1, stride_w = 1;
    Index pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    Index dilation_h = 1, dilation_w = 1;
    Index groups = 1;
};

// Everything a convolution kernel needs to know about one convolution problem.
struct ConvGeometry {
    Index cin, h, w, cout, groups, kh, kw, sh, dh, dw;
    Index pad_top, pad_left, pad_bottom, pad_right;
    Index oh, ow;
};

class Conv2d final : public AffineLayer {
public:
    // weight: (Cout, Cin/groups * kh * kw) with the original shape (Cout, Cin/groups, kh, kw);
    // the input must be an image (Cin, H, W).
    Conv2d(RowMatrixXf weight, const Shape& weight_shape, VectorXf bias, Conv2dOptions options,
           const std::vector<Shape>& input_shapes);

    std::string kind() const override { return "conv2d"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    double macs_per_sample() const override;

    const RowMatrixXf& weight() const override { return weight_; }
    const VectorXf& bias() const override { return bias_; }
    void affine_forward(const RowMatrixXf& weight, const VectorXf* bias, const RowMatrixXf& x,
                        RowMatrixXf& z) const override;
    void affine_transpose(const RowMatrixXf& weight, const RowMatrixXf& s,
                          RowMatrixXf& c) const override;

    const Conv2dOptions& options() const { return opt_; }
    Index kernel_h() const { return kh_; }
    Index kernel_w() const { return kw_; }

private:
    // Columns of `block` consecutive samples starting at `first` into col (K, block * P).
    void im2col(const float* x, Index block, float* col) const;
    void col2im(const float* col, Index block, float* x) const;
    bool use_direct() const;
    bool use_direct_transpose() const;
    ConvGeometry geometry() const;  // this layer's problem, for the direct kernels (stride_w 1)
    void check_weight(const RowMatrixXf& weight, const char* who) const;

    RowMatrixXf weight_;
    VectorXf bias_;
    Conv2dOptions opt_;
    Index cout_, cin_g_, kh_, kw_;
    Index cin_, h_, w_, oh_, ow_;  // input and output geometry
};

}  // namespace glassbox
