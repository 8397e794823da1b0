#include "core/agnostic/shapley/value_engine.hpp"

#include "core/agnostic/model_eval.hpp"

#include <algorithm>

namespace glassbox::shapley {
namespace {

// A native network runs chunks in parallel: keep them cache-sized so a job splits into many.
constexpr Index kNativeChunkRows = 4096;

// How (row, coalition) blocks of m rows are cut into model calls: `per_chunk` blocks per call,
// each explained row's C coalitions padded to `per_row` (a multiple of per_chunk) blocks.
struct UnitPlan {
    Index per_chunk;
    Index per_row;
};

// Whole blocks per call, budget-bounded. A native network's calls hold one explained row's
// blocks only, cut from its C coalitions alone (never from the number of rows), so each row is
// evaluated in the same calls whichever other rows the job explains: a job split into parts
// (batches of a file, Dask partitions) gives the bits of one job. A Python callable gets
// thousands of rows per call across rows instead. Never depends on threads.
UnitPlan plan_units(const Game& game, Index n_rows, Index C) {
    const Index m = game.B.rows();
    const bool per_row = game.model.thread_safe();
    const Index planned = per_row ? C : mul_count(n_rows, C, "rows x coalitions");
    Index rows = game.chunk_rows;
    if (rows <= 0) {
        rows = plan_chunk_rows(game.model, game.options.memory_budget, planned * m);
        if (per_row) rows = std::min(rows, kNativeChunkRows);
    }
    const Index per_chunk = std::max<Index>(1, std::min(planned, rows / m));
    if (!per_row) return {per_chunk, C};
    const Index calls = (C + per_chunk - 1) / per_chunk;  // evenly: < calls padding blocks
    const Index even = (C + calls - 1) / calls;
    return {even, even * calls};
}

// Writes group g of every row of `block` from x (in the coalition) or from the background.
void write_group(const Game& game, Eigen::Ref<RowMatrixXf> block, Index i, Index g, bool from_x) {
    for (Index col : game.groups.columns[static_cast<std::size_t>(g)]) {
        if (from_x) {
            block.col(col).setConstant(game.X(i, col));
        } else {
            block.col(col) = game.B.col(col);
        }
    }
}

// One chunk needs no thread team: on a busy machine waking one costs more than the work.
RunOptions chunk_options(const Game& game, Index total_rows, Index chunk_rows) {
    RunOptions options = game.options;
    if (total_rows <= chunk_rows) options.n_threads = 1;
    return options;
}

}  // namespace

void check_game(const Game& game) {
    const Index p = game.model.n_inputs();
    require(game.X.cols() == p, "X: expected " + std::to_string(p) + " columns, got " +
                                    std::to_string(game.X.cols()));
    require(game.B.cols() == p, "background: expected " + std::to_string(p) +
                                    " columns (the model's inputs), got " +
                                    std::to_string(game.B.cols()));
    require(game.B.rows() >= 1, "background: is empty; pass at least one row");
    require(game.groups.n_features == p, "groups: cover " +
                                             std::to_string(game.groups.n_features) +
                                             " features, the model has " + std::to_string(p));
}

namespace {

// f on `count` rows of `rows` (a ConstRowRef) into out (count x k), `chunk` rows per call.
void outputs_of(const Game& game, const ConstRowRef& rows, Index chunk, RowMatrixXd& out) {
    const Index count = rows.rows();
    out.resize(count, game.n_outputs());
    for_each_model_chunk(
        game.model, count, chunk, chunk_options(game, count, chunk),
        [&](Index first, Index size, RowMatrixXf& batch) { batch = rows.middleRows(first, size); },
        [&](Index first, Index size, const RowMatrixXf& Y) {
            out.middleRows(first, size) = Y.cast<double>();
        });
}

}  // namespace

Endpoints endpoint_values(const Game& game) {
    const Index n = game.X.rows(), m = game.B.rows(), k = game.n_outputs();
    Endpoints out{RowMatrixXd(n, k), VectorXd::Zero(k), VectorXd::Zero(k)};
    RowMatrixXd fb(m, k);
    if (game.model.thread_safe()) {
        // the background on its own, and each explained row in a call of its own: the same
        // bits whichever rows the job explains (see plan_units)
        const Index chunk = game.chunk_rows > 0 ? game.chunk_rows
                                                : std::min(plan_chunk_rows(game.model,
                                                                           game.options.memory_budget, m),
                                                           kNativeChunkRows);
        outputs_of(game, game.B, chunk, fb);
        outputs_of(game, game.X, 1, out.fx);
    } else {  // a Python callable: one call over X and the background together
        const Index chunk =
            game.chunk_rows > 0
                ? game.chunk_rows
                : std::min(plan_chunk_rows(game.model, game.options.memory_budget, n + m), n + m);
        for_each_model_chunk(
            game.model, n + m, chunk, chunk_options(game, n + m, chunk),
            [&](Index first, Index count, RowMatrixXf& rows) {
                for (Index r = first; r < first + count; ++r) {
                    rows.row(r - first) = r < n ? game.X.row(r) : game.B.row(r - n);
                }
            },
            [&](Index first, Index count, const RowMatrixXf& Y) {
                for (Index r = first; r < first + count; ++r) {
                    if (r < n) {
                        out.fx.row(r) = Y.row(r - first).cast<double>();
                    } else {
                        fb.row(r - n) = Y.row(r - first).cast<double>();
                    }
                }
            });
    }
    // summed in row order after the parallel loop: the same bits for any thread count
    for (Index b = 0; b < m; ++b) out.base += fb.row(b).transpose();
    out.base /= static_cast<double>(m);
    if (m > 1) {
        for (Index b = 0; b < m; ++b) {
            out.spread += (fb.row(b).transpose() - out.base).cwiseAbs2();
        }
        out.spread = (out.spread / static_cast<double>(m - 1)).cwiseSqrt();
    }
    return out;
}

namespace {

// coalition_values over `n_rows` units of rows: game row row_at(r), output slot row slot_at(r).
template <class RowAt, class SlotAt>
void values_of_rows(const Game& game, const CoalitionSet& set, Index coal_begin, Index coal_end,
                    Index n_rows, RowAt row_at, SlotAt slot_at, double* out, Index row_stride,
                    Index coal_stride) {
    const Index m = game.B.rows(), k = game.n_outputs(), words = set.words();
    const Index C = coal_end - coal_begin;
    if (mul_count(n_rows, C, "rows x coalitions") <= 0) return;
    if (coal_stride <= 0) coal_stride = k;
    if (row_stride <= 0) row_stride = C * k;
    const UnitPlan plan = plan_units(game, n_rows, C);
    const Index P = plan.per_row;  // blocks per row, padding included
    const Index total_units = mul_count(n_rows, P, "rows x coalitions");
    for_each_model_chunk(
        game.model, mul_count(total_units, m, "rows x coalitions x background rows"),
        plan.per_chunk * m, chunk_options(game, total_units * m, plan.per_chunk * m),
        [&](Index first, Index count, RowMatrixXf& rows) {
            const Index u0 = first / m, nu = count / m;
            for (Index u = u0; u < u0 + nu; ++u) {
                auto block = rows.middleRows((u - u0) * m, m);
                if (u % P >= C) {  // padding: evaluated, never read
                    block = game.B;
                    continue;
                }
                const Index i = row_at(u / P), c = coal_begin + u % P;
                const std::uint64_t* bits = set.row(c);
                if (u > u0 && u % P != 0) {
                    // the previous block is this row's previous coalition: patch the difference
                    block = rows.middleRows((u - 1 - u0) * m, m);
                    const std::uint64_t* prev = set.row(c - 1);
                    for (Index w = 0; w < words; ++w) {
                        for (std::uint64_t diff = prev[w] ^ bits[w]; diff; diff &= diff - 1) {
                            const Index g = w * 64 + __builtin_ctzll(diff);
                            write_group(game, block, i, g, set.contains(c, g));
                        }
                    }
                } else {
                    block = game.B;
                    for (Index w = 0; w < words; ++w) {
                        for (std::uint64_t in = bits[w]; in; in &= in - 1) {
                            write_group(game, block, i, w * 64 + __builtin_ctzll(in), true);
                        }
                    }
                }
            }
        },
        [&](Index first, Index count, const RowMatrixXf& Y) {
            const Index u0 = first / m, nu = count / m;
            for (Index u = u0; u < u0 + nu; ++u) {
                if (u % P >= C) continue;  // padding
                double* slot = out + slot_at(u / P) * row_stride + (u % P) * coal_stride;
                for (Index o = 0; o < k; ++o) {
                    double sum = 0.0;
                    for (Index b = 0; b < m; ++b) sum += Y((u - u0) * m + b, o);
                    slot[o] = sum / static_cast<double>(m);
                }
            }
        });
}

}  // namespace

void coalition_values(const Game& game, const CoalitionSet& set, Index coal_begin, Index coal_end,
                      Index row_begin, Index row_end, double* out, Index row_stride,
                      Index coal_stride) {
    values_of_rows(
        game, set, coal_begin, coal_end, row_end - row_begin,
        [row_begin](Index r) { return row_begin + r; }, [](Index r) { return r; }, out,
        row_stride, coal_stride);
}

void coalition_values(const Game& game, const CoalitionSet& set, Index coal_begin, Index coal_end,
                      const std::vector<Index>& rows, double* out, Index row_stride,
                      Index coal_stride) {
    const auto at = [&rows](Index r) { return rows[static_cast<std::size_t>(r)]; };
    values_of_rows(game, set, coal_begin, coal_end, static_cast<Index>(rows.size()), at, at, out,
                   row_stride, coal_stride);
}

int loop_threads(const Game& game, Index jobs, double cost) {
    return jobs > 1 && static_cast<double>(jobs) * cost > 2e6 ? resolve_threads(game.options.n_threads)
                                                                : 1;
}

void append_coalition_values(const Game& game, const CoalitionSet& set, Index coal_begin,
                             const std::vector<Index>& rows, std::vector<double>& store) {
    const Index n = game.X.rows(), k = game.n_outputs(), C = set.size() - coal_begin;
    if (C <= 0) return;
    const std::size_t offset = static_cast<std::size_t>(coal_begin * n * k);
    store.resize(offset + static_cast<std::size_t>(n * C * k), 0.0);
    // value (i, c) lands at ((coal_begin + c) * n + i) * k: rows k apart, coalitions n * k apart
    coalition_values(game, set, coal_begin, set.size(), rows, store.data() + offset, k, n * k);
}

}  // namespace glassbox::shapley
