// The standard normal distribution in double: CDF, quantile and a truncated-normal quantile (for
// LIME's sampling within a bin).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace glassbox {

inline double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Quantile of the standard normal: Acklam's rational approximation, relative error below 1.2e-9
// (LIME's samples are rounded to float32, 6e-8, so no refinement step is needed).
inline double normal_ppf(double p) {
    if (p <= 0.0) return -std::numeric_limits<double>::infinity();
    if (p >= 1.0) return std::numeric_limits<double>::infinity();
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    const double low = 0.02425;
    double x;
    if (p < low || p > 1.0 - low) {
        const double q = std::sqrt(-2.0 * std::log(p < low ? p : 1.0 - p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
        if (p > low) x = -x;
    } else {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    }
    return x;
}

// A standard normal truncated to [a, b] (a <= b), with the normal CDF terms its quantile needs
// computed once: the quantile of u in [0, 1) is then one inverse-CDF evaluation, taken through
// the complement in the upper half so that neither tail loses precision.
class TruncatedNormal {
public:
    TruncatedNormal(double a, double b)
        : a_(std::min(a, b)), b_(std::max(a, b)), mirrored_(a_ > 0.0) {
        const double lo = mirrored_ ? -b_ : a_, hi = mirrored_ ? -a_ : b_;
        cdf_lo_ = normal_cdf(lo);
        mass_ = normal_cdf(hi) - cdf_lo_;
        tail_hi_ = normal_cdf(-hi);
    }

    double quantile(double u) const {
        if (mirrored_) u = 1.0 - u;  // sample -X with X on [-b, -a], whose mass sits near 0
        const double p = cdf_lo_ + u * mass_;
        // one inverse-CDF call on whichever side keeps precision; selects rather than branches
        // (the side is a coin flip per sample, which a branch would mispredict)
        const bool lower = p < 0.5;
        const double x_side = normal_ppf(lower ? p : tail_hi_ + (1.0 - u) * mass_);
        double x = lower ? x_side : -x_side;
        if (mirrored_) x = -x;
        return std::min(std::max(x, a_), b_);
    }

private:
    double a_, b_;
    bool mirrored_;
    double cdf_lo_ = 0.0, mass_ = 0.0, tail_hi_ = 0.0;
};

}  // namespace glassbox
