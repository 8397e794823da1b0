// The Model interface: everything a model-agnostic method can evaluate.
#pragma once

#include "core/common.hpp"

namespace glassbox {

class Model {
public:
    virtual ~Model() = default;
    virtual Index n_inputs() const = 0;
    virtual Index n_outputs() const = 0;
    // Evaluates a row-major float32 batch X (rows x n_inputs) into Y (rows x n_outputs).
    virtual void predict(const ConstRowRef& X, RowMatrixXf& Y) const = 0;
    // True when predict may be called concurrently from several OpenMP threads.
    virtual bool thread_safe() const = 0;
};

}  // namespace glassbox
