// A keyed pseudo-random permutation of [0, n) evaluated index by index in O(1), so permuted rows
// are written straight into chunk buffers and no permutation (or copy of X) is ever stored.
#pragma once

#include "core/common.hpp"
#include "core/sampling/counter_rng.hpp"

namespace glassbox::inspection {

// A balanced Feistel network (6 rounds of mix64) on the smallest even number of bits covering
// n, with cycle walking: a value that falls outside [0, n) is encrypted again until it is back
// in range, which keeps the map a bijection of [0, n). Expected walks are below 4.
class KeyedPermutation {
public:
    KeyedPermutation(std::uint64_t key, Index n) : key_(key), n_(n) {
        int bits = 2;
        while (bits < 62 && (Index{1} << bits) < n) bits += 2;
        half_ = bits / 2;
        mask_ = (std::uint64_t{1} << half_) - 1;
    }

    Index operator()(Index i) const {
        if (n_ <= 1) return i;
        std::uint64_t x = static_cast<std::uint64_t>(i);
        do {
            x = encrypt(x);
        } while (x >= static_cast<std::uint64_t>(n_));
        return static_cast<Index>(x);
    }

private:
    std::uint64_t encrypt(std::uint64_t x) const {
        std::uint64_t left = x >> half_, right = x & mask_;
        for (std::uint64_t round = 0; round < 6; ++round) {
            const std::uint64_t next = left ^ (mix64(key_ ^ (round << 56) ^ right) & mask_);
            left = right;
            right = next;
        }
        return (left << half_) | right;
    }

    std::uint64_t key_;
    Index n_;
    int half_;
    std::uint64_t mask_;
};

// The streams of the inspection methods (documented in the Python API for reference tests).
enum InspectionStream : std::uint64_t {
    kPermutationShuffle = 20,  // the permutation of each (group, repeat)
    kPermutationRows = 21,     // the max_samples subsample of each group
    kInteractionRows = 22,     // the rows the H-statistic uses
};

}  // namespace glassbox::inspection
