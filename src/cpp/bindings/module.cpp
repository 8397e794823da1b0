// The glassbox._core extension module: registers each area's bindings (RunOptions first: the
// other areas use it as the default of their `options=` argument).
#include "bindings/bindings.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "glassbox compiled core (see glassbox/_core.pyi)";
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
}
