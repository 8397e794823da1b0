#include "core/network/conv2d.hpp"

#include <algorithm>

#include "core/network/spatial.hpp"

namespace glassbox {
namespace {
// Floats of the column buffer per GEMM (256 KB): it stays in the L2 cache between im2col writing
// it and the GEMM reading it, and spans enough samples to keep the GEMM wide for small maps.
constexpr Index kColumnBufferFloats = 64 * 1024;

inline Index samples_per_block(Index n, Index K, Index P) {
    return std::max<Index>(1, std::min<Index>(n, kColumnBufferFloats / std::max<Index>(K * P, 1)));
}
}  // namespace

Conv2d::Conv2d(RowMatrixXf weight, const Shape& weight_shape, VectorXf bias, Conv2dOptions options)
    : weight_(std::move(weight)), bias_(std::move(bias)), opt_(options) {
    require(weight_shape.size() == 4,
            "conv2d: weight must have shape (Cout, Cin/groups, kh, kw), got " +
                shape_string(weight_shape));
    cout_ = weight_shape[0];
    cin_g_ = weight_shape[1];
    kh_ = weight_shape[2];
    kw_ = weight_shape[3];
    require(cout_ > 0 && cin_g_ > 0 && kh_ > 0 && kw_ > 0,
            "conv2d: weight extents must be positive");
    require(opt_.stride_h > 0 && opt_.stride_w > 0, "conv2d: stride must be positive");
    require(opt_.dilation_h > 0 && opt_.dilation_w > 0, "conv2d: dilation must be positive");
    require(opt_.pad_top >= 0 && opt_.pad_left >= 0 && opt_.pad_bottom >= 0 && opt_.pad_right >= 0,
            "conv2d: padding must be non-negative");
    require(opt_.groups > 0, "conv2d: groups must be positive");
    require(cout_ % opt_.groups == 0, "conv2d: groups=" + std::to_string(opt_.groups) +
                                          " does not divide the " + std::to_string(cout_) +
                                          " output channels");
    if (bias_.size() == 0) bias_ = VectorXf::Zero(cout_);
    require(bias_.size() == cout_, "conv2d: bias has " + std::to_string(bias_.size()) +
                                       " entries, expected " + std::to_string(cout_));
}

Shape Conv2d::output_shape(const std::vector<Shape>& input_shapes) const {
    const Shape& in = image_input(input_shapes, "conv2d");
    require(in[0] % opt_.groups == 0, "conv2d: groups=" + std::to_string(opt_.groups) +
                                          " does not divide the " + std::to_string(in[0]) +
                                          " input channels");
    require(in[0] / opt_.groups == cin_g_,
            "conv2d: weight expects " + std::to_string(cin_g_ * opt_.groups) + " input channels (" +
                std::to_string(cin_g_) + " per group x " + std::to_string(opt_.groups) +
                " groups), got input shape " + shape_string(in));
    cin_ = in[0];
    h_ = in[1];
    w_ = in[2];
    oh_ = window_output_size("conv2d", "height", h_, opt_.pad_top, opt_.pad_bottom, kh_,
                             opt_.stride_h, opt_.dilation_h, false);
    ow_ = window_output_size("conv2d", "width", w_, opt_.pad_left, opt_.pad_right, kw_,
                             opt_.stride_w, opt_.dilation_w, false);
    return {cout_, oh_, ow_};
}

double Conv2d::macs_per_sample(const std::vector<Shape>& /*input_shapes*/) const {
    return static_cast<double>(cout_) * cin_g_ * kh_ * kw_ * oh_ * ow_;
}

void Conv2d::check_weight(const RowMatrixXf& weight, const char* who) const {
    require(weight.rows() == weight_.rows() && weight.cols() == weight_.cols(),
            std::string("conv2d: ") + who + " weight must have the layer's shape (" +
                std::to_string(weight_.rows()) + ", " + std::to_string(weight_.cols()) + ")");
}

namespace {
// Output positions o in [lo, hi) whose input index o * stride + offset lies in [0, extent).
inline void valid_range(Index offset, Index stride, Index extent, Index n_out, Index& lo,
                        Index& hi) {
    lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    hi = extent - offset <= 0 ? 0 : (extent - offset + stride - 1) / stride;
    lo = std::min(lo, n_out);
    hi = std::max(lo, std::min(hi, n_out));
}
}  // namespace

// col has K = cin_g * kh * kw rows and block * P columns (row-major): row (c, ki, kj) holds, for
// every sample and output position, the input element that kernel tap multiplies (0 in the
// padding). `x` points at the group's first channel of the block's first sample.
void Conv2d::im2col(const float* x, Index block, float* col) const {
    const Index P = oh_ * ow_;
    const Index in_size = cin_ * h_ * w_;
    const Index ld = block * P;
    const Index sw = opt_.stride_w;
    for (Index c = 0; c < cin_g_; ++c) {
        for (Index ki = 0; ki < kh_; ++ki) {
            const Index di = ki * opt_.dilation_h - opt_.pad_top;
            Index i_lo, i_hi;
            valid_range(di, opt_.stride_h, h_, oh_, i_lo, i_hi);
            for (Index kj = 0; kj < kw_; ++kj) {
                float* __restrict row = col + ((c * kh_ + ki) * kw_ + kj) * ld;
                const Index dj = kj * opt_.dilation_w - opt_.pad_left;
                Index j_lo, j_hi;
                valid_range(dj, sw, w_, ow_, j_lo, j_hi);
                for (Index s = 0; s < block; ++s) {
                    const float* __restrict plane = x + s * in_size + c * h_ * w_;
                    float* __restrict dst = row + s * P;
                    for (Index k = 0; k < i_lo * ow_; ++k) dst[k] = 0.0f;
                    for (Index oi = i_lo; oi < i_hi; ++oi) {
                        float* __restrict out = dst + oi * ow_;
                        const float* __restrict src = plane + (oi * opt_.stride_h + di) * w_ + dj;
                        for (Index oj = 0; oj < j_lo; ++oj) out[oj] = 0.0f;
                        if (sw == 1) {
                            for (Index oj = j_lo; oj < j_hi; ++oj) out[oj] = src[oj];
                        } else {
                            for (Index oj = j_lo; oj < j_hi; ++oj) out[oj] = src[oj * sw];
                        }
                        for (Index oj = j_hi; oj < ow_; ++oj) out[oj] = 0.0f;
                    }
                    for (Index k = i_hi * ow_; k < P; ++k) dst[k] = 0.0f;
                }
            }
        }
    }
}

// The adjoint of im2col: adds every column entry back onto the input element it was read from.
void Conv2d::col2im(const float* col, Index block, float* x) const {
    const Index P = oh_ * ow_;
    const Index in_size = cin_ * h_ * w_;
    const Index ld = block * P;
    const Index sw = opt_.stride_w;
    for (Index c = 0; c < cin_g_; ++c) {
        for (Index ki = 0; ki < kh_; ++ki) {
            const Index di = ki * opt_.dilation_h - opt_.pad_top;
            Index i_lo, i_hi;
            valid_range(di, opt_.stride_h, h_, oh_, i_lo, i_hi);
            for (Index kj = 0; kj < kw_; ++kj) {
                const float* __restrict row = col + ((c * kh_ + ki) * kw_ + kj) * ld;
                const Index dj = kj * opt_.dilation_w - opt_.pad_left;
                Index j_lo, j_hi;
                valid_range(dj, sw, w_, ow_, j_lo, j_hi);
                for (Index s = 0; s < block; ++s) {
                    float* __restrict plane = x + s * in_size + c * h_ * w_;
                    const float* __restrict src_block = row + s * P;
                    for (Index oi = i_lo; oi < i_hi; ++oi) {
                        const float* __restrict src = src_block + oi * ow_;
                        float* __restrict dst = plane + (oi * opt_.stride_h + di) * w_ + dj;
                        if (sw == 1) {
                            for (Index oj = j_lo; oj < j_hi; ++oj) dst[oj] += src[oj];
                        } else {
                            for (Index oj = j_lo; oj < j_hi; ++oj) dst[oj * sw] += src[oj];
                        }
                    }
                }
            }
        }
    }
}

void Conv2d::affine_forward(const RowMatrixXf& weight, const VectorXf* bias, const RowMatrixXf& x,
                            RowMatrixXf& z) const {
    check_weight(weight, "affine_forward");
    require(x.cols() == cin_ * h_ * w_,
            "conv2d: input width does not match the layer's input shape");
    const Index n = x.rows();
    const Index P = oh_ * ow_;
    const Index K = cin_g_ * kh_ * kw_;
    const Index cout_g = cout_ / opt_.groups;
    z.resize(n, cout_ * P);
    const Index block = samples_per_block(n, K, P);
    thread_local RowMatrixXf col, prod;
    for (Index first = 0; first < n; first += block) {
        const Index count = std::min(block, n - first);
        col.resize(K, count * P);
        prod.resize(cout_g, count * P);
        for (Index g = 0; g < opt_.groups; ++g) {
            im2col(x.data() + first * x.cols() + g * cin_g_ * h_ * w_, count, col.data());
            prod.noalias() = weight.middleRows(g * cout_g, cout_g) * col;
            for (Index s = 0; s < count; ++s) {
                float* zrow = z.data() + (first + s) * z.cols();
                for (Index o = 0; o < cout_g; ++o) {
                    const Index channel = g * cout_g + o;
                    Eigen::Map<Eigen::RowVectorXf> dst(zrow + channel * P, P);
                    dst = prod.row(o).segment(s * P, P);
                    if (bias) dst.array() += (*bias)(channel);
                }
            }
        }
    }
}

void Conv2d::affine_transpose(const RowMatrixXf& weight, const RowMatrixXf& s,
                              RowMatrixXf& c) const {
    check_weight(weight, "affine_transpose");
    const Index P = oh_ * ow_;
    require(s.cols() == cout_ * P, "conv2d: transpose input width does not match the output shape");
    const Index n = s.rows();
    const Index K = cin_g_ * kh_ * kw_;
    const Index cout_g = cout_ / opt_.groups;
    c.setZero(n, cin_ * h_ * w_);
    const Index block = samples_per_block(n, K, P);
    thread_local RowMatrixXf col, gathered;
    for (Index first = 0; first < n; first += block) {
        const Index count = std::min(block, n - first);
        col.resize(K, count * P);
        gathered.resize(cout_g, count * P);
        for (Index g = 0; g < opt_.groups; ++g) {
            for (Index r = 0; r < count; ++r) {
                const float* srow = s.data() + (first + r) * s.cols();
                for (Index o = 0; o < cout_g; ++o) {
                    gathered.row(o).segment(r * P, P) =
                        Eigen::Map<const Eigen::RowVectorXf>(srow + (g * cout_g + o) * P, P);
                }
            }
            col.noalias() = weight.middleRows(g * cout_g, cout_g).transpose() * gathered;
            col2im(col.data(), count, c.data() + first * c.cols() + g * cin_g_ * h_ * w_);
        }
    }
}

void Conv2d::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    affine_forward(weight_, &bias_, *inputs[0], out);
}

void Conv2d::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                               std::vector<RowMatrixXf>& grad_in) const {
    affine_transpose(weight_, grad_out, grad_in[0]);
}

}  // namespace glassbox
