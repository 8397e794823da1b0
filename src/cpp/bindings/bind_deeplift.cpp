// Bindings for DeepLIFT, DeepLiftSHAP, guided backprop / deconvnet and Grad-CAM. Validation of
// user input happens in Python; the core re-checks what it relies on. DeepLIFT returns the
// Attribution bound in bind_gradients.cpp.
#include "bindings/bindings.hpp"

#include "core/methods/deeplift.hpp"
#include "core/methods/guided.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

ReluRuleMode relu_mode(const std::string& name) {
    if (name == "guided") return ReluRuleMode::Guided;
    if (name == "deconv") return ReluRuleMode::Deconv;
    throw std::invalid_argument("mode: expected 'guided' or 'deconv', got '" + name + "'");
}

}  // namespace

void bind_deeplift(py::module_& m) {
    // Every function below releases the GIL around the core call: the arrays are views of
    // caller-owned buffers kept alive by the call frame, the options a copy, and the Network is
    // immutable.
    m.def(
        "deeplift",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& baselines,
           const TargetArray& target_array, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            JobScope job(options);
            py::gil_scoped_release release;
            return deeplift(net, X, baselines, targets, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("baselines"), py::arg("targets"),
        default_options());
    m.def(
        "deeplift_shap",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& references,
           const TargetArray& target_array, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            JobScope job(options);
            py::gil_scoped_release release;
            return deeplift_shap(net, X, references, targets, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("references"), py::arg("targets"),
        default_options());
    m.def(
        "modified_relu_gradients",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array,
           const std::string& mode, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const ReluRuleMode rule = relu_mode(mode);
            JobScope job(options);
            py::gil_scoped_release release;
            return modified_relu_gradients(net, X, targets, rule, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("targets"), py::arg("mode"),
        default_options());
    m.def(
        "grad_cam",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array, Index layer,
           RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            JobScope job(options);
            py::gil_scoped_release release;
            return grad_cam(net, X, targets, layer, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("targets"), py::arg("layer"),
        default_options());
}

}  // namespace glassbox::bindings
