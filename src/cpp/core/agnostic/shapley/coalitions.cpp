#include "core/agnostic/shapley/coalitions.hpp"

#include "core/parallel.hpp"
#include "core/sampling/counter_rng.hpp"

#include <algorithm>

namespace glassbox::shapley {

Groups make_groups(const std::vector<std::int64_t>& group_of, Index n_groups) {
    require(n_groups >= 1, "groups: expected at least one group");
    Groups groups;
    groups.n_features = static_cast<Index>(group_of.size());
    groups.columns.resize(static_cast<std::size_t>(n_groups));
    for (std::size_t col = 0; col < group_of.size(); ++col) {
        require(group_of[col] >= 0 && group_of[col] < n_groups,
                "groups: feature " + std::to_string(col) + " has no group in [0, " +
                    std::to_string(n_groups) + ")");
        groups.columns[static_cast<std::size_t>(group_of[col])].push_back(static_cast<Index>(col));
    }
    for (Index g = 0; g < n_groups; ++g) {
        require(!groups.columns[static_cast<std::size_t>(g)].empty(),
                "groups: group " + std::to_string(g) + " has no features");
    }
    return groups;
}

CoalitionSet::CoalitionSet(Index n_groups) : d_(n_groups), words_((n_groups + 63) / 64) {
    require(n_groups >= 1, "coalitions: expected at least one group");
}

Index CoalitionSet::count(Index c) const {
    Index total = 0;
    for (Index w = 0; w < words_; ++w) total += __builtin_popcountll(row(c)[w]);
    return total;
}

Index CoalitionSet::append(const std::uint64_t* bits) {
    bits_.insert(bits_.end(), bits, bits + words_);
    return size() - 1;
}

std::uint64_t CoalitionSet::hash(const std::uint64_t* bits) const {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (Index w = 0; w < words_; ++w) h = mix64(h ^ bits[w]);
    return h;
}

void CoalitionSet::rebuild_index(std::size_t n_slots) {
    std::vector<std::uint32_t> old = std::move(slots_);
    slots_.assign(n_slots, 0);
    const std::size_t mask = slots_.size() - 1;
    for (std::uint32_t entry : old) {
        if (entry == 0) continue;
        std::size_t slot = hash(row(entry - 1)) & mask;
        while (slots_[slot] != 0) slot = (slot + 1) & mask;
        slots_[slot] = entry;
    }
}

void CoalitionSet::reserve(Index n_coalitions) {
    require_count(n_coalitions, "coalitions", 0);
    bits_.reserve(static_cast<std::size_t>(n_coalitions * words_));
    std::size_t n_slots = 16;  // a power of two at least twice the coalitions: at most half full
    while (n_slots < 2 * static_cast<std::size_t>(n_coalitions)) n_slots *= 2;
    if (n_slots > slots_.size()) rebuild_index(n_slots);
}

Index CoalitionSet::insert(const std::uint64_t* bits) {
    if (2 * (n_indexed_ + 1) > static_cast<Index>(slots_.size())) {
        rebuild_index(std::max<std::size_t>(16, 2 * slots_.size()));
    }
    require(size() < kMaxCount, "coalitions: more than " + std::to_string(kMaxCount));
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash(bits) & mask;; slot = (slot + 1) & mask) {
        const std::uint32_t entry = slots_[slot];
        if (entry == 0) {
            const Index c = append(bits);
            slots_[slot] = static_cast<std::uint32_t>(c + 1);
            ++n_indexed_;
            return c;
        }
        if (std::equal(bits, bits + words_, row(entry - 1))) return entry - 1;
    }
}

std::size_t CoalitionSet::bytes_for(Index n_groups, Index n_coalitions) {
    // bit rows (twice: a growing vector when not reserved), plus the index: up to 4 slots per
    // coalition (a power of two at least twice the count)
    const std::size_t words = static_cast<std::size_t>((n_groups + 63) / 64);
    return bytes_of(n_coalitions, 2 * sizeof(std::uint64_t) * words + 4 * sizeof(std::uint32_t));
}

}  // namespace glassbox::shapley
