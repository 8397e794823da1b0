#include "core/network/network.hpp"

#include "core/network/registry.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

namespace glassbox {
namespace {
const GradientRule kGradientRule;
}

Network::Network(Shape input_shape)
    : input_shape_(std::move(input_shape)),
      n_inputs_(checked_activation_size(input_shape_, "network: input_shape")) {}

namespace {
// Throws unless every weight array holds only finite values.
void require_finite_arrays(const LayerParams& params, const std::string& kind) {
    for (const auto& [key, array] : params.arrays) {
        const float* data = array.data();
        for (Index i = 0; i < array.size(); ++i) {
            require(std::isfinite(data[i]), kind + ": weight '" + key +
                                                "' holds NaN or infinite values (the first at "
                                                "flat index " +
                                                std::to_string(i) + ")");
        }
    }
}
}  // namespace

std::vector<Shape> Network::input_shapes_of(const std::vector<int>& inputs) const {
    std::vector<Shape> shapes;
    for (int input : inputs) shapes.push_back(input < 0 ? input_shape_ : layer_shape(input));
    return shapes;
}

void Network::add_layer(const std::string& kind, const std::string& name, std::vector<int> inputs,
                        const LayerParams& params) {
    require(!frozen(), "layer '" + name +
                           "': the network is frozen (a model is built from it and may be in "
                           "use); build a new model instead");
    const int index = static_cast<int>(nodes_.size());
    require(!inputs.empty(), "layer '" + name + "': needs at least one input");
    for (int input : inputs) {
        require(input >= -1 && input < index,
                "layer '" + name + "': input index " + std::to_string(input) +
                    " must be -1 (network input) or an earlier layer");
    }
    std::unique_ptr<Layer> layer;
    try {
        require_finite_arrays(params, kind);
        layer = make_layer(kind, params, input_shapes_of(inputs));
        checked_activation_size(layer->output_shape(), kind + ": output");
    } catch (const std::invalid_argument& error) {
        throw std::invalid_argument("layer '" + name + "': " + error.what());
    }
    nodes_.push_back(Node{name, std::move(layer), std::move(inputs)});
}

Index Network::n_outputs() const {
    return nodes_.empty() ? n_inputs_ : layer_size(n_layers() - 1);
}

const RowMatrixXf& Network::value(const Tape& tape, int index) const {
    return index < 0 ? tape.input : tape.activations[index];
}

const RowMatrixXf& Network::output(const Tape& tape) const {
    return value(tape, static_cast<int>(nodes_.size()) - 1);
}

void Network::forward(Tape& tape, Index first, Index end) const {
    run_forward(tape, first, end, nullptr, nullptr);
}

void Network::forward(Tape& tape, const PassPoints& points, const RowMatrixXf& entry,
                      Index end) const {
    run_forward(tape, 0, end, &points, &entry);
}

void Network::run_forward(Tape& tape, Index first, Index end, const PassPoints* points,
                          const RowMatrixXf* entry) const {
    tape.activations.resize(nodes_.size());
    std::vector<const RowMatrixXf*> inputs;
    const std::size_t last = end < 0 ? nodes_.size() : std::min(nodes_.size(), std::size_t(end));
    const Index substituted = points && points->inner_entry() ? points->entry_layer : -1;
    for (std::size_t i = static_cast<std::size_t>(first); i < last; ++i) {
        const bool at_entry = static_cast<Index>(i) == substituted;
        if (at_entry && points->entry_slot < 0) {
            tape.activations[i] = *entry;  // the layer's output is the points
            continue;
        }
        inputs.clear();
        for (int input : nodes_[i].inputs) inputs.push_back(&value(tape, input));
        if (at_entry) inputs[points->entry_slot] = entry;  // only this edge sees the points
        nodes_[i].layer->forward(inputs, tape.activations[i]);
    }
}

Index Network::entry_width(const PassPoints& points) const {
    const Index n = n_layers();
    require(points.entry_layer >= -1 && points.entry_layer < n,
            "layer: index " + std::to_string(points.entry_layer) + " is out of range for a "
            "network of " + std::to_string(n) + " layers");
    require(points.seed_layer >= -1 && points.seed_layer < n,
            "neuron layer: index " + std::to_string(points.seed_layer) + " is out of range");
    if (points.entry_layer < 0) return n_inputs_;
    const Node& node = nodes_[points.entry_layer];
    if (points.entry_slot < 0) return layer_size(points.entry_layer);
    require(points.entry_slot < static_cast<int>(node.inputs.size()),
            "layer '" + node.name + "': has " + std::to_string(node.inputs.size()) +
                " input(s), no input " + std::to_string(points.entry_slot));
    const int source = node.inputs[points.entry_slot];
    return source < 0 ? n_inputs_ : layer_size(source);
}

void Network::backward(Tape& tape, const RowMatrixXf& seed, const RuleMap* rules,
                       Index stop) const {
    PassPoints points;
    points.entry_layer = stop;
    run_backward(tape, seed, points, nullptr, rules, stop >= 0);
    if (stop >= 0) std::swap(tape.grads[stop], tape.input_grad);
}

void Network::backward(Tape& tape, const RowMatrixXf& seed, const PassPoints& points,
                       const RowMatrixXf& entry, const RuleMap* rules) const {
    run_backward(tape, seed, points, &entry, rules, points.inner_entry());
}

void Network::run_backward(Tape& tape, const RowMatrixXf& seed, const PassPoints& points,
                           const RowMatrixXf* entry_values, const RuleMap* rules,
                           bool inner) const {
    const int n = static_cast<int>(nodes_.size());
    if (n == 0) {
        tape.input_grad = seed;
        return;
    }
    const int entry = inner ? static_cast<int>(points.entry_layer) : -1;
    const int slot = inner ? points.entry_slot : -1;
    const int top = points.seed_layer < 0 ? n - 1 : static_cast<int>(points.seed_layer);
    // layers [last_run, top] run: down to the entry layer itself when its input edge is the
    // entry (its backward gives that edge's gradient), else down to the layer after it
    const int last_run = !inner ? 0 : (slot >= 0 ? entry : entry + 1);
    tape.grads.resize(n);
    std::vector<char> has_grad(n, 0);
    char entry_seen = 0;  // the entry's gradient, in tape.input_grad
    tape.grads[top] = seed;
    has_grad[top] = 1;
    if (slot < 0 && top == entry) {  // the seed sits at the entry itself
        tape.input_grad = seed;
        entry_seen = 1;
    }

    LayerIO io;
    for (int i = top; i >= last_run; --i) {
        if (!has_grad[i]) continue;  // the layer does not reach the seed
        const Node& node = nodes_[i];
        io.inputs.clear();
        for (int input : node.inputs) io.inputs.push_back(&value(tape, input));
        if (i == entry && slot >= 0) io.inputs[slot] = entry_values;  // what the layer read
        io.output = &tape.activations[i];
        tape.scratch.resize(std::max(tape.scratch.size(), node.inputs.size()));
        const BackwardRule* rule = rules && (*rules)[i] ? (*rules)[i] : &kGradientRule;
        rule->backward(*node.layer, io, tape.grads[i], tape.scratch);
        for (std::size_t k = 0; k < node.inputs.size(); ++k) {
            const int input = node.inputs[k];
            // where this gradient goes: the entry (the network input, the entry layer's
            // output, or the entry edge), another layer, or nowhere (before the entry)
            const bool to_entry = slot >= 0 ? (i == entry && static_cast<int>(k) == slot)
                                            : input == entry;
            if (!to_entry && (input < 0 || input < entry || (slot >= 0 && i == entry))) continue;
            RowMatrixXf& target = to_entry ? tape.input_grad : tape.grads[input];
            char& seen = to_entry ? entry_seen : has_grad[input];
            if (seen) {
                target += tape.scratch[k];
            } else {
                std::swap(target, tape.scratch[k]);  // keeps both buffers alive for reuse
                seen = 1;
            }
        }
    }
    if (!entry_seen) {  // the entry does not reach the seed
        const Index width = inner ? entry_width(points) : n_inputs_;
        tape.input_grad.setZero(seed.rows(), width);
    }
}

bool Network::reads_only_from(Index layer) const {
    for (std::size_t i = static_cast<std::size_t>(layer) + 1; i < nodes_.size(); ++i) {
        for (int input : nodes_[i].inputs) {
            if (input < layer) return false;
        }
    }
    return true;
}

void Network::predict(const ConstRowRef& X, RowMatrixXf& Y) const { predict(X, Y, RunOptions{}); }

void Network::predict(const ConstRowRef& X, RowMatrixXf& Y, const RunOptions& options) const {
    require(X.cols() == n_inputs_, "X: expected " + std::to_string(n_inputs_) + " features, got " +
                                       std::to_string(X.cols()));
    const Index rows = X.rows();
    Y.resize(rows, n_outputs());
    const Index block = plan_block_points(bytes_per_point(), options.memory_budget, rows);
    const Index n_blocks = (rows + block - 1) / block;
    ParallelErrors errors;  // no exception (bad_alloc, Interrupted) may leave the region
#pragma omp parallel num_threads(team_size(options.n_threads, n_blocks))
    {
        Tape& tape = thread_tape();
#pragma omp for schedule(dynamic, 1)
        for (Index b = 0; b < n_blocks; ++b) {
            errors.run([&] {
                check_interrupt(options);
                const Index begin = b * block;
                const Index count = std::min(block, rows - begin);
                tape.input = X.middleRows(begin, count);
                forward(tape);
                Y.middleRows(begin, count) = output(tape);
            });
        }
        if (tape.bytes() > kKeptTapeBytes || errors.stopped()) tape = Tape();
    }
    errors.rethrow();
}

std::size_t Network::bytes_per_point() const {
    // input + input grad, and per layer its activation and its gradient
    std::size_t floats = 2 * static_cast<std::size_t>(n_inputs_);
    for (const Node& node : nodes_) {
        floats += 2 * static_cast<std::size_t>(shape_size(node.layer->output_shape()));
    }
    return floats * sizeof(float);
}

double Network::macs_per_sample() const {
    double total = 0.0;
    for (const Node& node : nodes_) total += node.layer->macs_per_sample();
    return total;
}

}  // namespace glassbox
