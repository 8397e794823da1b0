#include "core/network/lrp_rules.hpp"

#include "core/network/activations.hpp"
#include "core/network/normalization.hpp"
#include "core/network/recurrent.hpp"
#include "core/network/sequence.hpp"

#include <cmath>
#include <functional>

namespace glassbox {
namespace {

// out = r / stab(z), stab(z) = z + eps * sign(z) with sign(0) = +1 (Zennit's and Captum's
// stabiliser); into a caller's buffer, so hot rules reuse their scratch.
void stabilized_ratio(const RowMatrixXf& r, const RowMatrixXf& z, float eps, RowMatrixXf& out) {
    out.resize(r.rows(), r.cols());
    out.array() = r.array() / (z.array() >= 0.0f).select(z.array() + eps, z.array() - eps);
}
RowMatrixXf stabilized_ratio(const RowMatrixXf& r, const RowMatrixXf& z, float eps) {
    RowMatrixXf out;
    stabilized_ratio(r, z, eps, out);
    return out;
}

// Per-thread work matrices of the affine rules, kept between calls (a rule finishes before its
// thread starts the next one), so the backward pass does not allocate and fault in fresh pages
// for every layer of every block.
struct RuleScratch {
    RowMatrixXf xp, xn, denom, extra, ratio, product;
};
RuleScratch& scratch() {
    thread_local RuleScratch work;
    return work;
}

// The same with one denominator row shared by every sample.
RowMatrixXf stabilized_ratio_row(const RowMatrixXf& r, const RowMatrixXf& z_row, float eps) {
    const Eigen::Array<float, 1, Eigen::Dynamic> denom =
        (z_row.array() >= 0.0f).select(z_row.array() + eps, z_row.array() - eps);
    return (r.array().rowwise() / denom).matrix();
}

float checked(const LrpRuleSpec& spec, const std::string& key, double fallback, double minimum) {
    const auto it = spec.scalars.find(key);
    const double value = it == spec.scalars.end() ? fallback : it->second;
    require(std::isfinite(value) && value >= minimum,
            "rule '" + spec.name + "': " + key + " must be a finite number >= " +
                std::to_string(minimum) + ", got " + std::to_string(value));
    return static_cast<float>(value);
}

const AffineLayer& as_affine(const LrpRuleSpec& spec, const Layer& layer) {
    const auto* affine = dynamic_cast<const AffineLayer*>(&layer);
    require(affine != nullptr, "rule '" + spec.name + "' applies to affine layers (dense, conv2d), "
                                   "not to a '" + layer.kind() + "' layer");
    return *affine;
}

// Base of the affine rules: the layer, its input split into positive and negative parts.
class AffineRule : public BackwardRule {
public:
    explicit AffineRule(const AffineLayer& layer) : layer_(layer) {}

protected:
    // c = x .* (W'^T s), accumulated into out (or assigned when `assign`).
    void add_product(const RowMatrixXf& w, const RowMatrixXf& s, const RowMatrixXf& x,
                     RowMatrixXf& out, float factor, bool assign) const {
        RowMatrixXf& c = scratch().product;
        layer_.affine_transpose(w, s, c);
        if (assign) {
            out.resize(x.rows(), x.cols());
            out.array() = factor * x.array() * c.array();
        } else {
            out.array() += factor * x.array() * c.array();
        }
    }
    const AffineLayer& layer_;
};

// LRP-epsilon: R_i = x_i sum_j w_ji R_j / stab_eps(z_j), z = W x + b (bias included).
class EpsilonRule final : public AffineRule {
public:
    EpsilonRule(const AffineLayer& layer, float epsilon) : AffineRule(layer), epsilon_(epsilon) {}
    void backward(const Layer&, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        RowMatrixXf& s = scratch().ratio;
        stabilized_ratio(relevance, *io.output, epsilon_, s);
        add_product(layer_.weight(), s, *io.inputs[0], grad_in[0], 1.0f, true);
    }

private:
    float epsilon_;
};

// Generalised LRP-gamma (Zennit's Gamma): positive outputs (z > 0) share relevance by the
// contributions x+ (w + g w+) + x- (w + g w-) + (b + g b+), negative outputs (z < 0) by
// x+ (w + g w-) + x- (w + g w+) + (b + g b-); outputs with z == 0 pass nothing.
class GammaRule final : public AffineRule {
public:
    GammaRule(const AffineLayer& layer, float gamma, float stabilizer)
        : AffineRule(layer), stabilizer_(stabilizer) {
        const RowMatrixXf& w = layer.weight();
        const VectorXf& b = layer.bias();
        w_up_ = w + gamma * w.cwiseMax(0.0f);
        w_down_ = w + gamma * w.cwiseMin(0.0f);
        b_up_ = b + gamma * b.cwiseMax(0.0f);
        b_down_ = b + gamma * b.cwiseMin(0.0f);
    }
    void backward(const Layer&, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        const RowMatrixXf& x = *io.inputs[0];
        const RowMatrixXf& z = *io.output;
        const bool has_negative = x.minCoeff() < 0.0f;
        RowMatrixXf xp_storage, xn;
        if (has_negative) {
            xp_storage = x.cwiseMax(0.0f);
            xn = x.cwiseMin(0.0f);
        }
        const RowMatrixXf& xp = has_negative ? xp_storage : x;  // no copy for x >= 0 (post-ReLU)
        RowMatrixXf& out = grad_in[0];
        out.setZero(x.rows(), x.cols());
        RowMatrixXf denom, extra;
        // positive outputs
        layer_.affine_forward(w_up_, &b_up_, xp, denom);
        if (has_negative) {
            layer_.affine_forward(w_down_, nullptr, xn, extra);
            denom += extra;
        }
        RowMatrixXf g = (z.array() > 0.0f)
                            .select(stabilized_ratio(relevance, denom, stabilizer_).array(), 0.0f)
                            .matrix();
        add_product(w_up_, g, xp, out, 1.0f, false);
        if (has_negative) add_product(w_down_, g, xn, out, 1.0f, false);
        // negative outputs
        if ((z.array() < 0.0f).any()) {
            layer_.affine_forward(w_down_, &b_down_, xp, denom);
            if (has_negative) {
                layer_.affine_forward(w_up_, nullptr, xn, extra);
                denom += extra;
            }
            g = (z.array() < 0.0f)
                    .select(stabilized_ratio(relevance, denom, stabilizer_).array(), 0.0f)
                    .matrix();
            add_product(w_down_, g, xp, out, 1.0f, false);
            if (has_negative) add_product(w_up_, g, xn, out, 1.0f, false);
        }
    }

private:
    float stabilizer_;
    RowMatrixXf w_up_, w_down_;
    VectorXf b_up_, b_down_;
};

// LRP-alpha-beta (alpha - beta = 1): alpha times the relevance shared by the positive
// contributions x+ w+ + x- w- + b+, minus beta times that shared by the negative ones
// x+ w- + x- w+ + b-. z+ is alpha = 1, beta = 0.
class AlphaBetaRule final : public AffineRule {
public:
    AlphaBetaRule(const AffineLayer& layer, float alpha, float beta, float stabilizer)
        : AffineRule(layer), alpha_(alpha), beta_(beta), stabilizer_(stabilizer) {
        w_pos_ = layer.weight().cwiseMax(0.0f);
        w_neg_ = layer.weight().cwiseMin(0.0f);
        b_pos_ = layer.bias().cwiseMax(0.0f);
        b_neg_ = layer.bias().cwiseMin(0.0f);
    }
    void backward(const Layer&, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        const RowMatrixXf& x = *io.inputs[0];
        const bool has_negative = x.minCoeff() < 0.0f;
        RuleScratch& work = scratch();
        if (has_negative) {
            work.xp = x.cwiseMax(0.0f);
            work.xn = x.cwiseMin(0.0f);
        }
        const RowMatrixXf& xp = has_negative ? work.xp : x;  // no copy for x >= 0 (post-ReLU)
        const RowMatrixXf& xn = work.xn;
        RowMatrixXf& out = grad_in[0];
        share(w_pos_, b_pos_, w_neg_, xp, xn, has_negative, relevance, alpha_, out, true);
        if (beta_ != 0.0f) {
            share(w_neg_, b_neg_, w_pos_, xp, xn, has_negative, relevance, -beta_, out, false);
        }
    }

private:
    // factor * (x+ .* W_a^T g + x- .* W_b^T g), g = R / stab(x+ W_a + b_a + x- W_b).
    void share(const RowMatrixXf& w_a, const VectorXf& b_a, const RowMatrixXf& w_b,
               const RowMatrixXf& xp, const RowMatrixXf& xn, bool has_negative,
               const RowMatrixXf& relevance, float factor, RowMatrixXf& out, bool assign) const {
        RuleScratch& work = scratch();
        RowMatrixXf &denom = work.denom, &extra = work.extra, &g = work.ratio;
        layer_.affine_forward(w_a, &b_a, xp, denom);
        if (has_negative) {
            layer_.affine_forward(w_b, nullptr, xn, extra);
            denom += extra;
        }
        stabilized_ratio(relevance, denom, stabilizer_, g);
        add_product(w_a, g, xp, out, factor, assign);
        if (has_negative) add_product(w_b, g, xn, out, factor, false);
    }

