#include "core/network/deeplift_rules.hpp"

#include "core/network/activations.hpp"

#include <cmath>

namespace glassbox {
namespace {

// grad_in (already the plain gradient) becomes grad_out * dy / dx where |dx| >= eps.
void rescale_where_changed(const LayerIO& io, const RowMatrixXf& ref_in,
                           const RowMatrixXf& ref_out, const RowMatrixXf& grad_out, float eps,
                           RowMatrixXf& grad_in) {
    const RowMatrixXf& x = *io.inputs[0];
    const RowMatrixXf& y = *io.output;
    require(ref_in.rows() == x.rows() && ref_in.cols() == x.cols() &&
                ref_out.rows() == y.rows() && ref_out.cols() == y.cols(),
            "deeplift: the reference pass does not match the explained pass");
    const float* xp = x.data();
    const float* yp = y.data();
    const float* xr = ref_in.data();
    const float* yr = ref_out.data();
    const float* g = grad_out.data();
    float* d = grad_in.data();
    const Index n = grad_out.size();
    for (Index i = 0; i < n; ++i) {  // a select, not a branch: the loop vectorises
        const float dx = xp[i] - xr[i];
        const float rescaled = g[i] * (yp[i] - yr[i]) / dx;
        d[i] = std::abs(dx) >= eps ? rescaled : d[i];
    }
}

}  // namespace

void DeepLiftRescaleRule::backward(const Layer& layer, const LayerIO& io,
                                   const RowMatrixXf& grad_out,
                                   std::vector<RowMatrixXf>& grad_in) const {
    layer.backward_gradient(io, grad_out, grad_in);  // the fallback where |dx| < eps
    rescale_where_changed(io, *ref_in_, *ref_out_, grad_out, eps_, grad_in[0]);
}

void DeepLiftSoftmaxRule::backward(const Layer& layer, const LayerIO& io,
                                   const RowMatrixXf& grad_out,
                                   std::vector<RowMatrixXf>& grad_in) const {
    layer.backward_gradient(io, grad_out, grad_in);
    RowMatrixXf& m = grad_in[0];
    rescale_where_changed(io, *ref_in_, *ref_out_, grad_out, eps_, m);
    // Captum's softmax rule: the multipliers of each softmax group made mean-free
    const auto* softmax = dynamic_cast<const RowSoftmax*>(&layer);
    const Index group = softmax ? softmax->group() : m.cols();
    Eigen::Map<RowMatrixXf> groups(m.data(), m.size() / group, group);
    for (Index r = 0; r < groups.rows(); ++r) groups.row(r).array() -= groups.row(r).mean();
}

void DeepLiftMaxPoolRule::backward(const Layer& layer, const LayerIO& io,
                                   const RowMatrixXf& grad_out,
                                   std::vector<RowMatrixXf>& grad_in) const {
    const RowMatrixXf& x = *io.inputs[0];
    const RowMatrixXf& y = *io.output;
    const RowMatrixXf& x_ref = *ref_in_;
    const RowMatrixXf& y_ref = *ref_out_;
    require(x_ref.rows() == x.rows() && x_ref.cols() == x.cols() && y_ref.rows() == y.rows() &&
                y_ref.cols() == y.cols(),
            "deeplift: the reference pass does not match the explained pass");
    const RowMatrixXf y_max = y.cwiseMax(y_ref);
    std::vector<RowMatrixXf> through_input(1), through_reference(1);
    layer.backward_gradient(io, grad_out.cwiseProduct(y_max - y_ref), through_input);
    LayerIO ref_io;
    ref_io.inputs = {&x_ref};
    ref_io.output = &y_ref;
    layer.backward_gradient(ref_io, grad_out.cwiseProduct(y - y_max), through_reference);
    layer.backward_gradient(io, grad_out, grad_in);  // the fallback where |dx| < eps
    const RowMatrixXf& a = through_input[0];
    const RowMatrixXf& b = through_reference[0];
    float* d = grad_in[0].data();
    const Index n = grad_in[0].size();
    const float* xp = x.data();
    const float* xr = x_ref.data();
    const float* ap = a.data();
    const float* bp = b.data();
    for (Index i = 0; i < n; ++i) {
        const float dx = xp[i] - xr[i];
        const float rescaled = (ap[i] + bp[i]) / dx;
        d[i] = std::abs(dx) >= eps_ ? rescaled : d[i];
    }
}

void GuidedReluRule::backward(const Layer& /*layer*/, const LayerIO& io,
                              const RowMatrixXf& grad_out,
                              std::vector<RowMatrixXf>& grad_in) const {
    const float* x = io.inputs[0]->data();
    const float* g = grad_out.data();
    grad_in[0].resize(grad_out.rows(), grad_out.cols());
    float* d = grad_in[0].data();
    const Index n = grad_out.size();
    for (Index i = 0; i < n; ++i) d[i] = (x[i] > 0.0f && g[i] > 0.0f) ? g[i] : 0.0f;
}

void DeconvReluRule::backward(const Layer& /*layer*/, const LayerIO& /*io*/,
                              const RowMatrixXf& grad_out,
                              std::vector<RowMatrixXf>& grad_in) const {
    grad_in[0] = grad_out.cwiseMax(0.0f);
}

}  // namespace glassbox
