#include "core/network/conv2d.hpp"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/network/spatial.hpp"

#ifndef GLASSBOX_CONV_DIRECT_MAX
#define GLASSBOX_CONV_DIRECT_MAX 16
#endif

namespace glassbox {
namespace {
// Floats of the column buffer per GEMM (256 KB): it stays in the L2 cache between im2col writing
// it and the GEMM reading it, and spans enough samples to keep the GEMM wide for small maps.
// Output channels per group up to which the direct kernel is used (see use_direct).
constexpr Index kDirectMaxChannels = static_cast<Index>(GLASSBOX_CONV_DIRECT_MAX);
constexpr Index kColumnBufferFloats = 64 * 1024;

inline Index samples_per_block(Index n, Index K, Index P) {
    return std::max<Index>(1, std::min<Index>(n, kColumnBufferFloats / std::max<Index>(K * P, 1)));
}

// Direct convolution for stride_w == 1: each output tile of R rows x NP vectors of columns x OB
// channels is accumulated in vector registers over all kernel taps, reading a zero-padded copy of
// the sample (so no bounds checks) and the weights as (K, cout_g), each broadcast across a
// vector. Written with Eigen's packet primitives (AVX2 / SSE / NEON alike) so the register tiling
// is explicit rather than left to the auto-vectoriser. It avoids im2col's extra pass over memory,
// which dominates when a conv has few output channels.
using Packet = Eigen::internal::packet_traits<float>::type;
constexpr Index kTile = Eigen::internal::packet_traits<float>::size;  // floats per vector
constexpr int kMaxVectors = 3;                    // the widest tile, in vectors
constexpr Index kMaxTile = kMaxVectors * kTile;  // (extra columns of the padded copy)

struct DirectGeometry {
    Index K;                  // taps per output channel: cin_g * kh * kw
    const Index* taps;        // offset of each tap in the padded sample from the tile's origin
    Index sh;                 // row stride
    Index padded_h, padded_w;  // the padded sample's plane
    Index oh, ow;
};

// One tile: R output rows x NP vectors x OB channels, starting at output (oi0, oj0). The taps are
// one flat loop (offsets precomputed), so the accumulators stay in registers across all of them.
template <int OB, int NP, int R>
inline void direct_tile(const DirectGeometry& d, const float* __restrict padded,
                        const float* __restrict wt, Index wt_stride, const float* bias,
                        float* __restrict out, Index oi0, Index oj0) {
    using namespace Eigen::internal;
    const Index P = d.oh * d.ow;
    const Index row_step = d.sh * d.padded_w;
    Packet acc[R][OB][NP];
    for (int o = 0; o < OB; ++o) {
        const Packet b = pset1<Packet>(bias ? bias[o] : 0.0f);
        for (int r = 0; r < R; ++r)
            for (int p = 0; p < NP; ++p) acc[r][o][p] = b;
    }
    const float* __restrict origin = padded + oi0 * row_step + oj0;
    const Index* __restrict taps = d.taps;
    const float* __restrict wk = wt;
    for (Index k = 0; k < d.K; ++k, wk += wt_stride) {
        const float* __restrict src = origin + taps[k];
        for (int r = 0; r < R; ++r) {
            Packet v[NP];
            for (int p = 0; p < NP; ++p) v[p] = ploadu<Packet>(src + r * row_step + p * kTile);
            for (int o = 0; o < OB; ++o) {
                const Packet w = pset1<Packet>(wk[o]);
                for (int p = 0; p < NP; ++p) acc[r][o][p] = pmadd(w, v[p], acc[r][o][p]);
            }
        }
    }
    const Index n = std::min<Index>(NP * kTile, d.ow - oj0);
    for (int r = 0; r < R; ++r) {
        float* __restrict dst = out + (oi0 + r) * d.ow + oj0;
        for (int o = 0; o < OB; ++o) {
            if (n == NP * kTile) {
                for (int p = 0; p < NP; ++p) pstoreu(dst + o * P + p * kTile, acc[r][o][p]);
            } else {
                alignas(64) float tail[NP * kTile];
                for (int p = 0; p < NP; ++p) pstoreu(tail + p * kTile, acc[r][o][p]);
                for (Index t = 0; t < n; ++t) dst[o * P + t] = tail[t];
            }
        }
    }
}

// Whether a tile's accumulators, its OB broadcast weights and NP input vectors fit the 16 vector
// registers (GCC keeps the broadcasts live across the rows; measured: one more spills an
// accumulator to the stack and halves the speed).
constexpr bool fits_registers(int OB, int NP, int R) { return R * NP * OB + OB + NP <= 16; }

// Output rows per tile: as many (up to 4) as fit; with few channels several rows hide the FMA
// latency (the transpose of a 1-channel-input conv has OB = 1).
constexpr int rows_per_tile(int OB, int NP) {
    int r = 4;
    while (r > 1 && !fits_registers(OB, NP, r)) --r;
    return r;
}

// Estimated cycles per tap of one tile (Zen 3 / Skylake-like: 2 FMAs per cycle, an FMA latency
// of 4, about 2 unaligned vector loads and 4 instructions per cycle), used only to pick the tile
// shape.
constexpr double tile_cycles(int OB, int NP, int R) {
    const double fmas = R * NP * OB, loads = R * NP + OB;
    double c = fmas / 2;
    if (c < 4) c = 4;  // fewer than 8 accumulators: latency-bound
    if (loads / 2 > c) c = loads / 2;
    if ((fmas + loads + 4) / 4 > c) c = (fmas + loads + 4) / 4;
    return c;
}

template <int OB, int NP>
void direct_block(const DirectGeometry& d, const float* __restrict padded,
                  const float* __restrict wt, Index wt_stride, const float* bias,
                  float* __restrict out) {
    constexpr int R = rows_per_tile(OB, NP);
    constexpr Index T = NP * kTile;
    // one band of `rows` output rows: full T-wide tiles, then a one-vector tile when the rest
    // fits one (24 columns = 16 + 8 instead of two 16-wide tiles with 8 wasted lanes)
    auto band = [&](auto rows, Index oi) {
        constexpr int RR = decltype(rows)::value;
        Index oj0 = 0;
        for (; oj0 + T <= d.ow; oj0 += T)
            direct_tile<OB, NP, RR>(d, padded, wt, wt_stride, bias, out, oi, oj0);
        if (oj0 == d.ow) return;
        if (NP > 1 && d.ow - oj0 <= kTile) {
            direct_tile<OB, 1, RR>(d, padded, wt, wt_stride, bias, out, oi, oj0);
        } else {
            direct_tile<OB, NP, RR>(d, padded, wt, wt_stride, bias, out, oi, oj0);
        }
    };
    Index oi = 0;
    for (; oi + R <= d.oh; oi += R) band(std::integral_constant<int, R>{}, oi);
    for (; oi < d.oh; ++oi) band(std::integral_constant<int, 1>{}, oi);
}

constexpr int kMaxBlock = 7;  // output channels per block (one row of 7 x 1 vector fits)

// The table [NP - 1][OB - 1] of a kernel family's block functions Family::get<OB, NP>() (nullptr
// where one row of the tile does not fit the registers).
template <class Family, int NP, int... OB>
constexpr std::array<typename Family::Fn, kMaxBlock> table_row(std::integer_sequence<int, OB...>) {
    return {Family::template get<OB + 1, NP>()...};
}
template <class Family>
constexpr std::array<std::array<typename Family::Fn, kMaxBlock>, kMaxVectors> kernel_table() {
    constexpr auto blocks = std::make_integer_sequence<int, kMaxBlock>{};
    return {table_row<Family, 1>(blocks), table_row<Family, 2>(blocks),
            table_row<Family, 3>(blocks)};
}
struct DirectFamily {
    using Fn = void (*)(const DirectGeometry&, const float*, const float*, Index, const float*,
                        float*);
    template <int OB, int NP>
    static constexpr Fn get() {
        if constexpr (fits_registers(OB, NP, 1)) return direct_block<OB, NP>;
        return nullptr;
    }
};
constexpr auto kDirectBlocks = kernel_table<DirectFamily>();

// The tile shape for a plane: vectors per tile NP (the whole row when it fits kMaxVectors) and
// channels per block OB, minimising the estimated cycles over the plane (remainders included).
struct TileShape {
    int np, ob;
};
TileShape pick_tile(Index cout_g, Index oh, Index ow) {
    const Index vectors = (ow + kTile - 1) / kTile;
    const int np = static_cast<int>(std::min<Index>(vectors, kMaxVectors));
    TileShape best{np, 1};
    double best_cost = -1;
    for (int ob = 1; ob <= kMaxBlock && ob <= cout_g; ++ob) {
        if (!fits_registers(ob, np, 1)) break;
        const int r = rows_per_tile(ob, np);
        const int rest = static_cast<int>(cout_g % ob);
        auto plane = [&](int channels) {  // one block of `channels`, all rows
            const int rr = rows_per_tile(channels, np);
            return (oh / r) * tile_cycles(channels, np, rr) * r / rr +
                   static_cast<double>(oh % r) * tile_cycles(channels, np, 1);
        };
        const double cost = (cout_g / ob) * plane(ob) + (rest ? plane(rest) : 0.0);
        if (best_cost < 0 || cost <= best_cost + 1e-9) {  // ties: more channels per pass
            best_cost = cost;
            best = {np, ob};
        }
    }
    return best;
}
}  // namespace

Conv2d::Conv2d(RowMatrixXf weight, const Shape& weight_shape, VectorXf bias, Conv2dOptions options,
               const std::vector<Shape>& input_shapes)
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
    const Index per_channel = shape_size({cin_g_, kh_, kw_});
    require(weight_.rows() == cout_ && weight_.cols() == per_channel,
            "conv2d: weight data of shape (" + std::to_string(weight_.rows()) + ", " +
                std::to_string(weight_.cols()) + ") does not match its shape " +
                shape_string(weight_shape));
    require(opt_.groups > 0, "conv2d: groups must be positive");
    require(cout_ % opt_.groups == 0, "conv2d: groups=" + std::to_string(opt_.groups) +
                                          " does not divide the " + std::to_string(cout_) +
                                          " output channels");
    if (bias_.size() == 0) bias_ = VectorXf::Zero(cout_);
    require(bias_.size() == cout_, "conv2d: bias has " + std::to_string(bias_.size()) +
                                       " entries, expected " + std::to_string(cout_));
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
    const WindowAxis rows{"height",   h_,  opt_.pad_top,   opt_.pad_bottom,
                          kh_,        opt_.stride_h, opt_.dilation_h};
    const WindowAxis cols{"width",   w_,  opt_.pad_left,  opt_.pad_right,
                          kw_,       opt_.stride_w, opt_.dilation_w};
    oh_ = window_output_size("conv2d", rows, false);
    ow_ = window_output_size("conv2d", cols, false);
    output_shape_ = {cout_, oh_, ow_};
    // every per-sample buffer the kernels hold stays under the ceiling: the output, the direct
    // kernel's zero-padded copy of the input and the im2col columns (K x positions)
    checked_activation_size(output_shape_, "conv2d: output");
    checked_activation_size({cin_, padded_extent("conv2d", rows), padded_extent("conv2d", cols)},
                            "conv2d: zero-padded input");
    checked_activation_size({cin_g_, kh_, kw_, oh_, ow_}, "conv2d: im2col columns");
}

