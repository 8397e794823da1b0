// Bindings for the local model-agnostic methods: LIME tabular (statistics, samples, fits),
// occlusion and feature ablation. Input checks with readable messages happen in Python; the core
// re-checks what it relies on.
#include "bindings/bindings.hpp"

#include "bindings/model_bridge.hpp"
#include "core/agnostic/local/ablation.hpp"
#include "core/agnostic/local/lime.hpp"
#include "core/sampling/counter_rng.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

FeatureSelection selection_of(const std::string& name) {
    if (name == "none") return FeatureSelection::None;
    if (name == "forward") return FeatureSelection::Forward;
    if (name == "highest_weights") return FeatureSelection::HighestWeights;
    if (name == "auto") return FeatureSelection::Auto;
    throw std::invalid_argument(
        "feature_selection: expected 'auto', 'forward', 'highest_weights' or 'none', got '" + name +
        "'");
}

std::vector<char> flags(const std::vector<bool>& values) {
    return std::vector<char>(values.begin(), values.end());
}

// The neighbourhoods LIME evaluates, each (n, num_samples, n_features).
struct LimeSamples {
    py::array_t<float> inputs;
    py::array_t<double> interpretable;
};

}  // namespace

void bind_local(py::module_& m) {
    py::class_<LimeStats>(m, "LimeStats",
                          "What LIME learns from the training data (lime's discretizer, value "
                          "frequencies and scaler).")
        .def(py::init([](const ConstRowRef& training, const std::vector<bool>& categorical,
                         int discretizer) {
                 return fit_lime_stats(training, flags(categorical), discretizer);
             }),
             py::arg("training_data"), py::kw_only(), py::arg("categorical"),
             py::arg("discretizer"))
        .def(
            "bin_of",
            [](const LimeStats& s, Index feature, double value) {
                require(feature >= 0 && feature < s.n_features, "feature: out of range");
                return s.bin_of(feature, value);
            },
            py::arg("feature"), py::kw_only(), py::arg("value"),
            "The bin of `value` for a binned feature (the number of bin edges below it).")
        .def_property_readonly("n_features", [](const LimeStats& s) { return s.n_features; })
        .def_property_readonly("binned", [](const LimeStats& s) {
            return std::vector<bool>(s.binned.begin(), s.binned.end());
        })
        .def_property_readonly("sampled", [](const LimeStats& s) {
            return std::vector<bool>(s.sampled.begin(), s.sampled.end());
        })
        .def_readonly("edges", &LimeStats::edges)
        .def_readonly("bin_mean", &LimeStats::bin_mean)
        .def_readonly("bin_std", &LimeStats::bin_std)
        .def_readonly("bin_min", &LimeStats::bin_min)
        .def_readonly("bin_max", &LimeStats::bin_max)
        .def_readonly("values", &LimeStats::values)
        .def_readonly("cumulative", &LimeStats::cumulative)
        .def_readonly("mean", &LimeStats::mean)
        .def_readonly("scale", &LimeStats::scale);

    py::class_<LimeSamples>(m, "LimeSamples",
                            "The neighbourhoods LIME evaluates: model inputs and interpretable "
                            "data, each (n, num_samples, n_features); sample 0 is the row itself.")
        .def_readonly("inputs", &LimeSamples::inputs)
        .def_readonly("interpretable", &LimeSamples::interpretable);
    py::class_<LimeResult>(m, "LimeResult",
                           "What LIME returns per row: numpy views of the core's buffers.")
        .def_property_readonly("values", matrix_view(&LimeResult::values))
        .def_property_readonly("intercept", matrix_view(&LimeResult::intercept))
        .def_property_readonly("score", matrix_view(&LimeResult::score))
        .def_property_readonly("local_prediction", matrix_view(&LimeResult::local_prediction))
        .def_property_readonly("prediction", matrix_view(&LimeResult::prediction));

    m.def(
        "lime_samples",
        [](const LimeStats& stats, const ConstRowRef& X, Index num_samples, std::uint64_t seed,
           std::int64_t first_row) {
            require(first_row >= 0, "first_row: expected an integer >= 0");
            require(X.cols() == stats.n_features, "X: wrong number of features");
            require_count(num_samples, "num_samples", 1);
            const Index n = X.rows(), d = X.cols();
            // the arrays are built whole: n x num_samples x d of float and double
            require_state_fits(bytes_of(mul_count(mul_count(n, num_samples, "num_samples"), d, "X"),
                                        sizeof(float) + sizeof(double)),
                               RunOptions{}, "num_samples", "the samples");
            py::array_t<float> inputs({n, num_samples, d});
            py::array_t<double> interpretable({n, num_samples, d});
            float* in = inputs.mutable_data();
            double* z = interpretable.mutable_data();
            for (Index r = 0; r < n; ++r) {
                const LimeRowSampler sampler(stats, X.row(r).data(), first_row + r, seed);
                const Index at = r * num_samples * d;
                sampler.sample_range(0, num_samples, in + at, z + at);
            }
            return LimeSamples{inputs, interpretable};
        },
        py::arg("stats"), py::kw_only(), py::arg("X"), py::arg("num_samples"), py::arg("seed"),
        py::arg("first_row") = 0,
        "The neighbourhoods LIME evaluates for the rows of X (a LimeSamples); row r draws as row "
        "first_row + r of a larger job.");
    m.def(
        "lime_tabular",
        [](const py::object& model, const ConstRowRef& X, const LimeStats& stats,
           const TargetArray& target_array, Index n_outputs, Index num_samples,
           Index num_features, const std::string& selection, double kernel_width,
           std::uint64_t seed, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            const LimeOptions lime{num_samples, num_features, selection_of(selection),
                                   kernel_width, seed};
            JobScope job(options);
            // safe: X and stats are kept alive by the call frame, the options are copies; a
            // Python model takes the GIL itself, chunk by chunk
            py::gil_scoped_release release;
            return lime_tabular(*arg, X, stats, targets, lime, options);
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("stats"), py::arg("targets"),
        py::arg("n_outputs"), py::arg("num_samples"), py::arg("num_features"),
        py::arg("feature_selection"), py::arg("kernel_width"), py::arg("seed"),
        default_options());
    m.def(
        "occlusion",
        [](const py::object& model, const ConstRowRef& X, const ConstRowRef& baselines,
           const Shape& shape, const Shape& window, const Shape& strides,
           const TargetArray& target_array, Index n_outputs, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            const SlidingWindows windows(shape, window, strides);
            JobScope job(options);
            // safe: the arrays are kept alive by the call frame; see lime_tabular
            py::gil_scoped_release release;
            return occlusion(*arg, X, baselines, windows, targets, options);
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("baselines"),
        py::arg("sample_shape"), py::arg("window"), py::arg("strides"), py::arg("targets"),
        py::arg("n_outputs"), default_options());
    m.def(
        "feature_ablation",
        [](const py::object& model, const ConstRowRef& X, const ConstRowRef& baselines,
           const TargetArray& group_array, Index n_groups, const TargetArray& target_array,
           Index n_outputs, RunOptions options) {
            const std::vector<int> targets = to_targets(target_array);
            const ModelArg arg = to_model(model, X.cols(), n_outputs);
            require(group_array.ndim() == 1, "feature_mask: expected one group index per feature");
            const std::vector<Index> group_of(group_array.data(),
                                              group_array.data() + group_array.size());
            const FeatureGroups groups(group_of, n_groups);
            JobScope job(options);
            // safe: the arrays are kept alive by the call frame; see lime_tabular
            py::gil_scoped_release release;
            return feature_ablation(*arg, X, baselines, groups, targets, options);
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("baselines"), py::arg("group_of"),
        py::arg("n_groups"), py::arg("targets"), py::arg("n_outputs"), default_options());
}

}  // namespace glassbox::bindings