    float alpha_, beta_, stabilizer_;
    RowMatrixXf w_pos_, w_neg_;
    VectorXf b_pos_, b_neg_;
};

// zB (box) rule for inputs bounded by low <= x <= high: z = W x - W+ low - W- high (the bias
// terms cancel), R_i = x_i (W^T g)_i - low_i (W+^T g)_i - high_i (W-^T g)_i, g = R / stab(z).
class ZBoxRule final : public AffineRule {
public:
    ZBoxRule(const AffineLayer& layer, RowMatrixXf low, RowMatrixXf high, float stabilizer)
        : AffineRule(layer), low_(std::move(low)), high_(std::move(high)), stabilizer_(stabilizer) {
        w_pos_ = layer.weight().cwiseMax(0.0f);
        w_neg_ = layer.weight().cwiseMin(0.0f);
        RowMatrixXf high_part;
        layer.affine_forward(w_pos_, nullptr, low_, offset_);
        layer.affine_forward(w_neg_, nullptr, high_, high_part);
        offset_ += high_part;
    }
    void backward(const Layer&, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        const RowMatrixXf& x = *io.inputs[0];
        RowMatrixXf z;
        layer_.affine_forward(layer_.weight(), nullptr, x, z);
        z.rowwise() -= offset_.row(0);
        const RowMatrixXf g = stabilized_ratio(relevance, z, stabilizer_);
        RowMatrixXf& out = grad_in[0];
        add_product(layer_.weight(), g, x, out, 1.0f, true);
        RowMatrixXf c;
        layer_.affine_transpose(w_pos_, g, c);
        out -= (c.array().rowwise() * low_.row(0).array()).matrix();
        layer_.affine_transpose(w_neg_, g, c);
        out -= (c.array().rowwise() * high_.row(0).array()).matrix();
    }

private:
    RowMatrixXf low_, high_;
    float stabilizer_;
    RowMatrixXf w_pos_, w_neg_, offset_;
};

// Rules that ignore the input values: R_i = sum_j v_ji R_j / stab(sum_i' v_ji' + c_j), with
// v = w^2, c = b^2 (w^2 rule, as Zennit squares every parameter) or v = 1, c = 0 (flat rule;
// for convolutions the sum runs over the receptive field inside the padded border).
class InputFreeRule final : public AffineRule {
public:
    InputFreeRule(const AffineLayer& layer, bool square, float stabilizer, Index input_width)
        : AffineRule(layer), stabilizer_(stabilizer) {
        if (square) {
            w_ = layer.weight().array().square().matrix();
            const VectorXf b = layer.bias().array().square().matrix();
            layer.affine_forward(w_, &b, RowMatrixXf::Ones(1, input_width), denom_);
        } else {
            w_ = RowMatrixXf::Ones(layer.weight().rows(), layer.weight().cols());
            layer.affine_forward(w_, nullptr, RowMatrixXf::Ones(1, input_width), denom_);
        }
    }
    void backward(const Layer&, const LayerIO&, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        layer_.affine_transpose(w_, stabilized_ratio_row(relevance, denom_, stabilizer_),
                                grad_in[0]);
    }

private:
    float stabilizer_;
    RowMatrixXf w_, denom_;
};

// Pass-through: the relevance at the output is the relevance at the input (element-wise layers).
class PassRule final : public BackwardRule {
public:
    void backward(const Layer&, const LayerIO&, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        grad_in[0] = relevance;
    }
};

// Norm (Zennit's rule for sums and average pooling; the epsilon rule of any layer through its own
// gradient): R_in = x .* J^T (R / stab(z)), z the layer's output. Splits an Add in proportion to
// each input's contribution.
class NormRule final : public BackwardRule {
public:
    explicit NormRule(float stabilizer) : stabilizer_(stabilizer) {}
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        layer.backward_gradient(io, stabilized_ratio(relevance, *io.output, stabilizer_), grad_in);
        for (std::size_t k = 0; k < io.inputs.size(); ++k) {
            grad_in[k].array() *= io.inputs[k]->array();
        }
    }

private:
    float stabilizer_;
};

// Products of two computed tensors (mul, matmul, div): each input k gets share_k of the epsilon
// rule that holds the other inputs fixed, R_k = share_k x_k .* J_k^T (R / stab(z)). Each term
// alone conserves relevance, so shares (1/2, 1/2) are AttnLRP's uniform rule and (1, 0) gives
// everything to a signal multiplied by a mask or by attention weights held constant (CP-LRP).
class ProductRule final : public BackwardRule {
public:
    ProductRule(std::vector<float> shares, float stabilizer)
        : shares_(std::move(shares)), stabilizer_(stabilizer) {}
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        require(shares_.size() == io.inputs.size(),
                "rule 'product': expected one share per input of the '" + layer.kind() + "' layer");
        layer.backward_gradient(io, stabilized_ratio(relevance, *io.output, stabilizer_), grad_in);
        for (std::size_t k = 0; k < io.inputs.size(); ++k) {
            grad_in[k].array() *= shares_[k] * io.inputs[k]->array();
        }
    }

private:
    std::vector<float> shares_;
    float stabilizer_;
};

