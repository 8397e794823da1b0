// Bindings for layer-wise relevance propagation. Composites are resolved in Python
// (glassbox/explainers/composites.py) into one rule description per layer.
#include "bindings/bindings.hpp"

#include "core/methods/lrp.hpp"

#include <pybind11/eigen.h>
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
    m.def(
        "lrp",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array,
           const py::list& rules, const std::vector<int>& record, int n_threads,
           std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            const LrpRuleSpecs specs = to_specs(rules);
            LrpResult r;
            {
                // Safe without the GIL: X views a caller-owned array kept alive by the call
                // frame, the specs are C++ copies and the Network is immutable.
                py::gil_scoped_release release;
                r = lrp(net, X, targets, specs, record, RunOptions{n_threads, budget});
            }
            py::list layers;
            for (RowMatrixXf& a : r.layer_relevance) layers.append(py::cast(std::move(a)));
            return py::make_tuple(py::cast(std::move(r.values)), layers,
                                  py::cast(std::move(r.sums)), py::cast(std::move(r.output)));
        },
        py::arg("network"), py::arg("X"), py::arg("targets"), py::arg("rules"),
        py::arg("record"), py::arg("n_threads"), py::arg("memory_budget"));
    m.def("lrp_rules", &registered_lrp_rules);
}

}  // namespace glassbox::bindings