double Conv2d::macs_per_sample() const {
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

bool Conv2d::use_direct() const {
    // im2col + GEMM wins once each column feeds enough output channels to amortise its copy
    // (measured: direct is faster for the 6- and 16-channel convs of LeNet, slower from 32 up)
    return opt_.stride_w == 1 && cout_ / opt_.groups <= kDirectMaxChannels;
}

namespace {
// Direct convolution of n samples (rows of x) for stride_w == 1, described by `geo`, with the
// weights laid out as (group, K, cout_g): a tap's weights for a block of channels are adjacent
// and compact, so a block's weights stay in L1 across tiles.
void direct_conv(const ConvGeometry& geo, const float* wt, const float* bias, const float* x,
                 Index n, float* z) {
    const Index P = geo.oh * geo.ow;
    const Index cin_g = geo.cin / geo.groups;
    const Index K = cin_g * geo.kh * geo.kw;
    const Index cout_g = geo.cout / geo.groups;
    const Index padded_h = geo.h + geo.pad_top + geo.pad_bottom;
    const Index padded_w = geo.w + geo.pad_left + geo.pad_right + kMaxTile;
    const Index plane = padded_h * padded_w;
    thread_local std::vector<Index> taps;
    taps.resize(static_cast<std::size_t>(K));
    for (Index c = 0, k = 0; c < cin_g; ++c)
        for (Index ki = 0; ki < geo.kh; ++ki)
            for (Index kj = 0; kj < geo.kw; ++kj, ++k)
                taps[static_cast<std::size_t>(k)] = c * plane + ki * geo.dh * padded_w + kj * geo.dw;
    const DirectGeometry d{K, taps.data(), geo.sh, padded_h, padded_w, geo.oh, geo.ow};
    const TileShape tile = pick_tile(cout_g, geo.oh, geo.ow);
    thread_local std::vector<float> padded;
    padded.assign(static_cast<std::size_t>(geo.cin * plane), 0.0f);
    const Index in_size = geo.cin * geo.h * geo.w;
    for (Index r = 0; r < n; ++r) {
        const float* xr = x + r * in_size;
        for (Index c = 0; c < geo.cin; ++c) {
            for (Index ih = 0; ih < geo.h; ++ih) {
                const float* __restrict src = xr + (c * geo.h + ih) * geo.w;
                float* __restrict dst =
                    padded.data() + c * plane + (ih + geo.pad_top) * padded_w + geo.pad_left;
                for (Index iw = 0; iw < geo.w; ++iw) dst[iw] = src[iw];
            }
        }
        float* zr = z + r * geo.cout * P;
        for (Index g = 0; g < geo.groups; ++g) {
            for (Index o0 = 0; o0 < cout_g; o0 += tile.ob) {
                const Index ob = std::min<Index>(tile.ob, cout_g - o0);
                const Index channel = g * cout_g + o0;
                kDirectBlocks[tile.np - 1][ob - 1](d, padded.data() + g * cin_g * plane,
                                                   wt + g * K * cout_g + o0, cout_g,
                                                   bias ? bias + channel : nullptr,
                                                   zr + channel * P);
            }
        }
    }
}

// The transpose of the direct kernel (stride_w == 1, any row stride): relevance / gradient rows
// s (cout, oh, ow) are scattered back onto a zero-padded input plane. A tile of R rows x NP
// vectors of s columns x OB input channels sums, for one kernel tap, every output channel's
// contribution in registers (s loaded once per channel, weights broadcast), then adds the sums
// onto the padded input rows that tap reads; no im2col matrix and no padding work.
struct ScatterGeometry {
    Index cout_g, kh, kw, dh, dw, sh;
    Index s_w;                 // width of the (zero-extended) s rows
    Index s_plane;             // oh * s_w, plus a cache line (see scatter_conv)
    Index padded_h, padded_w;  // the padded input plane
};

template <int OB, int NP, int R>
inline void scatter_tile(const ScatterGeometry& d, const float* __restrict s, const float* __restrict wt,
                         Index cin_g, float* __restrict c, Index i0, Index j0) {
    using namespace Eigen::internal;
    const Index c_plane = d.padded_h * d.padded_w;
    const float* __restrict wk = wt;  // (ki, kj, o, ci) with ci the fastest
    for (Index ki = 0; ki < d.kh; ++ki) {
        for (Index kj = 0; kj < d.kw; ++kj) {
            Packet acc[R][OB][NP];
            for (int r = 0; r < R; ++r)
                for (int o = 0; o < OB; ++o)
                    for (int p = 0; p < NP; ++p) acc[r][o][p] = pset1<Packet>(0.0f);
            const float* __restrict src = s + i0 * d.s_w + j0;
            for (Index o = 0; o < d.cout_g; ++o, wk += cin_g, src += d.s_plane) {
                for (int r = 0; r < R; ++r) {
                    Packet v[NP];
                    for (int p = 0; p < NP; ++p) v[p] = ploadu<Packet>(src + r * d.s_w + p * kTile);
                    for (int ob = 0; ob < OB; ++ob) {
                        const Packet w = pset1<Packet>(wk[ob]);
                        for (int p = 0; p < NP; ++p) acc[r][ob][p] = pmadd(w, v[p], acc[r][ob][p]);
                    }
                }
            }
            for (int r = 0; r < R; ++r) {
                float* __restrict dst =
                    c + ((i0 + r) * d.sh + ki * d.dh) * d.padded_w + j0 + kj * d.dw;
                for (int ob = 0; ob < OB; ++ob)
                    for (int p = 0; p < NP; ++p) {
                        float* at = dst + ob * c_plane + p * kTile;
                        pstoreu(at, padd(ploadu<Packet>(at), acc[r][ob][p]));
                    }
            }
        }
    }
}

template <int OB, int NP>
void scatter_block(const ScatterGeometry& d, Index oh, Index vectors, const float* s,
                   const float* wt, Index cin_g, float* c) {
    constexpr int R = rows_per_tile(OB, NP);
    auto band = [&](auto rows, Index i) {
        constexpr int RR = decltype(rows)::value;
        Index v = 0;
        for (; v + NP <= vectors; v += NP) scatter_tile<OB, NP, RR>(d, s, wt, cin_g, c, i, v * kTile);
        for (; v < vectors; ++v) scatter_tile<OB, 1, RR>(d, s, wt, cin_g, c, i, v * kTile);
    };
    Index i = 0;
    for (; i + R <= oh; i += R) band(std::integral_constant<int, R>{}, i);
    for (; i < oh; ++i) band(std::integral_constant<int, 1>{}, i);
}

struct ScatterFamily {
    using Fn = void (*)(const ScatterGeometry&, Index, Index, const float*, const float*, Index,
                        float*);
    template <int OB, int NP>
    static constexpr Fn get() {
        if constexpr (fits_registers(OB, NP, 1)) return scatter_block<OB, NP>;
        return nullptr;
    }
};
constexpr auto kScatterBlocks = kernel_table<ScatterFamily>();

// c = the transpose of the direct convolution `geo` applied to n rows of s. The tiles read every
// output channel's plane at the same place, so the planes are a cache line more than their size
// apart: with 4 KB planes (32 x 32) the reads would all fall in one L1 set (measured 3x slower).
constexpr Index kLineFloats = 16;
void scatter_conv(const ConvGeometry& geo, const RowMatrixXf& weight, const float* s, Index n,
                  float* c) {
    const Index cin_g = geo.cin / geo.groups, cout_g = geo.cout / geo.groups;
    const Index taps = geo.kh * geo.kw;
    const Index vectors = (geo.ow + kTile - 1) / kTile;
    const ScatterGeometry d{cout_g, geo.kh, geo.kw, geo.dh, geo.dw, geo.sh, vectors * kTile,
                            geo.oh * vectors * kTile + kLineFloats,
                            geo.h + geo.pad_top + geo.pad_bottom,
                            geo.w + geo.pad_left + geo.pad_right + kMaxTile};
    // weights as (group, ki, kj, o, ci)
    thread_local std::vector<float> wt, s_wide, padded;
    wt.resize(static_cast<std::size_t>(weight.size()));
    for (Index g = 0, at = 0; g < geo.groups; ++g)
        for (Index t = 0; t < taps; ++t)
            for (Index o = 0; o < cout_g; ++o)
                for (Index ci = 0; ci < cin_g; ++ci)
                    wt[static_cast<std::size_t>(at++)] = weight(g * cout_g + o, ci * taps + t);
    const TileShape tile = pick_tile(cin_g, geo.oh, geo.ow);
    const Index c_plane = d.padded_h * d.padded_w;
    s_wide.assign(static_cast<std::size_t>(geo.cout * d.s_plane), 0.0f);
    padded.resize(static_cast<std::size_t>(geo.cin * c_plane));
    const Index P = geo.oh * geo.ow, in_size = geo.cin * geo.h * geo.w;
    for (Index r = 0; r < n; ++r) {
        const float* sr = s + r * geo.cout * P;
        for (Index o = 0; o < geo.cout; ++o)
            for (Index i = 0; i < geo.oh; ++i)
                std::copy_n(sr + o * P + i * geo.ow, geo.ow,
                            s_wide.data() + o * d.s_plane + i * d.s_w);
        std::fill(padded.begin(), padded.end(), 0.0f);
        for (Index g = 0; g < geo.groups; ++g) {
            for (Index c0 = 0; c0 < cin_g; c0 += tile.ob) {
                const Index ob = std::min<Index>(tile.ob, cin_g - c0);
                kScatterBlocks[tile.np - 1][ob - 1](
                    d, geo.oh, vectors, s_wide.data() + g * cout_g * d.s_plane,
                    wt.data() + g * taps * cout_g * cin_g + c0, cin_g,
                    padded.data() + (g * cin_g + c0) * c_plane);
            }
        }
        float* cr = c + r * in_size;
        for (Index ch = 0; ch < geo.cin; ++ch)
            for (Index ih = 0; ih < geo.h; ++ih)
                std::copy_n(padded.data() + ch * c_plane + (ih + geo.pad_top) * d.padded_w +
                                geo.pad_left,
                            geo.w, cr + (ch * geo.h + ih) * geo.w);
    }
}

// weight (cout, K) as (group, K, cout_g), for direct_conv.
void tap_major(const RowMatrixXf& weight, Index groups, std::vector<float>& wt) {
    const Index cout_g = weight.rows() / groups, K = weight.cols();
    wt.resize(static_cast<std::size_t>(weight.size()));
    for (Index g = 0; g < groups; ++g)
        for (Index o = 0; o < cout_g; ++o)
            for (Index k = 0; k < K; ++k)
                wt[static_cast<std::size_t>((g * K + k) * cout_g + o)] = weight(g * cout_g + o, k);
}

}  // namespace

bool Conv2d::use_direct_transpose() const {
    // the scatter kernel sums over the output channels in registers, a tile of input channels
    // at a time: the same trade-off as the forward direct kernel, with the channel roles swapped
    return opt_.stride_w == 1 && cin_g_ <= kDirectMaxChannels;
}

ConvGeometry Conv2d::geometry() const {
    return ConvGeometry{cin_,          h_,
                        w_,            cout_,
                        opt_.groups,   kh_,
                        kw_,           opt_.stride_h,
                        opt_.dilation_h, opt_.dilation_w,
                        opt_.pad_top,  opt_.pad_left,
                        opt_.pad_bottom, opt_.pad_right,
                        oh_,           ow_};
}

void Conv2d::affine_forward(const RowMatrixXf& weight, const VectorXf* bias, const RowMatrixXf& x,
                            RowMatrixXf& z) const {
    check_weight(weight, "affine_forward");
    require(x.cols() == cin_ * h_ * w_,
            "conv2d: input width does not match the layer's input shape");
    if (use_direct()) {
        z.resize(x.rows(), cout_ * oh_ * ow_);
        thread_local std::vector<float> wt;
        tap_major(weight, opt_.groups, wt);
        direct_conv(geometry(), wt.data(), bias ? bias->data() : nullptr, x.data(), x.rows(),
                    z.data());
        return;
    }
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
    if (use_direct_transpose()) {
        c.resize(n, cin_ * h_ * w_);
        scatter_conv(geometry(), weight, s.data(), n, c.data());
        return;
    }
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
