#include "core/network/activations.hpp"

#include <cmath>

namespace glassbox {
namespace {

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kGeluCubic = 0.044715f;

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Applies `fn(index)` over every element; the loops are flat so the compiler vectorises them.
template <class Fn>
void for_each_element(Index size, Fn fn) {
    for (Index i = 0; i < size; ++i) fn(i);
}

const Shape& single_input(const std::vector<Shape>& input_shapes, const std::string& kind) {
    require(input_shapes.size() == 1, kind + ": expects exactly one input");
    return input_shapes[0];
}

}  // namespace

ElementwiseActivation::ElementwiseActivation(Activation type, double param_a, double param_b)
    : type_(type), a_(static_cast<float>(param_a)), b_(static_cast<float>(param_b)) {
    if (type_ == Activation::Softplus) require(a_ != 0.0f, "softplus: beta must be non-zero");
}

std::string ElementwiseActivation::kind() const {
    switch (type_) {
        case Activation::ReLU: return "relu";
        case Activation::LeakyReLU: return "leaky_relu";
        case Activation::ELU: return "elu";
        case Activation::Sigmoid: return "sigmoid";
        case Activation::Tanh: return "tanh";
        case Activation::Softplus: return "softplus";
        case Activation::GELU: return "gelu";
        case Activation::GELUTanh: return "gelu_tanh";
        case Activation::SiLU: return "silu";
    }
    return "activation";
}

Shape ElementwiseActivation::output_shape(const std::vector<Shape>& input_shapes) const {
    return single_input(input_shapes, kind());
}

void ElementwiseActivation::forward(const std::vector<const RowMatrixXf*>& inputs,
                                    RowMatrixXf& out) const {
    const RowMatrixXf& in = *inputs[0];
    out.resize(in.rows(), in.cols());
    const float* x = in.data();
    float* y = out.data();
    const Index n = in.size();
    const float a = a_, b = b_;
    switch (type_) {
        case Activation::ReLU:
            for_each_element(n, [&](Index i) { y[i] = x[i] > 0.0f ? x[i] : 0.0f; });
            break;
        case Activation::LeakyReLU:
            for_each_element(n, [&](Index i) { y[i] = x[i] > 0.0f ? x[i] : a * x[i]; });
            break;
        case Activation::ELU:
            for_each_element(n, [&](Index i) { y[i] = x[i] > 0.0f ? x[i] : a * std::expm1(x[i]); });
            break;
        case Activation::Sigmoid:
            for_each_element(n, [&](Index i) { y[i] = sigmoid(x[i]); });
            break;
        case Activation::Tanh:
            for_each_element(n, [&](Index i) { y[i] = std::tanh(x[i]); });
            break;
        case Activation::Softplus:
            for_each_element(n, [&](Index i) {
                const float bx = a * x[i];
                y[i] = bx > b ? x[i] : std::log1p(std::exp(bx)) / a;
            });
            break;
        case Activation::GELU:
            for_each_element(n, [&](Index i) {
                y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
            });
            break;
        case Activation::GELUTanh:
            for_each_element(n, [&](Index i) {
                const float u = kSqrt2OverPi * (x[i] + kGeluCubic * x[i] * x[i] * x[i]);
                y[i] = 0.5f * x[i] * (1.0f + std::tanh(u));
            });
            break;
        case Activation::SiLU:
            for_each_element(n, [&](Index i) { y[i] = x[i] * sigmoid(x[i]); });
            break;
    }
}

void ElementwiseActivation::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                              std::vector<RowMatrixXf>& grad_in) const {
    const float* x = io.inputs[0]->data();
    const float* y = io.output->data();
    const float* g = grad_out.data();
    grad_in[0].resize(grad_out.rows(), grad_out.cols());
    float* d = grad_in[0].data();
    const Index n = grad_out.size();
    const float a = a_, b = b_;
    switch (type_) {
        case Activation::ReLU:
            for_each_element(n, [&](Index i) { d[i] = x[i] > 0.0f ? g[i] : 0.0f; });
            break;
        case Activation::LeakyReLU:
            for_each_element(n, [&](Index i) { d[i] = x[i] > 0.0f ? g[i] : a * g[i]; });
            break;
        case Activation::ELU:
            for_each_element(n, [&](Index i) { d[i] = x[i] > 0.0f ? g[i] : g[i] * (y[i] + a); });
            break;
        case Activation::Sigmoid:
            for_each_element(n, [&](Index i) { d[i] = g[i] * y[i] * (1.0f - y[i]); });
            break;
        case Activation::Tanh:
            for_each_element(n, [&](Index i) { d[i] = g[i] * (1.0f - y[i] * y[i]); });
            break;
        case Activation::Softplus:
            for_each_element(n, [&](Index i) {
                const float bx = a * x[i];
                d[i] = bx > b ? g[i] : g[i] * sigmoid(bx);
            });
            break;
        case Activation::GELU:
            for_each_element(n, [&](Index i) {
                const float cdf = 0.5f * (1.0f + std::erf(x[i] * kInvSqrt2));
                const float pdf = kInvSqrt2Pi * std::exp(-0.5f * x[i] * x[i]);
                d[i] = g[i] * (cdf + x[i] * pdf);
            });
            break;
        case Activation::GELUTanh:
            for_each_element(n, [&](Index i) {
                const float x2 = x[i] * x[i];
                const float t = std::tanh(kSqrt2OverPi * (x[i] + kGeluCubic * x2 * x[i]));
                const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x2);
                d[i] = g[i] * (0.5f * (1.0f + t) + 0.5f * x[i] * (1.0f - t * t) * du);
            });
            break;
        case Activation::SiLU:
            for_each_element(n, [&](Index i) {
                const float s = sigmoid(x[i]);
                d[i] = g[i] * s * (1.0f + x[i] * (1.0f - s));
            });
            break;
    }
}

