// The bridge between Python models and the core's Model interface: a native model (Network,
// TreeEnsemble) passes through; any other Python callable is wrapped so the core can call it on
// whole chunks.
#pragma once

#include "core/model.hpp"
#include "core/parallel.hpp"

#include <pybind11/pybind11.h>

#include <memory>

namespace glassbox::bindings {

// A Python function fn(X: float32 (rows, n_inputs)) -> (rows,) or (rows, n_outputs), seen by the
// core as a Model. predict() takes the GIL for the call; it is not thread-safe, so the core calls
// it only from the thread that released the GIL, one chunk of thousands of rows at a time.
class PyCallableModel final : public Model {
public:
    PyCallableModel(pybind11::object fn, Index n_inputs, Index n_outputs);
    ~PyCallableModel() override;
    Index n_inputs() const override { return n_inputs_; }
    Index n_outputs() const override { return n_outputs_; }
    // Throws pybind11::error_already_set when fn raises, std::invalid_argument (ValueError) when
    // it returns the wrong shape or non-finite values.
    void predict(const ConstRowRef& X, RowMatrixXf& Y) const override;
    bool thread_safe() const override { return false; }

private:
    pybind11::object fn_;
    Index n_inputs_, n_outputs_;
};

// The native model `model` holds (a glassbox._core.Network or TreeEnsemble), or nullptr.
const Model* native_model(const pybind11::handle& model);

// A model argument of a core binding: a native model (see native_model), or a Python callable
// with the given widths (checked against the native model's when it is one).
struct ModelArg {
    const Model* model = nullptr;
    std::unique_ptr<PyCallableModel> owned;
    const Model& operator*() const { return *model; }
};
ModelArg to_model(const pybind11::object& model, Index n_inputs, Index n_outputs);

// Y = model(X) through the model-agnostic methods' chunk loop (OpenMP over chunks when the model
// is thread-safe). Call it holding the GIL: it releases it for the loop.
RowMatrixXf predict_in_chunks(const Model& model, const ConstRowRef& X, RunOptions options,
                              Index chunk_rows = 0);


}  // namespace glassbox::bindings
