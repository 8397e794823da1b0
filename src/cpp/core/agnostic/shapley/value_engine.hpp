// The coalition value function every Shapley estimator evaluates through:
// v_i(S) = mean over background rows b of f(x_i on the groups in S, b elsewhere), for all outputs.
#pragma once

#include "core/agnostic/shapley/coalitions.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"

namespace glassbox::shapley {

// The game of one explanation job: the model, the explained rows X (n x p), the background
// B (m x p; a single baseline row is a background of one row) and the groups.
struct Game {
    const Model& model;
    ConstRowRef X;
    ConstRowRef B;
    const Groups& groups;
    RunOptions options;
    Index chunk_rows = 0;  // rows per model call; 0 plans it from the budget and the model

    Index n_rows() const { return X.rows(); }
    Index n_outputs() const { return model.n_outputs(); }
};

// Checks the shapes of a game (throws std::invalid_argument naming the argument).
void check_game(const Game& game);

// f(x_i) (n x k) and E_b f(b) (k): the values of the full and the empty coalition; spread (k):
// the standard deviation of f over the background rows (zero for one row).
struct Endpoints {
    RowMatrixXd fx;
    VectorXd base;
    VectorXd spread;
};
Endpoints endpoint_values(const Game& game);

// v(S) for explained rows [row_begin, row_end) and coalitions [coal_begin, coal_end) of `set`,
// written to out[(i - row_begin) * row_stride + (c - coal_begin) * coal_stride + o]; by default
// (strides 0) row_stride = C * k and coal_stride = k, C = coal_end - coal_begin.
//
// The virtual batch is (row, coalition, background row) in that order; a chunk holds whole
// (row, coalition) blocks of m rows, so each v(S) is reduced inside one chunk into its own slot
// (deterministic for any thread count), and many rows' coalitions share one model call.
// Consecutive coalitions of a row are written by copying the previous block and patching only
// the groups that differ (one group for Gray-code or permutation-prefix orders).
void coalition_values(const Game& game, const CoalitionSet& set, Index coal_begin, Index coal_end,
                      Index row_begin, Index row_end, double* out, Index row_stride = 0,
                      Index coal_stride = 0);
// The same for the explained rows `rows` (any subset, in order): v_i(S) goes to
// out[i * row_stride + (c - coal_begin) * coal_stride + o] (i the row's index in X). The rows'
// coalitions share model calls as above.
void coalition_values(const Game& game, const CoalitionSet& set, Index coal_begin, Index coal_end,
                      const std::vector<Index>& rows, double* out, Index row_stride,
                      Index coal_stride);

// Threads for a per-(row, output) loop of `jobs` jobs of `cost` operations each: one when the
// loop is too small to pay for waking a thread team (seeded results do not depend on it).
int loop_threads(const Game& game, Index jobs, double cost);

// Appends v(S) of coalitions [coal_begin, set.size()) for all rows to a coalition-major store
// (store[(c * n + i) * k + o]), the layout the sampled estimators grow round by round; written in
// place (the store reserves what the estimator may need at most, so it never copies itself).
// Only the rows `rows` are evaluated (the rows still sampling); the others' slots stay zero.
void append_coalition_values(const Game& game, const CoalitionSet& set, Index coal_begin,
                             const std::vector<Index>& rows, std::vector<double>& store);

}  // namespace glassbox::shapley
