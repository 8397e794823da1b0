#include "core/network/pooling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/network/spatial.hpp"

namespace glassbox {
namespace {

void check_pool_options(const Pool2dOptions& o, const std::string& kind) {
    require(o.kernel_h > 0 && o.kernel_w > 0, kind + ": kernel must be positive");
    require(o.stride_h > 0 && o.stride_w > 0, kind + ": stride must be positive");
    require(o.dilation_h > 0 && o.dilation_w > 0, kind + ": dilation must be positive");
    require(o.pad_top >= 0 && o.pad_left >= 0 && o.pad_bottom >= 0 && o.pad_right >= 0,
            kind + ": padding must be non-negative");
}

Shape pool_shape(const std::vector<Shape>& input_shapes, const std::string& kind,
                 const Pool2dOptions& o, PoolGeometry& geo) {
    const Shape& in = image_input(input_shapes, kind);
    geo.channels = in[0];
    geo.h = in[1];
    geo.w = in[2];
    geo.oh = window_output_size(kind, "height", geo.h, o.pad_top, o.pad_bottom, o.kernel_h,
                                o.stride_h, o.dilation_h, o.ceil_mode);
    geo.ow = window_output_size(kind, "width", geo.w, o.pad_left, o.pad_right, o.kernel_w,
                                o.stride_w, o.dilation_w, o.ceil_mode);
    return {geo.channels, geo.oh, geo.ow};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
MaxPool2d::MaxPool2d(Pool2dOptions options) : opt_(options) {
    check_pool_options(opt_, "max_pool2d");
}

Shape MaxPool2d::output_shape(const std::vector<Shape>& input_shapes) const {
    return pool_shape(input_shapes, "max_pool2d", opt_, geo_);
}

namespace {
// Valid kernel taps [lo, hi) for output position `o` along one axis.
inline void tap_range(Index o, Index stride, Index pad, Index dilation, Index k, Index in,
                      Index& lo, Index& hi) {
    const Index start = o * stride - pad;
    lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
    hi = in - start <= 0 ? 0 : std::min(k, (in - start + dilation - 1) / dilation);
    if (hi < lo) hi = lo;
}

// The valid kernel taps [k0, k1) of every output row (ki) and column (kj) of a pooling window.
struct TapRanges {
    std::vector<Index> ki0, ki1, kj0, kj1;
};

TapRanges tap_ranges(const Pool2dOptions& opt, const PoolGeometry& g) {
    TapRanges t{std::vector<Index>(g.oh), std::vector<Index>(g.oh), std::vector<Index>(g.ow),
                std::vector<Index>(g.ow)};
    for (Index oi = 0; oi < g.oh; ++oi)
        tap_range(oi, opt.stride_h, opt.pad_top, opt.dilation_h, opt.kernel_h, g.h, t.ki0[oi],
                  t.ki1[oi]);
    for (Index oj = 0; oj < g.ow; ++oj)
        tap_range(oj, opt.stride_w, opt.pad_left, opt.dilation_w, opt.kernel_w, g.w, t.kj0[oj],
                  t.kj1[oj]);
    return t;
}
}  // namespace

template <class Emit>
void MaxPool2d::scan(const RowMatrixXf& x, Emit emit) const {
    const PoolGeometry& g = geo_;
    const Index plane_size = g.h * g.w;
    // valid kernel taps per output row / column, computed once per call
    const TapRanges taps = tap_ranges(opt_, g);
    const auto &ki0 = taps.ki0, &ki1 = taps.ki1, &kj0 = taps.kj0, &kj1 = taps.kj1;
    const Index dh = opt_.dilation_h, dw = opt_.dilation_w;
    for (Index r = 0; r < x.rows(); ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            const float* plane = x.data() + r * x.cols() + c * plane_size;
            const Index base = c * g.oh * g.ow;
            for (Index oi = 0; oi < g.oh; ++oi) {
                const Index h0 = oi * opt_.stride_h - opt_.pad_top;
                for (Index oj = 0; oj < g.ow; ++oj) {
                    const Index w0 = oj * opt_.stride_w - opt_.pad_left;
                    // first valid tap, then branch-free: the first maximum wins; NaN is taken
                    // (torch's rule)
                    Index best = ki0[oi] < ki1[oi] && kj0[oj] < kj1[oj]
                                     ? (h0 + ki0[oi] * dh) * g.w + w0 + kj0[oj] * dw
                                     : -1;
                    float best_value = -std::numeric_limits<float>::infinity();
                    for (Index ki = ki0[oi]; ki < ki1[oi]; ++ki) {
                        const Index row = (h0 + ki * dh) * g.w + w0;
                        for (Index kj = kj0[oj]; kj < kj1[oj]; ++kj) {
                            const Index at = row + kj * dw;
                            const float v = plane[at];
                            const bool take = (v > best_value) | (v != v);
                            best = take ? at : best;
                            best_value = take ? v : best_value;
                        }
                    }
                    emit(r, base + oi * g.ow + oj, best < 0 ? -1 : c * plane_size + best,
                         best_value);
                }
            }
        }
    }
}

void MaxPool2d::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    // Values only (the backward's scan tracks the argmax); same windows and NaN rule as scan.
    const RowMatrixXf& x = *inputs[0];
    const PoolGeometry& g = geo_;
    const Index plane_size = g.h * g.w, P = g.oh * g.ow;
    out.resize(x.rows(), g.channels * P);
    const TapRanges taps = tap_ranges(opt_, g);
    const auto &ki0 = taps.ki0, &ki1 = taps.ki1, &kj0 = taps.kj0, &kj1 = taps.kj1;
    const Index dh = opt_.dilation_h, dw = opt_.dilation_w;
    for (Index r = 0; r < x.rows(); ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            const float* __restrict plane = x.data() + r * x.cols() + c * plane_size;
            float* __restrict dst = out.data() + r * out.cols() + c * P;
            for (Index oi = 0; oi < g.oh; ++oi) {
                const Index h0 = oi * opt_.stride_h - opt_.pad_top;
                for (Index oj = 0; oj < g.ow; ++oj) {
                    const Index w0 = oj * opt_.stride_w - opt_.pad_left;
                    float m = -std::numeric_limits<float>::infinity();
                    bool nan = false;  // kept apart so the max compiles to a branch-free maxss
                    for (Index ki = ki0[oi]; ki < ki1[oi]; ++ki) {
                        const float* src = plane + (h0 + ki * dh) * g.w + w0;
                        for (Index kj = kj0[oj]; kj < kj1[oj]; ++kj) {
                            const float v = src[kj * dw];
                            m = v > m ? v : m;
                            nan |= v != v;
                        }
                    }
                    dst[oi * g.ow + oj] = nan ? std::numeric_limits<float>::quiet_NaN() : m;
                }
            }
        }
    }
}

