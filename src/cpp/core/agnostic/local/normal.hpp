// The standard normal distribution in double: CDF, quantile and a truncated-normal quantile (for
// LIME's sampling within a bin).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace glassbox {

inline double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Quantile of the standard normal: Acklam's rational approximation (relative error 1.2e-9)
// refined by one Halley step on erfc, which brings it to double precision.
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
    const double e = normal_cdf(x) - p;
    const double u = e * std::sqrt(2.0 * M_PI) * std::exp(0.5 * x * x);
    return x - u / (1.0 + 0.5 * x * u);
}

// The u-quantile (u in [0, 1)) of a standard normal truncated to [a, b], a <= b. The upper half is
// inverted through the complement so that neither tail loses precision.
inline double truncated_normal_ppf(double a, double b, double u) {
    if (a > 0.0) return -truncated_normal_ppf(-b, -a, 1.0 - u);  // keep the mass near a tail-free
    const double cdf_a = normal_cdf(a), cdf_b = normal_cdf(b);
    const double mass = cdf_b - cdf_a;
    const double p = cdf_a + u * mass;
    double x;
    if (p < 0.5) {
        x = normal_ppf(p);
    } else {
        x = -normal_ppf(normal_cdf(-b) + (1.0 - u) * mass);
    }
    return std::min(std::max(x, a), b);
}

}  // namespace glassbox
