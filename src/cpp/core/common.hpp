// Shared types and small helpers for the glassbox core (no Python headers anywhere in core/).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace glassbox {

using Index = Eigen::Index;
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VectorXf = Eigen::VectorXf;
using VectorXd = Eigen::VectorXd;
using ConstRowRef = Eigen::Ref<const RowMatrixXf>;
// Per-sample shape of an activation: {features} or {channels, height, width} (NCHW without N).
using Shape = std::vector<Index>;

inline Index shape_size(const Shape& shape) {
    Index size = 1;
    for (Index extent : shape) size *= extent;
    return size;
}

inline std::string shape_string(const Shape& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + (shape.size() == 1 ? ",)" : ")");
}

// Throws std::invalid_argument (ValueError in Python) when `ok` is false.
inline void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

}  // namespace glassbox