void MaxPool2d::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                  std::vector<RowMatrixXf>& grad_in) const {
    // The argmax is recomputed from the recorded input: no extra state on the Tape.
    const RowMatrixXf& x = *io.inputs[0];
    grad_in[0].setZero(x.rows(), x.cols());
    float* d = grad_in[0].data();
    const float* g = grad_out.data();
    const Index in_cols = x.cols(), out_cols = grad_out.cols();
    scan(x, [&](Index r, Index j, Index at, float /*value*/) {
        if (at >= 0) d[r * in_cols + at] += g[r * out_cols + j];
    });
}

// ---------------------------------------------------------------------------------------------
AvgPool2d::AvgPool2d(Pool2dOptions options) : opt_(options) {
    check_pool_options(opt_, "avg_pool2d");
}

Shape AvgPool2d::output_shape(const std::vector<Shape>& input_shapes) const {
    return pool_shape(input_shapes, "avg_pool2d", opt_, geo_);
}

std::vector<AvgPool2d::Window> AvgPool2d::windows() const {
    const PoolGeometry& g = geo_;
    std::vector<Window> result;
    result.reserve(static_cast<std::size_t>(g.oh * g.ow));
    for (Index oi = 0; oi < g.oh; ++oi) {
        for (Index oj = 0; oj < g.ow; ++oj) {
            Index h0 = oi * opt_.stride_h - opt_.pad_top;
            Index w0 = oj * opt_.stride_w - opt_.pad_left;
            Index h1 = std::min(h0 + opt_.kernel_h, g.h + opt_.pad_bottom);
            Index w1 = std::min(w0 + opt_.kernel_w, g.w + opt_.pad_right);
            const Index pool_size = (h1 - h0) * (w1 - w0);
            h0 = std::max<Index>(h0, 0);
            w0 = std::max<Index>(w0, 0);
            h1 = std::min(h1, g.h);
            w1 = std::min(w1, g.w);
            float scale = 0.0f;
            if (h0 < h1 && w0 < w1) {
                const Index divisor = opt_.count_include_pad ? pool_size : (h1 - h0) * (w1 - w0);
                scale = 1.0f / static_cast<float>(divisor);
            } else {
                h1 = h0;  // empty window: output 0 (torch)
            }
            result.push_back(Window{h0, h1, w0, w1, scale});
        }
    }
    return result;
}

