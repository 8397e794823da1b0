// Layer-wise relevance propagation: one backward pass per row through Network::backward with a
// rule per layer (network/lrp_rules.hpp), seeded with the target output's value.
#pragma once

#include "core/network/lrp_rules.hpp"
#include "core/network/network.hpp"

#include <optional>

namespace glassbox {

struct LrpResult {
    RowMatrixXf values;                      // rows x n_inputs: relevance at the input
    std::vector<RowMatrixXf> layer_relevance;  // per recorded layer: rows x layer width
    RowMatrixXd sums;  // rows x (1 + n_layers): total relevance at the input, then at each layer
    VectorXd output;   // f_target(x) per row: the relevance put in at the output
};

// One rule description per layer (nullopt: the plain gradient, e.g. for max pooling).
using LrpRuleSpecs = std::vector<std::optional<LrpRuleSpec>>;

// Builds the RuleMap's rule objects (they own their precomputed weights); throws
// std::invalid_argument naming the layer when a rule does not fit it.
std::vector<std::unique_ptr<BackwardRule>> make_lrp_rules(const Network& net,
                                                          const LrpRuleSpecs& specs);

// Relevance of every row for its target, recording the layers in `record` (layer indices).
LrpResult lrp(const Network& net, const ConstRowRef& X, const std::vector<int>& targets,
              const LrpRuleSpecs& specs, const std::vector<int>& record,
              const RunOptions& options);

}  // namespace glassbox
