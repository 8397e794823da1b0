#include "core/network/broadcast.hpp"

#include <algorithm>

namespace glassbox {

Broadcast::Broadcast(const std::vector<Shape>& shapes, const std::string& kind) {
    require(shapes.size() == 2 || shapes.size() == 3,
            kind + ": expects 2 (or, for where, 3) inputs, got " + std::to_string(shapes.size()));
    std::size_t rank = 0;
    for (const Shape& s : shapes) rank = std::max(rank, s.size());
    out_.assign(rank, 1);
    for (const Shape& s : shapes) {
        const std::size_t pad = rank - s.size();
        for (std::size_t d = 0; d < s.size(); ++d) {
            Index& o = out_[pad + d];
            if (s[d] == o || s[d] == 1) continue;
            std::string all;
            for (const Shape& t : shapes) all += (all.empty() ? "" : ", ") + shape_string(t);
            require(o == 1, kind + ": per-sample shapes " + all + " do not broadcast");
            o = s[d];
        }
    }
    size_ = checked_activation_size(out_, kind + ": output");
    for (const Shape& s : shapes) {
        const std::size_t pad = rank - s.size();
        std::vector<Index> stride(rank, 0);
        Index step = 1;
        for (std::size_t d = s.size(); d-- > 0;) {
            stride[pad + d] = s[d] == 1 ? 0 : step;
            step *= s[d];
        }
        strides_.push_back(std::move(stride));
        in_sizes_.push_back(shape_size(s));
    }
    // one block per input: its axes of extent > 1 are consecutive; inner = the output extents
    // after them
    blocks_ = true;
    for (const Shape& s : shapes) {
        const std::size_t pad = rank - s.size();
        std::size_t first = rank, last = 0;
        for (std::size_t d = 0; d < s.size(); ++d) {
            if (s[d] != 1) first = std::min(first, pad + d), last = pad + d + 1;
        }
        Index inner = 1;
        for (std::size_t d = (first == rank ? rank : last); d < rank; ++d) inner *= out_[d];
        for (std::size_t d = first; d < last; ++d) {
            if (s[d - pad] != out_[d]) blocks_ = false;  // a repeated axis inside the block
        }
        inner_.push_back(first == rank ? size_ : inner);
    }
}

// ---------------------------------------------------------------------------------------------
BinaryLayer::BinaryLayer(BinaryOp op, const std::vector<Shape>& input_shapes)
    : op_(op), broadcast_(input_shapes, op == BinaryOp::Add   ? "add"
                                        : op == BinaryOp::Sub ? "sub"
                                        : op == BinaryOp::Mul ? "mul"
                                                              : "div") {
    require(input_shapes.size() == 2, kind() + ": expects 2 inputs");
    output_shape_ = broadcast_.shape();
}

std::string BinaryLayer::kind() const {
    switch (op_) {
        case BinaryOp::Add: return "add";
        case BinaryOp::Sub: return "sub";
        case BinaryOp::Mul: return "mul";
        case BinaryOp::Div: return "div";
    }
    return "add";
}

void BinaryLayer::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& a = *inputs[0];
    const RowMatrixXf& b = *inputs[1];
    out.resize(a.rows(), broadcast_.size());
    for (Index r = 0; r < a.rows(); ++r) {
        const float* pa = a.data() + r * a.cols();
        const float* pb = b.data() + r * b.cols();
        float* po = out.data() + r * out.cols();
        switch (op_) {
            case BinaryOp::Add:
                broadcast_.each([&](Index k, Index i, Index j) { po[k] = pa[i] + pb[j]; });
                break;
            case BinaryOp::Sub:
                broadcast_.each([&](Index k, Index i, Index j) { po[k] = pa[i] - pb[j]; });
                break;
            case BinaryOp::Mul:
                broadcast_.each([&](Index k, Index i, Index j) { po[k] = pa[i] * pb[j]; });
                break;
            case BinaryOp::Div:
                broadcast_.each([&](Index k, Index i, Index j) { po[k] = pa[i] / pb[j]; });
                break;
        }
    }
}