Shape RowSoftmax::output_shape(const std::vector<Shape>& input_shapes) const {
    const Shape& shape = single_input(input_shapes, kind());
    require(shape.size() == 1, kind() + ": expects a flat input (softmax over features), got shape " +
                                   shape_string(shape));
    return shape;
}

void RowSoftmax::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& in = *inputs[0];
    out.resize(in.rows(), in.cols());
    for (Index r = 0; r < in.rows(); ++r) {
        const float m = in.row(r).maxCoeff();
        out.row(r) = (in.row(r).array() - m).exp().matrix();
        const float s = out.row(r).sum();
        if (log_) {
            out.row(r) = (in.row(r).array() - m - std::log(s)).matrix();
        } else {
            out.row(r) /= s;
        }
    }
}

void RowSoftmax::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                   std::vector<RowMatrixXf>& grad_in) const {
    const RowMatrixXf& y = *io.output;
    RowMatrixXf& d = grad_in[0];
    d.resize(grad_out.rows(), grad_out.cols());
    for (Index r = 0; r < y.rows(); ++r) {
        if (log_) {
            // d log_softmax_j / d x_i = delta_ij - softmax_i
            const float total = grad_out.row(r).sum();
            d.row(r) = grad_out.row(r) - total * y.row(r).array().exp().matrix();
        } else {
            // d softmax_j / d x_i = y_j (delta_ij - y_i)
            const float dot = grad_out.row(r).dot(y.row(r));
            d.row(r) = (y.row(r).array() * (grad_out.row(r).array() - dot)).matrix();
        }
    }
}

Shape PassThrough::output_shape(const std::vector<Shape>& input_shapes) const {
    const Shape& shape = single_input(input_shapes, kind_);
    if (kind_ == "flatten") return {shape_size(shape)};
    return shape;
}

void PassThrough::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out = *inputs[0];
}

void PassThrough::backward_gradient(const LayerIO& /*io*/, const RowMatrixXf& grad_out,
                                    std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0] = grad_out;
}

}  // namespace glassbox
