// Activation layers: the element-wise activation template, instantiated once per entry of the
// activation table in activations.cpp; the row-wise Softmax / LogSoftmax; and PassThrough.
#pragma once

#include "core/network/registry.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace glassbox {

// The values of an activation's scalar params (float, like the data), in the order its table
// entry names them: a is the first, b the second.
struct ActivationScalars {
    float a = 0.0f, b = 0.0f;
};

namespace detail {
struct AnyScalars {
    const char* operator()(ActivationScalars) const { return nullptr; }
};
struct NotPiecewiseLinear {
    std::optional<float> operator()(ActivationScalars) const { return std::nullopt; }
};
}  // namespace detail

// One entry of the activation table: y = forward(x, s) and dy/dx = derivative(x, y, s) (y is the
// forward output, for activations whose derivative is cheaper from it), both stateless lambdas
// the layer inlines into flat loops the compiler vectorises. Optional, chained on the entry:
// checked(fn) validates the scalars (fn returns an error message or nullptr), piecewise_linear(fn)
// marks an activation equal to x for x > 0 and fn(s) * x otherwise (read by negative_slope()).
template <class Forward, class Derivative, class Check = detail::AnyScalars,
          class Slope = detail::NotPiecewiseLinear>
struct ActivationDef {
    const char* kind;
    std::vector<ScalarParam> params;  // at most two: their values become s.a and s.b
    DeepLiftTrait deeplift;
    Forward forward;
    Derivative derivative;
    Check check;
    Slope slope;

    template <class C>
    ActivationDef<Forward, Derivative, C, Slope> checked(C fn) const {
        return {kind, params, deeplift, forward, derivative, fn, slope};
    }
    template <class S>
    ActivationDef<Forward, Derivative, Check, S> piecewise_linear(S fn) const {
        return {kind, params, deeplift, forward, derivative, check, fn};
    }
};

template <class Forward, class Derivative>
ActivationDef<Forward, Derivative> activation(const char* kind, std::vector<ScalarParam> params,
                                              DeepLiftTrait deeplift, Forward forward,
                                              Derivative derivative) {
    return {kind, std::move(params), deeplift, forward, derivative, {}, {}};
}

// The layer of one table entry: f applied to every element; the backward multiplies the output
// gradient by f'.
template <class Def>
class ElementwiseActivation final : public Layer {
public:
    ElementwiseActivation(const Def& def, const LayerParams& params,
                          const std::vector<Shape>& input_shapes)
        : def_(def) {
        output_shape_ = single_input(input_shapes, def_.kind);
        float* slots[2] = {&s_.a, &s_.b};
        std::string values;
        for (std::size_t i = 0; i < def_.params.size(); ++i) {
            const ScalarParam& param = def_.params[i];
            const double value = params.scalar(param.first, param.second);
            // a float; infinite only as the default's own no-bound value (clamp's -inf / inf)
            require(std::isfinite(value) ? std::abs(value) <= std::numeric_limits<float>::max()
                                         : value == param.second,
                    std::string(def_.kind) + ": '" + param.first + "' must be a finite float" +
                        (std::isinf(param.second) ? " or its default" : "") + ", got " +
                        std::to_string(value));
            *slots[i] = static_cast<float>(value);
            std::ostringstream text;
            text << (i ? ", " : "") << param.first << "=" << *slots[i];
            values += text.str();
        }
        if (const char* error = def_.check(s_)) {
            throw std::invalid_argument(std::string(def_.kind) + ": " + error + " (got " + values +
                                        ")");
        }
    }

    std::string kind() const override { return def_.kind; }
    DeepLiftTrait deeplift_trait() const override { return def_.deeplift; }
    std::optional<float> negative_slope() const override { return def_.slope(s_); }

    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override {
        const RowMatrixXf& in = *inputs[0];
        out.resize(in.rows(), in.cols());
        const float* x = in.data();
        float* y = out.data();
        const Index n = in.size();
        const ActivationScalars s = s_;
        const auto f = def_.forward;
        for (Index i = 0; i < n; ++i) y[i] = f(x[i], s);
    }

    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override {
        const float* x = io.inputs[0]->data();
        const float* y = io.output->data();
        const float* g = grad_out.data();
        grad_in[0].resize(grad_out.rows(), grad_out.cols());
        float* d = grad_in[0].data();
        const Index n = grad_out.size();
        const ActivationScalars s = s_;
        const auto df = def_.derivative;
        for (Index i = 0; i < n; ++i) d[i] = g[i] * df(x[i], y[i], s);
    }

private:
    const Def& def_;  // an entry of the static table
    ActivationScalars s_;
};

// Adds every entry of the activation table (activations.cpp) to the registry's table.
void add_activation_kinds(std::map<std::string, LayerKind>& table);

// Softmax (log = false) or LogSoftmax (log = true) over the last per-sample axis (the whole row
// of a flat input; each group of `group()` consecutive values otherwise: attention scores).
class RowSoftmax final : public Layer {
public:
    RowSoftmax(bool log, const std::vector<Shape>& input_shapes);

    std::string kind() const override { return log_ ? "log_softmax" : "softmax"; }
    DeepLiftTrait deeplift_trait() const override {
        return log_ ? DeepLiftTrait::Gradient : DeepLiftTrait::Softmax;
    }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    Index group() const { return group_; }

private:
    bool log_;
    Index group_ = 1;
};

// Flatten, Dropout (inference) and Identity: the data passes unchanged (row-major NCHW is
// already flat per sample).
class PassThrough final : public Layer {
public:
    PassThrough(std::string kind, const std::vector<Shape>& input_shapes);

    std::string kind() const override { return kind_; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    std::string kind_;
};

}  // namespace glassbox
