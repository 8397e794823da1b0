// The Layer interface of the native network engine.
//
// A layer maps its inputs (each a batch: rows = samples, columns = flattened features) to one
// output batch, and knows its own plain-gradient backward. Other backward rules (guided ReLU,
// LRP, DeepLIFT) are BackwardRule objects (rules.hpp) that a composite assigns per layer; they may
// use a layer's parameters through the typed accessors of the concrete classes.
//
// A layer is fully built by its constructor: it receives the per-sample shapes of its inputs,
// validates them (std::invalid_argument), and computes its geometry and output shape once.
#pragma once

#include "core/common.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace glassbox {

// What a backward rule sees of one layer during a backward pass.
struct LayerIO {
    std::vector<const RowMatrixXf*> inputs;  // the activations the layer read in the forward pass
    const RowMatrixXf* output = nullptr;     // the activation it produced
};

// How DeepLIFT treats a layer: the rescale multiplier (element-wise non-linearities), Captum's
// softmax or max-pool rules, or the plain gradient (linear layers, and anything else).
enum class DeepLiftTrait { Rescale, Softmax, MaxPool, Gradient };

// "rescale", "softmax", "max_pool", "gradient".
const char* deeplift_trait_name(DeepLiftTrait trait);

class Layer {
public:
    virtual ~Layer() = default;

    // The registry name of this layer type ("dense", "relu", ...).
    virtual std::string kind() const = 0;
    // Per-sample output shape, computed by the constructor.
    const Shape& output_shape() const { return output_shape_; }
    virtual void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const = 0;
    // d(loss)/d(inputs) from d(loss)/d(output), by the chain rule.
    virtual void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                   std::vector<RowMatrixXf>& grad_in) const = 0;
    // Multiply-accumulates per sample of forward (for GFLOP/s accounting).
    virtual double macs_per_sample() const { return 0.0; }
    // The DeepLIFT rule this layer gets (the registry's table lists the same per kind).
    virtual DeepLiftTrait deeplift_trait() const { return DeepLiftTrait::Gradient; }
    // s when the layer is element-wise x for x > 0 and s * x otherwise (ReLU: 0, LeakyReLU);
    // nothing for any other layer. Shortcuts that rely on piecewise linearity ask this.
    virtual std::optional<float> negative_slope() const { return std::nullopt; }

protected:
    Shape output_shape_;  // set by every constructor
};

// Scalar hyper-parameters and weight arrays a layer is built from (see registry.hpp).
struct LayerParams {
    std::map<std::string, double> scalars;
    std::map<std::string, RowMatrixXf> arrays;        // (shape[0], prod(rest)); 1-D as one row
    std::map<std::string, Shape> array_shapes;        // the arrays' original shapes

    double scalar(const std::string& key, double fallback) const {
        const auto it = scalars.find(key);
        return it == scalars.end() ? fallback : it->second;
    }
};

// Integer scalar params (strides, pads, groups, axes, ranks) arrive as doubles; an integer in
// [-2^53, 2^53] converts to Index exactly. NaN, fractions and values beyond that, whose cast would
// be undefined or inexact, are rejected.
constexpr double kMaxIntegerParam = 9007199254740992.0;  // 2^53

// `value` as an Index, or std::invalid_argument "<kind>: '<key>' must be an integer in [lo, hi]".
inline Index integer_value(double value, const std::string& kind, const std::string& key,
                           Index lo, Index hi) {
    const bool ok = std::isfinite(value) && std::abs(value) <= kMaxIntegerParam &&
                    value == std::floor(value) && static_cast<Index>(value) >= lo &&
                    static_cast<Index>(value) <= hi;
    if (!ok) {
        std::ostringstream text;
        text << kind << ": '" << key << "' must be an integer in [" << lo << ", " << hi
             << "], got " << value;
        throw std::invalid_argument(text.str());
    }
    return static_cast<Index>(value);
}

// Integer scalar `key` of `p` (checked as integer_value), `fallback` when missing.
inline Index integer_param(const LayerParams& p, const std::string& kind, const std::string& key,
                           Index fallback, Index lo, Index hi) {
    const auto it = p.scalars.find(key);
    return it == p.scalars.end() ? fallback : integer_value(it->second, kind, key, lo, hi);
}

// The one input of a single-input layer; throws when there are several.
inline const Shape& single_input(const std::vector<Shape>& input_shapes, const std::string& kind) {
    require(input_shapes.size() == 1, kind + ": expects exactly one input");
    return input_shapes[0];
}

}  // namespace glassbox
