#include "core/methods/deeplift.hpp"

#include "core/methods/rule_engine.hpp"
#include "core/network/deeplift_rules.hpp"

#include <algorithm>
#include <memory>

namespace glassbox {
namespace {

// What every worker reads. Point p explains row p / m against reference index ref(p):
// per-row mode (m = 1): baselines row p; cached mode: references row p % m, whose activations
// are in `cache`.
struct DeepLiftSetup {
    const Network& net;
    const ConstRowRef& X;
    const ConstRowRef& references;
    const std::vector<int>& targets;
    const Tape* cache;  // nullptr in per-row mode
    Index m;            // points per row
    RowMatrixXd& sum;   // rows x n_inputs, sum over the row's points of the attributions
    VectorXd& f_inputs;
    VectorXd* f_refs;   // per-row mode: f_target(b) per row

    Index reference_of(Index p) const { return cache ? p % m : p; }
};

// Per-thread state: the reference Tape for the current block and the rules reading it.
class DeepLiftWorker {
public:
    explicit DeepLiftWorker(const DeepLiftSetup& setup)
        : s_(&setup), ref_(std::make_unique<Tape>()) {
        const Network& net = setup.net;
        ref_->activations.resize(net.n_layers());
        rules_.assign(net.n_layers(), nullptr);
        for (Index i = 0; i < net.n_layers(); ++i) {
            const DeepLiftTrait trait = net.layer(i).deeplift_trait();
            if (trait == DeepLiftTrait::Gradient) continue;
            const int source = net.layer_inputs(i)[0];
            const RowMatrixXf* in = source < 0 ? &ref_->input : &ref_->activations[source];
            const RowMatrixXf* out = &ref_->activations[i];
            if (trait == DeepLiftTrait::Rescale) {
                owned_.push_back(std::make_unique<DeepLiftRescaleRule>(in, out));
            } else if (trait == DeepLiftTrait::Softmax) {
                owned_.push_back(std::make_unique<DeepLiftSoftmaxRule>(in, out));
            } else {
                owned_.push_back(std::make_unique<DeepLiftMaxPoolRule>(in, out));
            }
            rules_[i] = owned_.back().get();
            needed_.push_back(source);
            needed_.push_back(static_cast<int>(i));
        }
        std::sort(needed_.begin(), needed_.end());
        needed_.erase(std::unique(needed_.begin(), needed_.end()), needed_.end());
    }

    void fill(Index p, Index count, RowMatrixXf& points) {
        const DeepLiftSetup& s = *s_;
        block_begin_ = p;
        for (Index i = 0; i < count; ++i) points.row(i) = s.X.row((p + i) / s.m);
        if (!s.cache) {  // one reference per row: run its forward pass for this block
            ref_->input = s.references.middleRows(p, count);
            s.net.forward(*ref_);
            return;
        }
        // gather the block's reference activations from the cached pass over the references
        for (int slot : needed_) {
            const RowMatrixXf& from = slot < 0 ? s.cache->input : s.cache->activations[slot];
            RowMatrixXf& to = slot < 0 ? ref_->input : ref_->activations[slot];
            to.resize(count, from.cols());
            for (Index i = 0; i < count; ++i) to.row(i) = from.row(s.reference_of(p + i));
        }
    }

    // Every point of a row has the same input pass: run it once per distinct row of the block
    // (in cached mode, where a row has m points) and copy it to the row's points.
    void forward(const Network& net, Tape& tape) {
        if (!s_->cache || s_->m == 1) {
            net.forward(tape);
            return;
        }
        const Index count = tape.input.rows(), m = s_->m;
        const Index first_row = block_begin_ / m;
        const Index n_distinct = (block_begin_ + count - 1) / m - first_row + 1;
        rows_.input = s_->X.middleRows(first_row, n_distinct);
        net.forward(rows_);
        tape.activations.resize(net.n_layers());
        for (Index l = 0; l < net.n_layers(); ++l) {
            const RowMatrixXf& from = rows_.activations[l];
            RowMatrixXf& to = tape.activations[l];
            to.resize(count, from.cols());
            for (Index i = 0; i < count; ++i) to.row(i) = from.row((block_begin_ + i) / m - first_row);
        }
    }