// AttnLRP's softmax rule (Achtibat et al. 2024, Prop. 3.1): R_in = x .* (R - s .* sum(R)) per
// softmax group, s the softmax output.
class SoftmaxRule final : public BackwardRule {
public:
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        const auto* softmax = dynamic_cast<const RowSoftmax*>(&layer);
        require(softmax != nullptr && layer.kind() == "softmax",
                "rule 'softmax' applies to softmax layers, not to a '" + layer.kind() + "' layer");
        const Index group = softmax->group();
        const RowMatrixXf& x = *io.inputs[0];
        grad_in[0].resize(x.rows(), x.cols());
        const Index groups = x.size() / group;
        for (Index g = 0; g < groups; ++g) {
            const Eigen::Map<const Eigen::ArrayXf> r(relevance.data() + g * group, group);
            const Eigen::Map<const Eigen::ArrayXf> y(io.output->data() + g * group, group);
            const Eigen::Map<const Eigen::ArrayXf> xin(x.data() + g * group, group);
            Eigen::Map<Eigen::ArrayXf>(grad_in[0].data() + g * group, group) =
                xin * (r - y * r.sum());
        }
    }
};

// LayerNorm / RMSNorm with the normalising scale held fixed (AttnLRP's identity rule, CP-LRP):
// the layer is then linear, y = J x + b, and the epsilon rule R_in = x .* J^T (R / stab(y))
// conserves relevance when the layer has no bias.
class NormalizeRule final : public BackwardRule {
public:
    explicit NormalizeRule(float stabilizer) : stabilizer_(stabilizer) {}
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        const auto* norm = dynamic_cast<const Normalize*>(&layer);
        require(norm != nullptr, "rule 'layer_norm' applies to layer_norm and rms_norm layers, not "
                                 "to a '" + layer.kind() + "' layer");
        const Index dim = norm->dim();
        const RowMatrixXf& x = *io.inputs[0];
        const RowMatrixXf s = stabilized_ratio(relevance, *io.output, stabilizer_);
        grad_in[0].resize(x.rows(), x.cols());
        Eigen::ArrayXf h(dim), u(dim);
        const auto w = norm->weight().array();
        double inv_std;
        for (Index p = 0; p < x.size() / dim; ++p) {
            norm->normalize(x.data() + p * dim, h.data(), inv_std);
            u = Eigen::Map<const Eigen::ArrayXf>(s.data() + p * dim, dim) * w;
            if (!norm->rms()) u -= u.mean();  // the centring's transpose
            Eigen::Map<Eigen::ArrayXf>(grad_in[0].data() + p * dim, dim) =
                Eigen::Map<const Eigen::ArrayXf>(x.data() + p * dim, dim) *
                (static_cast<float>(inv_std) * u);
        }
    }

