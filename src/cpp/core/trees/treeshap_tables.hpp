// Leaf tables for TreeSHAP (after Fast TreeSHAP v2, Yang 2021).
//
// A leaf l of a tree has m unique features on its path. In every TreeSHAP value function the
// leaf's share of each of those features depends on a row x only through the set of them x
// "disagrees" with (x goes the other way at some split on the feature): an m-bit mask. So for
// trees whose leaves have few path features, the shares per unit leaf value can be tabled once
// per call, 2^m rows per leaf, and each row's work becomes one walk over the tree that carries
// its mask down (walk_masks) plus m table reads per leaf, instead of a polynomial walk
// (path-dependent) or one walk per background row (interventional):
//
// - path-dependent: with a_j = 1 for an agreed feature, z_j its path's product of cover ratios
//   and g_j(t) = t a_j + (1 - t) z_j, feature p's share is (a_p - z_p) * int_0^1 prod_{j != p}
//   g_j(t) dt (treeshap_linear.cpp derives it); interaction pairs p < r:
//   (a_p - z_p)(a_r - z_r) / 2 * int prod_{j != p, r} g_j (half of phi_p|r on - phi_p|r off),
//   tabled after the values (m (m + 1) / 2 entries per row).
//   Gauss-Legendre rules integrate these polynomials exactly.
// - interventional: a background row z with mask M reaches the leaf in a hybrid of x and z only
//   when M and x's mask X are disjoint; then A = M (taken from x), B = X (taken from z), and
//   each feature of A gets W(|A| - 1, |B|), each of B -W(|A|, |B| - 1), W(s, t) = s! t! /
//   (s + t + 1)! (treeshap_interventional.cpp). Counting the background rows per mask makes the
//   table the background mean, for every X at once (3^m pairs of disjoint masks per leaf).
//
// Which trees get tables is a cost estimate per tree (plan_tables); trees too large for them keep
// the per-row walks. Tables live only for a block of trees whose tables fit the memory budget.
#pragma once

#include "core/parallel.hpp"
#include "core/trees/ensemble.hpp"
#include "core/trees/treeshap.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace glassbox::trees::detail {

// Trees whose leaves have more path features than this never get tables (2^m rows per leaf).
constexpr int kMaxTableFeatures = 16;
// Rows per chunk where a block has tables.
constexpr Index kTableRowsPerChunk = 256;

// Each node's position among the unique features of its path, each leaf's number of them, and
// for trees whose leaves have at most kMaxTableFeatures (those that may get tables) the rest.
struct LeafPaths {
    std::vector<std::int32_t> position;    // N: the node's feature's position on its path
    std::vector<std::int64_t> leaf_start;  // N: at a leaf, its first entry in features / zero
    std::vector<std::int32_t> leaf_size;   // N: at a leaf, m
    std::vector<std::int32_t> features;    // per leaf, its path features by position
    std::vector<std::int32_t> local;       // the same as indices into its tree's features
    std::vector<std::int64_t> tree_feature_start;  // T + 1: each tree's features in
    std::vector<std::int32_t> tree_features;       // tree_features (each once)
    std::vector<double> zero;              // per leaf and position: the product of cover ratios
    std::vector<std::int32_t> tree_max_size;  // per tree: the largest m of its leaves
    std::vector<std::int64_t> tree_preorder_start;  // T + 1: each tree's internal nodes in
    std::vector<std::int32_t> preorder;             // preorder (parents before children)
    std::vector<std::int64_t> tree_leaf_start;      // T + 1: each tree's leaves in
    std::vector<std::int32_t> leaves;               // leaves
};

// One pass over every tree.
LeafPaths leaf_paths(const TreeEnsemble& model);

enum class TableKind { values, pairs, interventional };

// Which trees get tables, and the blocks of trees [block_ends[b-1], block_ends[b]) whose tables
// are built together (each block's tables fit the memory budget; a tree whose tables alone do
// not keeps its walks).
struct TablePlan {
    std::vector<char> tabled;
    std::vector<Index> block_ends;
};
// `rows` rows to explain, `background` rows (interventional), `uses` per tree the number of
// per-row walks the fallback makes (pairs: 1 + the features the tree splits on). `use` forces
// tables on every tree that can have them, or on none (tests compare the two).
TablePlan plan_tables(const TreeEnsemble& model, const LeafPaths& paths, TableKind kind,
                      Index rows, Index background, const std::vector<Index>& uses,
                      TableUse use, const RunOptions& options);