void AvgPool2d::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    const PoolGeometry& g = geo_;
    const std::vector<Window> wins = windows();
    const Index P = g.oh * g.ow;
    out.resize(x.rows(), g.channels * P);
    for (Index r = 0; r < x.rows(); ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            const float* plane = x.data() + r * x.cols() + c * g.h * g.w;
            float* dst = out.data() + r * out.cols() + c * P;
            for (Index p = 0; p < P; ++p) {
                const Window& win = wins[static_cast<std::size_t>(p)];
                float sum = 0.0f;
                for (Index ih = win.h0; ih < win.h1; ++ih)
                    for (Index iw = win.w0; iw < win.w1; ++iw) sum += plane[ih * g.w + iw];
                dst[p] = sum * win.scale;
            }
        }
    }
}

void AvgPool2d::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                  std::vector<RowMatrixXf>& grad_in) const {
    const PoolGeometry& g = geo_;
    const std::vector<Window> wins = windows();
    const Index P = g.oh * g.ow;
    const Index rows = grad_out.rows();
    grad_in[0].setZero(rows, io.inputs[0]->cols());
    for (Index r = 0; r < rows; ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            float* plane = grad_in[0].data() + r * grad_in[0].cols() + c * g.h * g.w;
            const float* src = grad_out.data() + r * grad_out.cols() + c * P;
            for (Index p = 0; p < P; ++p) {
                const Window& win = wins[static_cast<std::size_t>(p)];
                const float v = src[p] * win.scale;
                for (Index ih = win.h0; ih < win.h1; ++ih)
                    for (Index iw = win.w0; iw < win.w1; ++iw) plane[ih * g.w + iw] += v;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
AdaptiveAvgPool2d::AdaptiveAvgPool2d(Index out_h, Index out_w) : out_h_(out_h), out_w_(out_w) {
    require(out_h_ > 0 && out_w_ > 0, "adaptive_avg_pool2d: output_size must be positive");
}

Shape AdaptiveAvgPool2d::output_shape(const std::vector<Shape>& input_shapes) const {
    const Shape& in = image_input(input_shapes, "adaptive_avg_pool2d");
    geo_ = PoolGeometry{in[0], in[1], in[2], out_h_, out_w_};
    return {in[0], out_h_, out_w_};
}

namespace {
inline Index adaptive_start(Index o, Index in, Index out) { return (o * in) / out; }
inline Index adaptive_end(Index o, Index in, Index out) { return ((o + 1) * in + out - 1) / out; }
}  // namespace

void AdaptiveAvgPool2d::forward(const std::vector<const RowMatrixXf*>& inputs,
                                RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    const PoolGeometry& g = geo_;
    const Index P = g.oh * g.ow;
    out.resize(x.rows(), g.channels * P);
    for (Index r = 0; r < x.rows(); ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            const float* plane = x.data() + r * x.cols() + c * g.h * g.w;
            float* dst = out.data() + r * out.cols() + c * P;
            for (Index oi = 0; oi < g.oh; ++oi) {
                const Index h0 = adaptive_start(oi, g.h, g.oh), h1 = adaptive_end(oi, g.h, g.oh);
                for (Index oj = 0; oj < g.ow; ++oj) {
                    const Index w0 = adaptive_start(oj, g.w, g.ow),
                                w1 = adaptive_end(oj, g.w, g.ow);
                    float sum = 0.0f;
                    for (Index ih = h0; ih < h1; ++ih)
                        for (Index iw = w0; iw < w1; ++iw) sum += plane[ih * g.w + iw];
                    dst[oi * g.ow + oj] = sum / static_cast<float>((h1 - h0) * (w1 - w0));
                }
            }
        }
    }
}

void AdaptiveAvgPool2d::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                          std::vector<RowMatrixXf>& grad_in) const {
    const PoolGeometry& g = geo_;
    const Index P = g.oh * g.ow;
    grad_in[0].setZero(grad_out.rows(), io.inputs[0]->cols());
    for (Index r = 0; r < grad_out.rows(); ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            float* plane = grad_in[0].data() + r * grad_in[0].cols() + c * g.h * g.w;
            const float* src = grad_out.data() + r * grad_out.cols() + c * P;
            for (Index oi = 0; oi < g.oh; ++oi) {
                const Index h0 = adaptive_start(oi, g.h, g.oh), h1 = adaptive_end(oi, g.h, g.oh);
                for (Index oj = 0; oj < g.ow; ++oj) {
                    const Index w0 = adaptive_start(oj, g.w, g.ow),
                                w1 = adaptive_end(oj, g.w, g.ow);
                    const float v = src[oi * g.ow + oj] / static_cast<float>((h1 - h0) * (w1 - w0));
                    for (Index ih = h0; ih < h1; ++ih)
                        for (Index iw = w0; iw < w1; ++iw) plane[ih * g.w + iw] += v;
                }
            }
        }
    }
}

}  // namespace glassbox