private:
    float stabilizer_;
};

// The relevance of a token: the sum of its embedding's relevance (the ids get all of it).
class EmbeddingRule final : public BackwardRule {
public:
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        const auto* embedding = dynamic_cast<const Embedding*>(&layer);
        require(embedding != nullptr,
                "rule 'embedding' applies to embedding layers, not to a '" + layer.kind() + "' layer");
        const Index dim = embedding->weight().cols();
        const RowMatrixXf& ids = *io.inputs[0];
        grad_in[0].resize(ids.rows(), ids.cols());
        for (Index r = 0; r < ids.rows(); ++r) {
            for (Index t = 0; t < ids.cols(); ++t) {
                grad_in[0](r, t) = relevance.block(r, t * dim, 1, dim).sum();
            }
        }
    }
};

// LSTM / GRU (Arras et al., 2017): relevance follows the signal, never the gates. Per step,
// h_t = o * tanh(c_t) gives c_t all of h_t's relevance; c_t = f c_{t-1} + i g splits it in
// proportion (epsilon rule) between c_{t-1} and g; g = tanh(a_g) passes it to a_g, and the
// epsilon rule of a_g = W_ig x_t + W_hg h_{t-1} + b splits it between x_t and h_{t-1}. A GRU's
// h_t = (1 - z) n + z h_{t-1} splits between n and h_{t-1}; n = tanh(a_n) passes it, and
// a_n = W_in x_t + b_in + r (W_hn h_{t-1} + b_hn) splits it with the gate r held fixed.
class RecurrentRule final : public BackwardRule {
public:
    explicit RecurrentRule(float stabilizer) : stabilizer_(stabilizer) {}
    void backward(const Layer& layer, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        const auto* rnn = dynamic_cast<const Recurrent*>(&layer);
        require(rnn != nullptr, "rule 'recurrent' applies to lstm and gru layers, not to a '" +
                                    layer.kind() + "' layer");
        const RowMatrixXf& x = *io.inputs[0];
        grad_in[0].setZero(x.rows(), x.cols());
        RowMatrixXf out(x.rows(), io.output->cols());
        for (std::size_t d = 0; d < rnn->directions(); ++d) {
            Recurrent::Trace trace;
            rnn->run(d, x, out, &trace);
            direction(*rnn, d, x, trace, relevance, grad_in[0]);
        }
    }

private:
    RowMatrixXf ratio(const RowMatrixXf& r, const RowMatrixXf& z) const {
        return stabilized_ratio(r, z, stabilizer_);
    }