// The tables of the tabled trees of [t0, t1): leaf_offset[node - first node of t0] is where a
// leaf's 2^m rows of `stride(m)` doubles start (-1 for leaves of untabled trees).
struct LeafTables {
    std::int64_t first_node = 0;
    std::vector<std::int64_t> leaf_offset;
    std::vector<double> values;
    const double* rows_of(std::int32_t node) const {
        return values.data() + leaf_offset[node - first_node];
    }
};
// s! t! / (s + t + 1)! (the pair games' Shapley weights) at [s * stride + t], s + t < stride.
std::vector<double> pair_weights(Index stride);

// Entries per table row: m (values, interventional) or m (m + 1) / 2 (pairs: values, then pairs).
Index table_stride(TableKind kind, Index m);

// Builds the block's tables, trees in parallel. `background` is used by interventional only.
LeafTables build_tables(const TreeEnsemble& model, const LeafPaths& paths, TableKind kind,
                        const TablePlan& plan, Index t0, Index t1, const ConstRowRef& background,
                        const RunOptions& options);

// Calls at_leaf(leaf, mask) for every leaf of the subtree at `node`, with the bits of `mask`
// set for the path features x disagrees with.
template <class AtLeaf>
void walk_masks(const TreeEnsemble& model, const LeafPaths& paths, std::int32_t node,
                std::uint32_t mask, const float* x, AtLeaf& at_leaf) {
    const TreeEnsembleArrays& a = model.arrays();
    for (;;) {
        const std::int32_t f = a.features[node];
        if (f < 0) {
            at_leaf(node, mask);
            return;
        }
        const std::int32_t hot = model.next(node, x[f]);
        const std::int32_t left = a.children_left[node];
        const std::int32_t cold = hot == left ? a.children_right[node] : left;
        walk_masks(model, paths, cold, mask | (1u << paths.position[node]), x, at_leaf);
        node = hot;
    }
}

// Adds row x's interaction shares of tree t from its pair tables into out (d, d, k): the values
// on the diagonal and each pair as phi_pr and phi_rp, both subtracted from the diagonal.
void add_pairs_from_tables(const TreeEnsemble& model, const LeafPaths& paths,
                           const LeafTables& tables, Index t, const float* x, double* out);

// Per-worker buffers of add_rows_from_tables (reused across calls).
struct TableScratch {
    std::vector<std::uint32_t> node_masks, leaf_masks;
    std::vector<double> sums;
};
// The shares of tree t from its values or interventional tables (m entries per row) for rows
// [begin, end) of X into the same rows of out (n, d * k), leaf by leaf over the rows: a leaf's
// table stays in cache while every row reads it.
void add_rows_from_tables(const TreeEnsemble& model, const LeafPaths& paths,
                          const LeafTables& tables, Index t, const ConstRowRef& X, Index begin,
                          Index end, RowMatrixXd& out, TableScratch& scratch);

// Runs work(tables, t0, t1, begin, end) for every block of trees [t0, t1) of the plan (its
// tables built first) and every chunk of rows [begin, end) of [0, n), chunks in parallel; each
// row sees the blocks in order, so its sums do not depend on the thread count.
template <class ChunkWork>
void for_each_block(const TreeEnsemble& model, const LeafPaths& paths, TableKind kind,
                    const TablePlan& plan, Index n, const ConstRowRef& background,
                    const RunOptions& options, ChunkWork&& work) {
    const auto blocks = static_cast<Index>(plan.block_ends.size());
    add_progress_total(options, mul_count(n, blocks, "rows"));
    RunOptions inner = options;
    inner.total_declared = true;
    Index t0 = 0;
    for (const Index t1 : plan.block_ends) {
        const LeafTables tables =
            build_tables(model, paths, kind, plan, t0, t1, background, inner);
        // A row reads one random table row per leaf: larger chunks of rows per tree keep the
        // tree's tables in cache for more of them.
        const bool tabled = std::find(plan.tabled.begin() + t0, plan.tabled.begin() + t1, 1) !=
                            plan.tabled.begin() + t1;
        for_each_chunk(
            n, inner, [&](Index begin, Index end) { work(tables, t0, t1, begin, end); },
            tabled ? kTableRowsPerChunk : kRowsPerChunk);
        t0 = t1;
    }
}

}  // namespace glassbox::trees::detail
