// Helpers shared by the NCHW spatial layers (conv2d, pooling): sequence parameters and window
// geometry.
#pragma once

#include <cmath>

#include "core/network/layer.hpp"

namespace glassbox {

// A sequence parameter passed as scalars "<key>.0", "<key>.1", ... and "<key>.rank" (or a plain
// scalar "<key>", broadcast). `count` is 2 (h, w) or 4 (top, left, bottom, right); a 2-sequence
// given for a 4-sequence means symmetric (h, w, h, w). Missing: `fallback`.
inline std::vector<Index> sequence_param(const LayerParams& p, const std::string& kind,
                                         const std::string& key, std::size_t count,
                                         std::vector<Index> fallback) {
    std::vector<double> values;
    const auto rank_it = p.scalars.find(key + ".rank");
    if (rank_it != p.scalars.end()) {
        const auto rank = static_cast<std::size_t>(rank_it->second);
        for (std::size_t i = 0; i < rank; ++i) {
            const auto it = p.scalars.find(key + "." + std::to_string(i));
            require(it != p.scalars.end(),
                    kind + ": missing '" + key + "." + std::to_string(i) + "'");
            values.push_back(it->second);
        }
    } else if (p.scalars.count(key)) {
        values.push_back(p.scalars.at(key));
    } else {
        return fallback;
    }
    std::vector<Index> out;
    if (values.size() == 1) {
        out.assign(count, static_cast<Index>(values[0]));
    } else if (values.size() == 2 && count == 4) {
        out = {static_cast<Index>(values[0]), static_cast<Index>(values[1]),
               static_cast<Index>(values[0]), static_cast<Index>(values[1])};
    } else {
        require(values.size() == count, kind + ": '" + key + "' expects " + std::to_string(count) +
                                            " values, got " + std::to_string(values.size()));
        for (double v : values) out.push_back(static_cast<Index>(v));
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
        require(values[i] == std::floor(values[i]), kind + ": '" + key + "' must be integers");
    }
    return out;
}

// The one input of a spatial layer, which must be an image (C, H, W).
inline const Shape& image_input(const std::vector<Shape>& input_shapes, const std::string& kind) {
    require(input_shapes.size() == 1, kind + ": expects exactly one input");
    require(input_shapes[0].size() == 3, kind + ": expects an image input (C, H, W), got shape " +
                                             shape_string(input_shapes[0]));
    return input_shapes[0];
}

// Output extent of a sliding window along one axis (torch's pooling_output_shape, generalised to
// asymmetric padding). Throws when the (dilated) window does not fit the padded input.
inline Index window_output_size(const std::string& kind, const char* axis, Index in,
                                Index pad_before, Index pad_after, Index k, Index stride,
                                Index dilation, bool ceil_mode) {
    const Index span = dilation * (k - 1) + 1;
    const Index padded = in + pad_before + pad_after;
    require(span <= padded, kind + ": kernel " + axis + " extent " + std::to_string(span) +
                                " (with dilation) is larger than the padded input " + axis + " " +
                                std::to_string(padded));
    Index numer = padded - span + (ceil_mode ? stride - 1 : 0);
    Index out = numer / stride + 1;
    // torch: the last window must start inside the input or the left padding
    if (ceil_mode && (out - 1) * stride >= in + pad_before) --out;
    return out;
}

}  // namespace glassbox
