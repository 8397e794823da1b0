// The activation table: every element-wise activation is one entry here (see registry.hpp), plus
// the row-wise Softmax / LogSoftmax and the PassThrough layers.
#include "core/network/activations.hpp"

#include "core/network/vector_math.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace glassbox {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kGeluCubic = 0.044715f;
// torch.nn.SELU's constants; alpha * scale multiplied in float, as torch's ELU kernel does
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluScaleAlpha = kSeluAlpha * kSeluScale;

// Transcendentals come from vector_math.hpp (no libm call per element: the loops vectorise).
using vmath::sigmoid;
// tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2): one exp instead of exp, log1p and
// tanh (1 in float above x = 20, where the clamp keeps n finite).
inline float tanh_softplus(float x) {
    const float e = vmath::exp_bounded(std::max(vmath::kExpBoundedLo, std::min(20.0f, x)));
    const float n = e * (e + 2.0f);
    return n / (n + 2.0f);
}
inline float relu6(float x) { return std::min(std::max(x, 0.0f), 6.0f); }
// The largest level of a signed `bits`-bit integer, 2^(bits-1) - 1 (bits in [2, 16]: exact).
inline float fake_quant_high(ActivationScalars s) {
    return static_cast<float>((1 << (static_cast<int>(s.b) - 1)) - 1);
}

using S = ActivationScalars;
constexpr DeepLiftTrait kRescale = DeepLiftTrait::Rescale;

// One entry per element-wise activation: activation(kind, {{param, default}, ...}, DeepLIFT trait,
// forward (x, s) -> y, derivative (x, y, s) -> dy/dx), optionally .checked(...) and
// .piecewise_linear(...) (activations.hpp). Formulas and conventions follow torch.
const auto& activation_table() {
    static const auto table = std::make_tuple(
        activation(
            "relu", {}, kRescale, [](float x, S) { return x > 0.0f ? x : 0.0f; },
            [](float x, float, S) { return x > 0.0f ? 1.0f : 0.0f; })  // torch: ReLU'(0) = 0
            .piecewise_linear([](S) { return 0.0f; }),
        activation(
            "leaky_relu", {{"negative_slope", 0.01}}, kRescale,
            [](float x, S s) { return x > 0.0f ? x : s.a * x; },
            [](float x, float, S s) { return x > 0.0f ? 1.0f : s.a; })
            .piecewise_linear([](S s) { return s.a; }),
        activation(
            "elu", {{"alpha", 1.0}}, kRescale,
            [](float x, S s) {  // both sides computed: a select vectorises, a call in a branch not
                const float e = s.a * vmath::expm1(x);
                return x > 0.0f ? x : e;
            },
            [](float x, float y, S s) { return x > 0.0f ? 1.0f : y + s.a; }),
        activation(
            "selu", {}, kRescale,
            [](float x, S) {
                const float e = kSeluScaleAlpha * vmath::expm1(x);
                return x > 0.0f ? kSeluScale * x : e;
            },
            [](float x, float, S) {
                const float e = kSeluScaleAlpha * vmath::exp(x);
                return x > 0.0f ? kSeluScale : e;
            }),
        activation(
            "sigmoid", {}, kRescale, [](float x, S) { return sigmoid(x); },
            [](float, float y, S) { return y * (1.0f - y); }),
        activation(
            "tanh", {}, kRescale, [](float x, S) { return vmath::tanh(x); },
            [](float, float y, S) { return 1.0f - y * y; }),
        activation(
            "softplus", {{"beta", 1.0}, {"threshold", 20.0}}, kRescale,
            [](float x, S s) {  // linear where beta * x > threshold
                const float bx = s.a * x;
                // log(1 + e^bx) = max(bx, 0) + log(1 + e^-|bx|): the exp stays in (0, 1]
                const float nx = -std::fabs(bx);
                const float e = vmath::exp_bounded(std::max(vmath::kExpBoundedLo, nx));
                const float e_flushed = nx < vmath::kExpBoundedLo ? 0.0f : e;  // as vmath::exp
                const float soft = (std::max(bx, 0.0f) + vmath::log1p(e_flushed)) / s.a;
                return bx > s.b ? x : soft;
            },
            [](float x, float, S s) {
                const float bx = s.a * x;
                const float slope = sigmoid(bx);
                return bx > s.b ? 1.0f : slope;
            })
            .checked([](S s) { return s.a != 0.0f ? nullptr : "'beta' must be non-zero"; }),
        activation(
            "gelu", {}, kRescale,
            [](float x, S) { return 0.5f * x * (1.0f + vmath::erf(x * kInvSqrt2)); },
            [](float x, float y, S) {
                // Phi(x) = y / x: one division instead of a second erf (Phi(0) = 1/2)
                const float cdf = std::fabs(x) > 1e-30f ? y / x : 0.5f;
                // e^(-x^2 / 2) is below the float range past |x| = 13.2, where cdf is 0 or 1
                const float pdf = kInvSqrt2Pi * vmath::exp_bounded(-std::min(87.0f, 0.5f * x * x));
                return cdf + x * pdf;
            }),
        activation(
            "gelu_tanh", {}, kRescale,
            [](float x, S) {
                const float u = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
                return 0.5f * x * (1.0f + vmath::tanh(u));
            },
            [](float x, float, S) {
                const float x2 = x * x;
                const float t = vmath::tanh(kSqrt2OverPi * (x + kGeluCubic * x2 * x));
                const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x2);
                return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
            }),
        activation(
            "silu", {}, kRescale, [](float x, S) { return x * sigmoid(x); },
            [](float x, float, S) {
                const float s = sigmoid(x);
                return s * (1.0f + x * (1.0f - s));
            }),
        activation(
            "mish", {}, kRescale, [](float x, S) { return x * tanh_softplus(x); },
            [](float x, float, S) {
                const float t = tanh_softplus(x);
                return t + x * sigmoid(x) * (1.0f - t * t);
            }),
        activation(
            "clamp", {{"min", -kInf}, {"max", kInf}}, kRescale,
            [](float x, S s) { return std::min(std::max(x, s.a), s.b); },  // NaN stays NaN
            [](float x, float, S s) { return x >= s.a && x <= s.b ? 1.0f : 0.0f; })  // torch
            .checked([](S s) { return s.a <= s.b ? nullptr : "'min' must be <= 'max'"; }),
        activation(
            // torch.fake_quantize_per_tensor_affine with zero point 0 (symmetric, signed):
            // clamp(rint(x * (1 / scale)), -2^(bits-1), 2^(bits-1) - 1) * scale
            "fake_quant", {{"scale", 1.0}, {"bits", 8.0}}, kRescale,
            [](float x, S s) {
                const float high = fake_quant_high(s);
                return std::min(std::max(std::nearbyint(x * (1.0f / s.a)), -high - 1.0f), high) *
                       s.a;
            },
            [](float x, float, S s) {  // torch's straight-through estimator: 1 inside the range
                const float high = fake_quant_high(s);
                const float q = std::nearbyint(x * (1.0f / s.a));
                return q >= -high - 1.0f && q <= high ? 1.0f : 0.0f;
            })
            .checked([](S s) {
                return !(s.a > 0.0f) ? "'scale' must be positive"
                       : !(s.b >= 2.0f && s.b <= 16.0f && s.b == std::floor(s.b))
                           ? "'bits' must be a whole number from 2 to 16"
                           : nullptr;
            }),
        activation(
            "hardsigmoid", {}, kRescale, [](float x, S) { return relu6(x + 3.0f) / 6.0f; },
            [](float x, float, S) { return x > -3.0f && x < 3.0f ? 1.0f / 6.0f : 0.0f; }),
        activation(
            "hardswish", {}, kRescale, [](float x, S) { return x * relu6(x + 3.0f) / 6.0f; },
            [](float x, float, S) {  // torch: 0 at x = -3, 1 at x = 3
                return x <= -3.0f ? 0.0f : x < 3.0f ? x / 3.0f + 0.5f : 1.0f;
            }));
    return table;
}

