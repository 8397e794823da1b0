// The registry table (see registry.hpp for how to add a layer).
#include "core/network/registry.hpp"

#include "core/network/activations.hpp"
#include "core/network/broadcast.hpp"
#include "core/network/conv2d.hpp"
#include "core/network/dense.hpp"
#include "core/network/matmul.hpp"
#include "core/network/normalization.hpp"
#include "core/network/pooling.hpp"
#include "core/network/recurrent.hpp"
#include "core/network/sequence.hpp"
#include "core/network/spatial.hpp"
#include "core/network/tensor_ops.hpp"

#include <algorithm>
#include <cmath>

namespace glassbox {

const char* deeplift_trait_name(DeepLiftTrait trait) {
    switch (trait) {
        case DeepLiftTrait::Rescale: return "rescale";
        case DeepLiftTrait::Softmax: return "softmax";
        case DeepLiftTrait::MaxPool: return "max_pool";
        case DeepLiftTrait::Gradient: return "gradient";
    }
    return "gradient";
}

const char* layer_category_name(LayerCategory category) {
    switch (category) {
        case LayerCategory::Affine: return "affine";
        case LayerCategory::Activation: return "activation";
        case LayerCategory::Pooling: return "pooling";
        case LayerCategory::Normalization: return "normalization";
        case LayerCategory::Shape: return "shape";
        case LayerCategory::Graph: return "graph";
        case LayerCategory::Recurrent: return "recurrent";
    }
    return "shape";
}

namespace {

using Shapes = std::vector<Shape>;

// An optional weight array as a vector (empty when missing or empty; an error when required).
VectorXf vector_param(const LayerParams& p, const std::string& kind, const std::string& key,
                      bool required) {
    const auto it = p.arrays.find(key);
    if (it == p.arrays.end() || it->second.size() == 0) {
        require(!required, kind + ": missing '" + key + "'");
        return VectorXf();
    }
    return Eigen::Map<const VectorXf>(it->second.data(), it->second.size());
}

std::unique_ptr<Layer> make_dense(const LayerParams& p, const Shapes& in) {
    const auto weight = p.arrays.find("weight");
    require(weight != p.arrays.end(), "dense: missing 'weight'");
    const auto shape = p.array_shapes.find("weight");
    require(shape == p.array_shapes.end() || shape->second.size() == 2,
            "dense: weight must be a 2-D array (outputs, inputs), got shape " +
                (shape == p.array_shapes.end() ? std::string() : shape_string(shape->second)));
    return std::make_unique<Dense>(weight->second, vector_param(p, "dense", "bias", false), in);
}

std::unique_ptr<Layer> make_conv2d(const LayerParams& p, const Shapes& in) {
    const auto weight = p.arrays.find("weight");
    require(weight != p.arrays.end(), "conv2d: missing 'weight'");
    Conv2dOptions o;
    const auto stride = sequence_param(p, "conv2d", "stride", 2, {1, 1});
    const auto pad = sequence_param(p, "conv2d", "padding", 4, {0, 0, 0, 0});
    const auto dilation = sequence_param(p, "conv2d", "dilation", 2, {1, 1});
    o.stride_h = stride[0], o.stride_w = stride[1];
    o.pad_top = pad[0], o.pad_left = pad[1], o.pad_bottom = pad[2], o.pad_right = pad[3];
    o.dilation_h = dilation[0], o.dilation_w = dilation[1];
    o.groups = integer_param(p, "conv2d", "groups", 1, 1, kMaxActivationSize);
    const auto shape = p.array_shapes.find("weight");
    require(shape != p.array_shapes.end(), "conv2d: missing the shape of 'weight'");
    return std::make_unique<Conv2d>(weight->second, shape->second,
                                    vector_param(p, "conv2d", "bias", false), o, in);
}

Pool2dOptions pool_options(const LayerParams& p, const std::string& kind, bool has_dilation) {
    Pool2dOptions o;
    const auto kernel = sequence_param(p, kind, "kernel", 2, {});
    require(kernel.size() == 2, kind + ": missing 'kernel'");
    const auto stride = sequence_param(p, kind, "stride", 2, kernel);  // torch: stride = kernel
    const auto pad = sequence_param(p, kind, "padding", 4, {0, 0, 0, 0});
    const auto dilation =
        has_dilation ? sequence_param(p, kind, "dilation", 2, {1, 1}) : std::vector<Index>{1, 1};
    o.kernel_h = kernel[0], o.kernel_w = kernel[1];
    o.stride_h = stride[0], o.stride_w = stride[1];
    o.pad_top = pad[0], o.pad_left = pad[1], o.pad_bottom = pad[2], o.pad_right = pad[3];
    o.dilation_h = dilation[0], o.dilation_w = dilation[1];
    o.ceil_mode = p.scalar("ceil_mode", 0.0) != 0.0;
    o.count_include_pad = p.scalar("count_include_pad", 1.0) != 0.0;
    return o;
}

std::unique_ptr<Layer> make_max_pool2d(const LayerParams& p, const Shapes& in) {
    return std::make_unique<MaxPool2d>(pool_options(p, "max_pool2d", true), in);
}

std::unique_ptr<Layer> make_avg_pool2d(const LayerParams& p, const Shapes& in) {
    return std::make_unique<AvgPool2d>(pool_options(p, "avg_pool2d", false), in);
}

std::unique_ptr<Layer> make_adaptive_avg_pool2d(const LayerParams& p, const Shapes& in) {
    const auto size = sequence_param(p, "adaptive_avg_pool2d", "output_size", 2, {});
    require(size.size() == 2, "adaptive_avg_pool2d: missing 'output_size'");
    return std::make_unique<AdaptiveAvgPool2d>(size[0], size[1], in);
}

// axes: a sequence ("axes.0", ..., "axes.rank") or one plain scalar; missing: every axis.
LayerFactory reduce(ReduceOp op, const char* kind) {
    return [op, kind](const LayerParams& p, const Shapes& in) {
        std::optional<std::vector<Index>> axes;
        const auto rank = p.scalars.find("axes.rank");
        if (rank != p.scalars.end() || p.scalars.count("axes")) {
            const auto n = rank != p.scalars.end()
                               ? integer_value(rank->second, kind, "axes.rank", 0, 64)
                               : 1;
            axes = sequence_param(p, kind, "axes", static_cast<std::size_t>(n), {});
        }
        return std::make_unique<Reduce>(op, axes, p.scalar("keepdims", 0.0) != 0.0, in);
    };
}

std::unique_ptr<Layer> make_batch_norm(const LayerParams& p, const Shapes& in) {
    return std::make_unique<ScaleShift>("batch_norm", vector_param(p, "batch_norm", "scale", true),
                                        vector_param(p, "batch_norm", "shift", true), in);
}

// scale (default 1) and shift (default 0): one value, one per channel, or one per element.
std::unique_ptr<Layer> make_scale_shift(const LayerParams& p, const Shapes& in) {
    VectorXf scale = vector_param(p, "scale_shift", "scale", false);
    VectorXf shift = vector_param(p, "scale_shift", "shift", false);
    if (scale.size() == 0) scale = VectorXf::Ones(1);
    if (shift.size() == 0) shift = VectorXf::Zero(1);
    return std::make_unique<ScaleShift>("scale_shift", std::move(scale), std::move(shift), in);
}

std::unique_ptr<Layer> make_concat(const LayerParams& p, const Shapes& in) {
    return std::make_unique<Concat>(integer_param(p, "concat", "axis", 0, -64, 64), in);
}

// A required sequence of 1..64 integers (a per-sample shape or an order of axes).
std::vector<Index> required_sequence(const LayerParams& p, const std::string& kind,
                                     const std::string& key) {
    const auto rank = p.scalars.find(key + ".rank");
    require(rank != p.scalars.end(), kind + ": missing '" + key + "'");
    const auto n = integer_value(rank->second, kind, key + ".rank", 1, 64);
    return sequence_param(p, kind, key, static_cast<std::size_t>(n), {});
}

std::unique_ptr<Layer> make_reshape(const LayerParams& p, const Shapes& in) {
    return std::make_unique<Reshape>(required_sequence(p, "reshape", "shape"), in);
}

std::unique_ptr<Layer> make_permute(const LayerParams& p, const Shapes& in) {
    return std::make_unique<Permute>(required_sequence(p, "permute", "perm"), in);
}

std::unique_ptr<Layer> make_softmax(const LayerParams&, const Shapes& in) {
    return std::make_unique<RowSoftmax>(false, in);
}

std::unique_ptr<Layer> make_log_softmax(const LayerParams&, const Shapes& in) {
    return std::make_unique<RowSoftmax>(true, in);
}

LayerFactory pass_through(const char* kind) {
    return [kind](const LayerParams&, const Shapes& in) {
        return std::make_unique<PassThrough>(kind, in);
    };
}

// Equal shapes (two or more inputs): the residual Add; two shapes that broadcast: BinaryLayer.
std::unique_ptr<Layer> make_add(const LayerParams&, const Shapes& in) {
    const bool equal = std::all_of(in.begin(), in.end(), [&](const Shape& s) { return s == in[0]; });
    if (equal || in.size() != 2) return std::make_unique<Add>(in);
    return std::make_unique<BinaryLayer>(BinaryOp::Add, in);
}

LayerFactory binary(BinaryOp op) {
    return [op](const LayerParams&, const Shapes& in) {
        return std::make_unique<BinaryLayer>(op, in);
    };
}

LayerFactory compare(CompareOp op, const char* kind) {
    return [op, kind](const LayerParams& p, const Shapes& in) {
        require(p.scalars.count("value"), std::string(kind) + ": missing 'value'");
        const double value = p.scalar("value", 0.0);
        require(std::isfinite(value), std::string(kind) + ": 'value' must be finite");
        return std::make_unique<Compare>(op, static_cast<float>(value), in);
    };
}

std::unique_ptr<Layer> make_where(const LayerParams&, const Shapes& in) {
    return std::make_unique<Where>(in);
}

std::unique_ptr<Layer> make_input(const LayerParams& p, const Shapes& in) {
    const Index offset = integer_param(p, "input", "offset", -1, 0, kMaxActivationSize);
    require(offset >= 0, "input: missing 'offset'");
    return std::make_unique<InputPart>(offset, required_sequence(p, "input", "shape"), in);
}

std::unique_ptr<Layer> make_embedding(const LayerParams& p, const Shapes& in) {
    const auto weight = p.arrays.find("weight");
    require(weight != p.arrays.end(), "embedding: missing 'weight'");
    const auto shape = p.array_shapes.find("weight");
    require(shape == p.array_shapes.end() || shape->second.size() == 2,
            "embedding: weight must be a 2-D array (vocabulary, dim)");
    const Index pad = integer_param(p, "embedding", "padding_idx", -1, -1, kMaxActivationSize);
    return std::make_unique<Embedding>(weight->second, pad, in);
}

std::unique_ptr<Layer> make_take(const LayerParams& p, const Shapes& in) {
    const Index axis = integer_param(p, "take", "axis", 0, -64, 64);
    require(p.scalars.count("axis"), "take: missing 'axis'");
    const auto rank = p.scalars.find("indices.rank");
    require(rank != p.scalars.end(), "take: missing 'indices'");
    const auto n = integer_value(rank->second, "take", "indices.rank", 1, kMaxActivationSize);
    std::vector<Index> indices;
    for (Index i = 0; i < n; ++i) {
        const std::string key = "indices." + std::to_string(i);
        require(p.scalars.count(key), "take: missing '" + key + "'");
        indices.push_back(integer_value(p.scalars.at(key), "take", key, -kMaxActivationSize,
                                        kMaxActivationSize));
    }
    return std::make_unique<Take>(axis, std::move(indices), in);
}

std::unique_ptr<Layer> make_constant(const LayerParams& p, const Shapes& in) {
    const auto value = p.arrays.find("value");
    require(value != p.arrays.end(), "constant: missing 'value'");
    return std::make_unique<Constant>(value->second, required_sequence(p, "constant", "shape"),
                                      in);
}

LayerFactory normalize(bool rms) {
    return [rms](const LayerParams& p, const Shapes& in) {
        const char* kind = rms ? "rms_norm" : "layer_norm";
        return std::make_unique<Normalize>(rms, vector_param(p, kind, "weight", false),
                                           vector_param(p, kind, "bias", false),
                                           p.scalar("eps", rms ? 1e-6 : 1e-5), in);
    };
}

// weights weight_ih, weight_hh, bias_ih, bias_hh, and the same with "_reverse" for the second
// direction of a bidirectional layer.
LayerFactory recurrent(Cell cell, const char* kind) {
    return [cell, kind](const LayerParams& p, const Shapes& in) {
        std::vector<RecurrentWeights> directions;
        for (const std::string suffix : {"", "_reverse"}) {
            if (!suffix.empty() && !p.arrays.count("weight_ih" + suffix)) break;
            RecurrentWeights w;
            for (const auto& [key, target] :
                 {std::pair{"weight_ih", &w.w_ih}, std::pair{"weight_hh", &w.w_hh}}) {
                const auto it = p.arrays.find(key + suffix);
                require(it != p.arrays.end(), std::string(kind) + ": missing '" + key + suffix + "'");
                *target = it->second;
            }
            w.b_ih = vector_param(p, kind, "bias_ih" + suffix, false);
            w.b_hh = vector_param(p, kind, "bias_hh" + suffix, false);
            directions.push_back(std::move(w));
        }
        return std::make_unique<Recurrent>(cell, std::move(directions), in);
    };
}

std::unique_ptr<Layer> make_matmul(const LayerParams&, const Shapes& in) {
    return std::make_unique<MatMul>(in);
}

std::map<std::string, LayerKind> build_table() {
    using C = LayerCategory;
    constexpr DeepLiftTrait kGradient = DeepLiftTrait::Gradient;
    // every element-wise activation: one entry each in activations.cpp
    std::map<std::string, LayerKind> table;
    add_activation_kinds(table);
    // kind -> category, DeepLIFT trait (the layer's deeplift_trait() must agree), factory
    const std::map<std::string, LayerKind> layers = {
        {"dense", {C::Affine, kGradient, make_dense}},
        {"conv2d", {C::Affine, kGradient, make_conv2d}},
        {"softmax", {C::Activation, DeepLiftTrait::Softmax, make_softmax}},
        {"log_softmax", {C::Activation, kGradient, make_log_softmax}},
        {"max_pool2d", {C::Pooling, DeepLiftTrait::MaxPool, make_max_pool2d}},
        {"avg_pool2d", {C::Pooling, kGradient, make_avg_pool2d}},
        {"adaptive_avg_pool2d", {C::Pooling, kGradient, make_adaptive_avg_pool2d}},
        {"reduce_mean", {C::Pooling, kGradient, reduce(ReduceOp::Mean, "reduce_mean")}},
        {"reduce_sum", {C::Pooling, kGradient, reduce(ReduceOp::Sum, "reduce_sum")}},
        {"reduce_max", {C::Pooling, kGradient, reduce(ReduceOp::Max, "reduce_max")}},
        {"layer_norm", {C::Normalization, kGradient, normalize(false)}},
        {"rms_norm", {C::Normalization, kGradient, normalize(true)}},
        {"input", {C::Shape, kGradient, make_input}},
        {"embedding", {C::Shape, kGradient, make_embedding}},
        {"take", {C::Shape, kGradient, make_take}},
        {"constant", {C::Shape, kGradient, make_constant}},
        {"matmul", {C::Graph, kGradient, make_matmul}},
        {"lstm", {C::Recurrent, kGradient, recurrent(Cell::Lstm, "lstm")}},
        {"gru", {C::Recurrent, kGradient, recurrent(Cell::Gru, "gru")}},
        {"sub", {C::Graph, kGradient, binary(BinaryOp::Sub)}},
        {"mul", {C::Graph, kGradient, binary(BinaryOp::Mul)}},
        {"div", {C::Graph, kGradient, binary(BinaryOp::Div)}},
        {"where", {C::Graph, kGradient, make_where}},
        {"compare_eq", {C::Shape, kGradient, compare(CompareOp::Eq, "compare_eq")}},
        {"compare_ne", {C::Shape, kGradient, compare(CompareOp::Ne, "compare_ne")}},
        {"compare_lt", {C::Shape, kGradient, compare(CompareOp::Lt, "compare_lt")}},
        {"compare_le", {C::Shape, kGradient, compare(CompareOp::Le, "compare_le")}},
        {"compare_gt", {C::Shape, kGradient, compare(CompareOp::Gt, "compare_gt")}},
        {"compare_ge", {C::Shape, kGradient, compare(CompareOp::Ge, "compare_ge")}},
        {"batch_norm", {C::Normalization, kGradient, make_batch_norm}},
        {"scale_shift", {C::Normalization, kGradient, make_scale_shift}},
        {"flatten", {C::Shape, kGradient, pass_through("flatten")}},
        {"dropout", {C::Shape, kGradient, pass_through("dropout")}},
        {"identity", {C::Shape, kGradient, pass_through("identity")}},
        {"reshape", {C::Shape, kGradient, make_reshape}},
        {"permute", {C::Shape, kGradient, make_permute}},
        {"add", {C::Graph, kGradient, make_add}},
        {"concat", {C::Graph, kGradient, make_concat}},
    };
    for (const auto& [kind, row] : layers) {
        if (!table.emplace(kind, row).second) {
            throw std::logic_error("layer registry: kind '" + kind + "' registered twice");
        }
    }
    return table;
}

}  // namespace

const std::map<std::string, LayerKind>& layer_kinds() {
    static const std::map<std::string, LayerKind> table = build_table();
    return table;
}

std::unique_ptr<Layer> make_layer(const std::string& kind, const LayerParams& params,
                                  const std::vector<Shape>& input_shapes) {
    const auto it = layer_kinds().find(kind);
    if (it == layer_kinds().end()) {
        std::string known;
        for (const auto& name : registered_layer_kinds()) known += (known.empty() ? "" : ", ") + name;
        throw std::invalid_argument("unknown layer kind '" + kind + "'; supported: " + known);
    }
    std::unique_ptr<Layer> layer = it->second.make(params, input_shapes);
    // the table is what Python sees; the layer is what DeepLIFT reads: they must agree
    if (layer->deeplift_trait() != it->second.deeplift || layer->output_shape().empty()) {
        throw std::logic_error("layer registry: the '" + kind +
                               "' layer disagrees with its table row or has no output shape");
    }
    return layer;
}

std::vector<std::string> registered_layer_kinds() {
    std::vector<std::string> names;
    for (const auto& entry : layer_kinds()) names.push_back(entry.first);
    return names;
}

}  // namespace glassbox
