// The glassbox._core extension module: registers each area's bindings (RunOptions first: the
// other areas use it as the default of their `options=` argument).
#include "bindings/bindings.hpp"

// CMake names the module: _core for a build for one machine, _core_<level> for each CPU level of
// a portable x86-64 build (glassbox/_core_loader.py imports one of them as glassbox._core).
#ifndef GLASSBOX_MODULE_NAME
#define GLASSBOX_MODULE_NAME _core
#endif
#ifndef GLASSBOX_CPU_LEVEL
#define GLASSBOX_CPU_LEVEL "native"
#endif

PYBIND11_MODULE(GLASSBOX_MODULE_NAME, m) {
    m.doc() = "glassbox compiled core (see glassbox/_core.pyi)";
    m.attr("_cpu_level") = GLASSBOX_CPU_LEVEL;  // what glassbox.cpu_level() reports
    glassbox::bindings::bind_run_options(m);
    glassbox::bindings::bind_network(m);
    glassbox::bindings::bind_gradients(m);
    glassbox::bindings::bind_lrp(m);
    glassbox::bindings::bind_sampling(m);
    glassbox::bindings::bind_deeplift(m);
    glassbox::bindings::bind_model_bridge(m);
    glassbox::bindings::bind_inspection(m);
    glassbox::bindings::bind_shapley(m);
    glassbox::bindings::bind_local(m);
    glassbox::bindings::bind_inspect(m);
    glassbox::bindings::bind_trees(m);
}