template <class Def>
void add_kind(std::map<std::string, LayerKind>& table, const Def& def) {
    if (def.params.size() > 2 || table.count(def.kind)) {
        throw std::logic_error(std::string("activation table: bad entry '") + def.kind + "'");
    }
    LayerFactory make = [&def](const LayerParams& params, const std::vector<Shape>& input_shapes) {
        return std::unique_ptr<Layer>(new ElementwiseActivation<Def>(def, params, input_shapes));
    };
    table[def.kind] = LayerKind{LayerCategory::Activation, def.deeplift, make, def.params};
}

}  // namespace

void add_activation_kinds(std::map<std::string, LayerKind>& table) {
    std::apply([&](const auto&... def) { (add_kind(table, def), ...); }, activation_table());
}

// ---------------------------------------------------------------------------------------------
RowSoftmax::RowSoftmax(bool log, const std::vector<Shape>& input_shapes) : log_(log) {
    const Shape& shape = single_input(input_shapes, kind());
    output_shape_ = shape;
    group_ = shape.back();
}

namespace {
// The input, output and gradients as (rows * groups) x group: one softmax per row of the map.
Eigen::Map<const RowMatrixXf> groups_of(const RowMatrixXf& m, Index group) {
    return {m.data(), m.size() / group, group};
}
}  // namespace

void RowSoftmax::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out.resize(inputs[0]->rows(), inputs[0]->cols());
    const auto in = groups_of(*inputs[0], group_);
    Eigen::Map<RowMatrixXf> y(out.data(), in.rows(), group_);
    for (Index r = 0; r < in.rows(); ++r) {
        const float m = in.row(r).maxCoeff();
        y.row(r) = (in.row(r).array() - m).exp().matrix();
        const float s = y.row(r).sum();
        if (log_) {
            y.row(r) = (in.row(r).array() - m - std::log(s)).matrix();
        } else {
            y.row(r) /= s;
        }
    }
}

void RowSoftmax::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                   std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0].resize(grad_out.rows(), grad_out.cols());
    const auto y = groups_of(*io.output, group_);
    const auto g = groups_of(grad_out, group_);
    Eigen::Map<RowMatrixXf> d(grad_in[0].data(), y.rows(), group_);
    for (Index r = 0; r < y.rows(); ++r) {
        if (log_) {
            // d log_softmax_j / d x_i = delta_ij - softmax_i
            const float total = g.row(r).sum();
            d.row(r) = g.row(r) - total * y.row(r).array().exp().matrix();
        } else {
            // d softmax_j / d x_i = y_j (delta_ij - y_i)
            const float dot = g.row(r).dot(y.row(r));
            d.row(r) = (y.row(r).array() * (g.row(r).array() - dot)).matrix();
        }
    }
}

// ---------------------------------------------------------------------------------------------
PassThrough::PassThrough(std::string kind, const std::vector<Shape>& input_shapes)
    : kind_(std::move(kind)) {
    const Shape& shape = single_input(input_shapes, kind_);
    output_shape_ = kind_ == "flatten" ? Shape{shape_size(shape)} : shape;
}

void PassThrough::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out = *inputs[0];
}

void PassThrough::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                                    std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0] = grad_out;
}

}  // namespace glassbox