    void direction(const Recurrent& rnn, std::size_t d, const RowMatrixXf& x,
                   const Recurrent::Trace& trace, const RowMatrixXf& relevance,
                   RowMatrixXf& r_x) const {
        const RecurrentWeights& w = rnn.weights(d);
        const Index rows = x.rows(), H = rnn.hidden(), I = rnn.inputs(), T = rnn.steps();
        const Index width = H * static_cast<Index>(rnn.directions());
        const bool lstm = rnn.cell() == Cell::Lstm;
        const Index signal = lstm ? 2 * H : 2 * H;  // the rows of the signal gate (g, n)
        const auto w_x = w.w_ih.middleRows(signal, H);  // (H, I)
        const auto w_h = w.w_hh.middleRows(signal, H);  // (H, H)
        RowMatrixXf r_h = RowMatrixXf::Zero(rows, H), r_c = RowMatrixXf::Zero(rows, H);
        RowMatrixXf x_t(rows, I), h_prev(rows, H), c_prev(rows, H), a(rows, H), s(rows, H);
        for (Index k = T - 1; k >= 0; --k) {
            const Index t = rnn.step(k, d);
            for (Index r = 0; r < rows; ++r) {
                r_h.row(r) += relevance.block(r, t * width + d * H, 1, H);
                x_t.row(r) = x.block(r, t * I, 1, I);
            }
            const RowMatrixXf& g = trace.gates[k];
            if (k > 0) {
                h_prev = trace.states[k - 1].leftCols(H);
                if (lstm) c_prev = trace.states[k - 1].rightCols(H);
            } else {
                h_prev.setZero(), c_prev.setZero();
            }
            RowMatrixXf r_signal;  // relevance of the signal's pre-activation a_g / a_n
            if (lstm) {
                r_c += r_h;  // h_t = o * tanh(c_t): all to c_t
                const RowMatrixXf c = trace.states[k].rightCols(H);
                const RowMatrixXf keep = (g.middleCols(H, H).array() * c_prev.array()).matrix();
                const RowMatrixXf fresh = (g.leftCols(H).array() * g.middleCols(2 * H, H).array())
                                              .matrix();
                s = ratio(r_c, c);
                r_signal = (fresh.array() * s.array()).matrix();
                r_c = (keep.array() * s.array()).matrix();  // to c_{t-1}
                r_h.setZero();
            } else {
                const RowMatrixXf h = trace.states[k].leftCols(H);
                const auto z = g.middleCols(H, H).array();
                s = ratio(r_h, h);
                r_signal = ((1.0f - z) * g.rightCols(H).array() * s.array()).matrix();
                r_h = (z * h_prev.array() * s.array()).matrix();  // to h_{t-1}
            }
            // a = W_x x + W_h h (GRU: r * (W_h h + b_hn)) + biases: the epsilon rule
            const RowMatrixXf from_x = x_t * w_x.transpose();
            RowMatrixXf from_h = h_prev * w_h.transpose();
            if (lstm) {
                a = from_x + from_h;
                a.rowwise() += (w.b_ih.segment(signal, H) + w.b_hh.segment(signal, H)).transpose();
            } else {
                const auto rg = g.leftCols(H).array();
                from_h = (rg * from_h.array()).matrix();
                a = from_x + (rg * trace.hidden[k].array()).matrix();
                a.rowwise() += w.b_ih.segment(signal, H).transpose();
            }
            s = ratio(r_signal, a);
            const RowMatrixXf back_x = s * w_x;  // (rows, I)
            RowMatrixXf s_h = s;
            if (!lstm) s_h = (s.array() * g.leftCols(H).array()).matrix();  // r held fixed
            const RowMatrixXf back_h = s_h * w_h;  // (rows, H)
            for (Index r = 0; r < rows; ++r) {
                r_x.block(r, t * I, 1, I) += (x_t.row(r).array() * back_x.row(r).array()).matrix();
            }
            r_h += (h_prev.array() * back_h.array()).matrix();
        }
    }

