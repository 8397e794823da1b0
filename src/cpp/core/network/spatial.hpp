// Helpers shared by the NCHW spatial layers (conv2d, pooling): sequence parameters and window
// geometry.
#pragma once

#include "core/network/layer.hpp"

namespace glassbox {

// A sequence parameter passed as scalars "<key>.0", "<key>.1", ... and "<key>.rank" (or a plain
// scalar "<key>", broadcast). `count` is 2 (h, w) or 4 (top, left, bottom, right); a 2-sequence
// given for a 4-sequence means symmetric (h, w, h, w). Missing: `fallback`. Every value must be
// an integer in [-2^53, 2^53] (the layer checks its own range).
inline std::vector<Index> sequence_param(const LayerParams& p, const std::string& kind,
                                         const std::string& key, std::size_t count,
                                         std::vector<Index> fallback) {
    constexpr Index kBig = static_cast<Index>(kMaxIntegerParam);
    std::vector<Index> values;
    const auto rank_it = p.scalars.find(key + ".rank");
    if (rank_it != p.scalars.end()) {
        const Index rank = integer_value(rank_it->second, kind, key + ".rank", 0, 64);
        for (Index i = 0; i < rank; ++i) {
            const std::string name = key + "." + std::to_string(i);
            const auto it = p.scalars.find(name);
            require(it != p.scalars.end(), kind + ": missing '" + name + "'");
            values.push_back(integer_value(it->second, kind, key, -kBig, kBig));
        }
    } else if (p.scalars.count(key)) {
        values.push_back(integer_value(p.scalars.at(key), kind, key, -kBig, kBig));
    } else {
        return fallback;
    }
    if (values.size() == 1) return std::vector<Index>(count, values[0]);
    if (values.size() == 2 && count == 4) return {values[0], values[1], values[0], values[1]};
    require(values.size() == count, kind + ": '" + key + "' expects " + std::to_string(count) +
                                        " values, got " + std::to_string(values.size()));
    return values;
}

// The one input of a spatial layer, which must be an image (C, H, W).
inline const Shape& image_input(const std::vector<Shape>& input_shapes, const std::string& kind) {
    require(input_shapes.size() == 1, kind + ": expects exactly one input");
    require(input_shapes[0].size() == 3, kind + ": expects an image input (C, H, W), got shape " +
                                             shape_string(input_shapes[0]));
    return input_shapes[0];
}

// The window parameters of a convolution or pooling layer along one axis, validated by
// check_window: kernel, stride and dilation >= 1, padding >= 0.
struct WindowAxis {
    const char* axis;  // "height" or "width"
    Index in, pad_before, pad_after, kernel, stride, dilation;
};

inline void check_window(const std::string& kind, const WindowAxis& a) {
    const std::string at = std::string(" (") + a.axis + ")";
    require(a.kernel >= 1, kind + ": kernel must be positive, got " + std::to_string(a.kernel) + at);
    require(a.stride >= 1, kind + ": stride must be positive, got " + std::to_string(a.stride) + at);
    require(a.dilation >= 1,
            kind + ": dilation must be positive, got " + std::to_string(a.dilation) + at);
    require(a.pad_before >= 0 && a.pad_after >= 0,
            kind + ": padding must be non-negative, got " + std::to_string(a.pad_before) +
                " and " + std::to_string(a.pad_after) + at);
}

// The padded extent in + pad_before + pad_after (checked).
inline Index padded_extent(const std::string& kind, const WindowAxis& a) {
    const std::string what = kind + ": padded " + a.axis;
    return checked_add(checked_add(a.in, a.pad_before, what.c_str()), a.pad_after, what.c_str());
}

// Output extent of a sliding window along one axis (torch's pooling_output_shape, generalised to
// asymmetric padding), in checked arithmetic after check_window. Throws when the (dilated) window
// does not fit the padded input.
inline Index window_output_size(const std::string& kind, const WindowAxis& a, bool ceil_mode) {
    check_window(kind, a);
    const std::string what = kind + ": window " + a.axis;
    const Index span = checked_add(checked_mul(a.dilation, a.kernel - 1, what.c_str()), 1,
                                   what.c_str());  // the dilated window
    const Index padded = padded_extent(kind, a);
    require(span <= padded, kind + ": kernel " + a.axis + " extent " + std::to_string(span) +
                                " (with dilation) is larger than the padded input " + a.axis +
                                " " + std::to_string(padded));
    const Index numer = checked_add(padded - span, ceil_mode ? a.stride - 1 : 0, what.c_str());
    Index out = numer / a.stride + 1;
    // torch: the last window must start inside the input or the left padding
    if (ceil_mode && (out - 1) * a.stride >= a.in + a.pad_before) --out;
    return out;
}

}  // namespace glassbox
