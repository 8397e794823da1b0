#include "core/network/registry.hpp"

#include "core/network/activations.hpp"
#include "core/network/dense.hpp"

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
