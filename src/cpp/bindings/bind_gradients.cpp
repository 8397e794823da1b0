// Bindings for the gradient attribution methods. Validation of user input happens in Python;
// the core re-checks what it relies on and throws std::invalid_argument (ValueError).
#include "bindings/bindings.hpp"

#include "core/methods/gradients.hpp"
#include "core/methods/linear_path.hpp"

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

// (values, std_error | None, delta | None, base_values | None), moving the Eigen buffers into
// numpy arrays without copies.
py::tuple to_tuple(Attribution&& a) {
    auto optional = [](auto&& matrix) -> py::object {
        if (matrix.size() == 0) return py::none();
        return py::cast(std::move(matrix));
    };
    return py::make_tuple(py::cast(std::move(a.values)), optional(std::move(a.std_error)),
                          optional(std::move(a.delta)), optional(std::move(a.base_values)));
}

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

}  // namespace

void bind_gradients(py::module_& m) {
    // Every function below releases the GIL around the core call: the arrays are views of
    // caller-owned buffers kept alive by the call frame and the Network is immutable.
    m.def(
        "input_gradients",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array, bool take_abs,
           int n_threads, std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            py::gil_scoped_release release;
            return input_gradients(net, X, targets, take_abs, RunOptions{n_threads, budget});
        },
        py::arg("network"), py::arg("X"), py::arg("targets"), py::arg("abs"), py::arg("n_threads"),
        py::arg("memory_budget"));
    m.def(
        "input_x_gradient",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array,
           int n_threads, std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            Attribution a;
            {
                py::gil_scoped_release release;
                a = input_x_gradient(net, X, targets, RunOptions{n_threads, budget});
            }
            return to_tuple(std::move(a));
        },
        py::arg("network"), py::arg("X"), py::arg("targets"), py::arg("n_threads"),
        py::arg("memory_budget"));
    m.def(
        "integrated_gradients",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& baselines,
           const TargetArray& target_array, const std::string& method, int n_steps, int n_threads,
           std::size_t budget, bool fast_path) {
            const std::vector<int> targets = to_targets(target_array);
            const Quadrature quadrature = make_quadrature(method, n_steps);
            Attribution a;
            {
                py::gil_scoped_release release;
                a = integrated_gradients(net, X, baselines, targets, quadrature,
                                         RunOptions{n_threads, budget}, fast_path);
            }
            return to_tuple(std::move(a));
        },
        py::arg("network"), py::arg("X"), py::arg("baselines"), py::arg("targets"),
        py::arg("method"), py::arg("n_steps"), py::arg("n_threads"), py::arg("memory_budget"),
        py::arg("fast_path") = true);
    m.def("linear_path_applies", &linear_path_applies, py::arg("network"));
    m.def(
        "noise_tunnel",
        [](const Network& net, const ConstRowRef& X, const TargetArray& target_array, int n_samples,
           double stdev, const std::string& nt_type, const std::string& base, std::uint64_t seed,
           int n_threads, std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            const NoiseTunnelOptions tunnel{n_samples, stdev, tunnel_type(nt_type),
                                            tunnel_base(base), seed};
            Attribution a;
            {
                py::gil_scoped_release release;
                a = noise_tunnel(net, X, targets, tunnel, RunOptions{n_threads, budget});
            }
            return to_tuple(std::move(a));
        },
        py::arg("network"), py::arg("X"), py::arg("targets"), py::arg("n_samples"),
        py::arg("stdev"), py::arg("nt_type"), py::arg("base"), py::arg("seed"),
        py::arg("n_threads"), py::arg("memory_budget"));
    m.def(
        "gradient_shap",
        [](const Network& net, const ConstRowRef& X, const ConstRowRef& references,
           const TargetArray& target_array, int n_samples, double stdev, std::uint64_t seed,
           int n_threads, std::size_t budget) {
            const std::vector<int> targets = to_targets(target_array);
            Attribution a;
            {
                py::gil_scoped_release release;
                a = gradient_shap(net, X, references, targets,
                                  GradientShapOptions{n_samples, stdev, seed},
                                  RunOptions{n_threads, budget});
            }
            return to_tuple(std::move(a));
        },
        py::arg("network"), py::arg("X"), py::arg("references"), py::arg("targets"),
        py::arg("n_samples"), py::arg("stdev"), py::arg("seed"), py::arg("n_threads"),
        py::arg("memory_budget"));
    m.def(
        "quadrature",
        [](const std::string& method, int n_steps) {
            const Quadrature q = make_quadrature(method, n_steps);
            return py::make_tuple(q.alphas, q.weights);
        },
        py::arg("method"), py::arg("n_steps"));
}

}  // namespace glassbox::bindings