    float stabilizer_;
};

// No relevance passes (CP-LRP's softmax: the attention weights are held constant).
class ZeroRule final : public BackwardRule {
public:
    void backward(const Layer&, const LayerIO& io, const RowMatrixXf& relevance,
                  std::vector<RowMatrixXf>& grad_in) const override {
        for (std::size_t k = 0; k < io.inputs.size(); ++k) {
            grad_in[k].setZero(relevance.rows(), io.inputs[k]->cols());
        }
    }
};

using Factory = std::function<std::unique_ptr<BackwardRule>(const LrpRuleSpec&, const Layer&,
                                                            Index)>;
constexpr double kStabilizer = 1e-6;  // Zennit's default stabiliser

RowMatrixXf bound(const LrpRuleSpec& spec, const std::string& key, Index width) {
    const auto it = spec.arrays.find(key);
    require(it != spec.arrays.end(),
            "rule 'zbox': needs the input bounds 'low' and 'high' (missing '" + key + "')");
    require(it->second.size() == width, "rule 'zbox': '" + key + "' must have " +
                                            std::to_string(width) + " entries (the layer's input), got " +
                                            std::to_string(it->second.size()));
    require(it->second.allFinite(), "rule 'zbox': '" + key + "' must be finite");
    return Eigen::Map<const RowMatrixXf>(it->second.data(), 1, width);
}

