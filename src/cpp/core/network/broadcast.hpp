// Element-wise layers over NumPy-broadcast inputs: the binary arithmetic of two computed tensors
// (add, sub, mul, div: gates, masks, scaled scores), comparisons of one tensor with a constant
// (masks such as `ids != PAD`) and `where`. Per-sample shapes are aligned on the right; an axis
// of extent 1 (or a missing one) repeats.
#pragma once

#include "core/network/layer.hpp"

#include <type_traits>

namespace glassbox {

// How each input of a broadcast maps onto the output: per output axis, the input's stride (0
// where it repeats). The walk over the output is an odometer: no per-element table, so memory
// does not follow the declared shapes.
class Broadcast {
public:
    // Throws std::invalid_argument (naming `kind`) unless the shapes broadcast.
    Broadcast(const std::vector<Shape>& shapes, const std::string& kind);
    const Shape& shape() const { return out_; }
    Index size() const { return size_; }
    Index input_size(std::size_t k) const { return in_sizes_[k]; }
    // f(out_index, in_index_0, in_index_1, ...) for every output element, in order.
    template <class F>
    void each(F&& f) const;

private:
    Shape out_;
    Index size_ = 1;
    std::vector<std::vector<Index>> strides_;  // per input, per output axis
    std::vector<Index> in_sizes_;
    // The common case, one block: an input whose axes of extent > 1 are consecutive output axes
    // reads element (k / inner) % size for output element k (a mask row repeated over heads,
    // a per-position scale, equal shapes). When every input is so, `each` counts instead of
    // walking the odometer.
    std::vector<Index> inner_;
    bool blocks_ = false;
};

enum class BinaryOp { Add, Sub, Mul, Div };

// a (op) b with broadcasting; the gradient of each input is summed over its repeated axes.
class BinaryLayer final : public Layer {
public:
    BinaryLayer(BinaryOp op, const std::vector<Shape>& input_shapes);
    std::string kind() const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    BinaryOp op() const { return op_; }
    const Broadcast& broadcast() const { return broadcast_; }

private:
    BinaryOp op_;
    Broadcast broadcast_;
};

enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge };

// 1 where `x op value` holds, else 0; no gradient flows (a mask).
class Compare final : public Layer {
public:
    Compare(CompareOp op, float value, const std::vector<Shape>& input_shapes);
    std::string kind() const override;
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    CompareOp op_;
    float value_;
};

// where(cond, a, b): a where cond != 0, else b (broadcast); no gradient to cond.
class Where final : public Layer {
public:
    explicit Where(const std::vector<Shape>& input_shapes);
    std::string kind() const override { return "where"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;

private:
    Broadcast broadcast_;
};

template <class F>
void Broadcast::each(F&& f) const {
    const std::size_t n = strides_.size();
    if (blocks_) {
        Index at[3] = {0, 0, 0}, count[3] = {0, 0, 0};
        for (Index k = 0; k < size_; ++k) {
            if constexpr (std::is_invocable_v<F, Index, Index, Index>) {
                f(k, at[0], at[1]);
            } else {
                f(k, at[0], at[1], at[2]);
            }
            for (std::size_t i = 0; i < n; ++i) {
                if (++count[i] == inner_[i]) {
                    count[i] = 0;
                    if (++at[i] == in_sizes_[i]) at[i] = 0;
                }
            }
        }
        return;
    }
    const auto rank = static_cast<Index>(out_.size());
    std::vector<Index> at(out_.size(), 0), offsets(n, 0);
    for (Index k = 0; k < size_; ++k) {
        if constexpr (std::is_invocable_v<F, Index, Index, Index>) {
            f(k, offsets[0], offsets[1]);
        } else {
            f(k, offsets[0], offsets[1], offsets[2]);
        }
        for (Index d = rank - 1; d >= 0; --d) {  // advance the innermost axis, carrying over
            for (std::size_t i = 0; i < n; ++i) offsets[i] += strides_[i][d];
            if (++at[d] < out_[d]) break;
            at[d] = 0;
            for (std::size_t i = 0; i < n; ++i) offsets[i] -= strides_[i][d] * out_[d];
        }
    }
}

}  // namespace glassbox
