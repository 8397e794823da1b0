// PyCallableModel, to_model, and evaluate_model (the chunk loop of the model-agnostic methods,
// exposed so the bridge can be tested and used for plain predictions of any model).
#include "bindings/model_bridge.hpp"

#include "bindings/bindings.hpp"
#include "core/agnostic/model_eval.hpp"
#include "core/network/network.hpp"
#include "core/trees/ensemble.hpp"


#include <cmath>
#include <cstring>

namespace py = pybind11;

namespace glassbox::bindings {

PyCallableModel::PyCallableModel(py::object fn, Index n_inputs, Index n_outputs)
    : fn_(std::move(fn)), n_inputs_(n_inputs), n_outputs_(n_outputs) {
    require(n_inputs_ > 0, "model: n_inputs must be positive");
    require(n_outputs_ > 0, "model: n_outputs must be positive");
}

PyCallableModel::~PyCallableModel() {
    // the function object may be released from a thread without the GIL
    py::gil_scoped_acquire gil;
    fn_ = py::object();
}

void PyCallableModel::predict(const ConstRowRef& X, RowMatrixXf& Y) const {
    const Index rows = X.rows();
    py::gil_scoped_acquire gil;
    // a fresh array per call: the callable may keep or modify it without touching our buffers
    py::array_t<float> batch({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(n_inputs_)});
    for (Index r = 0; r < rows; ++r) {
        std::memcpy(batch.mutable_data(r, 0), X.row(r).data(),
                    sizeof(float) * static_cast<std::size_t>(n_inputs_));
    }
    const py::object raw = fn_(batch);
    using Out = py::array_t<float, py::array::c_style | py::array::forcecast>;
    Out out = Out::ensure(raw);
    if (!out) {
        PyErr_Clear();
        throw std::invalid_argument("model: the callable returned " +
                                    std::string(py::str(py::type::of(raw).attr("__name__"))) +
                                    ", expected an array of numbers");
    }
    const bool column = out.ndim() == 1 && n_outputs_ == 1;
    require((out.ndim() == 2 && out.shape(0) == rows && out.shape(1) == n_outputs_) ||
                (column && out.shape(0) == rows),
            "model: the callable returned shape " + shape_string(Shape(out.shape(), out.shape() + out.ndim())) +
                " for " + std::to_string(rows) + " rows; expected (" + std::to_string(rows) +
                ", " + std::to_string(n_outputs_) + ")");
    Y = Eigen::Map<const RowMatrixXf>(out.data(), rows, n_outputs_);
    require(Y.allFinite(), "model: the callable returned NaN or infinite values");
}

const Model* native_model(const py::handle& model) {
    if (py::isinstance<Network>(model)) return &model.cast<const Network&>();
    if (py::isinstance<TreeEnsemble>(model)) return &model.cast<const TreeEnsemble&>();
    return nullptr;
}

ModelArg to_model(const py::object& model, Index n_inputs, Index n_outputs) {
    // every chunk holds rows of n_outputs floats: an absurd count fails here, not in an allocation
    require_count(n_outputs, "n_outputs", 1);
    ModelArg arg;
    if (const Model* native = native_model(model)) {
        arg.model = native;
        const std::string what = py::isinstance<Network>(model) ? "network" : "tree ensemble";
        require(arg.model->n_inputs() == n_inputs && arg.model->n_outputs() == n_outputs,
                "model: the " + what + " has " + std::to_string(arg.model->n_inputs()) +
                    " inputs and " + std::to_string(arg.model->n_outputs()) +
                    " outputs, expected " + std::to_string(n_inputs) + " and " +
                    std::to_string(n_outputs));
        return arg;
    }
    if (!PyCallable_Check(model.ptr())) {
        throw py::type_error(
            "model: expected a glassbox._core.Network or a callable (or a "
            "glassbox._core.TreeEnsemble)");
    }
    arg.owned = std::make_unique<PyCallableModel>(model, n_inputs, n_outputs);
    arg.model = arg.owned.get();
    return arg;
}

RowMatrixXf predict_in_chunks(const Model& model, const ConstRowRef& X, RunOptions options,
                              Index chunk_rows) {
    if (chunk_rows <= 0) chunk_rows = plan_chunk_rows(model, options.memory_budget, X.rows());
    RowMatrixXf Y(X.rows(), model.n_outputs());
    JobScope job(options);
    // Safe without the GIL: X views a caller-owned array kept alive by the call frame, Y and the
    // options are ours, native models are immutable and a Python callable re-takes the GIL per
    // chunk.
    py::gil_scoped_release release;
    for_each_model_chunk(
        model, X.rows(), chunk_rows, options,
        [&](Index first, Index count, RowMatrixXf& batch) { batch = X.middleRows(first, count); },
        [&](Index first, Index count, const RowMatrixXf& out) {
            Y.middleRows(first, count) = out;
        });
    return Y;
}

namespace {

RowMatrixXf evaluate_model(const py::object& model, const ConstRowRef& X, Index n_outputs,
                           RunOptions options, Index chunk_rows) {
    const ModelArg arg = to_model(model, X.cols(), n_outputs);
    return predict_in_chunks(*arg, X, options, chunk_rows);
}

}  // namespace

void bind_model_bridge(py::module_& m) {
    m.def("evaluate_model", &evaluate_model, py::arg("model"), py::kw_only(), py::arg("X"),
          py::arg("n_outputs"), default_options(), py::arg("chunk_rows") = 0,
          "Evaluates a Network or a Python callable on X in chunks (the model-agnostic "
          "methods' loop).");
}

}  // namespace glassbox::bindings
