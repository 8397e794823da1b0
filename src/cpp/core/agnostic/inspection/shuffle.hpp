// Uniformly random shuffles from the counter streams, so a seeded permutation is the same on any
// thread and in any chunking.
#pragma once

#include "core/common.hpp"
#include "core/sampling/counter_rng.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <vector>

namespace glassbox::inspection {

// The first `count` entries of a uniformly shuffled [0, n): Fisher-Yates, step i swapping entry
// i with one of entries i .. n-1 picked by draw i of `key`, stopped after `count` steps. A short
// prefix of a long range keeps only the displaced entries (O(count) memory for any n).
inline std::vector<Index> shuffled_prefix(std::uint64_t key, Index n, Index count) {
    std::vector<Index> out(static_cast<std::size_t>(count));
    const auto pick = [&](Index i) {
        const auto offset = static_cast<Index>(CounterRng::uniform_at(key, std::uint64_t(i)) *
                                               static_cast<double>(n - i));
        return i + std::min(offset, n - i - 1);
    };
    if (4 * count >= n) {
        std::vector<Index> a(static_cast<std::size_t>(n));
        std::iota(a.begin(), a.end(), Index{0});
        for (Index i = 0; i < count; ++i) {
            std::swap(a[std::size_t(i)], a[std::size_t(pick(i))]);
            out[std::size_t(i)] = a[std::size_t(i)];
        }
        return out;
    }
    std::unordered_map<Index, Index> moved;  // position -> entry, where not the identity
    const auto at = [&](Index p) {
        const auto found = moved.find(p);
        return found == moved.end() ? p : found->second;
    };
    for (Index i = 0; i < count; ++i) {
        const Index j = pick(i);
        const Index entry_j = at(j);
        moved[j] = at(i);
        out[std::size_t(i)] = entry_j;
    }
    return out;
}

// The streams of the inspection methods (documented in the Python API for reference tests).
enum InspectionStream : std::uint64_t {
    kPermutationShuffle = 20,  // the permutation of each (group, repeat)
    kPermutationRows = 21,     // the max_samples subsample of each group
    kInteractionRows = 22,     // the rows the H-statistic uses
};

}  // namespace glassbox::inspection
