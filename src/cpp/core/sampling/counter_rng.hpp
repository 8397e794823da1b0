// Counter-based random numbers: every draw is a pure function of (seed, stream, counters), so a
// seeded method gives bit-identical results whatever the thread count or chunking.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

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

    // The key of the draws at counters (a, b); every value at (a, b, c) derives from it.
    std::uint64_t subkey(std::uint64_t a, std::uint64_t b) const { return mix64(mix64(key_ ^ a) ^ b); }

    // The 53 random bits of uniform_at(subkey, c), which is bits * 2^-53.
    static std::uint64_t bits_at(std::uint64_t subkey, std::uint64_t c) {
        return mix64(subkey ^ c) >> 11;
    }
    // Uniform in [0, 1) with 53 random bits.
    static double uniform_at(std::uint64_t subkey, std::uint64_t c) {
        return static_cast<double>(bits_at(subkey, c)) * 0x1.0p-53;
    }

    // bits_at and uniform_at at counter c for each of n subkeys, as loops compilers vectorise:
    // the integer-to-double conversion goes through two exact 26/27-bit halves (vector
    // conversions of 64-bit integers need AVX-512), giving the same values as uniform_at.
    static void bits_each(const std::uint64_t* subkeys, std::uint64_t c, std::uint64_t* out,
                          std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = bits_at(subkeys[i], c);
    }
    static void uniforms_each(const std::uint64_t* subkeys, std::uint64_t c, double* out,
                              std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) {
            const std::uint64_t bits = bits_at(subkeys[i], c);
            out[i] = (small_to_double(bits >> 26) * 0x1.0p26 +
                      small_to_double(bits & 0x3FFFFFFULL)) * 0x1.0p-53;
        }
    }
    double uniform(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0) const {
        return uniform_at(subkey(a, b), c);
    }

    // n standard normals at counters (a, b, 0..n-1): Box-Muller, both branches of each pair
    // (c = 2i takes the cosine, c = 2i + 1 the sine of uniforms 2i and 2i + 1).
    template <class Out>
    void normals(std::uint64_t a, std::uint64_t b, Out* out, std::int64_t n) const {
        const std::uint64_t key = subkey(a, b);
        for (std::int64_t pair = 0; 2 * pair < n; ++pair) {
            const double u1 = uniform_at(key, 2 * pair);
            const double u2 = uniform_at(key, 2 * pair + 1);
            const double radius = std::sqrt(-2.0 * std::log1p(-u1));
            const double angle = 6.283185307179586 * u2;
            out[2 * pair] = static_cast<Out>(radius * std::cos(angle));
            if (2 * pair + 1 < n) out[2 * pair + 1] = static_cast<Out>(radius * std::sin(angle));
        }
    }

    // Uniform integer in [0, n).
    std::int64_t index(std::uint64_t a, std::uint64_t b, std::int64_t n) const {
        const auto value = static_cast<std::int64_t>(uniform(a, b) * static_cast<double>(n));
        return value < n ? value : n - 1;
    }

private:
    // x < 2^52 as a double, exactly: x placed in the mantissa of 2^52, minus 2^52.
    static double small_to_double(std::uint64_t x) {
        const std::uint64_t bits = x | 0x4330000000000000ULL;
        double value;
        std::memcpy(&value, &bits, sizeof value);
        return value - 0x1.0p52;
    }

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
