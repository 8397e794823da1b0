// The Layer interface of the native network engine.
//
// A layer maps its inputs (each a batch: rows = samples, columns = flattened features) to one
// output batch, and knows its own plain-gradient backward. Other backward rules (guided ReLU,
// LRP, DeepLIFT) are BackwardRule objects (rules.hpp) that a composite assigns per layer; they may
// use a layer's parameters through the typed accessors of the concrete classes.
#pragma once

#include "core/common.hpp"

#include <map>
#include <string>
#include <vector>

namespace glassbox {

// What a backward rule sees of one layer during a backward pass.
struct LayerIO {
    std::vector<const RowMatrixXf*> inputs;  // the activations the layer read in the forward pass
    const RowMatrixXf* output = nullptr;     // the activation it produced
};

class Layer {
public:
    virtual ~Layer() = default;

    // The registry name of this layer type ("dense", "relu", ...).
    virtual std::string kind() const = 0;
    // Per-sample output shape given the per-sample shapes of the inputs; throws
    // std::invalid_argument on a mismatch.
    virtual Shape output_shape(const std::vector<Shape>& input_shapes) const = 0;
    virtual void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const = 0;
    // d(loss)/d(inputs) from d(loss)/d(output), by the chain rule.
    virtual void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                   std::vector<RowMatrixXf>& grad_in) const = 0;
    // Multiply-accumulates per sample of forward (for GFLOP/s accounting).
    virtual double macs_per_sample(const std::vector<Shape>& /*input_shapes*/) const { return 0.0; }
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

}  // namespace glassbox
