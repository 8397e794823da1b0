// Bindings for the Shapley engine: exact values and interactions, KernelSHAP, permutation
// sampling, the coalition value function, and the sampling designs (for reference tests).
// Validation of user input happens in Python; the core re-checks what it relies on.
#include "bindings/bindings.hpp"

#include "bindings/model_bridge.hpp"
#include "core/agnostic/shapley/exact.hpp"
#include "core/agnostic/shapley/sampled.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

using GroupArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using MaskArray = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;

shapley::Groups to_groups(const GroupArray& group_of, Index n_groups) {
    require(group_of.ndim() == 1, "groups: expected a 1-D array of group indices per feature");
    return shapley::make_groups(
        std::vector<std::int64_t>(group_of.data(), group_of.data() + group_of.size()), n_groups);
}

// Runs `method` on the game with the GIL released: the arrays are views of caller-owned buffers
// kept alive by the call frame, the options a copy, a Network is immutable, and a Python callable
// takes the GIL back for each chunk it evaluates.
template <class Method>
auto run_game(const py::object& model, const ConstRowRef& X, const ConstRowRef& background,
              const GroupArray& group_of, Index n_groups, Index n_outputs, RunOptions options,
              Index chunk_rows, Method&& method) {
    const ModelArg arg = to_model(model, X.cols(), n_outputs);
    const shapley::Groups groups = to_groups(group_of, n_groups);
    JobScope job(options);  // before the game copies the options
    const shapley::Game game{*arg, X, background, groups, options, chunk_rows};
    shapley::check_game(game);
    py::gil_scoped_release release;
    return method(game);
}

shapley::Sampling to_sampling(const std::string& name) {
    require(name == "kernel" || name == "leverage",
            "sampler: expected one of 'leverage', 'kernel', got '" + name + "'");
    return name == "kernel" ? shapley::Sampling::kernel : shapley::Sampling::leverage;
}

// A sampled estimator, returning a SampledResult (`sampler`: KernelShap's design).
void def_sampled(py::module_& m, const char* name,
                 shapley::SampledResult (*method)(const shapley::Game&,
                                                  const shapley::SampledOptions&)) {
    m.def(
        name,
        [method](const py::object& model, const ConstRowRef& X, const ConstRowRef& background,
                 const GroupArray& group_of, Index n_groups, Index n_outputs, Index n_samples,
                 double tol, bool tol_relative, std::uint64_t seed, RunOptions options,
                 Index chunk_rows, const std::vector<int>& targets, const std::string& sampler) {
            const shapley::SampledOptions sampled{n_samples, tol,     tol_relative,
                                                  seed,      targets, to_sampling(sampler)};
            return run_game(model, X, background, group_of, n_groups, n_outputs, options,
                            chunk_rows,
                            [&](const shapley::Game& game) { return method(game, sampled); });
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("background"), py::arg("group_of"),
        py::arg("n_groups"), py::arg("n_outputs"), py::arg("n_samples"), py::arg("tol"),
        py::arg("tol_relative") = true, py::arg("seed"), default_options(), py::arg("chunk_rows") = 0,
        py::arg("targets") = std::vector<int>{}, py::arg("sampler") = "kernel");
}

}  // namespace