    const RuleMap* rules() const { return &rules_; }

    void reduce(Index p, Index count, const Tape& tape, const RowMatrixXf& grads) {
        const DeepLiftSetup& s = *s_;
        const RowMatrixXf& out = s.net.output(tape);
        for (Index i = 0; i < count; ++i) {
            const Index row = (p + i) / s.m, ref = s.reference_of(p + i);
            const int t = s.targets[row];
            s.sum.row(row) += ((s.X.row(row) - s.references.row(ref)).cwiseProduct(grads.row(i)))
                                  .cast<double>();
            if ((p + i) % s.m == 0) s.f_inputs[row] = out(i, t);
            if (!s.cache) (*s.f_refs)[row] = s.net.output(*ref_)(i, t);
        }
    }

private:
    const DeepLiftSetup* s_;
    std::unique_ptr<Tape> ref_;  // heap-held: the rules point into it
    std::vector<std::unique_ptr<BackwardRule>> owned_;
    RuleMap rules_;
    std::vector<int> needed_;  // tape slots the rules read (-1 = input)
    Tape rows_;                // the input pass of the block's distinct rows
    Index block_begin_ = 0;
};

Attribution finish(RowMatrixXd&& sum, Index m, const VectorXd& f_inputs, VectorXd&& base) {
    Attribution out;
    const RowMatrixXd mean = sum / static_cast<double>(m);
    out.values = mean.cast<float>();
    out.delta = out.values.cast<double>().rowwise().sum() - (f_inputs - base);
    out.base_values = std::move(base);
    return out;
}

}  // namespace

Attribution deeplift(const Network& net, const ConstRowRef& X, const ConstRowRef& baselines,
                     const std::vector<int>& targets, const RunOptions& options) {
    require(baselines.rows() == X.rows() && baselines.cols() == X.cols(),
            "baselines: expected one row per row of X");
    RowMatrixXd sum = RowMatrixXd::Zero(X.rows(), X.cols());
    VectorXd f_inputs(X.rows()), f_refs(X.rows());
    const DeepLiftSetup setup{net, X, baselines, targets, nullptr, 1, sum, f_inputs, &f_refs};
    // the reference pass doubles the tape
    for_each_rule_block(net, X.rows(), 1, targets, options, net.bytes_per_point(),
                        [&] { return DeepLiftWorker(setup); });
    return finish(std::move(sum), 1, f_inputs, std::move(f_refs));
}

Attribution deeplift_shap(const Network& net, const ConstRowRef& X, const ConstRowRef& references,
                          const std::vector<int>& targets, const RunOptions& options) {
    require(references.rows() >= 1, "baselines: the reference distribution is empty");
    require(references.cols() == X.cols(), "baselines: width does not match X");
    const Index m = references.rows();
    Tape cache;  // every layer's activations for every reference, computed once
    cache.input = references;
    net.forward(cache);
    RowMatrixXd sum = RowMatrixXd::Zero(X.rows(), X.cols());
    VectorXd f_inputs(X.rows());
    const DeepLiftSetup setup{net, X, references, targets, &cache, m, sum, f_inputs, nullptr};
    for_each_rule_block(net, X.rows(), m, targets, options, net.bytes_per_point() / 2,
                        [&] { return DeepLiftWorker(setup); });
    VectorXd base(X.rows());
    const RowMatrixXf& f_refs = net.output(cache);
    for (Index i = 0; i < X.rows(); ++i) base[i] = f_refs.col(targets[i]).cast<double>().mean();
    return finish(std::move(sum), m, f_inputs, std::move(base));
}

}  // namespace glassbox
