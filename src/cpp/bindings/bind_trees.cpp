// Bindings for the native TreeEnsemble: built from a TreeEnsembleSpec's arrays, predicting in
// the model-agnostic methods' chunk loop (OpenMP over rows, GIL released).
#include "bindings/bindings.hpp"
#include "bindings/model_bridge.hpp"

#include "core/trees/ensemble.hpp"

#include <pybind11/numpy.h>

#include <string>

namespace py = pybind11;

namespace glassbox::bindings {
namespace {

// A 1-D array of exactly dtype T (no silent casts: a float64 threshold rounded to nearest
// float32 would walk differently), copied into a vector.
template <class T>
std::vector<T> take(const py::object& obj, const char* name, const char* dtype) {
    if (!py::isinstance<py::array_t<T>>(obj)) {
        const std::string got = py::isinstance<py::array>(obj)
                                    ? std::string(py::str(obj.attr("dtype")))
                                    : std::string(py::str(py::type::of(obj).attr("__name__")));
        throw py::type_error(std::string("TreeEnsemble: ") + name + " must be a " + dtype +
                             " NumPy array, got " + got + " (convert it with np.asarray(" +
                             name + ", dtype=np." + dtype + "))");
    }
    const auto array = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(obj);
    require(array.ndim() == 1, std::string("TreeEnsemble: ") + name + " must be 1-D, got " +
                                   std::to_string(array.ndim()) + " dimensions");
    return std::vector<T>(array.data(), array.data() + array.size());
}

TreeLink to_link(const std::string& link) {
    if (link == "identity") return TreeLink::identity;
    if (link == "logistic") return TreeLink::logistic;
    if (link == "softmax") return TreeLink::softmax;
    throw std::invalid_argument(
        "TreeEnsemble: link must be 'identity', 'logistic' or 'softmax', got '" + link + "'");
}

std::unique_ptr<TreeEnsemble> make_ensemble(
    Index n_features, Index n_outputs, const py::object& tree_offsets,
    const py::object& tree_outputs, const py::object& tree_widths,
    const py::object& children_left, const py::object& children_right,
    const py::object& features, const py::object& thresholds, const py::object& default_left,
    const py::object& cat_starts, const py::object& cat_counts, const py::object& cat_bitsets,
    const py::object& covers, const py::object& value_offsets, const py::object& values,
    const py::object& base_scores, const std::string& link, bool apply_link) {
    TreeEnsembleArrays a;
    a.n_features = n_features;
    a.n_outputs = n_outputs;
    a.tree_offsets = take<std::int64_t>(tree_offsets, "tree_offsets", "int64");
    a.tree_outputs = take<std::int32_t>(tree_outputs, "tree_outputs", "int32");
    a.tree_widths = take<std::int32_t>(tree_widths, "tree_widths", "int32");
    a.children_left = take<std::int32_t>(children_left, "children_left", "int32");
    a.children_right = take<std::int32_t>(children_right, "children_right", "int32");
    a.features = take<std::int32_t>(features, "features", "int32");
    a.thresholds = take<float>(thresholds, "thresholds", "float32");
    const std::vector<bool> left = take<bool>(default_left, "default_left", "bool_");
    a.default_left.assign(left.begin(), left.end());
    a.cat_starts = take<std::int64_t>(cat_starts, "cat_starts", "int64");
    a.cat_counts = take<std::int32_t>(cat_counts, "cat_counts", "int32");
    a.cat_bitsets = take<std::uint32_t>(cat_bitsets, "cat_bitsets", "uint32");
    a.covers = take<double>(covers, "covers", "float64");
    a.value_offsets = take<std::int64_t>(value_offsets, "value_offsets", "int64");
    a.values = take<double>(values, "values", "float64");
    a.base_scores = take<double>(base_scores, "base_scores", "float64");
    a.link = to_link(link);
    return std::make_unique<TreeEnsemble>(std::move(a), apply_link);
}

RowMatrixXf predict(const TreeEnsemble& model, const ConstRowRef& X, RunOptions options) {
    require(X.cols() == model.n_inputs(), "X: expected " + std::to_string(model.n_inputs()) +
                                              " columns (the model's features), got " +
                                              std::to_string(X.cols()));
    return predict_in_chunks(model, X, options);
}

}  // namespace

void bind_trees(py::module_& m) {
    py::class_<TreeEnsemble>(m, "TreeEnsemble")
        .def(py::init(&make_ensemble), py::arg("n_features"), py::kw_only(), py::arg("n_outputs"),
             py::arg("tree_offsets"), py::arg("tree_outputs"), py::arg("tree_widths"),
             py::arg("children_left"), py::arg("children_right"), py::arg("features"),
             py::arg("thresholds"), py::arg("default_left"), py::arg("cat_starts"),
             py::arg("cat_counts"), py::arg("cat_bitsets"), py::arg("covers"),
             py::arg("value_offsets"), py::arg("values"), py::arg("base_scores"),
             py::arg("link") = "identity", py::arg("apply_link") = false,
             "A fitted tree ensemble from TreeEnsembleSpec arrays (validated: ValueError on "
             "any inconsistency). With apply_link, predict returns link(margin).")
        .def("predict", &predict, py::arg("X"), py::kw_only(), default_options(),
             "The margin (or probabilities with apply_link) of X, (rows, n_outputs) float32.")
        .def_property_readonly("n_inputs", &TreeEnsemble::n_inputs)
        .def_property_readonly("n_outputs", &TreeEnsemble::n_outputs)
        .def_property_readonly("n_trees", &TreeEnsemble::n_trees)
        .def_property_readonly("max_depth", &TreeEnsemble::max_depth)
        .def_property_readonly("apply_link", &TreeEnsemble::applies_link);
}

}  // namespace glassbox::bindings