const std::map<std::string, std::pair<bool, Factory>>& table() {
    static const std::map<std::string, std::pair<bool, Factory>> factories = {
        {"epsilon", {true, [](const LrpRuleSpec& s, const Layer& l, Index) {
             return std::make_unique<EpsilonRule>(as_affine(s, l), checked(s, "epsilon", 1e-6, 0.0));
         }}},
        {"gamma", {true, [](const LrpRuleSpec& s, const Layer& l, Index) {
             return std::make_unique<GammaRule>(as_affine(s, l), checked(s, "gamma", 0.25, 0.0),
                                                checked(s, "stabilizer", kStabilizer, 0.0));
         }}},
        {"alpha_beta", {true, [](const LrpRuleSpec& s, const Layer& l, Index) {
             const float alpha = checked(s, "alpha", 2.0, 0.0);
             const float beta = checked(s, "beta", 1.0, 0.0);
             require(std::abs(static_cast<double>(alpha) - beta - 1.0) < 1e-6,
                     "rule 'alpha_beta': alpha - beta must equal 1, got alpha=" +
                         std::to_string(alpha) + ", beta=" + std::to_string(beta));
             return std::make_unique<AlphaBetaRule>(as_affine(s, l), alpha, beta,
                                                    checked(s, "stabilizer", kStabilizer, 0.0));
         }}},
        {"zplus", {true, [](const LrpRuleSpec& s, const Layer& l, Index) {
             return std::make_unique<AlphaBetaRule>(as_affine(s, l), 1.0f, 0.0f,
                                                    checked(s, "stabilizer", kStabilizer, 0.0));
         }}},
        {"zbox", {true, [](const LrpRuleSpec& s, const Layer& l, Index width) {
             const AffineLayer& affine = as_affine(s, l);
             RowMatrixXf low = bound(s, "low", width), high = bound(s, "high", width);
             require((low.array() <= high.array()).all(), "rule 'zbox': needs low <= high");
             return std::make_unique<ZBoxRule>(affine, std::move(low), std::move(high),
                                               checked(s, "stabilizer", kStabilizer, 0.0));
         }}},
        {"wsquare", {true, [](const LrpRuleSpec& s, const Layer& l, Index width) {
             return std::make_unique<InputFreeRule>(
                 as_affine(s, l), true, checked(s, "stabilizer", kStabilizer, 0.0), width);
         }}},
        {"flat", {true, [](const LrpRuleSpec& s, const Layer& l, Index width) {
             return std::make_unique<InputFreeRule>(
                 as_affine(s, l), false, checked(s, "stabilizer", kStabilizer, 0.0), width);
         }}},
        {"pass", {false, [](const LrpRuleSpec&, const Layer&, Index) {
             return std::make_unique<PassRule>();
         }}},
        {"norm", {false, [](const LrpRuleSpec& s, const Layer&, Index) {
             return std::make_unique<NormRule>(checked(s, "stabilizer", kStabilizer, 0.0));
         }}},
        {"gradient", {false, [](const LrpRuleSpec&, const Layer&, Index) {
             return std::make_unique<GradientRule>();
         }}},
        {"product", {false, [](const LrpRuleSpec& s, const Layer&, Index) {
             std::vector<float> shares;
             for (int k = 0; s.scalars.count("share." + std::to_string(k)); ++k) {
                 shares.push_back(checked(s, "share." + std::to_string(k), 0.0, 0.0));
             }
             require(!shares.empty(), "rule 'product': needs the inputs' shares ('share.0', ...)");
             return std::make_unique<ProductRule>(std::move(shares),
                                                  checked(s, "stabilizer", kStabilizer, 0.0));
         }}},
        {"softmax", {false, [](const LrpRuleSpec&, const Layer&, Index) {
             return std::make_unique<SoftmaxRule>();
         }}},
        {"layer_norm", {false, [](const LrpRuleSpec& s, const Layer&, Index) {
             return std::make_unique<NormalizeRule>(checked(s, "stabilizer", kStabilizer, 0.0));
         }}},
        {"embedding", {false, [](const LrpRuleSpec&, const Layer&, Index) {
             return std::make_unique<EmbeddingRule>();
         }}},
        {"recurrent", {false, [](const LrpRuleSpec& s, const Layer&, Index) {
             return std::make_unique<RecurrentRule>(checked(s, "stabilizer", kStabilizer, 0.0));
         }}},
        {"zero", {false, [](const LrpRuleSpec&, const Layer&, Index) {
             return std::make_unique<ZeroRule>();
         }}},
    };
    return factories;
}

}  // namespace

std::unique_ptr<BackwardRule> make_lrp_rule(const LrpRuleSpec& spec, const Layer& layer,
                                            Index input_width) {
    const auto it = table().find(spec.name);
    if (it == table().end()) {
        std::string known;
        for (const auto& entry : table()) known += (known.empty() ? "" : ", ") + entry.first;
        throw std::invalid_argument("unknown LRP rule '" + spec.name + "'; known rules: " + known);
    }
    return it->second.second(spec, layer, input_width);
}

std::vector<std::string> registered_lrp_rules() {
    std::vector<std::string> names;
    for (const auto& entry : table()) names.push_back(entry.first);
    return names;
}

bool lrp_rule_needs_affine(const std::string& name) {
    const auto it = table().find(name);
    return it != table().end() && it->second.first;
}

}  // namespace glassbox
