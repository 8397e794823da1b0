#include "core/network/recurrent.hpp"

namespace glassbox {
namespace {

template <class M>
RowMatrixXf sigmoid(const M& m) {
    return (1.0f + (-m.array()).exp()).inverse().matrix();
}

// Rows of a block's (rows, T * width) matrix at step t, as a (rows, width) matrix.
void gather(const RowMatrixXf& m, Index t, Index width, RowMatrixXf& out) {
    out.resize(m.rows(), width);
    for (Index r = 0; r < m.rows(); ++r) out.row(r) = m.block(r, t * width, 1, width);
}

}  // namespace

Recurrent::Recurrent(Cell cell, std::vector<RecurrentWeights> directions,
                     const std::vector<Shape>& input_shapes)
    : cell_(cell), directions_(std::move(directions)), gates_(cell == Cell::Lstm ? 4 : 3) {
    const Shape& in = single_input(input_shapes, kind());
    require(in.size() == 2, kind() + ": expects a sequence (T, features), got shape " +
                                shape_string(in));
    require(directions_.size() == 1 || directions_.size() == 2,
            kind() + ": expects one or two directions");
    steps_ = in[0], inputs_ = in[1];
    hidden_ = directions_[0].w_hh.cols();
    for (RecurrentWeights& w : directions_) {
        require(hidden_ > 0 && w.w_ih.rows() == gates_ * hidden_ && w.w_ih.cols() == inputs_ &&
                    w.w_hh.rows() == gates_ * hidden_ && w.w_hh.cols() == hidden_,
                kind() + ": weight_ih must be (" + std::to_string(gates_) + " H, " +
                    std::to_string(inputs_) + ") and weight_hh (" + std::to_string(gates_) +
                    " H, H) with H = " + std::to_string(hidden_));
        if (w.b_ih.size() == 0) w.b_ih = VectorXf::Zero(gates_ * hidden_);
        if (w.b_hh.size() == 0) w.b_hh = VectorXf::Zero(gates_ * hidden_);
        require(w.b_ih.size() == gates_ * hidden_ && w.b_hh.size() == gates_ * hidden_,
                kind() + ": biases need " + std::to_string(gates_ * hidden_) + " values");
    }
    output_shape_ = {steps_, hidden_ * static_cast<Index>(directions_.size())};
}

double Recurrent::macs_per_sample() const {
    return static_cast<double>(directions_.size()) * steps_ * gates_ * hidden_ *
           static_cast<double>(inputs_ + hidden_);
}

void Recurrent::run(std::size_t d, const RowMatrixXf& x, RowMatrixXf& out, Trace* trace) const {
    const RecurrentWeights& w = directions_[d];
    const Index rows = x.rows(), H = hidden_, GH = gates_ * H;
    // the input's part of every gate at every step: one GEMM over rows x steps
    const Eigen::Map<const RowMatrixXf> xs(x.data(), rows * steps_, inputs_);
    RowMatrixXf xg(rows * steps_, GH);
    xg.rowwise() = w.b_ih.transpose();
    xg.noalias() += xs * w.w_ih.transpose();
    RowMatrixXf h = RowMatrixXf::Zero(rows, H), c = RowMatrixXf::Zero(rows, H), hg(rows, GH);
    RowMatrixXf a(rows, GH);
    if (trace) {
        trace->gates.assign(steps_, {});
        trace->states.assign(steps_, {});
        trace->hidden.assign(cell_ == Cell::Gru ? steps_ : 0, {});
    }
    for (Index k = 0; k < steps_; ++k) {
        const Index t = step(k, d);
        hg.rowwise() = w.b_hh.transpose();
        hg.noalias() += h * w.w_hh.transpose();
        for (Index r = 0; r < rows; ++r) a.row(r) = xg.row(r * steps_ + t);
        // the gates of all rows at once, vectorised
        if (cell_ == Cell::Lstm) {
            a += hg;
            a.leftCols(2 * H) = sigmoid(a.leftCols(2 * H));
            a.middleCols(2 * H, H) = a.middleCols(2 * H, H).array().tanh().matrix();
            a.rightCols(H) = sigmoid(a.rightCols(H));
            c = (a.middleCols(H, H).array() * c.array() +
                 a.leftCols(H).array() * a.middleCols(2 * H, H).array())
                    .matrix();
            h = (a.rightCols(H).array() * c.array().tanh()).matrix();
        } else {
            a.leftCols(2 * H) = sigmoid(a.leftCols(2 * H) + hg.leftCols(2 * H));
            a.rightCols(H) = (a.rightCols(H).array() + a.leftCols(H).array() * hg.rightCols(H).array())
                                 .tanh()
                                 .matrix();
            const auto z = a.middleCols(H, H).array();
            h = ((1.0f - z) * a.rightCols(H).array() + z * h.array()).matrix();
            if (trace) trace->hidden[k] = hg.rightCols(H);
        }
        for (Index r = 0; r < rows; ++r) {
            out.block(r, t * H * directions_.size() + d * H, 1, H) = h.row(r);
        }
        if (trace) {
            trace->gates[k] = a;
            trace->states[k].resize(rows, cell_ == Cell::Lstm ? 2 * H : H);
            trace->states[k].leftCols(H) = h;
            if (cell_ == Cell::Lstm) trace->states[k].rightCols(H) = c;
        }
    }
}

void Recurrent::forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const {
    out.resize(inputs[0]->rows(), shape_size(output_shape_));
    for (std::size_t d = 0; d < directions_.size(); ++d) run(d, *inputs[0], out, nullptr);
}

void Recurrent::back(std::size_t d, const RowMatrixXf& x, const Trace& trace,
                     const RowMatrixXf& grad_out, RowMatrixXf& grad_x) const {
    const RecurrentWeights& w = directions_[d];
    const Index rows = x.rows(), H = hidden_, GH = gates_ * H;
    const Index width = H * static_cast<Index>(directions_.size());
    RowMatrixXf dh = RowMatrixXf::Zero(rows, H), dc = RowMatrixXf::Zero(rows, H);
    RowMatrixXf dx_gates(rows, GH), dh_gates(rows, GH), dx_step(rows, inputs_);
    const RowMatrixXf zeros = RowMatrixXf::Zero(rows, cell_ == Cell::Lstm ? 2 * H : H);
    for (Index k = steps_ - 1; k >= 0; --k) {
        const Index t = step(k, d);
        for (Index r = 0; r < rows; ++r) dh.row(r) += grad_out.block(r, t * width + d * H, 1, H);
        const RowMatrixXf& g = trace.gates[k];
        const RowMatrixXf& prev = k > 0 ? trace.states[k - 1] : zeros;
        if (cell_ == Cell::Lstm) {
            const auto i = g.leftCols(H).array(), f = g.middleCols(H, H).array();
            const auto gg = g.middleCols(2 * H, H).array(), o = g.rightCols(H).array();
            const auto tc = trace.states[k].rightCols(H).array().tanh();
            const auto dcj = (dc.array() + dh.array() * o * (1.0f - tc * tc)).eval();
            dx_gates.leftCols(H) = (dcj * gg * i * (1.0f - i)).matrix();
            dx_gates.middleCols(H, H) =
                (dcj * prev.rightCols(H).array() * f * (1.0f - f)).matrix();
            dx_gates.middleCols(2 * H, H) = (dcj * i * (1.0f - gg * gg)).matrix();
            dx_gates.rightCols(H) = (dh.array() * tc * o * (1.0f - o)).matrix();
            dc = (dcj * f).matrix();
            dh.setZero();
            dh.noalias() += dx_gates * w.w_hh;
        } else {
            const auto rg = g.leftCols(H).array(), z = g.middleCols(H, H).array();
            const auto n = g.rightCols(H).array();
            const auto dn = (dh.array() * (1.0f - z) * (1.0f - n * n)).eval();
            dx_gates.leftCols(H) = (dn * trace.hidden[k].array() * rg * (1.0f - rg)).matrix();
            dx_gates.middleCols(H, H) =
                (dh.array() * (prev.leftCols(H).array() - n) * z * (1.0f - z)).matrix();
            dx_gates.rightCols(H) = dn.matrix();
            dh_gates.leftCols(2 * H) = dx_gates.leftCols(2 * H);
            dh_gates.rightCols(H) = (dn * rg).matrix();
            dh = (dh.array() * z).matrix();  // the direct path h_{t-1} -> h_t
            dh.noalias() += dh_gates * w.w_hh;
        }
        dx_step.noalias() = dx_gates * w.w_ih;
        for (Index r = 0; r < rows; ++r) grad_x.block(r, t * inputs_, 1, inputs_) += dx_step.row(r);
    }
}

void Recurrent::backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                                  std::vector<RowMatrixXf>& grad_in) const {
    const RowMatrixXf& x = *io.inputs[0];
    grad_in[0].setZero(x.rows(), x.cols());
    RowMatrixXf out(x.rows(), shape_size(output_shape_));
    Trace trace;
    for (std::size_t d = 0; d < directions_.size(); ++d) {
        run(d, x, out, &trace);  // the forward pass again, recording the gates and states
        back(d, x, trace, grad_out, grad_in[0]);
    }
}

}  // namespace glassbox
