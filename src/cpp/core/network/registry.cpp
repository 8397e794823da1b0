#include "core/network/registry.hpp"

#include "core/network/activations.hpp"
#include "core/network/conv2d.hpp"
#include "core/network/dense.hpp"
#include "core/network/pooling.hpp"
#include "core/network/spatial.hpp"
#include "core/network/tensor_ops.hpp"

#include <functional>

namespace glassbox {
namespace {

using Factory = std::function<std::unique_ptr<Layer>(const LayerParams&)>;

std::unique_ptr<Layer> make_dense(const LayerParams& p) {
    const auto weight = p.arrays.find("weight");
    require(weight != p.arrays.end(), "dense: missing 'weight'");
    const auto bias = p.arrays.find("bias");
    VectorXf b;
    if (bias != p.arrays.end() && bias->second.size() > 0) {
        b = Eigen::Map<const VectorXf>(bias->second.data(), bias->second.size());
    }
    return std::make_unique<Dense>(weight->second, b);
}

VectorXf vector_param(const LayerParams& p, const std::string& kind, const std::string& key,
                      bool required) {
    const auto it = p.arrays.find(key);
    if (it == p.arrays.end() || it->second.size() == 0) {
        require(!required, kind + ": missing '" + key + "'");
        return VectorXf();
    }
    return Eigen::Map<const VectorXf>(it->second.data(), it->second.size());
}

std::unique_ptr<Layer> make_conv2d(const LayerParams& p) {
    const auto weight = p.arrays.find("weight");
    require(weight != p.arrays.end(), "conv2d: missing 'weight'");
    Conv2dOptions o;
    const auto stride = sequence_param(p, "conv2d", "stride", 2, {1, 1});
    const auto pad = sequence_param(p, "conv2d", "padding", 4, {0, 0, 0, 0});
    const auto dilation = sequence_param(p, "conv2d", "dilation", 2, {1, 1});
    o.stride_h = stride[0], o.stride_w = stride[1];
    o.pad_top = pad[0], o.pad_left = pad[1], o.pad_bottom = pad[2], o.pad_right = pad[3];
    o.dilation_h = dilation[0], o.dilation_w = dilation[1];
    o.groups = static_cast<Index>(p.scalar("groups", 1.0));
    return std::make_unique<Conv2d>(weight->second, p.array_shapes.at("weight"),
                                    vector_param(p, "conv2d", "bias", false), o);
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

std::unique_ptr<Layer> make_max_pool2d(const LayerParams& p) {
    return std::make_unique<MaxPool2d>(pool_options(p, "max_pool2d", true));
}

std::unique_ptr<Layer> make_avg_pool2d(const LayerParams& p) {
    return std::make_unique<AvgPool2d>(pool_options(p, "avg_pool2d", false));
}

std::unique_ptr<Layer> make_batch_norm(const LayerParams& p) {
    return std::make_unique<BatchNorm>(vector_param(p, "batch_norm", "scale", true),
                                       vector_param(p, "batch_norm", "shift", true));
}

std::unique_ptr<Layer> make_concat(const LayerParams& p) {
    return std::make_unique<Concat>(static_cast<Index>(p.scalar("axis", 0.0)));
}

std::unique_ptr<Layer> make_adaptive_avg_pool2d(const LayerParams& p) {
    const auto size = sequence_param(p, "adaptive_avg_pool2d", "output_size", 2, {});
    require(size.size() == 2, "adaptive_avg_pool2d: missing 'output_size'");
    return std::make_unique<AdaptiveAvgPool2d>(size[0], size[1]);
}

std::unique_ptr<Layer> make_reshape(const LayerParams& p) {
    const auto rank = p.scalars.find("shape.rank");
    require(rank != p.scalars.end(), "reshape: missing 'shape'");
    const auto n = static_cast<std::size_t>(rank->second);
    return std::make_unique<Reshape>(sequence_param(p, "reshape", "shape", n, {}));
}

Factory activation(Activation type, const char* a_key = nullptr, double a_default = 0.0,
                   const char* b_key = nullptr, double b_default = 0.0) {
    return [=](const LayerParams& p) {
        const double a = a_key ? p.scalar(a_key, a_default) : 0.0;
        const double b = b_key ? p.scalar(b_key, b_default) : 0.0;
        return std::make_unique<ElementwiseActivation>(type, a, b);
    };
}

Factory pass_through(const char* kind) {
    return [=](const LayerParams&) { return std::make_unique<PassThrough>(kind); };
}

const std::map<std::string, Factory>& table() {
    static const std::map<std::string, Factory> factories = {
        {"dense", make_dense},
        {"relu", activation(Activation::ReLU)},
        {"leaky_relu", activation(Activation::LeakyReLU, "negative_slope", 0.01)},
        {"elu", activation(Activation::ELU, "alpha", 1.0)},
        {"sigmoid", activation(Activation::Sigmoid)},
        {"tanh", activation(Activation::Tanh)},
        {"softplus", activation(Activation::Softplus, "beta", 1.0, "threshold", 20.0)},
        {"gelu", activation(Activation::GELU)},
        {"gelu_tanh", activation(Activation::GELUTanh)},
        {"silu", activation(Activation::SiLU)},
        {"softmax", [](const LayerParams&) { return std::make_unique<RowSoftmax>(false); }},
        {"log_softmax", [](const LayerParams&) { return std::make_unique<RowSoftmax>(true); }},
        {"flatten", pass_through("flatten")},
        {"dropout", pass_through("dropout")},
        {"identity", pass_through("identity")},
        {"conv2d", make_conv2d},
        {"max_pool2d", make_max_pool2d},
        {"avg_pool2d", make_avg_pool2d},
        {"adaptive_avg_pool2d", make_adaptive_avg_pool2d},
        {"batch_norm", make_batch_norm},
        {"add", [](const LayerParams&) { return std::make_unique<Add>(); }},
        {"concat", make_concat},
        {"reshape", make_reshape},
    };
    return factories;
}

}  // namespace

std::unique_ptr<Layer> make_layer(const std::string& kind, const LayerParams& params) {
    const auto it = table().find(kind);
    if (it == table().end()) {
        std::string known;
        for (const auto& name : registered_layer_kinds()) known += (known.empty() ? "" : ", ") + name;
        throw std::invalid_argument("unknown layer kind '" + kind + "'; supported: " + known);
    }
    return it->second(params);
}

std::vector<std::string> registered_layer_kinds() {
    std::vector<std::string> names;
    for (const auto& entry : table()) names.push_back(entry.first);
    return names;
}

}  // namespace glassbox
