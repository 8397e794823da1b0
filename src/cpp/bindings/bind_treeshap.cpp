// Bindings for TreeSHAP on a TreeEnsemble (path-dependent, interactions, interventional).
// Validation of user input happens in Python (glassbox/explainers/treeshap.py); the core
// re-checks the widths it relies on.
#include "bindings/bindings.hpp"

#include "core/trees/treeshap.hpp"

namespace py = pybind11;

namespace glassbox::bindings {

void bind_treeshap(py::module_& m) {
    using trees::TreeShapResult;
    py::class_<TreeShapResult>(m, "TreeShapResult",
                               "What TreeSHAP returns: numpy views of the core's buffers "
                               "(values (n, d * k) or (n, d * d * k), base (1, k), fx (n, k)).")
        .def_property_readonly("values", matrix_view(&TreeShapResult::values))
        .def_property_readonly("base", matrix_view(&TreeShapResult::base))
        .def_property_readonly("fx", matrix_view(&TreeShapResult::fx));
    // The model and X are kept alive by the call frame, a TreeEnsemble is immutable, and the
    // options are a copy: the core runs with the GIL released.
    m.def(
        "tree_shap",
        [](const TreeEnsemble& model, const ConstRowRef& X, const std::string& mode,
           const ConstRowRef& background, bool probabilities, const std::string& tables,
           RunOptions options) {
            require(mode == "tree_path_dependent" || mode == "interventional" ||
                        mode == "interactions",
                    "mode: expected 'tree_path_dependent', 'interventional' or 'interactions', "
                    "got '" + mode + "'");
            require(tables == "auto" || tables == "always" || tables == "never",
                    "tables: expected 'auto', 'always' or 'never', got '" + tables + "'");
            const trees::TableUse use = tables == "always"  ? trees::TableUse::always
                                        : tables == "never" ? trees::TableUse::never
                                                            : trees::TableUse::automatic;
            JobScope job(options);
            py::gil_scoped_release release;
            if (mode == "interventional") {
                return trees::tree_shap_interventional(model, X, background, probabilities,
                                                       use, options);
            }
            if (mode == "interactions") return trees::tree_shap_interactions(model, X, use, options);
            return trees::tree_shap_path(model, X, use, options);
        },
        py::arg("model"), py::kw_only(), py::arg("X"), py::arg("mode"), py::arg("background"),
        py::arg("probabilities") = false, py::arg("tables") = "auto", default_options());
}

}  // namespace glassbox::bindings