void bind_shapley(py::module_& m) {
    py::class_<shapley::ExactResult>(m, "ExactResult",
                                     "What exact Shapley returns: numpy views of the core's "
                                     "buffers (interactions: None unless asked for).")
        .def_property_readonly("values", matrix_view(&shapley::ExactResult::values))
        .def_property_readonly("interactions",
                               matrix_view(&shapley::ExactResult::interactions, true))
        .def_property_readonly("fx", matrix_view(&shapley::ExactResult::fx))
        .def_property_readonly("base", matrix_view(&shapley::ExactResult::base));
    py::class_<shapley::SampledResult>(m, "SampledResult",
                                       "What KernelSHAP and permutation Shapley return: numpy "
                                       "views of the core's buffers and the work done.")
        .def_property_readonly("values", matrix_view(&shapley::SampledResult::values))
        .def_property_readonly("stderr", matrix_view(&shapley::SampledResult::stderr_))
        .def_property_readonly("fx", matrix_view(&shapley::SampledResult::fx))
        .def_property_readonly("base", matrix_view(&shapley::SampledResult::base))
        .def_property_readonly("n_samples", matrix_view(&shapley::SampledResult::n_samples))
        .def_readonly("n_evaluated", &shapley::SampledResult::n_evaluated)
        .def_readonly("n_draws", &shapley::SampledResult::n_draws);
    py::class_<shapley::KernelDesign>(m, "KernelDesign",
                                      "KernelSHAP's coalitions (0/1 masks), their regression "
                                      "weights and the number of sampled pairs.")
        .def_property_readonly("masks", matrix_view(&shapley::KernelDesign::masks))
        .def_property_readonly("weights", matrix_view(&shapley::KernelDesign::weights))
        .def_readonly("n_pairs", &shapley::KernelDesign::n_pairs);

    m.def(
        "shapley_exact",
        [](const py::object& model, const ConstRowRef& X, const ConstRowRef& background,
           const GroupArray& group_of, Index n_groups, Index n_outputs, bool interactions,
           RunOptions options, Index chunk_rows) {
            return run_game(model, X, background, group_of, n_groups, n_outputs, options,
                            chunk_rows, [&](const shapley::Game& game) {
                                return shapley::exact_shapley(game, interactions);
                            });
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("background"), py::arg("group_of"),
        py::arg("n_groups"), py::arg("n_outputs"), py::arg("interactions"), default_options(),
        py::arg("chunk_rows") = 0);
    def_sampled(m, "kernel_shap", &shapley::kernel_shap);
    def_sampled(m, "permutation_shapley", &shapley::permutation_shapley);
    m.def(
        "coalition_values",
        [](const py::object& model, const ConstRowRef& X, const ConstRowRef& background,
           const GroupArray& group_of, Index n_groups, Index n_outputs, const MaskArray& masks,
           RunOptions options, Index chunk_rows) {
            require(masks.ndim() == 2 && masks.shape(1) == n_groups,
                    "masks: expected shape (n_coalitions, " + std::to_string(n_groups) + ")");
            shapley::CoalitionSet set(n_groups);
            shapley::Bits bits(n_groups);
            for (py::ssize_t c = 0; c < masks.shape(0); ++c) {
                bits.clear();
                for (Index g = 0; g < n_groups; ++g) {
                    if (*masks.data(c, g)) bits.set(g);
                }
                set.append(bits.data());
            }
            const Index n = X.rows(), C = set.size();
            RowMatrixXd out(n, C * n_outputs);
            run_game(model, X, background, group_of, n_groups, n_outputs, options, chunk_rows,
                     [&](const shapley::Game& game) {
                         shapley::coalition_values(game, set, 0, C, 0, n, out.data());
                         return 0;
                     });
            return out;
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("background"), py::arg("group_of"),
        py::arg("n_groups"), py::arg("n_outputs"), py::arg("masks"), default_options(),
        py::arg("chunk_rows") = 0);
    m.def(
        "kernel_shap_design",
        [](Index n_groups, Index n_samples, std::uint64_t seed, const std::string& sampler) {
            return shapley::kernel_design(n_groups, n_samples, seed, to_sampling(sampler));
        },
        py::arg("n_groups"), py::kw_only(), py::arg("n_samples"), py::arg("seed"),
        py::arg("sampler") = "kernel");
    m.def(
        "shapley_permutations",
        [](Index n_groups, Index n_pairs, std::uint64_t seed) {
            require(n_groups >= 1 && n_pairs >= 0, "sizes must be positive");
            py::array_t<std::int64_t> out({n_pairs, n_groups});
            const CounterRng rng(seed, shapley::kPermutationStream);
            std::vector<Index> perm;
            for (Index j = 0; j < n_pairs; ++j) {
                shapley::draw_permutation(rng, j, n_groups, perm);
                std::copy(perm.begin(), perm.end(), out.mutable_data(j, 0));
            }
            return out;
        },
        py::arg("n_groups"), py::kw_only(), py::arg("n_pairs"), py::arg("seed"));
}

}  // namespace glassbox::bindings
