// Metric scores from model outputs (see scores.hpp).
#include "core/agnostic/inspection/scores.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace glassbox::inspection {
namespace {

Index label_of(const float* p, Index n_outputs) {
    if (n_outputs == 1) return p[0] > 0.5f ? 1 : 0;
    return static_cast<Index>(std::max_element(p, p + n_outputs) - p);
}

double probability_of(const float* p, Index n_outputs, Index label) {
    if (n_outputs == 1) return label == 1 ? p[0] : 1.0 - p[0];
    return p[label];
}

double weight(const double* w, Index i) { return w ? w[i] : 1.0; }

// Area under the weighted ROC curve by the trapezoid rule over groups of tied scores.
double roc_auc(const Eigen::Ref<const RowMatrixXf>& P, const double* y, const double* w) {
    const Index n = P.rows();
    const Index column = P.cols() == 1 ? 0 : 1;
    std::vector<Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Index{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](Index a, Index b) { return P(a, column) > P(b, column); });
    double tp = 0, fp = 0, area = 0;
    for (Index k = 0; k < n;) {
        const float score = P(order[k], column);
        const double tp0 = tp, fp0 = fp;
        for (; k < n && P(order[k], column) == score; ++k) {
            (y[order[k]] == 1.0 ? tp : fp) += weight(w, order[k]);
        }
        area += (fp - fp0) * (tp + tp0) / 2;
    }
    require(tp > 0 && fp > 0, "y: roc_auc needs both classes among the scored rows");
    return area / (tp * fp);
}

}  // namespace

Metric parse_metric(const std::string& name) {
    if (name == "accuracy") return Metric::Accuracy;
    if (name == "balanced_accuracy") return Metric::BalancedAccuracy;
    if (name == "log_loss") return Metric::LogLoss;
    if (name == "roc_auc") return Metric::RocAuc;
    if (name == "r2") return Metric::R2;
    if (name == "mse") return Metric::MeanSquaredError;
    if (name == "mae") return Metric::MeanAbsoluteError;
    throw std::invalid_argument("metric: expected 'accuracy', 'balanced_accuracy', 'log_loss', "
                                "'roc_auc', 'r2', 'mse' or 'mae', got '" + name + "'");
}

bool is_classification(Metric metric) {
    return metric == Metric::Accuracy || metric == Metric::BalancedAccuracy ||
           metric == Metric::LogLoss || metric == Metric::RocAuc;
}

double metric_score(Metric metric, const Eigen::Ref<const RowMatrixXf>& P, const double* y,
                    const double* w, Index n_classes) {
    const Index n = P.rows(), k = P.cols();
    require(n > 0, "y: no rows to score");
    require(is_classification(metric) || k == 1,
            "metric: regression metrics need a single-output model");
    if (is_classification(metric)) {
        require(n_classes >= 2 && n_classes <= std::max<Index>(k, 2),
                "y: the number of classes does not match the model's outputs");
        for (Index i = 0; i < n; ++i) {
            require(y[i] >= 0 && y[i] < static_cast<double>(n_classes) && y[i] == std::floor(y[i]),
                    "y: class labels must be integers in [0, n_classes)");
        }
    }
    double total = 0;
    for (Index i = 0; i < n; ++i) total += weight(w, i);
    require(total > 0, "sample_weight: the weights sum to zero");
    switch (metric) {
        case Metric::Accuracy: {
            double correct = 0;
            for (Index i = 0; i < n; ++i) {
                if (static_cast<double>(label_of(P.row(i).data(), k)) == y[i]) {
                    correct += weight(w, i);
                }
            }
            return correct / total;
        }
        case Metric::BalancedAccuracy: {
            std::vector<double> correct(static_cast<std::size_t>(n_classes), 0.0);
            std::vector<double> seen(static_cast<std::size_t>(n_classes), 0.0);
            for (Index i = 0; i < n; ++i) {
                const auto c = static_cast<std::size_t>(y[i]);
                seen[c] += weight(w, i);
                if (static_cast<double>(label_of(P.row(i).data(), k)) == y[i]) {
                    correct[c] += weight(w, i);
                }
            }
            double sum = 0;
            Index present = 0;
            for (std::size_t c = 0; c < seen.size(); ++c) {
                if (seen[c] > 0) {
                    sum += correct[c] / seen[c];
                    ++present;
                }
            }
            return sum / static_cast<double>(present);
        }
        case Metric::LogLoss: {
            constexpr double eps = std::numeric_limits<double>::epsilon();
            double loss = 0;
            for (Index i = 0; i < n; ++i) {
                const double p = probability_of(P.row(i).data(), k, static_cast<Index>(y[i]));
                loss -= weight(w, i) * std::log(std::clamp(p, eps, 1.0 - eps));
            }
            return -loss / total;
        }
        case Metric::RocAuc:
            require(k <= 2, "metric: roc_auc is for binary classifiers (1 or 2 outputs)");
            return roc_auc(P, y, w);
        case Metric::R2: {
            double mean = 0;
            for (Index i = 0; i < n; ++i) mean += weight(w, i) * y[i];
            mean /= total;
            double residual = 0, spread = 0;
            for (Index i = 0; i < n; ++i) {
                residual += weight(w, i) * (y[i] - P(i, 0)) * (y[i] - P(i, 0));
                spread += weight(w, i) * (y[i] - mean) * (y[i] - mean);
            }
            // scikit-learn's convention for a constant y
            if (spread == 0) return residual == 0 ? 1.0 : 0.0;
            return 1.0 - residual / spread;
        }
        case Metric::MeanSquaredError:
        case Metric::MeanAbsoluteError: {
            const bool squared = metric == Metric::MeanSquaredError;
            double loss = 0;
            for (Index i = 0; i < n; ++i) {
                const double error = y[i] - P(i, 0);
                loss += weight(w, i) * (squared ? error * error : std::abs(error));
            }
            return -loss / total;
        }
    }
    return 0;
}

}  // namespace glassbox::inspection
