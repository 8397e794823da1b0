// Coalitions of feature groups, stored as packed bit rows, and the partition of features into groups.
#pragma once

#include "core/common.hpp"

#include <algorithm>

namespace glassbox::shapley {

// A partition of the model's input columns into d groups (a "player" of the game is a group).
struct Groups {
    Index n_features = 0;
    std::vector<std::vector<Index>> columns;  // columns[g]: the input columns of group g
    Index size() const { return static_cast<Index>(columns.size()); }
};

// Groups from group_of[column] in [0, n_groups); every group must own at least one column.
Groups make_groups(const std::vector<std::int64_t>& group_of, Index n_groups);

// A list of coalitions over d groups, one packed bit row (ceil(d / 64) words) per coalition.
class CoalitionSet {
public:
    explicit CoalitionSet(Index n_groups);

    Index n_groups() const { return d_; }
    Index words() const { return words_; }
    Index size() const { return static_cast<Index>(bits_.size()) / words_; }
    const std::uint64_t* row(Index c) const { return bits_.data() + c * words_; }
    bool contains(Index c, Index g) const { return (row(c)[g >> 6] >> (g & 63)) & 1u; }
    Index count(Index c) const;

    // Appends a coalition; returns its index (no duplicate check: for enumerations).
    Index append(const std::uint64_t* bits);
    // The index of an equal coalition added by insert(), appending it if new: repeated
    // coalitions are stored, and so evaluated, once.
    Index insert(const std::uint64_t* bits);
    // Room for `n_coalitions` coalitions, the hash index sized once for them: a set that stays
    // within it never reallocates (no transient double of its state while growing).
    void reserve(Index n_coalitions);

    // Bytes a set of `n_coalitions` coalitions over `n_groups` groups holds at most (its bit rows
    // and the hash index insert() keeps), for memory checks before a job starts.
    static std::size_t bytes_for(Index n_groups, Index n_coalitions);

private:
    std::uint64_t hash(const std::uint64_t* bits) const;
    void rebuild_index(std::size_t n_slots);

    Index d_, words_;
    std::vector<std::uint64_t> bits_;
    // open addressing (linear probing) over the coalitions insert() added: slot -> index + 1,
    // 0 = empty; at most half full. 32 bits: a set holds at most kMaxCount (1e9) coalitions.
    std::vector<std::uint32_t> slots_;
    Index n_indexed_ = 0;
};

// A single coalition under construction (a bit row of the set's width).
struct Bits {
    std::vector<std::uint64_t> words;
    explicit Bits(Index n_groups) : words(static_cast<std::size_t>((n_groups + 63) / 64), 0) {}
    void set(Index g) { words[static_cast<std::size_t>(g >> 6)] |= std::uint64_t{1} << (g & 63); }
    void clear() { std::fill(words.begin(), words.end(), 0); }
    const std::uint64_t* data() const { return words.data(); }
};

}  // namespace glassbox::shapley
