// Bindings for glassbox.inspect's streamed kernels: activation statistics and layer features of
// a native Network. Python validates user input (layer names, bins, pool); the core re-checks
// what it relies on. Each call releases the GIL around the core call: X is a view of a
// caller-owned array kept alive by the call frame, the options are a copy, and the network is
// frozen (no thread can change it).
#include "bindings/bindings.hpp"

#include "core/inspect/activations.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {

void bind_inspect(py::module_& m) {
    using inspect::ActivationStats;
    py::class_<ActivationStats>(m, "ActivationStats",
                                "Per-unit and per-layer statistics of a network's activations "
                                "(see glassbox.inspect.activations).")
        .def_readonly("layers", &ActivationStats::layers)
        .def_readonly("n_rows", &ActivationStats::n_rows)
        .def_property_readonly("units", matrix_view(&ActivationStats::units))
        .def_property_readonly("mean", matrix_view(&ActivationStats::mean))
        .def_property_readonly("std", matrix_view(&ActivationStats::std))
        .def_property_readonly("zero_rows", matrix_view(&ActivationStats::zero_rows))
        .def_property_readonly("saturated_rows", matrix_view(&ActivationStats::saturated_rows))
        .def_property_readonly("edges", matrix_view(&ActivationStats::edges))
        .def_property_readonly("counts", matrix_view(&ActivationStats::counts))
        .def_property_readonly("outside", matrix_view(&ActivationStats::outside))
        .def_property_readonly("min", matrix_view(&ActivationStats::min))
        .def_property_readonly("max", matrix_view(&ActivationStats::max));
    m.def(
        "activation_stats",
        [](Network& net, const ConstRowRef& X, const std::vector<Index>& layers,
           const RowMatrixXd& ranges, Index bins, RunOptions options) {
            JobScope job(options);
            net.freeze();  // read by many threads below
            py::gil_scoped_release release;
            return inspect::activation_stats(net, X, layers, ranges, bins, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("layers"), py::arg("ranges"),
        py::arg("bins"), default_options(),
        "Streamed statistics of the outputs of `layers` (indices) over the rows of X; ranges "
        "(layers x 2): a bounded layer's (low, high), NaN for an unbounded one.");
    m.def(
        "layer_features",
        [](Network& net, const ConstRowRef& X, Index layer, const std::string& pool,
           RunOptions options) {
            require(pool == "none" || pool == "mean" || pool == "max",
                    "pool: expected 'none', 'mean' or 'max', got '" + pool + "'");
            const auto kind = pool == "mean"  ? inspect::Pool::mean
                              : pool == "max" ? inspect::Pool::max
                                              : inspect::Pool::none;
            JobScope job(options);
            net.freeze();  // read by many threads below
            py::gil_scoped_release release;
            return inspect::layer_features(net, X, layer, kind, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("layer"), py::arg("pool"),
        default_options(),
        "The output of `layer` for every row of X (rows x layer size), or pooled per channel "
        "(pool 'mean' or 'max': rows x channels).");
}

}  // namespace glassbox::bindings
