#include "core/network/pooling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/network/spatial.hpp"

namespace glassbox {
namespace {

// Valid kernel taps [lo, hi) for output position `o` along one axis.
inline void tap_range(Index o, Index stride, Index pad, Index dilation, Index k, Index in,
                      Index& lo, Index& hi) {
    const Index start = o * stride - pad;
    lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
    hi = in - start <= 0 ? 0 : std::min(k, (in - start + dilation - 1) / dilation);
    if (hi < lo) hi = lo;
}

// The window of a pooling layer along one axis (validated by window_output_size).
WindowAxis pool_axis(const Pool2dOptions& o, const Shape& in, bool rows) {
    return rows ? WindowAxis{"height", in[1], o.pad_top, o.pad_bottom, o.kernel_h, o.stride_h,
                             o.dilation_h}
                : WindowAxis{"width", in[2], o.pad_left, o.pad_right, o.kernel_w, o.stride_w,
                             o.dilation_w};
}

PoolGeometry pool_geometry(const std::vector<Shape>& input_shapes, const std::string& kind,
                           const Pool2dOptions& o) {
    const Shape& in = image_input(input_shapes, kind);
    PoolGeometry geo;
    geo.channels = in[0];
    geo.h = in[1];
    geo.w = in[2];
    for (const bool rows : {true, false}) {
        const WindowAxis a = pool_axis(o, in, rows);
        check_window(kind, a);
        // ONNX's rule: each pad is smaller than the kernel (torch's, at most half of it, is
        // stricter). Larger pads only add windows lying wholly in the padding.
        require(a.pad_before < a.kernel && a.pad_after < a.kernel,
                kind + ": padding " + std::to_string(std::max(a.pad_before, a.pad_after)) +
                    " must be smaller than the kernel " + a.axis + " " +
                    std::to_string(a.kernel) + " (allowed: 0 to " +
                    std::to_string(a.kernel - 1) + ")");
        (rows ? geo.oh : geo.ow) = window_output_size(kind, a, o.ceil_mode);
    }
    checked_activation_size({geo.channels, geo.oh, geo.ow}, kind + ": output");
    // with dilation a window can still miss the input (its max would be -inf, its mean 0 / 0)
    for (const bool rows : {true, false}) {
        const WindowAxis a = pool_axis(o, in, rows);
        for (Index i = 0, lo = 0, hi = 0; i < (rows ? geo.oh : geo.ow); ++i) {
            tap_range(i, a.stride, a.pad_before, a.dilation, a.kernel, a.in, lo, hi);
            require(lo < hi, kind + ": window " + std::to_string(i) + " along the " + a.axis +
                                 " lies wholly in the padding (reduce the padding or dilation)");
        }
    }
    return geo;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
MaxPool2d::MaxPool2d(Pool2dOptions options, const std::vector<Shape>& input_shapes)
    : opt_(options), geo_(pool_geometry(input_shapes, "max_pool2d", opt_)) {
    output_shape_ = {geo_.channels, geo_.oh, geo_.ow};
}

namespace {

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

namespace {
// Windows that lie wholly inside the input (no padding, no dilation, no partial ceil_mode window):
// the common 2x2 / 3x3 pools then run with compile-time taps and no per-window range lookups.
bool full_windows(const Pool2dOptions& o, const PoolGeometry& g) {
    return o.pad_top == 0 && o.pad_left == 0 && o.pad_bottom == 0 && o.pad_right == 0 &&
           o.dilation_h == 1 && o.dilation_w == 1 && (g.oh - 1) * o.stride_h + o.kernel_h <= g.h &&
           (g.ow - 1) * o.stride_w + o.kernel_w <= g.w;
}

// The argmax scan over full KH x KW windows (same first-maximum and NaN rule as the general scan).
template <int KH, int KW, class Emit>
void scan_full(const RowMatrixXf& x, const Pool2dOptions& o, const PoolGeometry& g, Emit& emit) {
    const Index plane_size = g.h * g.w;
    for (Index r = 0; r < x.rows(); ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            const float* plane = x.data() + r * x.cols() + c * plane_size;
            const Index base = c * g.oh * g.ow;
            for (Index oi = 0; oi < g.oh; ++oi) {
                const Index row0 = oi * o.stride_h * g.w;
                for (Index oj = 0; oj < g.ow; ++oj) {
                    const Index corner = row0 + oj * o.stride_w;
                    float v[KH * KW];
                    for (int ki = 0; ki < KH; ++ki)
                        for (int kj = 0; kj < KW; ++kj) v[ki * KW + kj] = plane[corner + ki * g.w + kj];
                    // max and NaN flag without data-dependent branches (random inputs would
                    // mispredict them); the argmax is then the first tap equal to the max
                    float best_value = v[0];
                    bool nan = v[0] != v[0];
                    for (int k = 1; k < KH * KW; ++k) {
                        best_value = v[k] > best_value ? v[k] : best_value;
                        nan |= v[k] != v[k];
                    }
                    int tap = KH * KW - 1;
                    if (!nan) {
                        for (int k = KH * KW - 2; k >= 0; --k) tap = v[k] == best_value ? k : tap;
                    } else {  // rare: the general rule (the last NaN in window order wins)
                        best_value = -std::numeric_limits<float>::infinity();
                        for (int k = 0; k < KH * KW; ++k) {
                            const bool take = (v[k] > best_value) | (v[k] != v[k]);
                            tap = take ? k : tap;
                            best_value = take ? v[k] : best_value;
                        }
                    }
                    const Index best = corner + (tap / KW) * g.w + tap % KW;
                    emit(r, base + oi * g.ow + oj, c * plane_size + best, best_value);
                }
            }
        }
    }
}

// Values only over full KH x KW windows (same NaN rule as MaxPool2d::forward).
template <int KH, int KW>
void forward_full(const RowMatrixXf& x, const Pool2dOptions& o, const PoolGeometry& g,
                  RowMatrixXf& out) {
    const Index plane_size = g.h * g.w, P = g.oh * g.ow;
    for (Index r = 0; r < x.rows(); ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            const float* __restrict plane = x.data() + r * x.cols() + c * plane_size;
            float* __restrict dst = out.data() + r * out.cols() + c * P;
            for (Index oi = 0; oi < g.oh; ++oi) {
                const float* __restrict top = plane + oi * o.stride_h * g.w;
                for (Index oj = 0; oj < g.ow; ++oj) {
                    float m = -std::numeric_limits<float>::infinity();
                    bool nan = false;
                    for (int ki = 0; ki < KH; ++ki) {
                        for (int kj = 0; kj < KW; ++kj) {
                            const float v = top[ki * g.w + oj * o.stride_w + kj];
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

// The gradient for non-overlapping full windows (stride == kernel, the usual 2x2 pool): every
// input element is written once (the output gradient at its window's argmax, 0 elsewhere), with
// branch-free selects over a row of windows. Returns false, having written nothing for that row
// of windows only, when the row holds a NaN: the caller then uses the general scan.
template <int KH, int KW>
bool tiled_row_backward(const float* __restrict top, const float* __restrict g_out, Index ow,
                        Index w, float* __restrict g_in) {
    bool nan = false;
    for (Index oj = 0; oj < ow; ++oj) {
        float v[KH * KW];
        for (int ki = 0; ki < KH; ++ki)
            for (int kj = 0; kj < KW; ++kj) v[ki * KW + kj] = top[ki * w + oj * KW + kj];
        float m = v[0];
        for (int k = 1; k < KH * KW; ++k) {
            m = v[k] > m ? v[k] : m;
            nan |= v[k] != v[k];
        }
        nan |= v[0] != v[0];
        const float g = g_out[oj];
        bool taken = false;  // the first tap equal to the max takes the gradient
        for (int k = 0; k < KH * KW; ++k) {
            const bool here = !taken & (v[k] == m);
            taken |= here;
            g_in[(k / KW) * w + oj * KW + k % KW] = here ? g : 0.0f;
        }
    }
    return !nan;
}
}  // namespace

template <class Emit>
void MaxPool2d::scan(const RowMatrixXf& x, Emit emit) const {
    const PoolGeometry& g = geo_;
    if (full_windows(opt_, g)) {
        if (opt_.kernel_h == 2 && opt_.kernel_w == 2) return scan_full<2, 2>(x, opt_, g, emit);
        if (opt_.kernel_h == 3 && opt_.kernel_w == 3) return scan_full<3, 3>(x, opt_, g, emit);
    }
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
    if (full_windows(opt_, g)) {
        if (opt_.kernel_h == 2 && opt_.kernel_w == 2) return forward_full<2, 2>(x, opt_, g, out);
        if (opt_.kernel_h == 3 && opt_.kernel_w == 3) return forward_full<3, 3>(x, opt_, g, out);
    }
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
    const PoolGeometry& geo = geo_;
    float* d = grad_in[0].data();
    const Index in_cols = x.cols(), out_cols = grad_out.cols();
    const bool tiled = full_windows(opt_, geo) && opt_.stride_h == opt_.kernel_h &&
                       opt_.stride_w == opt_.kernel_w &&
                       ((opt_.kernel_h == 2 && opt_.kernel_w == 2) ||
                        (opt_.kernel_h == 3 && opt_.kernel_w == 3));
    if (tiled) {
        // input rows / columns past the last window get no gradient
        const bool exact = geo.oh * opt_.kernel_h == geo.h && geo.ow * opt_.kernel_w == geo.w;
        if (exact) {
            grad_in[0].resize(x.rows(), x.cols());
        } else {
            grad_in[0].setZero(x.rows(), x.cols());
        }
        d = grad_in[0].data();
        const auto row_backward =
            opt_.kernel_h == 2 ? tiled_row_backward<2, 2> : tiled_row_backward<3, 3>;
        bool any_nan = false;
        for (Index r = 0; r < x.rows(); ++r) {
            for (Index c = 0; c < geo.channels; ++c) {
                for (Index oi = 0; oi < geo.oh; ++oi) {
                    const Index in_at = r * in_cols + (c * geo.h + oi * opt_.kernel_h) * geo.w;
                    const Index out_at = r * out_cols + (c * geo.oh + oi) * geo.ow;
                    any_nan |= !row_backward(x.data() + in_at, grad_out.data() + out_at, geo.ow,
                                             geo.w, d + in_at);
                }
            }
        }
        if (!any_nan) return;  // else redo everything by the general rule (rare)
    }
    grad_in[0].setZero(x.rows(), x.cols());
    d = grad_in[0].data();
    const float* g = grad_out.data();
    scan(x, [&](Index r, Index j, Index at, float /*value*/) {
        if (at >= 0) d[r * in_cols + at] += g[r * out_cols + j];
    });
}

// ---------------------------------------------------------------------------------------------
AvgPool2d::AvgPool2d(Pool2dOptions options, const std::vector<Shape>& input_shapes)
    : opt_(options), geo_(pool_geometry(input_shapes, "avg_pool2d", opt_)) {
    output_shape_ = {geo_.channels, geo_.oh, geo_.ow};
}

AvgPool2d::Span AvgPool2d::span(Index o, bool rows) const {
    const Index stride = rows ? opt_.stride_h : opt_.stride_w;
    const Index pad = rows ? opt_.pad_top : opt_.pad_left;
    const Index pad_after = rows ? opt_.pad_bottom : opt_.pad_right;
    const Index k = rows ? opt_.kernel_h : opt_.kernel_w, in = rows ? geo_.h : geo_.w;
    const Index start = o * stride - pad;  // (n_out - 1) * stride <= in + pads: no overflow
    const Index end = std::min(start + k, in + pad_after);
    const Index lo = std::max<Index>(start, 0), hi = std::min(end, in);
    // every window holds an input element (pool_geometry checks it): count >= 1
    return Span{lo, hi, opt_.count_include_pad ? end - start : hi - lo};
}

void AvgPool2d::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    const PoolGeometry& g = geo_;
    const Index P = g.oh * g.ow;
    out.resize(x.rows(), g.channels * P);
    for (Index r = 0; r < x.rows(); ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            const float* plane = x.data() + r * x.cols() + c * g.h * g.w;
            float* dst = out.data() + r * out.cols() + c * P;
            for (Index oi = 0; oi < g.oh; ++oi) {
                const Span rows = span(oi, true);
                for (Index oj = 0; oj < g.ow; ++oj) {
                    const Span cols = span(oj, false);
                    float sum = 0.0f;
                    for (Index ih = rows.lo; ih < rows.hi; ++ih)
                        for (Index iw = cols.lo; iw < cols.hi; ++iw) sum += plane[ih * g.w + iw];
                    dst[oi * g.ow + oj] = sum / static_cast<float>(rows.count * cols.count);
                }
            }
        }
    }
}

void AvgPool2d::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                  std::vector<RowMatrixXf>& grad_in) const {
    const PoolGeometry& g = geo_;
    const Index P = g.oh * g.ow;
    const Index n_rows = grad_out.rows();
    grad_in[0].setZero(n_rows, io.inputs[0]->cols());
    for (Index r = 0; r < n_rows; ++r) {
        for (Index c = 0; c < g.channels; ++c) {
            float* plane = grad_in[0].data() + r * grad_in[0].cols() + c * g.h * g.w;
            const float* src = grad_out.data() + r * grad_out.cols() + c * P;
            for (Index oi = 0; oi < g.oh; ++oi) {
                const Span rows = span(oi, true);
                for (Index oj = 0; oj < g.ow; ++oj) {
                    const Span cols = span(oj, false);
                    const float v =
                        src[oi * g.ow + oj] / static_cast<float>(rows.count * cols.count);
                    for (Index ih = rows.lo; ih < rows.hi; ++ih)
                        for (Index iw = cols.lo; iw < cols.hi; ++iw) plane[ih * g.w + iw] += v;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
AdaptiveAvgPool2d::AdaptiveAvgPool2d(Index out_h, Index out_w,
                                     const std::vector<Shape>& input_shapes) {
    require(out_h > 0 && out_w > 0, "adaptive_avg_pool2d: output_size must be positive");
    const Shape& in = image_input(input_shapes, "adaptive_avg_pool2d");
    geo_ = PoolGeometry{in[0], in[1], in[2], out_h, out_w};
    output_shape_ = {in[0], out_h, out_w};
    checked_activation_size(output_shape_, "adaptive_avg_pool2d: output");
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

// ---------------------------------------------------------------------------------------------
Reduce::Reduce(ReduceOp op, const std::optional<std::vector<Index>>& axes, bool keepdims,
               const std::vector<Shape>& input_shapes)
    : op_(op) {
    const Shape& in = single_input(input_shapes, kind());
    const auto rank = static_cast<Index>(in.size());
    std::vector<char> reduced(in.size(), axes ? 0 : 1);
    if (axes) {
        require(!axes->empty(), kind() + ": 'axes' is empty; leave it out to reduce every axis");
        for (Index axis : *axes) {
            const Index a = axis < 0 ? axis + rank : axis;
            require(a >= 0 && a < rank, kind() + ": 'axes' entry " + std::to_string(axis) +
                                            " is out of range for per-sample shape " +
                                            shape_string(in));
            require(!reduced[a], kind() + ": 'axes' names axis " + std::to_string(a) + " twice");
            reduced[a] = 1;
        }
    }
    Index count = 1;
    for (Index d = 0; d < rank; ++d) {
        if (!reduced[d]) {
            output_shape_.push_back(in[d]);
        } else {
            count *= in[d];
            if (keepdims) output_shape_.push_back(1);
        }
    }
    if (output_shape_.empty()) output_shape_ = {1};
    count_ = static_cast<float>(count);
    in_ = in;
    n_in_ = shape_size(in);
    out_stride_.assign(in.size(), 0);
    Index out_step = 1;
    for (Index d = rank - 1; d >= 0; --d) {
        if (reduced[d]) continue;
        out_stride_[d] = out_step;
        out_step *= in[d];
    }
}

template <class F>
void Reduce::each_target(F&& f) const {
    const auto rank = static_cast<Index>(in_.size());
    std::vector<Index> at(in_.size(), 0);  // the multi-index of element k
    Index t = 0;
    for (Index k = 0; k < n_in_; ++k) {
        f(k, t);
        for (Index d = rank - 1; d >= 0; --d) {  // advance the innermost axis, carrying over
            t += out_stride_[d];
            if (++at[d] < in_[d]) break;
            at[d] = 0;
            t -= out_stride_[d] * in_[d];
        }
    }
}

std::string Reduce::kind() const {
    switch (op_) {
        case ReduceOp::Mean: return "reduce_mean";
        case ReduceOp::Sum: return "reduce_sum";
        case ReduceOp::Max: return "reduce_max";
    }
    return "reduce_mean";
}

void Reduce::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& x = *inputs[0];
    const Index n_out = shape_size(output_shape_);
    out.resize(x.rows(), n_out);
    thread_local std::vector<double> sums;  // double sums: means over many elements stay exact
    for (Index r = 0; r < x.rows(); ++r) {
        const float* src = x.data() + r * n_in_;
        float* dst = out.data() + r * n_out;
        if (op_ == ReduceOp::Max) {
            std::fill(dst, dst + n_out, -std::numeric_limits<float>::infinity());
            each_target([&](Index k, Index t) { dst[t] = std::max(dst[t], src[k]); });
            continue;
        }
        sums.assign(static_cast<std::size_t>(n_out), 0.0);
        each_target([&](Index k, Index t) { sums[static_cast<std::size_t>(t)] += src[k]; });
        const double scale = op_ == ReduceOp::Mean ? 1.0 / count_ : 1.0;
        for (Index j = 0; j < n_out; ++j) dst[j] = static_cast<float>(sums[j] * scale);
    }
}

void Reduce::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                               std::vector<RowMatrixXf>& grad_in) const {
    const Index n_out = grad_out.cols();
    grad_in[0].resize(grad_out.rows(), n_in_);
    std::vector<char> taken;
    for (Index r = 0; r < grad_out.rows(); ++r) {
        const float* g = grad_out.data() + r * n_out;
        float* d = grad_in[0].data() + r * n_in_;
        if (op_ == ReduceOp::Max) {  // the first element equal to the maximum takes it all
            const float* src = io.inputs[0]->data() + r * n_in_;
            const float* y = io.output->data() + r * n_out;
            taken.assign(static_cast<std::size_t>(n_out), 0);
            each_target([&](Index k, Index t) {
                const bool first = !taken[t] && src[k] == y[t];
                d[k] = first ? g[t] : 0.0f;
                taken[t] = taken[t] || first;
            });
            continue;
        }
        const float scale = op_ == ReduceOp::Mean ? 1.0f / count_ : 1.0f;
        each_target([&](Index k, Index t) { d[k] = g[t] * scale; });
    }
}

}  // namespace glassbox
