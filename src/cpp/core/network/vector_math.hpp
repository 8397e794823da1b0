// Float math the compiler can vectorise: exp, expm1, log1p, tanh and the logistic sigmoid,
// written branch-free (selects, no libm calls) so that a loop over a row of activations becomes
// SIMD code at whatever instruction set the build targets. Range reduction + polynomials of the
// classic Cody-Waite / Cephes kind; max error a few float32 ulp against float64 over the whole
// range (tests/network/test_vector_math.py states the measured figures). Values below the
// smallest normal float flush to 0 (exp) where libm would return a denormal.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace glassbox::vmath {

namespace detail {

inline float from_bits(std::int32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline std::int32_t to_bits(float f) {
    std::int32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

// 2^k for k in [-126, 127] (a normal float built from its exponent bits; 0 for k = -127).
inline float pow2(std::int32_t k) { return from_bits((k + 127) * (1 << 23)); }

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;     // ln 2 split so n * kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;  // ln 2 - kLn2Hi
constexpr float kExpHi = 88.7228394f;      // above: exp overflows float
constexpr float kExpLo = -87.3365479f;     // below: exp is under the smallest normal float

// e^r - 1 for |r| <= ln(2) / 2, to about 1 ulp (Taylor to r^8).
inline float expm1_reduced(float r) {
    float p = 1.0f / 40320.0f;
    p = p * r + 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    return p * r * r + r;
}

// Adding 1.5 * 2^23 to a float of magnitude below 2^22 rounds it to an integer (in the default
// round-to-nearest mode), which then sits in the low bits of the sum: a floor without a float ->
// int -> float round trip, in three vector instructions.
constexpr float kRound = 12582912.0f;

// x = k ln2 + r with |r| <= ln(2) / 2 and k integral, for x in [-88.8, 88.8], not NaN.
inline std::int32_t reduce(float x, float& r) {
    const float t = x * kLog2e + kRound;
    const float n = t - kRound;
    r = x - n * kLn2Hi - n * kLn2Lo;
    return to_bits(t) - to_bits(kRound);
}

// reduce() of x clamped to [lo, hi]; NaN is clamped to lo (callers select NaN back).
inline std::int32_t reduce(float x, float lo, float hi, float& r) {
    return reduce(std::min(std::max(lo, x), hi), r);  // std::max(lo, NaN) is lo
}

}  // namespace detail

// e^x for x in [kExpBoundedLo, kExpBoundedHi], not NaN: the caller clamps, in the form
// std::min(bound, x), which maps NaN to the bound (one vector min, no range selects here).
constexpr float kExpBoundedLo = detail::kExpLo;
constexpr float kExpBoundedHi = 88.0f;
inline float exp_bounded(float x) {
    float r;
    const std::int32_t k = detail::reduce(x, r);
    return (detail::expm1_reduced(r) + 1.0f) * detail::pow2(k);
}

// e^x; +inf above the float range, 0 below the smallest normal float, NaN stays NaN.
inline float exp(float x) {
    float r;
    const std::int32_t k = detail::reduce(x, detail::kExpLo, detail::kExpHi, r);
    // k runs from -126 to 128: 2^128 is not a float, so scale by 2^h 2^(k - h), h = k / 2
    const std::int32_t h = k >> 1;
    const float y = (detail::expm1_reduced(r) + 1.0f) * detail::pow2(h) * detail::pow2(k - h);
    const float inf = std::numeric_limits<float>::infinity();
    const float z = x > detail::kExpHi ? inf : (x < detail::kExpLo ? 0.0f : y);
    return x == x ? z : x;
}

// e^x - 1, accurate near 0 (relative error a few ulp everywhere); -1 below -88.
inline float expm1(float x) {
    float r;
    const std::int32_t k = detail::reduce(x, -88.0f, detail::kExpHi, r);
    const float em = detail::expm1_reduced(r);
    // e^x - 1 = 2^k (e^r - 1) + (2^k - 1): exact for k = 0, no cancellation elsewhere (2^-127
    // is 0: -1 below -88); for k > 24 the -1 is below an ulp, and the scale splits as in exp
    // (2^128 is not a float). Both are computed: selects vectorise, calls in branches do not.
    const float t = detail::pow2(std::min(k, 127));
    const float small = t * em + (t - 1.0f);
    const std::int32_t h = k >> 1;
    const float large = (em + 1.0f) * detail::pow2(h) * detail::pow2(k - h);
    const float inf = std::numeric_limits<float>::infinity();
    const float z = x > detail::kExpHi ? inf : (k > 24 ? large : small);
    return x == x ? z : x;
}

// log(1 + x) for x >= -1: -inf at -1, NaN below, +inf at +inf.
inline float log1p(float x) {
    const float u = 1.0f + x;
    // u = m 2^e with m in [sqrt(1/2), sqrt(2)): f = m - 1 is small
    const std::int32_t bits = detail::to_bits(u);
    std::int32_t e = ((bits >> 23) & 0xff) - 127;
    float m = detail::from_bits((bits & 0x007fffff) | 0x3f800000);  // [1, 2)
    const bool big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    e = big ? e + 1 : e;
    const float f = m - 1.0f;
    const float z = f * f;
    float p = 7.0376836292e-2f;  // log(1 + f) = f - f^2 / 2 + f^3 P(f) (Cephes logf)
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    const float ef = static_cast<float>(e);
    float y = p * f * z + ef * detail::kLn2Lo - 0.5f * z + f + ef * detail::kLn2Hi;
    // 1 + x rounded: add back what the rounding lost, (x - (u - 1)) / u
    y += (x - (u - 1.0f)) / u;
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    y = u == inf ? inf : y;
    y = u == 0.0f ? -inf : y;
    y = u < 0.0f ? nan : y;
    return x == x ? y : x;
}

// tanh(x): an odd polynomial near 0, 1 - 2 / (e^(2|x|) + 1) elsewhere.
inline float tanh(float x) {
    const float z = x * x;
    float p = -5.70498872745e-3f;  // Cephes tanhf, |x| < 0.625
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = p * z * x + x;
    const float a = std::fabs(x);
    // tanh rounds to 1 from |x| = 9: e^(2|x|) clamped at e^20 needs no range checks
    const float big = 1.0f - 2.0f / (exp_bounded(std::min(20.0f, 2.0f * a)) + 1.0f);
    const float y = a < 0.625f ? small : std::copysign(big, x);
    return x == x ? y : x;
}

// erf(x) = x P(x^2) / Q(x^2) for |x| <= 3.92, +-1 beyond (where erf rounds to 1 in float): no
// exp and one division. P (degree 5) and Q (degree 5, Q(0) = 1) are a minimax-weighted fit of
// erf(x) / x on [0, 3.92] made for glassbox (relative error 1.9e-8 in float64); max 6.5 ulp in
// float near erf = 1, 2.2 ulp of max(|y|, |x|) in GELU (test_vector_math.py).
inline float erf(float x) {
    const float a = std::fabs(x);
    const float c = std::min(a, 3.92f);
    const float z = c * c;
    float p = 2.0500134001781943e-06f;
    p = p * z + 2.8485866050797305e-04f;
    p = p * z + 3.7650808125710288e-03f;
    p = p * z + 5.2747035331971025e-02f;
    p = p * z + 1.9039561165441330e-01f;
    p = p * z + 1.1283791463161190e+00f;
    float q = 3.8089692267018080e-05f;
    q = q * z + 1.1623830018771888e-03f;
    q = q * z + 1.4968154981294060e-02f;
    q = q * z + 1.1410439480683510e-01f;
    q = q * z + 5.0206646238039450e-01f;
    q = q * z + 1.0f;
    const float y = x * p / q;
    const float y_big = std::copysign(1.0f, x);
    return a > 3.92f ? y_big : y;  // NaN: a > 3.92 is false, so y = NaN
}

// 1 / (1 + e^-x); 0 below x = -88 (where it is below the smallest normal float).
inline float sigmoid(float x) {
    const float y = 1.0f / (1.0f + exp_bounded(std::max(kExpBoundedLo, std::min(kExpBoundedHi, -x))));
    const float z = x < -kExpBoundedHi ? 0.0f : y;
    return x == x ? z : x;
}

}  // namespace glassbox::vmath
