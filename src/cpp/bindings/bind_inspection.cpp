// Bindings for the inspection methods (permutation importance, partial dependence / ICE, ALE,
// H-statistic). Python validates user input; the core re-checks what it relies on. Every call
// builds the ModelArg under the GIL, then releases it around the core call: the arrays are views
// of caller-owned buffers kept alive by the call frame, the options are copies, and a Python
// callable re-takes the GIL itself for each chunk.
#include "bindings/bindings.hpp"

#include "bindings/model_bridge.hpp"
#include "core/agnostic/inspection/ale.hpp"
#include "core/agnostic/inspection/permutation.hpp"
#include "core/agnostic/inspection/replaced.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

using inspection::Groups;

inspection::PermutationSetup setup_of(Index n_repeats, std::uint64_t seed, Index max_samples) {
    require(n_repeats >= 1, "n_repeats: must be at least 1");
    return inspection::PermutationSetup{n_repeats, seed, max_samples};
}

// Job (g, r) of permutation importance reads X[rows[g]] with g's columns from
// X[rows[g][sources[g, r]]].
struct PermutationIndices {
    py::array_t<std::int64_t> rows;     // (groups, max_samples)
    py::array_t<std::int64_t> sources;  // (groups, repeats, max_samples)
};

}  // namespace

void bind_inspection(py::module_& m) {
    py::class_<inspection::PermutationScores>(m, "PermutationScores",
                                              "The baseline score and the (groups, repeats) "
                                              "scores of permutation importance.")
        .def_readonly("baseline", &inspection::PermutationScores::baseline)
        .def_property_readonly("scores", matrix_view(&inspection::PermutationScores::scores));
    py::class_<PermutationIndices>(m, "PermutationIndices",
                                   "The rows (groups, max_samples) and sources (groups, repeats, "
                                   "max_samples) of permutation importance's jobs.")
        .def_readonly("rows", &PermutationIndices::rows)
        .def_readonly("sources", &PermutationIndices::sources);
    m.def(
        "permutation_scores",
        [](const py::object& model, const ConstRowRef& X, const VectorXd& y, const VectorXd& w,
           const Groups& groups, Index n_outputs, const std::string& metric, Index n_classes,
           Index n_repeats, std::uint64_t seed, Index max_samples, RunOptions options) {
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            const auto setup = setup_of(n_repeats, seed, max_samples);
            const auto parsed = inspection::parse_metric(metric);
            JobScope job(options);
            py::gil_scoped_release release;
            return inspection::permutation_scores(*arg, X, y, w, groups, setup, parsed, n_classes,
                                                  options);
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("y"), py::arg("sample_weight"),
        py::arg("groups"), py::arg("n_outputs"), py::arg("metric"), py::arg("n_classes"),
        py::arg("n_repeats"), py::arg("seed"), py::arg("max_samples"), default_options(),
        "The baseline score and the scores (groups, repeats) of permutation importance.");
    m.def(
        "permuted_predictions",
        [](const py::object& model, const ConstRowRef& X, const Groups& groups, Index n_outputs,
           Index n_repeats, std::uint64_t seed, Index max_samples, Index job_first,
           Index job_count, RunOptions options) {
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            const auto setup = setup_of(n_repeats, seed, max_samples);
            JobScope job(options);
            py::gil_scoped_release release;
            // a Python model gets the block in one call: the caller sized it for the budget
            const Index rows = job_count * (max_samples > 0 ? max_samples : X.rows());
            return inspection::permuted_predictions(*arg, X, groups, setup, job_first, job_count,
                                                    options, (*arg).thread_safe() ? 0 : rows);
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("groups"), py::arg("n_outputs"),
        py::arg("n_repeats"), py::arg("seed"), py::arg("max_samples"), py::arg("job_first"),
        py::arg("job_count"), default_options(),
        "Outputs of permutation jobs [job_first, job_first + job_count), job-major rows.");
    m.def(
        "permutation_indices",
        [](std::uint64_t seed, Index n_rows, Index max_samples, Index n_groups, Index n_repeats) {
            require(n_rows >= 1 && max_samples >= 1 && max_samples <= n_rows && n_groups >= 0 &&
                        n_repeats >= 1,
                    "sizes: expected n_rows >= max_samples >= 1, n_groups >= 0, n_repeats >= 1");
            check_array({n_groups, n_repeats + 1, max_samples}, sizeof(std::int64_t),
                        "n_groups x n_repeats x max_samples");
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
            return PermutationIndices{rows, sources};
        },
        py::arg("seed"), py::kw_only(), py::arg("n_rows"), py::arg("max_samples"),
        py::arg("n_groups"), py::arg("n_repeats"),
        "The PermutationIndices of permutation importance: job (g, r) reads X[rows[g]] with g's "
        "columns from X[rows[g][sources[g, r]]].");
    m.def(
        "metric_score",
        [](const std::string& metric, const ConstRowRef& predictions, const VectorXd& y,
           const VectorXd& w, Index n_classes) {
            require(y.size() == predictions.rows(), "y: expected one value per row");
            require(w.size() == 0 || w.size() == y.size(), "sample_weight: one weight per row");
            return inspection::metric_score(inspection::parse_metric(metric), predictions,
                                            y.data(), w.size() ? w.data() : nullptr, n_classes);
        },
        py::arg("metric"), py::kw_only(), py::arg("predictions"), py::arg("y"),
        py::arg("sample_weight"), py::arg("n_classes"), "The score (losses negated) of predictions against y.");
    m.def(
        "replaced_predictions",
        [](const py::object& model, const ConstRowRef& background, const ConstRowRef& points,
           const std::vector<std::vector<Index>>& sets, const std::vector<Index>& job_set,
           const std::vector<Index>& job_point, const VectorXd& weights, Index n_outputs,
           bool individual, RunOptions options) -> py::object {
            const ModelArg arg = to_model(model, background.cols(), n_outputs);
            const inspection::ReplacedJobs jobs{sets, job_set, job_point};
            if (individual) {
                RowMatrixXf out;
                {
                    JobScope job(options);
                    py::gil_scoped_release release;
                    out = inspection::replaced_outputs(*arg, background, points, jobs, options);
                }
                return py::cast(std::move(out));
            }
            RowMatrixXd out;
            {
                JobScope job(options);
                py::gil_scoped_release release;
                out = inspection::replaced_means(*arg, background, points, jobs, weights,
                                                 options);
            }
            return py::cast(std::move(out));
        },
        py::arg("model"), py::kw_only(), py::arg("background"), py::arg("points"),
        py::arg("sets"), py::arg("job_set"), py::arg("job_point"), py::arg("sample_weight"),
        py::arg("n_outputs"), py::arg("individual"), default_options(),
        "Per job (set, point): outputs on the background rows with the set's columns taken from "
        "the point; their (weighted) mean (jobs, n_outputs) or all of them (jobs * rows, "
        "n_outputs).");
    m.def(
        "ale_differences",
        [](const py::object& model, const ConstRowRef& X, const Groups& features,
           const ConstRowRef& lower, const ConstRowRef& upper, Index n_outputs,
           RunOptions options) {
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            JobScope job(options);
            py::gil_scoped_release release;
            return inspection::ale_differences(*arg, X, features, lower, upper, options);
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("features"), py::arg("lower"),
        py::arg("upper"), py::arg("n_outputs"), default_options(),
        "Per ALE job (one feature or a pair; its columns of lower / upper follow the previous "
        "jobs') and row: the model's finite difference across the row's cell (jobs * rows, "
        "n_outputs), job-major.");
}

}  // namespace glassbox::bindings
