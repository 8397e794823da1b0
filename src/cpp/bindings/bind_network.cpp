// Bindings for the native Network: building it layer by layer, freezing it, and predicting.
#include "bindings/bindings.hpp"

#include "core/network/network.hpp"
#include "core/network/registry.hpp"

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// A weight array of any rank as (shape[0], prod(rest)); a 1-D array as one row.
RowMatrixXf to_matrix(const FloatArray& array) {
    const py::buffer_info info = array.request();
    const Index rows = info.ndim >= 2 ? static_cast<Index>(info.shape[0]) : 1;
    const Index cols = rows == 0 ? 0 : static_cast<Index>(info.size) / rows;
    return Eigen::Map<const RowMatrixXf>(static_cast<const float*>(info.ptr), rows, cols);
}

void add_layer(Network& net, const std::string& kind, const std::string& name,
               std::vector<int> inputs, const std::map<std::string, double>& scalars,
               const std::map<std::string, FloatArray>& arrays) {
    LayerParams params;
    params.scalars = scalars;
    for (const auto& [key, array] : arrays) {
        params.arrays[key] = to_matrix(array);
        params.array_shapes[key] = Shape(array.shape(), array.shape() + array.ndim());
    }
    net.add_layer(kind, name, std::move(inputs), params);
}

RowMatrixXf predict(Network& net, const ConstRowRef& X, int n_threads,
                    std::size_t memory_budget) {
    RowMatrixXf Y;
    RunOptions options{n_threads, memory_budget};
    JobScope job(options);
    net.freeze();  // a network that has run stays read-only (add_layer would race with readers)
    // Safe without the GIL: X is a view of a caller-owned array kept alive by the call frame,
    // and the Network is frozen: no thread can change it.
    py::gil_scoped_release release;
    net.predict(X, Y, options);
    return Y;
}

// kind -> {"category", "deeplift", "params": {name: default}} from the registry table.
py::dict layer_kind_traits() {
    py::dict traits;
    for (const auto& [kind, row] : layer_kinds()) {
        py::dict params;
        for (const auto& [name, fallback] : row.params) params[py::str(name)] = fallback;
        py::dict entry;
        entry["category"] = layer_category_name(row.category);
        entry["deeplift"] = deeplift_trait_name(row.deeplift);
        entry["params"] = params;
        traits[py::str(kind)] = entry;
    }
    return traits;
}

std::vector<std::string> layer_names(const Network& net) {
    std::vector<std::string> names;
    for (Index i = 0; i < net.n_layers(); ++i) names.push_back(net.layer_name(i));
    return names;
}

}  // namespace

void bind_network(py::module_& m) {
    py::class_<Network>(m, "Network")
        .def(py::init<Shape>(), py::arg("input_shape"))
        .def("add_layer", &add_layer, py::arg("kind"), py::arg("name"), py::arg("inputs"),
             py::arg("scalars"), py::arg("arrays"))
        .def("freeze", &Network::freeze)
        .def_property_readonly("frozen", &Network::frozen)
        .def("predict", &predict, py::arg("X"), py::arg("n_threads") = 0,
             py::arg("memory_budget") = RunOptions{}.memory_budget)
        .def_property_readonly("n_inputs", &Network::n_inputs)
        .def_property_readonly("n_outputs", &Network::n_outputs)
        .def_property_readonly("n_layers", &Network::n_layers)
        .def_property_readonly("layer_names", &layer_names)
        .def_property_readonly("input_shape", &Network::input_shape)
        .def_property_readonly("layer_shapes",
                               [](const Network& net) {
                                   std::vector<Shape> shapes;
                                   for (Index i = 0; i < net.n_layers(); ++i)
                                       shapes.push_back(net.layer_shape(i));
                                   return shapes;
                               })
        .def_property_readonly("macs_per_sample", &Network::macs_per_sample)
        .def_property_readonly("bytes_per_point", &Network::bytes_per_point);
    m.def("registered_layer_kinds", &registered_layer_kinds);
    m.def("layer_kind_traits", &layer_kind_traits);
    m.def("default_memory_budget", [] { return RunOptions{}.memory_budget; });
    m.def("max_activation_size", [] { return kMaxActivationSize; });
}

}  // namespace glassbox::bindings
