// Shared types and small helpers for the glassbox core (no Python headers anywhere in core/).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <limits>
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

// The largest per-sample buffer a network layer may produce or hold, in elements: every
// activation (the network input and each layer's output), a convolution's zero-padded input and
// its im2col columns. 2^28 floats are 1 GiB per sample, far above any real model; a model file
// declaring more is rejected when its layer is built (std::invalid_argument naming the layer).
// Python reads it as _core.max_activation_size() (glassbox.models.layers.MAX_ACTIVATION_SIZE).
constexpr Index kMaxActivationSize = Index{1} << 28;

// Throws std::invalid_argument (ValueError in Python) when `ok` is false.
inline void require(bool ok, const std::string& message) {
    if (!ok) throw std::invalid_argument(message);
}

// Overflow-checked arithmetic for sizes, extents and indices computed from untrusted shapes and
// parameters: the exact result, or std::invalid_argument "<what>: ... overflows" when it does not
// fit an Index (the plain operators would be undefined behaviour there).
[[noreturn]] inline void throw_overflow(const char* what, const char* op, Index a, Index b) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(a) + " " + op + " " +
                                std::to_string(b) + " overflows a 64-bit size");
}

inline Index checked_add(Index a, Index b, const char* what) {
    constexpr Index max = std::numeric_limits<Index>::max(), min = std::numeric_limits<Index>::min();
    if ((b > 0 && a > max - b) || (b < 0 && a < min - b)) throw_overflow(what, "+", a, b);
    return a + b;
}

inline Index checked_sub(Index a, Index b, const char* what) {
    constexpr Index max = std::numeric_limits<Index>::max(), min = std::numeric_limits<Index>::min();
    if ((b < 0 && a > max + b) || (b > 0 && a < min + b)) throw_overflow(what, "-", a, b);
    return a - b;
}

inline Index checked_mul(Index a, Index b, const char* what) {
    constexpr Index max = std::numeric_limits<Index>::max(), min = std::numeric_limits<Index>::min();
    if (a != 0 && b != 0) {
        const bool overflow = a > 0 ? (b > 0 ? a > max / b : b < min / a)
                                    : (b > 0 ? a < min / b : a < max / b);
        if (overflow) throw_overflow(what, "*", a, b);
    }
    return a * b;
}

inline std::string shape_string(const Shape& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + (shape.size() == 1 ? ",)" : ")");
}

// The number of elements of `shape` (checked: std::invalid_argument when the product overflows).
inline Index shape_size(const Shape& shape) {
    Index size = 1;
    for (Index extent : shape) size = checked_mul(size, extent, "shape size");
    return size;
}

// The size of a per-sample buffer of `shape` that `what` (a layer kind and the buffer's name:
// "conv2d: output") holds, after checking that every extent is positive and the size is at most
// kMaxActivationSize; std::invalid_argument naming `what` otherwise. Checked before anything of
// that size is allocated.
inline Index checked_activation_size(const Shape& shape, const std::string& what) {
    require(!shape.empty(), what + ": the shape is empty");
    Index size = 1;
    for (Index extent : shape) {
        require(extent >= 1, what + ": shape " + shape_string(shape) +
                                 " has an extent below 1");
        // extents are >= 1, so once the product is past the ceiling it only grows
        require(extent <= kMaxActivationSize && size <= kMaxActivationSize / extent,
                what + ": shape " + shape_string(shape) + " has more than " +
                    std::to_string(kMaxActivationSize) +
                    " elements per sample (the ceiling of a per-sample buffer)");
        size *= extent;
    }
    return size;
}

}  // namespace glassbox
