#include "core/network/conv2d.hpp"

#include "core/network/spatial.hpp"

#include <algorithm>

namespace glassbox {
namespace {
// Columns (output positions over the samples of a block) per GEMM: large enough to keep the GEMM
// efficient for small feature maps, small enough for the column buffer to stay in cache.
constexpr Index kTargetColumns = 3072;
}  // namespace

Conv2d::Conv2d(RowMatrixXf weight, const Shape& weight_shape, VectorXf bias, Conv2dOptions options)
    : weight_(std::move(weight)), bias_(std::move(bias)), opt_(options) {
    require(weight_shape.size() == 4, "conv2d: weight must have shape (Cout, Cin/groups, kh, kw), got " +
                                          shape_string(weight_shape));
    cout_ = weight_shape[0];
    cin_g_ = weight_shape[1];
    kh_ = weight_shape[2];
    kw_ = weight_shape[3];
    require(cout_ > 0 && cin_g_ > 0 && kh_ > 0 && kw_ > 0, "conv2d: weight extents must be positive");
    require(opt_.stride_h > 0 && opt_.stride_w > 0, "conv2d: stride must be positive");
    require(opt_.dilation_h > 0 && opt_.dilation_w > 0, "conv2d: dilation must be positive");
    require(opt_.pad_top >= 0 && opt_.pad_left >= 0 && opt_.pad_bottom >= 0 && opt_.pad_right >= 0,
            "conv2d: padding must be non-negative");
    require(opt_.groups > 0, "conv2d: groups must be positive");
    require(cout_ % opt_.groups == 0,
            "conv2d: groups=" + std::to_string(opt_.groups) + " does not divide the " +
                std::to_string(cout_) + " output channels");
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

// col has K = cin_g*kh*kw rows and block*P columns (row-major), one group's channels starting
// at channel `x` points to (already offset by the group).
void Conv2d::im2col(const float* x, Index block, float* col) const {
    const Index P = oh_ * ow_;
    const Index in_size = cin_ * h_ * w_;
    const Index ld = block * P;
    for (Index c = 0; c < cin_g_; ++c) {
        for (Index ki = 0; ki < kh_; ++ki) {
            for (Index kj = 0; kj < kw_; ++kj) {
                float* row = col + ((c * kh_ + ki) * kw_ + kj) * ld;
                const Index dj = kj * opt_.dilation_w - opt_.pad_left;
                for (Index s = 0; s < block; ++s) {
                    const float* plane = x + s * in_size + c * h_ * w_;
                    float* dst = row + s * P;
                    for (Index oi = 0; oi < oh_; ++oi) {
                        const Index ih = oi * opt_.stride_h + ki * opt_.dilation_h - opt_.pad_top;
                        float* out = dst + oi * ow_;
                        if (ih < 0 || ih >= h_) {
                            std::fill(out, out + ow_, 0.0f);
                            continue;
                        }
                        const float* src = plane + ih * w_;
                        if (opt_.stride_w == 1) {
                            // valid oj: 0 <= oj + dj < w
                            const Index lo = std::min(ow_, std::max<Index>(0, -dj));
                            const Index hi = std::max(lo, std::min(ow_, w_ - dj));
                            std::fill(out, out + lo, 0.0f);
                            std::copy(src + lo + dj, src + hi + dj, out + lo);
                            std::fill(out + hi, out + ow_, 0.0f);
                        } else {
                            for (Index oj = 0; oj < ow_; ++oj) {
                                const Index iw = oj * opt_.stride_w + dj;
                                out[oj] = (iw >= 0 && iw < w_) ? src[iw] : 0.0f;
                            }
                        }
                    }
                }
            }
        }
    }
}

void Conv2d::col2im(const float* col, Index block, float* x) const {
    const Index P = oh_ * ow_;
    const Index in_size = cin_ * h_ * w_;
    const Index ld = block * P;
    for (Index c = 0; c < cin_g_; ++c) {
        for (Index ki = 0; ki < kh_; ++ki) {
            for (Index kj = 0; kj < kw_; ++kj) {
                const float* row = col + ((c * kh_ + ki) * kw_ + kj) * ld;
                const Index dj = kj * opt_.dilation_w - opt_.pad_left;
                for (Index s = 0; s < block; ++s) {
                    float* plane = x + s * in_size + c * h_ * w_;
                    const float* src_block = row + s * P;
                    for (Index oi = 0; oi < oh_; ++oi) {
                        const Index ih = oi * opt_.stride_h + ki * opt_.dilation_h - opt_.pad_top;
                        if (ih < 0 || ih >= h_) continue;
                        float* dst = plane + ih * w_;
                        const float* src = src_block + oi * ow_;
                        for (Index oj = 0; oj < ow_; ++oj) {
                            const Index iw = oj * opt_.stride_w + dj;
                            if (iw >= 0 && iw < w_) dst[iw] += src[oj];
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
    require(x.cols() == cin_ * h_ * w_, "conv2d: input width does not match the layer's input shape");
    const Index n = x.rows();
    const Index P = oh_ * ow_;
    const Index K = cin_g_ * kh_ * kw_;
    const Index cout_g = cout_ / opt_.groups;
    z.resize(n, cout_ * P);
    const Index block = std::max<Index>(1, std::min<Index>(n, kTargetColumns / std::max<Index>(P, 1)));
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
    const Index block = std::max<Index>(1, std::min<Index>(n, kTargetColumns / std::max<Index>(P, 1)));
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
