//! The held-out metrics data scientists expect, on the outer validation's pooled predictions.
//!
//! Classes: `accuracy`, `balanced_accuracy` (mean recall over the classes present), and, when
//! the chosen model gives probabilities (the boosted trees do; ridge and the forest's votes do
//! not), `roc_auc` (binary: the Mann–Whitney statistic of the positive class's probability, ties
//! counted half; three or more classes: the mean one-vs-rest AUC over classes present) and
//! `log_loss` (mean −ln p of the true class, p clamped to 1e-15). Continuous target: `r2`,
//! `rmse`, `mae`.

use crate::data::Target;
use crate::report::Detail;

/// Held-out predictions: the rows, the predicted class code or value per row, and class
/// probabilities (row-major, one per class) when the model gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Predictions {
    /// Rows of the dataset, in the order of `predicted`.
    pub rows: Vec<usize>,
    /// Predicted class code (as f32) or value.
    pub predicted: Vec<f32>,
    /// Class probabilities, `n_classes` per row.
    pub probabilities: Option<Vec<f64>>,
}

impl Predictions {
    /// Appends another fold's predictions; probabilities survive only if every part has them.
    pub fn extend(&mut self, other: Predictions) {
        let first = self.rows.is_empty();
        self.rows.extend(other.rows);
        self.predicted.extend(other.predicted);
        self.probabilities = match (first, self.probabilities.take(), other.probabilities) {
            (true, _, p) => p,
            (false, Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            _ => None,
        };
    }
}

fn auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let pos = positive.iter().filter(|p| **p).count();
    let neg = positive.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    // Mid-ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            if positive[o] {
                rank_sum += mid;
            }
        }
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// The metrics of `pred` against `target`.
pub fn held_out(target: &Target, pred: &Predictions) -> Vec<Detail> {
    let n = pred.rows.len().max(1) as f64;
    match target {
        Target::Classes { codes, labels } => {
            let k = labels.len();
            let truth: Vec<usize> = pred.rows.iter().map(|&r| codes[r] as usize).collect();
            let hits = truth.iter().zip(&pred.predicted).filter(|(t, p)| **t as f32 == **p).count();
            let mut recall = Vec::new();
            for c in 0..k {
                let of_c: Vec<usize> = (0..truth.len()).filter(|&i| truth[i] == c).collect();
                if !of_c.is_empty() {
                    let right = of_c.iter().filter(|&&i| pred.predicted[i] == c as f32).count();
                    recall.push(right as f64 / of_c.len() as f64);
                }
            }
            let mut out = vec![
                Detail::new("accuracy", hits as f64 / n),
                Detail::new("balanced_accuracy", recall.iter().sum::<f64>() / recall.len().max(1) as f64),
            ];
            if let Some(p) = pred.probabilities.as_ref().filter(|p| p.len() == truth.len() * k) {
                let per_class: Vec<f64> = (0..k)
                    .filter_map(|c| {
                        let s: Vec<f64> = (0..truth.len()).map(|i| p[i * k + c]).collect();
                        let pos: Vec<bool> = truth.iter().map(|t| *t == c).collect();
                        auc(&s, &pos)
                    })
                    .collect();
                let roc = if k == 2 {
                    per_class.get(1).copied()
                } else {
                    Some(per_class.iter().sum::<f64>() / per_class.len().max(1) as f64)
                };
                if let Some(roc) = roc.filter(|_| !per_class.is_empty()) {
                    out.push(Detail::new("roc_auc", roc));
                }
                let ll = truth.iter().enumerate().map(|(i, &t)| -p[i * k + t].clamp(1e-15, 1.0).ln()).sum::<f64>() / n;
                out.push(Detail::new("log_loss", ll));
            }
            out
        }
        Target::Continuous(y) => {
            let truth: Vec<f64> = pred.rows.iter().map(|&r| f64::from(y[r])).collect();
            let mean = truth.iter().sum::<f64>() / n;
            let sst: f64 = truth.iter().map(|t| (t - mean).powi(2)).sum();
            let err: Vec<f64> = truth.iter().zip(&pred.predicted).map(|(t, p)| t - f64::from(*p)).collect();
            let sse: f64 = err.iter().map(|e| e * e).sum();
            vec![
                Detail::new("r2", if sst > 0.0 { 1.0 - sse / sst } else { 0.0 }),
                Detail::new("rmse", (sse / n).sqrt()),
                Detail::new("mae", err.iter().map(|e| e.abs()).sum::<f64>() / n),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(m: &[Detail], name: &str) -> f64 {
        m.iter().find(|d| d.name == name).map(|d| d.value).unwrap_or(f64::NAN)
    }

    #[test]
    fn classification_metrics_match_hand_computed_values() {
        // 6 rows: classes 0,0,0,0,1,1; predicted 0,0,0,1,1,0.
        let t = Target::Classes { codes: vec![0, 0, 0, 0, 1, 1], labels: vec!["a".into(), "b".into()] };
        let p1 = [0.1, 0.2, 0.3, 0.6, 0.9, 0.4];
        let pred = Predictions {
            rows: (0..6).collect(),
            predicted: vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0],
            probabilities: Some(p1.iter().flat_map(|p| [1.0 - p, *p]).collect()),
        };
        let m = held_out(&t, &pred);
        assert!((value(&m, "accuracy") - 4.0 / 6.0).abs() < 1e-12);
        assert!((value(&m, "balanced_accuracy") - (0.75 + 0.5) / 2.0).abs() < 1e-12);
        // Positive scores 0.9, 0.4 against negatives 0.1, 0.2, 0.3, 0.6: 4 + 3 wins of 8.
        assert!((value(&m, "roc_auc") - 7.0 / 8.0).abs() < 1e-12);
        let ll = -(0.9f64.ln() + 0.8f64.ln() + 0.7f64.ln() + 0.4f64.ln() + 0.9f64.ln() + 0.4f64.ln()) / 6.0;
        assert!((value(&m, "log_loss") - ll).abs() < 1e-12);
    }

    #[test]
    fn regression_metrics_and_pooling() {
        let t = Target::Continuous(vec![1.0, 2.0, 3.0, 4.0]);
        let mut pred = Predictions { rows: vec![0, 1], predicted: vec![1.5, 2.0], probabilities: None };
        pred.extend(Predictions { rows: vec![2, 3], predicted: vec![3.0, 3.5], probabilities: None });
        let m = held_out(&t, &pred);
        assert!((value(&m, "rmse") - (0.5f64 / 4.0).sqrt()).abs() < 1e-12);
        assert!((value(&m, "mae") - 0.25).abs() < 1e-12);
        assert!((value(&m, "r2") - (1.0 - 0.5 / 5.0)).abs() < 1e-12);
    }
}
