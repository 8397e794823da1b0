// LRP backward rules (Bach et al. 2015; Montavon et al. 2019) as BackwardRules of the one engine.
//
// A rule maps the relevance at a layer's output to the relevance at its inputs. Affine rules use
// only AffineLayer::affine_forward / affine_transpose with modified weights, so each works on Dense
// and Conv2d alike. Definitions (and their treatment of bias and the stabiliser) follow Zennit's
// rules; docs/methods.md has the formulas. stab(z) = z + s * (z >= 0 ? 1 : -1).
//
// To add a rule: write a BackwardRule subclass below (lrp_rules.cpp) and add one line to the
// table in make_lrp_rule.
#pragma once

#include "core/network/affine.hpp"
#include "core/network/rules.hpp"

#include <map>
#include <memory>
#include <string>

namespace glassbox {

// What a composite says about one layer: the rule's name, its scalar options and its arrays
// (the zB rule's "low" / "high", one row of the layer's input width).
struct LrpRuleSpec {
    std::string name;
    std::map<std::string, double> scalars;
    std::map<std::string, RowMatrixXf> arrays;
};

// Builds the rule for `layer` (its per-sample input width is `input_width`); throws
// std::invalid_argument for an unknown rule, a rule the layer type does not support, or bad
// options. Rules precompute their modified weights, so one object serves every thread.
std::unique_ptr<BackwardRule> make_lrp_rule(const LrpRuleSpec& spec, const Layer& layer,
                                            Index input_width);
std::vector<std::string> registered_lrp_rules();
// True for rules that need an affine (Dense / Conv2d) layer.
bool lrp_rule_needs_affine(const std::string& name);

}  // namespace glassbox
