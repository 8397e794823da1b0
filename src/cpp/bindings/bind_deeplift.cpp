// Bindings for DeepLIFT, DeepLiftSHAP, guided backprop / deconvnet and Grad-CAM. Validation of
// user input happens in Python; the core re-checks what it relies on.
#include "bindings/bindings.hpp"

#include "core/methods/deeplift.hpp"
#include "core/methods/guided.hpp"

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

// (values, delta, base_values), moving the Eigen buffers into numpy arrays.
py::tuple attribution_tuple(Attribution&& a) {
    return py::make_tuple(py::cast(std::move(a.values)), py::cast(std::move(a.delta)),
                          py::cast(std::move(a.base_values)));
}

ReluRuleMode relu_mode(const std::string& name) {
    if (name == "guided") return ReluRuleMode::Guided;
    if (name == "deconv") return ReluRuleMode::Deconv;
    throw std::invalid_argument("mode: expected 'guided' or 'deconv', got '" + name + "'");
}

}  // namespace

void bind_deeplift(py::module_& m) {
    // Every function below releases the GIL around the core call: the arrays are views of
    // caller-owned buffers kept alive by the call frame and the Network is immutable.
    m.def(
        "deeplift",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& baselines,
           const TargetArray& target_array, int n_threads, std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            Attribution a;
            {
                py::gil_scoped_release release;
                a = deeplift(net, X, baselines, targets, RunOptions{n_threads, budget});
            }
            return attribution_tuple(std::move(a));
        },
        py::arg("network"), py::arg("X"), py::arg("baselines"), py::arg("targets"),
        py::arg("n_threads"), py::arg("memory_budget"));
    m.def(
        "deeplift_shap",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& references,
           const TargetArray& target_array, int n_threads, std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            Attribution a;
            {
                py::gil_scoped_release release;
                a = deeplift_shap(net, X, references, targets, RunOptions{n_threads, budget});
            }
            return attribution_tuple(std::move(a));
        },
        py::arg("network"), py::arg("X"), py::arg("references"), py::arg("targets"),
        py::arg("n_threads"), py::arg("memory_budget"));
    m.def(
        "modified_relu_gradients",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array,
           const std::string& mode, int n_threads, std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            const ReluRuleMode rule = relu_mode(mode);
            py::gil_scoped_release release;
            return modified_relu_gradients(net, X, targets, rule, RunOptions{n_threads, budget});
        },
        py::arg("network"), py::arg("X"), py::arg("targets"), py::arg("mode"),
        py::arg("n_threads"), py::arg("memory_budget"));
    m.def(
        "grad_cam",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array, Index layer,
           int n_threads, std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            py::gil_scoped_release release;
            return grad_cam(net, X, targets, layer, RunOptions{n_threads, budget});
        },
        py::arg("network"), py::arg("X"), py::arg("targets"), py::arg("layer"),
        py::arg("n_threads"), py::arg("memory_budget"));
}

}  // namespace glassbox::bindings
