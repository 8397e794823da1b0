// Counter-based random numbers: every draw is a pure function of (seed, stream, counters), so a
// seeded method gives bit-identical results whatever the thread count or chunking.
#pragma once

#include <cmath>
#include <cstdint>

namespace glassbox {

// SplitMix64's finaliser: a full-avalanche 64-bit mix.
inline std::uint64_t mix64(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

class CounterRng {
public:
    CounterRng(std::uint64_t seed, std::uint64_t stream) : key_(mix64(seed ^ mix64(stream))) {}

    std::uint64_t bits(std::uint64_t a, std::uint64_t b, std::uint64_t c) const {
        return mix64(mix64(mix64(key_ ^ a) ^ b) ^ c);
    }
    // Uniform in [0, 1) with 53 random bits.
    double uniform(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0) const {
        return static_cast<double>(bits(a, b, c) >> 11) * 0x1.0p-53;
    }
    // Standard normal (Box-Muller, cosine branch) from two independent uniforms.
    double normal(std::uint64_t a, std::uint64_t b, std::uint64_t c) const {
        const double u1 = uniform(a, b, 2 * c);
        const double u2 = uniform(a, b, 2 * c + 1);
        return std::sqrt(-2.0 * std::log1p(-u1)) * std::cos(6.283185307179586 * u2);
    }
    // Uniform integer in [0, n).
    std::int64_t index(std::uint64_t a, std::uint64_t b, std::int64_t n) const {
        const auto value = static_cast<std::int64_t>(uniform(a, b) * static_cast<double>(n));
        return value < n ? value : n - 1;
    }

private:
    std::uint64_t key_;
};

// The streams each sampled method draws from (documented in the Python API for reference tests).
enum Stream : std::uint64_t {
    kSmoothGradNoise = 0,
    kGradientShapNoise = 1,
    kGradientShapAlpha = 2,
    kGradientShapBaseline = 3,
};

}  // namespace glassbox
