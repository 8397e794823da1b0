// Network: a DAG of layers in topological order with a recorded forward pass (the Tape) and one
// backward routine parameterised per layer by a BackwardRule.
#pragma once

#include "core/model.hpp"
#include "core/network/rules.hpp"
#include "core/parallel.hpp"

#include <atomic>
#include <memory>

namespace glassbox {

// Everything a backward pass needs from a forward pass, plus reusable buffers. One per thread.
struct Tape {
    RowMatrixXf input;                     // rows x n_inputs, filled by the caller
    std::vector<RowMatrixXf> activations;  // per layer output
    std::vector<RowMatrixXf> grads;        // per layer: d/d(output of the layer)
    RowMatrixXf input_grad;                // d/d(input), the result of backward()
    std::vector<RowMatrixXf> scratch;      // reused per-layer input-gradient buffers
    RowMatrixXf entry;                     // points entering at an inner layer (PassPoints)

    // Bytes held by all its buffers.
    std::size_t bytes() const {
        std::size_t floats =
            static_cast<std::size_t>(input.size() + input_grad.size() + entry.size());
        for (const auto* list : {&activations, &grads, &scratch}) {
            for (const RowMatrixXf& m : *list) floats += static_cast<std::size_t>(m.size());
        }
        return floats * sizeof(float);
    }
};

// Where a pass enters and leaves the network, for attributions to an inner layer (Captum's layer
// and neuron methods). The defaults are the plain pass: points enter as the network input and
// the seed is d/d(the last layer's output).
struct PassPoints {
    Index entry_layer = -1;  // points enter as this layer's output (-1: the network input)
    int entry_slot = -1;     // >= 0: only as this input of entry_layer (that edge alone)
    Index seed_layer = -1;   // the seed is d/d(this layer's output) (-1: the last layer)
    bool inner_entry() const { return entry_layer >= 0; }
};

// The calling thread's Tape, kept between calls so repeated small jobs reuse its buffers instead
// of faulting fresh pages in for every activation (measured: ~10% of a LeNet LRP call).
inline Tape& thread_tape() {
    thread_local Tape tape;
    return tape;
}
// Tapes holding more than this are released at the end of a call rather than kept.
constexpr std::size_t kKeptTapeBytes = std::size_t{16} << 20;

// A network is built layer by layer, then frozen: methods read it from many threads with the GIL
// released, so it must not change while in use. freeze() makes add_layer throw; NativeModel
// freezes the network it compiles, and the bindings freeze a network they run.
class Network final : public Model {
public:
    // input_shape: per-sample shape, {features} or {channels, height, width}; every extent >= 1
    // and at most kMaxActivationSize elements in all.
    explicit Network(Shape input_shape);

    // Appends a layer reading `inputs` (indices of earlier layers; -1 is the network input).
    // Throws std::invalid_argument naming the layer for bad params, shapes or non-finite weights,
    // an output above kMaxActivationSize elements per sample, or a frozen network.
    void add_layer(const std::string& kind, const std::string& name, std::vector<int> inputs,
                   const LayerParams& params);
    // After this the network is read-only (add_layer throws); it cannot be undone.
    void freeze() { frozen_.store(true); }
    bool frozen() const { return frozen_.load(); }

    Index n_inputs() const override { return n_inputs_; }
    const Shape& input_shape() const { return input_shape_; }
    Index n_outputs() const override;
    bool thread_safe() const override { return true; }
    void predict(const ConstRowRef& X, RowMatrixXf& Y) const override;
    void predict(const ConstRowRef& X, RowMatrixXf& Y, const RunOptions& options) const;

    // Runs layers [first, end) (end < 0: to the last layer) on tape.input and records their
    // activations; with first > 0 the activations of the layers the rest reads must already be
    // on the tape. Layers from `end` on keep stale activations (a partial pass for inspection).
    void forward(Tape& tape, Index first = 0, Index end = -1) const;
    // The full pass [0, end) of tape.input with the points `entry` (count x its width) in place
    // of the entry layer's output, or of the one input edge `points.entry_slot` of it.
    void forward(Tape& tape, const PassPoints& points, const RowMatrixXf& entry,
                 Index end = -1) const;
    const RowMatrixXf& output(const Tape& tape) const;
    // Pulls `seed` (rows x n_outputs, d/d output) back to tape.input_grad. `rules` gives one rule
    // per layer (nullptr or a null entry: the plain gradient). With stop >= 0 only layers after
    // `stop` run and the result is tape.grads[stop], d/d(output of layer stop); the caller
    // guarantees (reads_only_from) that those layers read nothing before `stop`.
    void backward(Tape& tape, const RowMatrixXf& seed, const RuleMap* rules = nullptr,
                  Index stop = -1) const;
    // Pulls `seed` (d/d output of points.seed_layer) back to the entry of `points`; the result,
    // d/d(entry), is left in tape.input_grad. Layers before the entry layer do not run.
    // `entry`: the points the forward pass took (needed when they entered through an edge).
    void backward(Tape& tape, const RowMatrixXf& seed, const PassPoints& points,
                  const RowMatrixXf& entry, const RuleMap* rules = nullptr) const;
    // Width of the entry of `points` (per sample) and checks of its indices.
    Index entry_width(const PassPoints& points) const;
    // True when every layer after `layer` reads only `layer` or later layers.
    bool reads_only_from(Index layer) const;

    Index n_layers() const { return static_cast<Index>(nodes_.size()); }
    const Layer& layer(Index i) const { return *nodes_[i].layer; }
    const std::string& layer_name(Index i) const { return nodes_[i].name; }
    const std::vector<int>& layer_inputs(Index i) const { return nodes_[i].inputs; }
    Index layer_size(Index i) const { return shape_size(layer_shape(i)); }
    const Shape& layer_shape(Index i) const { return nodes_[i].layer->output_shape(); }
    // Tape bytes one sample needs in a forward + backward pass (for chunk planning).
    std::size_t bytes_per_point() const;
    // Multiply-accumulates of one sample's forward pass.
    double macs_per_sample() const;

private:
    struct Node {
        std::string name;
        std::unique_ptr<Layer> layer;
        std::vector<int> inputs;
    };
    std::vector<Shape> input_shapes_of(const std::vector<int>& inputs) const;
    void run_forward(Tape& tape, Index first, Index end, const PassPoints* points,
                     const RowMatrixXf* entry) const;
    // `inner`: the entry is points.entry_layer (else the network input)
    void run_backward(Tape& tape, const RowMatrixXf& seed, const PassPoints& points,
                      const RowMatrixXf* entry, const RuleMap* rules, bool inner) const;
    const RowMatrixXf& value(const Tape& tape, int index) const;

    Shape input_shape_;
    Index n_inputs_;
    std::vector<Node> nodes_;
    std::atomic<bool> frozen_{false};
};

}  // namespace glassbox
