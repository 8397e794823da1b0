#include "core/methods/lrp.hpp"

#include "core/methods/gradient_engine.hpp"

#include <omp.h>

namespace glassbox {
namespace {

// What one thread records during its current block: per layer the total relevance at the
// layer's output per row, and the relevance itself for the recorded layers.
struct ThreadRecord {
    RowMatrixXd sums;                    // count x n_layers
    std::vector<RowMatrixXf> relevance;  // per recorded layer
};

// Wraps a layer's rule: records the relevance arriving at the layer's output (into the calling
// thread's slot), then lets the rule pass it on. Rules see only their layer, so this is how the
// per-layer relevance leaves the one backward pass without a second walk.
class RecordingRule final : public BackwardRule {
public:
    RecordingRule(const BackwardRule* inner, Index layer, int record_slot,
                  std::vector<ThreadRecord>& threads)
        : inner_(inner), layer_(layer), record_slot_(record_slot), threads_(threads) {}
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        ThreadRecord& record = threads_[static_cast<std::size_t>(omp_get_thread_num())];
        for (Index i = 0; i < relevance.rows(); ++i) {  // double sums, no temporary matrix
            double total = 0.0;
            const float* row = relevance.data() + i * relevance.cols();
            for (Index j = 0; j < relevance.cols(); ++j) total += row[j];
            record.sums(i, layer_) = total;
        }
        if (record_slot_ >= 0) record.relevance[record_slot_] = relevance;
        inner_->backward(layer, io, relevance, grad_in);
    }

private:
    const BackwardRule* inner_;
    Index layer_;
    int record_slot_;
    std::vector<ThreadRecord>& threads_;
};

const GradientRule kGradient;

}  // namespace

std::vector<std::unique_ptr<BackwardRule>> make_lrp_rules(const Network& net,
                                                          const LrpRuleSpecs& specs) {
    require(static_cast<Index>(specs.size()) == net.n_layers(),
            "rules: expected one entry per layer (" + std::to_string(net.n_layers()) + "), got " +
                std::to_string(specs.size()));
    std::vector<std::unique_ptr<BackwardRule>> rules(specs.size());
    for (Index i = 0; i < net.n_layers(); ++i) {
        if (!specs[i]) continue;
        const std::vector<int>& inputs = net.layer_inputs(i);
        const Index width = inputs[0] < 0 ? net.n_inputs() : net.layer_size(inputs[0]);
        const std::string where = "layer '" + net.layer_name(i) + "' (" + net.layer(i).kind() + "): ";
        try {
            if (specs[i]->name == "pass") {
                require(inputs.size() == 1 && width == net.layer_size(i),
                        "rule 'pass' needs a layer with one input of its output's size");
            }
            rules[i] = make_lrp_rule(*specs[i], net.layer(i), width);
        } catch (const std::invalid_argument& error) {
            throw std::invalid_argument(where + error.what());
        }
    }
    return rules;
}

LrpResult lrp(const Network& net, const ConstRowRef& X, const std::vector<int>& targets,
              const LrpRuleSpecs& specs, const std::vector<int>& record,
              const RunOptions& options) {
    require(X.cols() == net.n_inputs(), "X: expected " + std::to_string(net.n_inputs()) +
                                            " features, got " + std::to_string(X.cols()));
    const auto rules = make_lrp_rules(net, specs);
    const Index n_layers = net.n_layers();
    std::vector<int> slot_of(static_cast<std::size_t>(n_layers), -1);
    std::size_t extra_bytes = static_cast<std::size_t>(n_layers) * sizeof(double);
    for (std::size_t k = 0; k < record.size(); ++k) {
        require(record[k] >= 0 && record[k] < n_layers,
                "layers: index " + std::to_string(record[k]) + " is out of range");
        slot_of[static_cast<std::size_t>(record[k])] = static_cast<int>(k);
        extra_bytes += static_cast<std::size_t>(net.layer_size(record[k])) * sizeof(float);
    }

    std::vector<ThreadRecord> threads(static_cast<std::size_t>(resolve_threads(options.n_threads)));
    for (ThreadRecord& t : threads) t.relevance.resize(record.size());
    std::vector<std::unique_ptr<BackwardRule>> recorders;
    RuleMap rule_map(static_cast<std::size_t>(n_layers));
    for (Index i = 0; i < n_layers; ++i) {
        const BackwardRule* inner = rules[i] ? rules[i].get() : &kGradient;
        recorders.push_back(std::make_unique<RecordingRule>(inner, i, slot_of[i], threads));
        rule_map[i] = recorders.back().get();
    }

    LrpResult out;
    const Index rows = X.rows();
    out.values.resize(rows, X.cols());
    out.sums.setZero(rows, 1 + n_layers);
    out.output.resize(rows);
    for (int layer : record) out.layer_relevance.emplace_back(rows, net.layer_size(layer));

    struct Worker {
        ThreadRecord* record;
        const ConstRowRef* X;
        const std::vector<int>* targets;
        LrpResult* out;
        const std::vector<int>* layers;
        void fill(Index p, Index count, RowMatrixXf& points) {
            points = X->middleRows(p, count);
            record->sums.setZero(count, record->sums.cols());
            for (std::size_t k = 0; k < layers->size(); ++k) {
                record->relevance[k].setZero(count, out->layer_relevance[k].cols());
            }
        }
        // Every rule is linear in the relevance, so seeding 1 at the target and scaling each
        // row by f_target(x) afterwards equals seeding f_target(x) (Captum does the same).
        void reduce(Index p, Index count, const RowMatrixXf&, const RowMatrixXf& grads,
                    const RowMatrixXf& outputs) {
            for (Index i = 0; i < count; ++i) {
                const float f = outputs(i, (*targets)[p + i]);
                out->output[p + i] = f;
                out->values.row(p + i) = f * grads.row(i);
                out->sums(p + i, 0) = static_cast<double>(f) * grads.row(i).cast<double>().sum();
                out->sums.row(p + i).tail(record->sums.cols()) =
                    static_cast<double>(f) * record->sums.row(i);
                for (std::size_t k = 0; k < layers->size(); ++k) {
                    out->layer_relevance[k].row(p + i) = f * record->relevance[k].row(i);
                }
            }
        }
    };
    for (ThreadRecord& t : threads) t.sums.resize(0, n_layers);
    for_each_gradient_block(
        net, rows, 1, targets, options, extra_bytes,
        [&] {
            return Worker{&threads[static_cast<std::size_t>(omp_get_thread_num())], &X, &targets,
                          &out, &record};
        },
        -1, &rule_map);
    return out;
}

}  // namespace glassbox
