// Exact Shapley values and pairwise Shapley interaction values from all 2^d coalitions.
#pragma once

#include "core/agnostic/shapley/value_engine.hpp"

namespace glassbox::shapley {

// The largest d ExactShapley / ShapleyInteractions accept (2^d coalitions per row).
constexpr Index kMaxExactGroups = 20;

struct ExactResult {
    RowMatrixXd values;  // n x (d * k): phi(i, g, o) at (i, g * k + o)
    RowMatrixXd interactions;  // n x (d * d * k) when asked for, else empty
    RowMatrixXd fx;      // n x k
    VectorXd base;       // k
};

// Evaluates every coalition of every row in Gray-code order (consecutive coalitions differ by one
// group, so each block is the previous one with one group's columns patched), rows in blocks
// whose 2^d x k value table fits the memory budget, then
//   phi_g = sum_{S not containing g} |S|! (d - |S| - 1)! / d! (v(S + g) - v(S))
// in O(2^d d) per row and output. With `interactions`, also the pairwise Shapley interaction
// values in shap's TreeExplainer convention: off-diagonal entries are half the Shapley
// interaction index I_gh = sum_{S without g, h} |S|! (d - |S| - 2)! / (d - 1)!
// (v(S+g+h) - v(S+g) - v(S+h) + v(S)), the diagonal is phi_g minus its row's off-diagonal
// entries, so each row sums to phi_g and the whole matrix to f(x) - E f(B).
ExactResult exact_shapley(const Game& game, bool interactions);

}  // namespace glassbox::shapley
