// LSTM and GRU layers over a sequence (torch's nn.LSTM / nn.GRU, batch_first, one layer, one or
// both directions, zero initial state): (T, I) per sample in, (T, H * directions) out, the
// forward direction's h_t then the reverse direction's.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

enum class Cell { Lstm, Gru };

// One direction's weights, torch's layout: gates stacked in rows (LSTM i, f, g, o; GRU r, z, n).
struct RecurrentWeights {
    RowMatrixXf w_ih;  // (G H, I)
    RowMatrixXf w_hh;  // (G H, H)
    VectorXf b_ih, b_hh;
};

class Recurrent final : public Layer {
public:
    Recurrent(Cell cell, std::vector<RecurrentWeights> directions,
              const std::vector<Shape>& input_shapes);
    std::string kind() const override { return cell_ == Cell::Lstm ? "lstm" : "gru"; }
    void forward(const std::vector<const RowMatrixXf*>& inputs, RowMatrixXf& out) const override;
    void backward_gradient(const LayerIO& io, const RowMatrixXf& grad_out,
                           std::vector<RowMatrixXf>& grad_in) const override;
    double macs_per_sample() const override;

    // What a backward pass (or an LRP rule) needs of one direction's forward pass over a block
    // of rows; index k is the k-th step the direction takes (step(k, d) is its time index).
    struct Trace {
        std::vector<RowMatrixXf> gates;   // per step: the activated gates (rows x G H)
        std::vector<RowMatrixXf> states;  // per step: h_t (LSTM: then c_t), rows x H (x 2)
        std::vector<RowMatrixXf> hidden;  // GRU: per step W_hn h_{t-1} + b_hn (rows x H)
    };
    // Runs direction d over the rows of x, writing h_t into out's columns of that direction;
    // with a trace, records what backward needs.
    void run(std::size_t d, const RowMatrixXf& x, RowMatrixXf& out, Trace* trace) const;
    Cell cell() const { return cell_; }
    std::size_t directions() const { return directions_.size(); }
    const RecurrentWeights& weights(std::size_t d) const { return directions_[d]; }
    Index steps() const { return steps_; }
    Index hidden() const { return hidden_; }
    Index inputs() const { return inputs_; }
    Index step(Index k, std::size_t d) const { return d == 0 ? k : steps_ - 1 - k; }

private:
    void back(std::size_t d, const RowMatrixXf& x, const Trace& trace, const RowMatrixXf& grad_out,
              RowMatrixXf& grad_x) const;

    Cell cell_;
    std::vector<RecurrentWeights> directions_;
    Index steps_ = 1, inputs_ = 1, hidden_ = 1, gates_ = 4;
};

}  // namespace glassbox