void BinaryLayer::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                    std::vector<RowMatrixXf>& grad_in) const {
    const RowMatrixXf& a = *io.inputs[0];
    const RowMatrixXf& b = *io.inputs[1];
    grad_in[0].setZero(grad_out.rows(), a.cols());
    grad_in[1].setZero(grad_out.rows(), b.cols());
    for (Index r = 0; r < grad_out.rows(); ++r) {
        const float* pa = a.data() + r * a.cols();
        const float* pb = b.data() + r * b.cols();
        const float* g = grad_out.data() + r * grad_out.cols();
        float* da = grad_in[0].data() + r * a.cols();
        float* db = grad_in[1].data() + r * b.cols();
        broadcast_.each([&](Index k, Index i, Index j) {
            switch (op_) {
                case BinaryOp::Add: da[i] += g[k], db[j] += g[k]; break;
                case BinaryOp::Sub: da[i] += g[k], db[j] -= g[k]; break;
                case BinaryOp::Mul: da[i] += g[k] * pb[j], db[j] += g[k] * pa[i]; break;
                case BinaryOp::Div: {
                    const float q = g[k] / pb[j];
                    da[i] += q;
                    db[j] -= q * pa[i] / pb[j];
                    break;
                }
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
Compare::Compare(CompareOp op, float value, const std::vector<Shape>& input_shapes)
    : op_(op), value_(value) {
    output_shape_ = single_input(input_shapes, "compare");
}

std::string Compare::kind() const {
    switch (op_) {
        case CompareOp::Eq: return "compare_eq";
        case CompareOp::Ne: return "compare_ne";
        case CompareOp::Lt: return "compare_lt";
        case CompareOp::Le: return "compare_le";
        case CompareOp::Gt: return "compare_gt";
        case CompareOp::Ge: return "compare_ge";
    }
    return "compare_eq";
}

void Compare::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const auto& x = inputs[0]->array();
    const float v = value_;
    switch (op_) {
        case CompareOp::Eq: out = (x == v).cast<float>().matrix(); break;
        case CompareOp::Ne: out = (x != v).cast<float>().matrix(); break;
        case CompareOp::Lt: out = (x < v).cast<float>().matrix(); break;
        case CompareOp::Le: out = (x <= v).cast<float>().matrix(); break;
        case CompareOp::Gt: out = (x > v).cast<float>().matrix(); break;
        case CompareOp::Ge: out = (x >= v).cast<float>().matrix(); break;
    }
}

void Compare::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0].setZero(grad_out.rows(), io.inputs[0]->cols());
}

// ---------------------------------------------------------------------------------------------
Where::Where(const std::vector<Shape>& input_shapes) : broadcast_(input_shapes, "where") {
    require(input_shapes.size() == 3, "where: expects 3 inputs (condition, a, b)");
    output_shape_ = broadcast_.shape();
}

void Where::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    const RowMatrixXf& c = *inputs[0];
    const RowMatrixXf& a = *inputs[1];
    const RowMatrixXf& b = *inputs[2];
    out.resize(c.rows(), broadcast_.size());
    for (Index r = 0; r < c.rows(); ++r) {
        const float* pc = c.data() + r * c.cols();
        const float* pa = a.data() + r * a.cols();
        const float* pb = b.data() + r * b.cols();
        float* po = out.data() + r * out.cols();
        broadcast_.each([&](Index k, Index i, Index j, Index l) {
            po[k] = pc[i] != 0.0f ? pa[j] : pb[l];
        });
    }
}

void Where::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                              std::vector<RowMatrixXf>& grad_in) const {
    const RowMatrixXf& c = *io.inputs[0];
    grad_in[0].setZero(grad_out.rows(), c.cols());
    grad_in[1].setZero(grad_out.rows(), io.inputs[1]->cols());
    grad_in[2].setZero(grad_out.rows(), io.inputs[2]->cols());
    for (Index r = 0; r < grad_out.rows(); ++r) {
        const float* pc = c.data() + r * c.cols();
        const float* g = grad_out.data() + r * grad_out.cols();
        float* da = grad_in[1].data() + r * grad_in[1].cols();
        float* db = grad_in[2].data() + r * grad_in[2].cols();
        broadcast_.each([&](Index k, Index i, Index j, Index l) {
            if (pc[i] != 0.0f) {
                da[j] += g[k];
            } else {
                db[l] += g[k];
            }
        });
    }
}

}  // namespace glassbox
