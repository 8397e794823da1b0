// The scores permutation importance compares: scikit-learn's scorer semantics (higher is better,
// losses negated) computed from a model's outputs in double precision.
#pragma once

#include "core/common.hpp"

#include <string>

namespace glassbox::inspection {

enum class Metric { Accuracy, BalancedAccuracy, LogLoss, RocAuc, R2, MeanSquaredError,
                    MeanAbsoluteError };

// "accuracy", "balanced_accuracy", "log_loss", "roc_auc", "r2", "mse", "mae".
Metric parse_metric(const std::string& name);
bool is_classification(Metric metric);

// The score of outputs P (rows x n_outputs) against y (class indices for the classification
// metrics, as doubles) with optional weights w (nullptr: all 1). Classifier outputs are class
// probabilities or scores: the label is the argmax, and a single column is the probability of
// class 1 (label: > 0.5). roc_auc is binary only (score: column 1, or the single column).
// Losses (log_loss, mse, mae) are returned negated, as scikit-learn's neg_* scorers.
double metric_score(Metric metric, const Eigen::Ref<const RowMatrixXf>& P, const double* y,
                    const double* w, Index n_classes);

}  // namespace glassbox::inspection
