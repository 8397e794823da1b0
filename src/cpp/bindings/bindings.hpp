// Declarations shared by the pybind11 binding files (one bind_<area>.cpp per area).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace glassbox::bindings {

using TargetArray = pybind11::array_t<std::int64_t, pybind11::array::c_style | pybind11::array::forcecast>;

// Per-row target indices from a 1-D integer array, without a Python call per element.
inline std::vector<int> to_targets(const TargetArray& targets) {
    if (targets.ndim() != 1) throw std::invalid_argument("target: expected a 1-D array of ints");
    std::vector<int> out(static_cast<std::size_t>(targets.size()));
    const std::int64_t* data = targets.data();
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (data[i] < 0 || data[i] > std::numeric_limits<int>::max()) {
            throw std::invalid_argument("target: " + std::to_string(data[i]) + " is out of range");
        }
        out[i] = static_cast<int>(data[i]);
    }
    return out;
}

void bind_network(pybind11::module_& m);
void bind_gradients(pybind11::module_& m);
void bind_lrp(pybind11::module_& m);
void bind_sampling(pybind11::module_& m);
void bind_deeplift(pybind11::module_& m);
void bind_model_bridge(pybind11::module_& m);
void bind_inspection(pybind11::module_& m);
void bind_shapley(pybind11::module_& m);
void bind_local(pybind11::module_& m);

}  // namespace glassbox::bindings
