// The layer registry: layer kind name -> factory.
//
// To add a layer: write the Layer subclass, then add one line to the table in registry.cpp that
// builds it from LayerParams. The Python adapters emit the same kind names (models/spec.py).
// Scalars arrive as doubles (bools as 0/1); a sequence param such as stride=(2, 1) arrives as
// "stride.0", "stride.1" and "stride.rank" (read it with sequence_param, spatial.hpp). A layer
// whose geometry depends on its input shape records it in output_shape, which Network::add_layer
// calls once before any pass.
#pragma once

#include "core/network/layer.hpp"

#include <memory>

namespace glassbox {

std::unique_ptr<Layer> make_layer(const std::string& kind, const LayerParams& params);
std::vector<std::string> registered_layer_kinds();

}  // namespace glassbox
