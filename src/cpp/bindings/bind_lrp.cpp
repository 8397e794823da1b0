// Bindings for layer-wise relevance propagation. Composites are resolved in Python
// (glassbox/explainers/composites.py) into one rule description per layer.
#include "bindings/bindings.hpp"

#include "core/methods/lrp.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Per layer: None (plain gradient) or (rule name, {option: float}, {array name: float array}).
LrpRuleSpecs to_specs(const py::list& rules) {
    LrpRuleSpecs specs;
    for (const py::handle item : rules) {
        if (item.is_none()) {
            specs.emplace_back();
            continue;
        }
        const auto entry = item.cast<py::tuple>();
        if (entry.size() != 3) throw std::invalid_argument("rules: expected (name, scalars, arrays)");
        LrpRuleSpec spec;
        spec.name = entry[0].cast<std::string>();
        spec.scalars = entry[1].cast<std::map<std::string, double>>();
        for (const auto& [key, value] : entry[2].cast<py::dict>()) {
            const auto array = value.cast<FloatArray>();
            spec.arrays[key.cast<std::string>()] = Eigen::Map<const RowMatrixXf>(
                array.data(), 1, static_cast<Index>(array.size()));
        }
        specs.emplace_back(std::move(spec));
    }
    return specs;
}

}  // namespace

void bind_lrp(py::module_& m) {
    py::class_<LrpResult>(m, "LrpResult",
                          "What LRP returns: numpy views of the core's buffers.")
        .def_property_readonly("values", matrix_view(&LrpResult::values))
        .def_property_readonly(
            "layer_relevance",
            [](py::handle self) {
                py::list layers;
                for (RowMatrixXf& a : self.cast<LrpResult&>().layer_relevance) {
                    layers.append(py::cast(a, py::return_value_policy::reference_internal, self));
                }
                return layers;
            },
            "Per recorded layer (in the order asked for): rows x layer width.")
        .def_property_readonly("sums", matrix_view(&LrpResult::sums))
        .def_property_readonly("output", matrix_view(&LrpResult::output));
    m.def(
        "lrp",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array,
           const py::list& rules, const std::vector<int>& record, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const LrpRuleSpecs specs = to_specs(rules);
            JobScope job(options);
            // Safe without the GIL: X views a caller-owned array kept alive by the call frame,
            // the specs and options are C++ copies and the Network is immutable.
            py::gil_scoped_release release;
            return lrp(net, X, targets, specs, record, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("targets"), py::arg("rules"),
        py::arg("record"), default_options());
    m.def("lrp_rules", &registered_lrp_rules);
}

}  // namespace glassbox::bindings
