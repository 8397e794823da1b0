// Bindings for the inspection methods (permutation importance, partial dependence / ICE, ALE,
// H-statistic). Python validates user input; the core re-checks what it relies on. Every call
// builds the ModelArg under the GIL, then releases it around the core call: the arrays are views
// of caller-owned buffers kept alive by the call frame, and a Python callable re-takes the GIL
// itself for each chunk.
#include "bindings/bindings.hpp"

#include "bindings/model_bridge.hpp"
#include "core/agnostic/inspection/ale.hpp"
#include "core/agnostic/inspection/permutation.hpp"
#include "core/agnostic/inspection/replaced.hpp"

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

using inspection::Groups;

inspection::PermutationSetup setup_of(Index n_repeats, std::uint64_t seed, Index max_samples) {
    require(n_repeats >= 1, "n_repeats: must be at least 1");
    return inspection::PermutationSetup{n_repeats, seed, max_samples};
}

}  // namespace

void bind_inspection(py::module_& m) {
    m.def(
        "permutation_scores",
        [](const py::object& model, const ConstRowRef& X, const VectorXd& y, const VectorXd& w,
           const Groups& groups, Index n_outputs, const std::string& metric, Index n_classes,
           Index n_repeats, std::uint64_t seed, Index max_samples, int n_threads,
           std::size_t budget) {
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            const auto setup = setup_of(n_repeats, seed, max_samples);
            const auto parsed = inspection::parse_metric(metric);
            inspection::PermutationScores result;
            {
                py::gil_scoped_release release;
                result = inspection::permutation_scores(*arg, X, y, w, groups, setup, parsed,
                                                        n_classes, RunOptions{n_threads, budget});
            }
            return py::make_tuple(result.baseline, std::move(result.scores));
        },
        py::arg("model"), py::arg("X"), py::arg("y"), py::arg("sample_weight"), py::arg("groups"),
        py::arg("n_outputs"), py::arg("metric"), py::arg("n_classes"), py::arg("n_repeats"),
        py::arg("seed"), py::arg("max_samples"), py::arg("n_threads"), py::arg("memory_budget"),
        "(baseline score, scores (groups, repeats)) of permutation importance.");
    m.def(
        "permuted_predictions",
        [](const py::object& model, const ConstRowRef& X, const Groups& groups, Index n_outputs,
           Index n_repeats, std::uint64_t seed, Index max_samples, Index job_first,
           Index job_count, int n_threads, std::size_t budget) {
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            const auto setup = setup_of(n_repeats, seed, max_samples);
            py::gil_scoped_release release;
            // a Python model gets the block in one call: the caller sized it for the budget
            const Index rows = job_count * (max_samples > 0 ? max_samples : X.rows());
            return inspection::permuted_predictions(*arg, X, groups, setup, job_first, job_count,
                                                    RunOptions{n_threads, budget},
                                                    (*arg).thread_safe() ? 0 : rows);
        },
        py::arg("model"), py::arg("X"), py::arg("groups"), py::arg("n_outputs"),
        py::arg("n_repeats"), py::arg("seed"), py::arg("max_samples"), py::arg("job_first"),
        py::arg("job_count"), py::arg("n_threads"), py::arg("memory_budget"),
        "Outputs of permutation jobs [job_first, job_first + job_count), job-major rows.");
    m.def(
        "permutation_indices",
        [](std::uint64_t seed, Index n_rows, Index max_samples, Index n_groups, Index n_repeats) {
            require(n_rows >= 1 && max_samples >= 1 && max_samples <= n_rows && n_groups >= 0 &&
                        n_repeats >= 1,
                    "sizes: expected n_rows >= max_samples >= 1, n_groups >= 0, n_repeats >= 1");
            const inspection::PermutationRows plan(seed, n_rows, max_samples);
            py::array_t<std::int64_t> rows({n_groups, max_samples});
            py::array_t<std::int64_t> sources({n_groups, n_repeats, max_samples});
            auto r = rows.mutable_unchecked<2>();
            auto s = sources.mutable_unchecked<3>();
            for (Index g = 0; g < n_groups; ++g) {
                const std::vector<Index> group_rows = plan.rows(g);
                for (Index i = 0; i < max_samples; ++i) r(g, i) = group_rows[std::size_t(i)];
                for (Index rep = 0; rep < n_repeats; ++rep) {
                    const std::vector<Index> sources = plan.sources(g, rep);
                    for (Index i = 0; i < max_samples; ++i) s(g, rep, i) = sources[std::size_t(i)];
                }
            }
            return py::make_tuple(rows, sources);
        },
        py::arg("seed"), py::arg("n_rows"), py::arg("max_samples"), py::arg("n_groups"),
        py::arg("n_repeats"),
        "(rows (groups, max_samples), sources (groups, repeats, max_samples)) of permutation "
        "importance: job (g, r) reads X[rows[g]] with g's columns from X[rows[g][sources[g, r]]].");
    m.def(
        "metric_score",
        [](const std::string& metric, const ConstRowRef& predictions, const VectorXd& y,
           const VectorXd& w, Index n_classes) {
            require(y.size() == predictions.rows(), "y: expected one value per row");
            require(w.size() == 0 || w.size() == y.size(), "sample_weight: one weight per row");
            return inspection::metric_score(inspection::parse_metric(metric), predictions,
                                            y.data(), w.size() ? w.data() : nullptr, n_classes);
        },
        py::arg("metric"), py::arg("predictions"), py::arg("y"), py::arg("sample_weight"),
        py::arg("n_classes"), "The score (losses negated) of predictions against y.");
    m.def(
        "replaced_predictions",
        [](const py::object& model, const ConstRowRef& background, const ConstRowRef& points,
           const std::vector<std::vector<Index>>& sets, const std::vector<Index>& job_set,
           const std::vector<Index>& job_point, const VectorXd& weights, Index n_outputs,
           bool individual, int n_threads, std::size_t budget) -> py::object {
            const ModelArg arg = to_model(model, background.cols(), n_outputs);
            const inspection::ReplacedJobs jobs{sets, job_set, job_point};
            const RunOptions options{n_threads, budget};
            if (individual) {
                RowMatrixXf out;
                {
                    py::gil_scoped_release release;
                    out = inspection::replaced_outputs(*arg, background, points, jobs, options);
                }
                return py::cast(std::move(out));
            }
            RowMatrixXd out;
            {
                py::gil_scoped_release release;
                out = inspection::replaced_means(*arg, background, points, jobs, weights,
                                                 options);
            }
            return py::cast(std::move(out));
        },
        py::arg("model"), py::arg("background"), py::arg("points"), py::arg("sets"),
        py::arg("job_set"), py::arg("job_point"), py::arg("sample_weight"), py::arg("n_outputs"),
        py::arg("individual"),
        py::arg("n_threads"), py::arg("memory_budget"),
        "Per job (set, point): outputs on the background rows with the set's columns taken from "
        "the point; their (weighted) mean (jobs, n_outputs) or all of them (jobs * rows, "
        "n_outputs).");
    m.def(
        "ale_differences",
        [](const py::object& model, const ConstRowRef& X, const std::vector<Index>& features,
           const ConstRowRef& lower, const ConstRowRef& upper, Index n_outputs, int n_threads,
           std::size_t budget) {
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            py::gil_scoped_release release;
            return inspection::ale_differences(*arg, X, features, lower, upper,
                                               RunOptions{n_threads, budget});
        },
        py::arg("model"), py::arg("X"), py::arg("features"), py::arg("lower"), py::arg("upper"),
        py::arg("n_outputs"), py::arg("n_threads"), py::arg("memory_budget"),
        "Per row: the model's finite difference across its ALE cell (rows, n_outputs).");
}

}  // namespace glassbox::bindings
