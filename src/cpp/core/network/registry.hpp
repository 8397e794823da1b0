// The layer registry: layer kind name -> factory.
//
// To add a layer: write the Layer subclass, then add one line to the table in registry.cpp that
// builds it from LayerParams. The Python adapters emit the same kind names (models/spec.py).
#pragma once

#include "core/network/layer.hpp"

#include <memory>

namespace glassbox {

std::unique_ptr<Layer> make_layer(const std::string& kind, const LayerParams& params);
std::vector<std::string> registered_layer_kinds();

}  // namespace glassbox
