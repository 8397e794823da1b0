#include "core/agnostic/shapley/coalitions.hpp"

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

Index CoalitionSet::insert(const std::uint64_t* bits) {
    std::string key(reinterpret_cast<const char*>(bits),
                    static_cast<std::size_t>(words_) * sizeof(std::uint64_t));
    const auto [it, fresh] = index_.emplace(std::move(key), size());
    if (fresh) append(bits);
    return it->second;
}

}  // namespace glassbox::shapley
