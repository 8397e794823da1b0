// The layer registry: one table of layer kinds (name -> category, DeepLIFT trait, factory).
//
// How to add a layer:
// - An element-wise activation: one entry in the activation table in activations.cpp (name,
//   scalar params with defaults, forward, derivative, DeepLIFT trait). Nothing else in C++.
// - Any other layer: a Layer subclass whose constructor takes its parameters and the per-sample
//   input shapes, validates them (std::invalid_argument naming the kind and the parameter) and
//   computes its geometry and output shape; then one line in the table in registry.cpp mapping
//   the kind name to its category, DeepLIFT trait and a factory that reads LayerParams.
// Scalars arrive as doubles (bools as 0/1); a sequence param such as stride=(2, 1) arrives as
// "stride.0", "stride.1" and "stride.rank" (read it with sequence_param, spatial.hpp). The Python
// adapters emit the same kind names (models/spec.py).
#pragma once

#include "core/network/layer.hpp"

#include <functional>
#include <memory>
#include <utility>

namespace glassbox {

enum class LayerCategory { Affine, Activation, Pooling, Normalization, Shape, Graph, Recurrent };

// "affine", "activation", "pooling", "normalization", "shape", "graph", "recurrent".
const char* layer_category_name(LayerCategory category);

using LayerFactory =
    std::function<std::unique_ptr<Layer>(const LayerParams&, const std::vector<Shape>&)>;

// A scalar parameter with its default.
using ScalarParam = std::pair<std::string, double>;

// One row of the registry table.
struct LayerKind {
    LayerCategory category;
    DeepLiftTrait deeplift;
    LayerFactory make;
    std::vector<ScalarParam> params = {};  // scalar params and defaults (activations; may be empty)
};

// Builds a layer reading inputs of `input_shapes`; throws std::invalid_argument for an unknown
// kind or bad params / shapes.
std::unique_ptr<Layer> make_layer(const std::string& kind, const LayerParams& params,
                                  const std::vector<Shape>& input_shapes);
std::vector<std::string> registered_layer_kinds();
// Every registered kind with its row (for the Python side's traits).
const std::map<std::string, LayerKind>& layer_kinds();

}  // namespace glassbox
