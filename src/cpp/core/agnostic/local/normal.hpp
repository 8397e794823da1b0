// The standard normal distribution in double: CDF, quantile and a truncated-normal quantile (for
// LIME's sampling within a bin).
#pragma once

#include "core/common.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace glassbox {

inline double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Acklam's rational approximation to the standard normal quantile, relative error below 1.2e-9
// (LIME's samples are rounded to float32, 6e-8, so no refinement step is needed): one rational
// function in the centre, another in sqrt(-2 log p) in the tails.
namespace acklam {
inline constexpr double kLow = 0.02425;  // the tails are p < kLow and p > 1 - kLow
inline constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
inline constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
inline constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
inline constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};

// The centre, q = p - 0.5 and r = q * q (T: double or an Eigen array).
template <class T>
auto centre(const T& q, const T& r) {
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

// The lower tail at q = sqrt(-2 log p) (negative; the upper tail is its negation at 1 - p).
template <class T>
auto lower_tail(const T& q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
}
}  // namespace acklam

inline double normal_ppf(double p) {
    if (p <= 0.0) return -std::numeric_limits<double>::infinity();
    if (p >= 1.0) return std::numeric_limits<double>::infinity();
    if (p < acklam::kLow || p > 1.0 - acklam::kLow) {
        const double x = acklam::lower_tail(std::sqrt(-2.0 * std::log(std::min(p, 1.0 - p))));
        return p < acklam::kLow ? x : -x;
    }
    const double q = p - 0.5;
    return acklam::centre(q, q * q);
}

// normal_ppf of p[0..n) into x: the centre's rational function vectorised for every p, then the
// few tail values (p < 0.02425 or p > 0.97575; a log and a square root each) redone one by one.
// Agrees with normal_ppf to rounding.
inline void normal_ppf(const double* p, double* x, Index n) {
    const Eigen::Map<const Eigen::ArrayXd> P(p, n);
    Eigen::Map<Eigen::ArrayXd> X(x, n);
    for (Index start = 0; start < n; start += 256) {  // blocks of 256 on the stack
        const Index m = std::min<Index>(256, n - start);
        const Eigen::Array<double, Eigen::Dynamic, 1, Eigen::ColMajor, 256, 1> q =
            P.segment(start, m) - 0.5;
        X.segment(start, m) = acklam::centre(q, q.square().eval());
    }
    for (Index i = 0; i < n; ++i) {
        if (!(p[i] >= acklam::kLow && p[i] <= 1.0 - acklam::kLow)) x[i] = normal_ppf(p[i]);
    }
}

// a or b without a branch (a data-dependent coin flip would cost a mispredict per value; compilers
// keep double selects as branches when only one side is computed)
inline double branchless_select(bool take_a, double a, double b) {
    const std::uint64_t mask = 0 - static_cast<std::uint64_t>(take_a);
    std::uint64_t bits_a, bits_b;
    std::memcpy(&bits_a, &a, sizeof a);
    std::memcpy(&bits_b, &b, sizeof b);
    const std::uint64_t bits = (bits_a & mask) | (bits_b & ~mask);
    double out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
}

// A standard normal truncated to [a, b] (a <= b), with the normal CDF terms its quantile needs
// computed once. The quantile of u in [0, 1) is one inverse-CDF evaluation on the lower half
// (p <= 0.5, through the complement in the upper half) so that neither tail loses precision; it
// splits into side_probability (per draw), normal_ppf (batched) and from_side (per draw), all
// without branches.
class TruncatedNormal {
public:
    TruncatedNormal(double a, double b)
        : a_(std::min(a, b)), b_(std::max(a, b)) {
        // a > 0: sample -X with X on [-b, -a], whose mass sits near 0 (u becomes 1 - u)
        const bool mirrored = a_ > 0.0;
        const double lo = mirrored ? -b_ : a_, hi = mirrored ? -a_ : b_;
        flip_ = mirrored ? 1.0 : 0.0;
        slope_ = mirrored ? -1.0 : 1.0;
        cdf_lo_ = normal_cdf(lo);
        mass_ = normal_cdf(hi) - cdf_lo_;
        tail_hi_ = normal_cdf(-hi);
    }

    // The lower-half probability whose normal quantile x gives the draw as from_side(x, sign).
    double side_probability(double u, double& sign) const {
        const double v = flip_ + slope_ * u;  // u, or exactly 1 - u when mirrored
        const double p = cdf_lo_ + v * mass_;
        const bool lower = p < 0.5;
        sign = branchless_select(lower, slope_, -slope_);
        return branchless_select(lower, p, tail_hi_ + (1.0 - v) * mass_);
    }

    double from_side(double x, double sign) const { return std::min(std::max(sign * x, a_), b_); }

    double quantile(double u) const {
        double sign;
        const double p = side_probability(u, sign);
        return from_side(normal_ppf(p), sign);
    }

private:
    double a_, b_;
    double flip_ = 0.0, slope_ = 1.0;  // v = flip + slope * u
    double cdf_lo_ = 0.0, mass_ = 0.0, tail_hi_ = 0.0;
};

}  // namespace glassbox
