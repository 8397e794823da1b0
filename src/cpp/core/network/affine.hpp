// AffineLayer: layers computing z = W x + b (Dense, Conv2d). LRP rules evaluate them with modified
// weights (W+, W-, W^2, ones, ...) through affine_forward / affine_transpose, so every rule works for
// every affine layer without knowing its geometry.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

class AffineLayer : public Layer {
public:
    // The layer's parameters in its natural GEMM layout: (output units or channels, fan-in).
    virtual const RowMatrixXf& weight() const = 0;
    virtual const VectorXf& bias() const = 0;  // one entry per output unit / channel
    // z = W' x (+ b' per output unit/channel when bias is given), for any W' of weight()'s shape.
    virtual void affine_forward(const RowMatrixXf& weight, const VectorXf* bias,
                                const RowMatrixXf& x, RowMatrixXf& z) const = 0;
    // c = W'^T s: the transpose product, mapping output-shaped rows back to input-shaped rows.
    virtual void affine_transpose(const RowMatrixXf& weight, const RowMatrixXf& s,
                                  RowMatrixXf& c) const = 0;
};

}  // namespace glassbox
