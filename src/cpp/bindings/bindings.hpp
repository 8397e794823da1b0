// Declarations shared by the pybind11 binding files (one bind_<area>.cpp per area).
#pragma once

#include <pybind11/pybind11.h>

namespace glassbox::bindings {

void bind_network(pybind11::module_& m);
void bind_gradients(pybind11::module_& m);
void bind_sampling(pybind11::module_& m);

}  // namespace glassbox::bindings
