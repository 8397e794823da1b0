#include "core/methods/guided.hpp"

#include "core/methods/rule_engine.hpp"
#include "core/network/deeplift_rules.hpp"

namespace glassbox {
namespace {

// A stateless worker: copies the rows, hands out a shared RuleMap, stores per-row results.
template <class Reduce>
struct RowWorker {
    const ConstRowRef* X;
    const RuleMap* map;
    Reduce reduce_fn;
    void fill(Index p, Index count, RowMatrixXf& points) { points = X->middleRows(p, count); }
    void forward(const Network& net, Tape& tape) const { net.forward(tape); }
    const RuleMap* rules() const { return map; }
    void reduce(Index p, Index count, const Tape& tape, const RowMatrixXf& grads) {
        reduce_fn(p, count, tape, grads);
    }
};

}  // namespace

RowMatrixXf modified_relu_gradients(const Network& net, const ConstRowRef& X,
                                    const std::vector<int>& targets, ReluRuleMode mode,
                                    const RunOptions& options) {
    const GuidedReluRule guided;
    const DeconvReluRule deconv;
    const BackwardRule* rule = mode == ReluRuleMode::Guided ? static_cast<const BackwardRule*>(&guided)
                                                            : &deconv;
    RuleMap map(net.n_layers(), nullptr);
    for (Index i = 0; i < net.n_layers(); ++i) {
        if (net.layer(i).kind() == "relu") map[i] = rule;
    }
    RowMatrixXf result(X.rows(), X.cols());
    auto reduce = [&](Index p, Index count, const Tape&, const RowMatrixXf& grads) {
        result.middleRows(p, count) = grads;
    };
    for_each_rule_block(net, X.rows(), 1, targets, options, 0, [&] {
        return RowWorker<decltype(reduce)>{&X, &map, reduce};
    });
    return result;
}

RowMatrixXf grad_cam(const Network& net, const ConstRowRef& X, const std::vector<int>& targets,
                     Index layer, const RunOptions& options) {
    require(layer >= 0 && layer < net.n_layers(), "layer: index out of range");
    const Shape& shape = net.layer_shape(layer);
    require(shape.size() == 3, "layer '" + net.layer_name(layer) +
                                   "': Grad-CAM needs a spatial (C, H, W) output, got shape " +
                                   shape_string(shape));
    const Index channels = shape[0], spatial = shape[1] * shape[2];
    RowMatrixXf maps(X.rows(), spatial);
    auto reduce = [&](Index p, Index count, const Tape& tape, const RowMatrixXf& grads) {
        const RowMatrixXf& acts = tape.activations[layer];
        for (Index i = 0; i < count; ++i) {
            // row i viewed as (C, H*W)
            Eigen::Map<const RowMatrixXf> a(acts.row(i).data(), channels, spatial);
            Eigen::Map<const RowMatrixXf> g(grads.row(i).data(), channels, spatial);
            const Eigen::RowVectorXf weights = g.rowwise().mean().transpose();
            maps.row(p + i) = (weights * a).cwiseMax(0.0f);
        }
    };
    for_each_rule_block(net, X.rows(), 1, targets, options, 0,
                        [&] { return RowWorker<decltype(reduce)>{&X, nullptr, reduce}; },
                        layer);
    return maps;
}

}  // namespace glassbox
