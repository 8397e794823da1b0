// Bindings for the gradient attribution methods and their result, Attribution. Validation of user
// input happens in Python; the core re-checks what it relies on and throws std::invalid_argument
// (ValueError).
#include "bindings/bindings.hpp"

#include "core/methods/gradients.hpp"
#include "core/methods/layer_attribution.hpp"
#include "core/methods/linear_path.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

NoiseTunnelType tunnel_type(const std::string& name) {
    if (name == "smoothgrad") return NoiseTunnelType::SmoothGrad;
    if (name == "smoothgrad_sq") return NoiseTunnelType::SmoothGradSquared;
    if (name == "vargrad") return NoiseTunnelType::VarGrad;
    throw std::invalid_argument("nt_type: expected 'smoothgrad', 'smoothgrad_sq' or 'vargrad', got '" +
                                name + "'");
}

NoiseTunnelBase tunnel_base(const std::string& name) {
    if (name == "gradient") return NoiseTunnelBase::Gradient;
    if (name == "saliency") return NoiseTunnelBase::AbsGradient;
    if (name == "input_x_gradient") return NoiseTunnelBase::InputXGradient;
    throw std::invalid_argument(
        "base: expected 'gradient', 'saliency' or 'input_x_gradient', got '" + name + "'");
}

PassPoints pass_points(Index entry_layer, int entry_slot, Index seed_layer) {
    PassPoints points;
    points.entry_layer = entry_layer;
    points.entry_slot = entry_slot;
    points.seed_layer = seed_layer;
    return points;
}

}  // namespace

void bind_gradients(py::module_& m) {
    py::class_<Attribution>(m, "Attribution",
                            "What a gradient-family method returns (DeepLIFT's too): numpy views "
                            "of the core's buffers, None where the method has no such field.")
        .def_property_readonly("values", matrix_view(&Attribution::values))
        .def_property_readonly("std_error", matrix_view(&Attribution::std_error, true))
        .def_property_readonly("delta", matrix_view(&Attribution::delta, true))
        .def_property_readonly("base_values", matrix_view(&Attribution::base_values, true));
    py::class_<Quadrature>(m, "Quadrature", "Integrated Gradients' path points and weights.")
        .def_readonly("alphas", &Quadrature::alphas)
        .def_readonly("weights", &Quadrature::weights);

    // Every function below releases the GIL around the core call: the arrays are views of
    // caller-owned buffers kept alive by the call frame, the options a copy, and the Network is
    // immutable.
    m.def(
        "input_gradients",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array, bool take_abs,
           RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            JobScope job(options);
            py::gil_scoped_release release;
            return input_gradients(net, X, targets, take_abs, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("targets"), py::arg("abs"),
        default_options());
    m.def(
        "input_x_gradient",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array,
           RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            JobScope job(options);
            py::gil_scoped_release release;
            return input_x_gradient(net, X, targets, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("targets"), default_options());
    m.def(
        "integrated_gradients",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& baselines,
           const TargetArray& target_array, const std::string& method, Index n_steps,
           RunOptions options, bool fast_path) {
            const std::vector<int> targets = to_targets(target_array);
            JobScope job(options);
            py::gil_scoped_release release;
            const Quadrature quadrature = make_quadrature(method, n_steps, options);
            return integrated_gradients(net, X, baselines, targets, quadrature, options, fast_path);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("baselines"), py::arg("targets"),
        py::arg("method"), py::arg("n_steps"), default_options(), py::arg("fast_path") = true);
    m.def("linear_path_applies", &linear_path_applies, py::arg("network"));
    m.def(
        "path_integrated_gradients",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& baselines,
           const TargetArray& target_array, const std::string& method, Index n_steps,
           Index entry_layer, int entry_slot, Index seed_layer, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const PassPoints points = pass_points(entry_layer, entry_slot, seed_layer);
            JobScope job(options);
            py::gil_scoped_release release;
            const Quadrature quadrature = make_quadrature(method, n_steps, options);
            return path_integrated_gradients(net, X, baselines, points, targets, quadrature,
                                             options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("baselines"), py::arg("targets"),
        py::arg("method"), py::arg("n_steps"), py::arg("entry_layer") = -1,
        py::arg("entry_slot") = -1, py::arg("seed_layer") = -1, default_options());
    m.def(
        "layer_conductance",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& baselines,
           const TargetArray& target_array, const std::string& method, Index n_steps, Index layer,
           Index path_layer, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const PassPoints path = pass_points(path_layer, -1, -1);
            JobScope job(options);
            py::gil_scoped_release release;
            // Captum's n_steps + 1 points: n_steps differences between consecutive points
            const Quadrature quadrature = make_quadrature(method, n_steps + 1, options);
            return layer_conductance(net, X, baselines, path, layer, targets, quadrature, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("baselines"), py::arg("targets"),
        py::arg("method"), py::arg("n_steps"), py::arg("layer"), py::arg("path_layer") = -1,
        default_options());
    m.def(
        "layer_gradient_x_activation",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array,
           Index entry_layer, int entry_slot, bool gradient_only, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const PassPoints points = pass_points(entry_layer, entry_slot, -1);
            JobScope job(options);
            py::gil_scoped_release release;
            return layer_gradient_x_activation(net, X, points, targets, gradient_only, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("targets"),
        py::arg("entry_layer"), py::arg("entry_slot") = -1, py::arg("gradient_only") = false,
        default_options());
    m.def(
        "noise_tunnel",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array, Index n_samples,
           double stdev, const std::string& nt_type, const std::string& base, std::uint64_t seed,
           RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const NoiseTunnelOptions tunnel{n_samples, stdev, tunnel_type(nt_type),
                                            tunnel_base(base), seed};
            JobScope job(options);
            py::gil_scoped_release release;
            return noise_tunnel(net, X, targets, tunnel, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("targets"), py::arg("n_samples"),
        py::arg("stdev"), py::arg("nt_type"), py::arg("base"), py::arg("seed"), default_options());
    m.def(
        "gradient_shap",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& references,
           const TargetArray& target_array, Index n_samples, double stdev, std::uint64_t seed,
           RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            JobScope job(options);
            py::gil_scoped_release release;
            return gradient_shap(net, X, references, targets,
                                 GradientShapOptions{n_samples, stdev, seed}, options);
        },
        py::arg("network"), py::kw_only(), py::arg("X"), py::arg("references"), py::arg("targets"),
        py::arg("n_samples"), py::arg("stdev"), py::arg("seed"), default_options());
    m.def(
        "quadrature",
        [](const std::string& method, Index n_steps) { return make_quadrature(method, n_steps); },
        py::arg("method"), py::kw_only(), py::arg("n_steps"));
}

}  // namespace glassbox::bindings
