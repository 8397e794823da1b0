// Bindings exposing the counter-based draws, so reference tests can replay a sampled method.
#include "bindings/bindings.hpp"

#include "core/common.hpp"
#include "core/sampling/counter_rng.hpp"

#include <pybind11/numpy.h>

#include <algorithm>

namespace py = pybind11;

namespace glassbox::bindings {

void bind_sampling(py::module_& m) {
    m.def(
        "normal_draws",
        [](std::uint64_t seed, std::uint64_t stream, Index rows, Index draws, Index features) {
            check_array({rows, draws, features}, sizeof(float), "n_rows x n_draws x n_features");
            py::array_t<float> out({rows, draws, features});
            auto view = out.mutable_unchecked<3>();
            const CounterRng rng(seed, stream);
            for (Index r = 0; r < rows; ++r)
                for (Index s = 0; s < draws; ++s) rng.normals(r, s, view.mutable_data(r, s, 0), features);
            return out;
        },
        py::arg("seed"), py::kw_only(), py::arg("stream"), py::arg("n_rows"), py::arg("n_draws"),
        py::arg("n_features"));
    m.def(
        "uniform_draws",
        [](std::uint64_t seed, std::uint64_t stream, Index rows, Index draws, Index features) {
            // features == 0: one uniform per (row, draw), at counter c = 0
            check_array({rows, draws, std::max<Index>(features, 1)}, sizeof(double),
                        "n_rows x n_draws x n_features");
            const Index width = std::max<Index>(features, 1);
            py::array_t<double> out({rows, draws, width});
            auto view = out.mutable_unchecked<3>();
            const CounterRng rng(seed, stream);
            for (Index r = 0; r < rows; ++r)
                for (Index s = 0; s < draws; ++s)
                    for (Index j = 0; j < width; ++j) view(r, s, j) = rng.uniform(r, s, j);
            if (features == 0) return out.attr("reshape")(rows, draws).cast<py::array_t<double>>();
            return out;
        },
        py::arg("seed"), py::kw_only(), py::arg("stream"), py::arg("n_rows"), py::arg("n_draws"),
        py::arg("n_features") = 0,
        "Uniforms u(seed, stream, row, draw[, feature]) in [0, 1): (rows, draws) or, with "
        "n_features, (rows, draws, features).");
    m.def(
        "index_draws",
        [](std::uint64_t seed, std::uint64_t stream, Index rows, Index draws, std::int64_t n) {
            require(n >= 1, "n: must be at least 1");
            check_array({rows, draws}, sizeof(std::int64_t), "n_rows x n_draws");
            py::array_t<std::int64_t> out({rows, draws});
            auto view = out.mutable_unchecked<2>();
            const CounterRng rng(seed, stream);
            for (Index r = 0; r < rows; ++r)
                for (Index s = 0; s < draws; ++s) view(r, s) = rng.index(r, s, n);
            return out;
        },
        py::arg("seed"), py::kw_only(), py::arg("stream"), py::arg("n_rows"), py::arg("n_draws"),
        py::arg("n"));
}

}  // namespace glassbox::bindings
