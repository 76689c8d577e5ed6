//! The two model families of stage 3 and their cross-validation.
//!
//! - [`ModelFamily::Ridge`]: ridge least squares on training-fold standardised columns with an
//!   intercept (penalty 1e-3 per training row), test values clipped to the training fold's range; classes are predicted as the arg-max of one
//!   indicator output per class (scikit-learn's `RidgeClassifier`).
//! - [`ModelFamily::BoostedTrees`]: forust-ml's histogram gradient-boosted trees (XGBoost's
//!   second-order boosting; depth 3, [`BOOSTED_ROUNDS`] rounds, learning rate 0.1), binned on the
//!   training fold, with class probabilities and balanced class weights. Why forust-ml: pure Rust
//!   on the stable toolchain with the parameters a data scientist knows from XGBoost and sample
//!   weights; `perpetual` (the same author's successor) needs a nightly compiler in every release
//!   (`#![feature(array_ptr_get)]`), and smartcore's `XGRegressor` is squared loss only. Stage 2
//!   keeps its own booster ([`crate::gbt`]) because it refits hundreds of subsets of one binned
//!   matrix.
//! - [`ModelFamily::RandomForest`]: smartcore's random forest (pure Rust, no BLAS). It is fitted in
//!   batches of [`FOREST_BATCH`] trees, each with its own seed, so the cancel token is checked between
//!   batches; batch predictions are combined by majority vote (classes) or mean (regression).
//!
//! Scores: accuracy for classification, R² for regression (higher is better for both).

use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::{RandomForestClassifier, RandomForestClassifierParameters};
use smartcore::ensemble::random_forest_regressor::{RandomForestRegressor, RandomForestRegressorParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;

use crate::cholesky;
use crate::data::{Dataset, Target};
use crate::error::{Result, SelectError};
use crate::metrics::Predictions;
use crate::progress::CancelToken;

/// Boosting rounds of [`ModelFamily::BoostedTrees`].
pub const BOOSTED_ROUNDS: u32 = 100;
/// Tree depth of [`ModelFamily::BoostedTrees`]: pairwise and three-way interactions.
pub const BOOSTED_DEPTH: usize = 3;
/// Histogram bins per column of [`ModelFamily::BoostedTrees`] (forust-ml's default is 256; 32 fits
/// three times faster on a few thousand rows, and stage 3 fits hundreds of models).
pub const BOOSTED_BINS: u16 = 32;

/// Trees per forest batch.
pub const FOREST_BATCH: u32 = 10;
const RIDGE: f64 = 1e-3;

/// A model family evaluated in stage 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ModelFamily {
    /// Ridge classifier / ridge regression.
    Ridge,
    /// Random forest (smartcore).
    RandomForest,
    /// Histogram gradient-boosted trees.
    BoostedTrees,
}

/// Forest settings.
#[derive(Debug, Clone, Copy)]
pub struct ForestParams {
    /// Trees.
    pub trees: u32,
    /// Depth limit.
    pub max_depth: u32,
    /// Balanced class weights for the boosted trees (the forest and ridge ignore it).
    pub balanced: bool,
}

/// Column-major rows x cols block of selected features.
struct Block {
    rows: usize,
    values: Vec<f32>,
}

impl Block {
    fn gather(ds: &Dataset, cols: &[usize], rows: &[usize]) -> Self {
        let mut values = Vec::with_capacity(cols.len() * rows.len());
        for &c in cols {
            let col = ds.features.column(c);
            values.extend(rows.iter().map(|&r| col[r]));
        }
        Self { rows: rows.len(), values }
    }

    /// Rows `rows` of every column of another block.
    #[cfg(test)]
    fn gather_rows(from: &Block, rows: &[usize]) -> Self {
        let values = (0..from.n_cols()).flat_map(|j| rows.iter().map(move |&r| from.column(j)[r])).collect();
        Self { rows: rows.len(), values }
    }

    fn column(&self, j: usize) -> &[f32] {
        &self.values[j * self.rows..(j + 1) * self.rows]
    }

    fn n_cols(&self) -> usize {
        self.values.len() / self.rows.max(1)
    }

    fn matrix(&self) -> Result<DenseMatrix<f32>> {
        DenseMatrix::new(self.rows, self.n_cols(), self.values.clone(), true).map_err(|e| model_err("random forest", e))
    }
}

fn model_err(model: &'static str, e: impl std::fmt::Display) -> SelectError {
    SelectError::Model { stage: "stage 3", model, reason: e.to_string() }
}

/// Per-fold scores of `family` on `cols`, and, when `importance` is set, the permutation importance
/// of each column (mean score drop over folds when that column is shuffled in the test fold).
#[allow(clippy::too_many_arguments)]
pub fn cross_validate(
    ds: &Dataset,
    cols: &[usize],
    family: ModelFamily,
    folds: &[Vec<usize>],
    forest: ForestParams,
    seed: u64,
    importance: bool,
    cancel: &CancelToken,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let per_fold: Vec<Result<(f64, Vec<f64>)>> = (0..folds.len())
        .into_par_iter()
        .map(|f| {
            if cancel.is_cancelled() {
                return Err(SelectError::Cancelled);
            }
            let test_rows = &folds[f];
            let train_rows: Vec<usize> =
                folds.iter().enumerate().filter(|(g, _)| *g != f).flat_map(|(_, r)| r.iter().copied()).collect();
            let train = Block::gather(ds, cols, &train_rows);
            let test = Block::gather(ds, cols, test_rows);
            let mut tests = vec![test];
            if importance {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (f as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
                for j in 0..cols.len() {
                    let mut t = Block { rows: tests[0].rows, values: tests[0].values.clone() };
                    t.values[j * t.rows..(j + 1) * t.rows].shuffle(&mut rng);
                    tests.push(t);
                }
            }
            let preds = fit_predict(ds, family, &train, &train_rows, &tests, forest, seed ^ f as u64, cancel)?;
            let scores: Vec<f64> = preds.iter().map(|p| score(&ds.target, test_rows, p)).collect();
            let drops = scores.iter().skip(1).map(|s| scores[0] - s).collect();
            Ok((scores[0], drops))
        })
        .collect();
    let mut fold_scores = Vec::with_capacity(folds.len());
    let mut drops = vec![0.0; if importance { cols.len() } else { 0 }];
    for r in per_fold {
        let (s, d) = r?;
        fold_scores.push(s);
        for (acc, v) in drops.iter_mut().zip(d) {
            *acc += v / folds.len() as f64;
        }
    }
    Ok((fold_scores, drops))
}

/// `family` on `cols` fitted on `train` rows, predicting `test` rows: the outer, honest
/// predictions of a selection made without the test rows (class probabilities for the boosted
/// trees), and their score.
#[allow(clippy::too_many_arguments)]
pub fn holdout_predict(
    ds: &Dataset,
    cols: &[usize],
    family: ModelFamily,
    train_rows: &[usize],
    test_rows: &[usize],
    forest: ForestParams,
    seed: u64,
    cancel: &CancelToken,
) -> Result<(f64, Predictions)> {
    let train = Block::gather(ds, cols, train_rows);
    let test = Block::gather(ds, cols, test_rows);
    let (predicted, probabilities) = match family {
        ModelFamily::BoostedTrees => {
            let (mut preds, raw) =
                boosted_fit_predict(&ds.target, &train, train_rows, std::slice::from_ref(&test), forest.balanced)?;
            (preds.swap_remove(0), ds.problem.is_classification().then_some(raw))
        }
        _ => (fit_predict(ds, family, &train, train_rows, &[test], forest, seed, cancel)?.swap_remove(0), None),
    };
    let s = score(&ds.target, test_rows, &predicted);
    Ok((s, Predictions { rows: test_rows.to_vec(), predicted, probabilities }))
}

/// Accuracy (classes) or R² (continuous) of `pred` against the target at `rows`.
fn score(target: &Target, rows: &[usize], pred: &[f32]) -> f64 {
    match target {
        Target::Classes { codes, .. } => {
            let hits = rows.iter().zip(pred).filter(|(r, p)| codes[**r] as f32 == **p).count();
            hits as f64 / rows.len().max(1) as f64
        }
        Target::Continuous(y) => {
            let mean = rows.iter().map(|r| f64::from(y[*r])).sum::<f64>() / rows.len().max(1) as f64;
            let sst: f64 = rows.iter().map(|r| (f64::from(y[*r]) - mean).powi(2)).sum();
            let sse: f64 = rows.iter().zip(pred).map(|(r, p)| (f64::from(y[*r]) - f64::from(*p)).powi(2)).sum();
            if sst > 0.0 {
                1.0 - sse / sst
            } else {
                0.0
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fit_predict(
    ds: &Dataset,
    family: ModelFamily,
    train: &Block,
    train_rows: &[usize],
    tests: &[Block],
    forest: ForestParams,
    seed: u64,
    cancel: &CancelToken,
) -> Result<Vec<Vec<f32>>> {
    match family {
        ModelFamily::Ridge => ridge_fit_predict(&ds.target, train, train_rows, tests),
        ModelFamily::RandomForest => forest_fit_predict(&ds.target, train, train_rows, tests, forest, seed, cancel),
        ModelFamily::BoostedTrees => Ok(boosted_fit_predict(&ds.target, train, train_rows, tests, forest.balanced)?.0),
    }
}

/// forust-ml's gradient-boosted trees fitted on the training rows ([`BOOSTED_ROUNDS`] rounds,
/// depth [`BOOSTED_DEPTH`], learning rate 0.1, [`BOOSTED_BINS`] histogram bins, no sampling, so a
/// fit is deterministic); classes are the most probable one. Also returns the raw output over
/// all test rows in order: class probabilities (row-major, `n_classes` per row) or values.
///
/// Two classes: one logistic booster, P(class 1) = sigmoid(log-odds). Three or more: one
/// logistic booster per class against the rest, the probabilities normalised to sum to 1 (as
/// scikit-learn's one-vs-rest). Balanced class weights ([`crate::gbt::class_weights`]) are
/// per-row sample weights. A class absent from the training rows gets probability 0.
fn boosted_fit_predict(
    target: &Target,
    train: &Block,
    train_rows: &[usize],
    tests: &[Block],
    balanced: bool,
) -> Result<(Vec<Vec<f32>>, Vec<f64>)> {
    let p = train.n_cols();
    let x_train: Vec<f64> = train.values.iter().map(|v| f64::from(*v)).collect();
    let x_train = Matrix::new(&x_train, train.rows, p);
    let test_values: Vec<Vec<f64>> = tests.iter().map(|t| t.values.iter().map(|v| f64::from(*v)).collect()).collect();
    let x_tests: Vec<Matrix<'_, f64>> =
        tests.iter().zip(&test_values).map(|(t, v)| Matrix::new(v, t.rows, p)).collect();
    let fit = |objective: ObjectiveType, y: &[f64], w: &[f64]| -> Result<Vec<Vec<f64>>> {
        let mut model = GradientBooster::default()
            .set_objective_type(objective)
            .set_iterations(BOOSTED_ROUNDS as usize)
            .set_learning_rate(0.1)
            .set_max_depth(BOOSTED_DEPTH)
            .set_nbins(BOOSTED_BINS)
            .set_parallel(false);
        model.fit(&x_train, y, w, None).map_err(|e| model_err("boosted trees", e))?;
        Ok(x_tests.iter().map(|m| model.predict(m, false)).collect())
    };
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let mut out = Vec::with_capacity(tests.len());
    let mut raw = Vec::new();
    match target {
        Target::Continuous(yv) => {
            let y: Vec<f64> = train_rows.iter().map(|r| f64::from(yv[*r])).collect();
            for pred in fit(ObjectiveType::SquaredLoss, &y, &vec![1.0; y.len()])? {
                out.push(pred.iter().map(|v| v.clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32).collect());
                raw.extend(pred);
            }
        }
        Target::Classes { codes, labels } => {
            let k = labels.len();
            let counts = target.class_counts(train_rows);
            let class_weight = crate::gbt::class_weights(&counts, balanced);
            let w: Vec<f64> = train_rows.iter().map(|r| class_weight[codes[*r] as usize]).collect();
            // Probabilities of each test block, row-major.
            let mut probs: Vec<Vec<f64>> = tests.iter().map(|t| vec![0.0; t.rows * k]).collect();
            let fitted: Vec<usize> = match k {
                2 => vec![1],
                _ => (0..k).filter(|c| counts[*c] > 0).collect(),
            };
            for &c in &fitted {
                let y: Vec<f64> = train_rows.iter().map(|r| f64::from(u8::from(codes[*r] as usize == c))).collect();
                let logits = fit(ObjectiveType::LogLoss, &y, &w)?;
                for (block, l) in probs.iter_mut().zip(logits) {
                    for (row, v) in l.into_iter().enumerate() {
                        block[row * k + c] = sigmoid(v);
                        if k == 2 {
                            block[row * k] = 1.0 - sigmoid(v);
                        }
                    }
                }
            }
            for block in probs {
                let mut classes = Vec::with_capacity(block.len() / k.max(1));
                for row in block.chunks(k.max(1)) {
                    let sum: f64 = row.iter().sum();
                    let norm: Vec<f64> = row.iter().map(|v| if sum > 0.0 { v / sum } else { 1.0 / k as f64 }).collect();
                    classes
                        .push((0..k).max_by(|a, b| norm[*a].total_cmp(&norm[*b]).then(b.cmp(a))).unwrap_or(0) as f32);
                    raw.extend(norm);
                }
                out.push(classes);
            }
        }
    }
    Ok((out, raw))
}

fn ridge_fit_predict(target: &Target, train: &Block, train_rows: &[usize], tests: &[Block]) -> Result<Vec<Vec<f32>>> {
    let (n, p) = (train.rows, train.n_cols());
    // Each column's training range: a test value beyond it is clipped to it, so a heavy-tailed
    // descriptor (a count, a molecular weight) that is far out on an unseen row moves the
    // prediction no further than the training rows did, where a linear fit would extrapolate
    // (one such row in a held-out fold turned its R² negative on molecular-descriptor tables).
    let range: Vec<(f32, f32)> = (0..p)
        .map(|j| {
            train.column(j).iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)))
        })
        .collect();
    let stats: Vec<(f64, f64)> = (0..p)
        .map(|j| {
            let c = train.column(j);
            let mean = c.iter().map(|v| f64::from(*v)).sum::<f64>() / n.max(1) as f64;
            let var = c.iter().map(|v| (f64::from(*v) - mean).powi(2)).sum::<f64>() / n.max(1) as f64;
            // Constant in this training fold (within rounding, the tolerance stage 1 uses): not
            // scaled, or a test value would be divided by a near-zero deviation (1e-45 for a
            // subnormal spread) and predict beyond f32's range.
            let constant = var <= 1e-12 * (1.0 + mean * mean);
            (mean, if constant { 1.0 } else { var.sqrt() })
        })
        .collect();
    let z: Vec<Vec<f64>> =
        (0..p).map(|j| train.column(j).iter().map(|v| (f64::from(*v) - stats[j].0) / stats[j].1).collect()).collect();
    let ys: Vec<Vec<f64>> = match target {
        Target::Classes { codes, labels } => (0..labels.len())
            .map(|k| train_rows.iter().map(|r| f64::from(u8::from(codes[*r] as usize == k))).collect())
            .collect(),
        Target::Continuous(y) => vec![train_rows.iter().map(|r| f64::from(y[*r])).collect()],
    };
    // Unknowns: p slopes then the intercept.
    let (d, m) = (p + 1, ys.len());
    let mut a = vec![0.0; d * d];
    let mut b = vec![0.0; d * m];
    for i in 0..p {
        for j in i..p {
            let v: f64 = z[i].iter().zip(&z[j]).map(|(x, y)| x * y).sum();
            a[i * d + j] = v;
            a[j * d + i] = v;
        }
        a[i * d + i] += RIDGE * n as f64;
        let s: f64 = z[i].iter().sum();
        a[i * d + p] = s;
        a[p * d + i] = s;
        for (o, y) in ys.iter().enumerate() {
            b[i * m + o] = z[i].iter().zip(y).map(|(x, y)| x * y).sum();
        }
    }
    a[p * d + p] = n as f64;
    for (o, y) in ys.iter().enumerate() {
        b[p * m + o] = y.iter().sum();
    }
    if !cholesky::solve(&mut a, d, &mut b, m) {
        return Err(model_err("ridge", "the normal equations are singular"));
    }
    Ok(tests
        .iter()
        .map(|t| {
            (0..t.rows)
                .map(|r| {
                    let out = |o: usize| {
                        b[p * m + o]
                            + (0..p)
                                .map(|j| {
                                    let v = t.column(j)[r];
                                    let v = if range[j].0 <= range[j].1 { v.clamp(range[j].0, range[j].1) } else { v };
                                    b[j * m + o] * (f64::from(v) - stats[j].0) / stats[j].1
                                })
                                .sum::<f64>()
                    };
                    match target {
                        Target::Classes { .. } => {
                            (0..m).max_by(|x, y| out(*x).total_cmp(&out(*y)).then(y.cmp(x))).unwrap_or(0) as f32
                        }
                        // Clamped: an extrapolation beyond f32's range would be an infinite score.
                        Target::Continuous(_) => out(0).clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32,
                    }
                })
                .collect()
        })
        .collect())
}

fn forest_fit_predict(
    target: &Target,
    train: &Block,
    train_rows: &[usize],
    tests: &[Block],
    forest: ForestParams,
    seed: u64,
    cancel: &CancelToken,
) -> Result<Vec<Vec<f32>>> {
    let x = train.matrix()?;
    let test_matrices: Vec<DenseMatrix<f32>> = tests.iter().map(Block::matrix).collect::<Result<_>>()?;
    let batches = forest.trees.div_ceil(FOREST_BATCH).max(1);
    let depth = u16::try_from(forest.max_depth).unwrap_or(u16::MAX);
    // Batches are fitted in parallel (with the folds around them, more tasks than threads keeps
    // every thread busy) and combined in batch order, so the result does not depend on threads.
    let per_batch: Vec<Result<Vec<Vec<f32>>>> = (0..batches)
        .into_par_iter()
        .map(|batch| {
            if cancel.is_cancelled() {
                return Err(SelectError::Cancelled);
            }
            let trees = FOREST_BATCH.min(forest.trees - batch * FOREST_BATCH).max(1);
            let batch_seed = seed.wrapping_mul(31).wrapping_add(u64::from(batch));
            match target {
                Target::Classes { codes, .. } => {
                    let y: Vec<u32> = train_rows.iter().map(|r| codes[*r]).collect();
                    if let Some(&only) = y.first().filter(|&&c| y.iter().all(|v| *v == c)) {
                        // A training fold with a single class (a rare class, tiny data): smartcore
                        // refuses to fit, and every tree would predict that class anyway.
                        return Ok(tests.iter().map(|m| vec![only as f32; m.rows]).collect());
                    }
                    let params = RandomForestClassifierParameters::default()
                        .with_n_trees(trees as u16)
                        .with_max_depth(depth)
                        .with_seed(batch_seed);
                    let model =
                        RandomForestClassifier::fit(&x, &y, params).map_err(|e| model_err("random forest", e))?;
                    test_matrices
                        .iter()
                        .map(|m| {
                            let p: Vec<u32> = model.predict(m).map_err(|e| model_err("random forest", e))?;
                            Ok(p.into_iter().map(|c| c as f32).collect())
                        })
                        .collect()
                }
                Target::Continuous(yv) => {
                    let y: Vec<f32> = train_rows.iter().map(|r| yv[*r]).collect();
                    let params = RandomForestRegressorParameters::default()
                        .with_n_trees(trees as usize)
                        .with_max_depth(depth)
                        .with_seed(batch_seed);
                    let model =
                        RandomForestRegressor::fit(&x, &y, params).map_err(|e| model_err("random forest", e))?;
                    test_matrices.iter().map(|m| model.predict(m).map_err(|e| model_err("random forest", e))).collect()
                }
            }
        })
        .collect();
    let mut outputs: Vec<Vec<Vec<f32>>> = vec![Vec::new(); tests.len()];
    for batch in per_batch {
        for (t, pred) in batch?.into_iter().enumerate() {
            outputs[t].push(pred);
        }
    }
    let n_classes = target.n_classes();
    Ok(outputs.into_iter().map(|batches| combine(&batches, n_classes)).collect())
}

/// Majority vote (ties to the lower class) or mean over batch predictions.
fn combine(batches: &[Vec<f32>], n_classes: usize) -> Vec<f32> {
    let rows = batches.first().map(Vec::len).unwrap_or(0);
    (0..rows)
        .map(|r| {
            if n_classes == 0 {
                batches.iter().map(|b| b[r]).sum::<f32>() / batches.len() as f32
            } else {
                let mut votes = vec![0u32; n_classes];
                for b in batches {
                    if let Some(v) = votes.get_mut(b[r] as usize) {
                        *v += 1;
                    }
                }
                (0..n_classes).max_by(|x, y| votes[*x].cmp(&votes[*y]).then(y.cmp(x))).unwrap_or(0) as f32
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` rows of `p` uniform columns in a column-major block, and a seeded generator.
    fn block(n: usize, p: usize, seed: u64) -> (Block, ChaCha8Rng) {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let values = (0..n * p).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
        (Block { rows: n, values }, rng)
    }

    fn classes(codes: Vec<u32>, k: usize) -> Target {
        Target::Classes { codes, labels: (0..k).map(|c| format!("c{c}")).collect() }
    }

    #[test]
    fn three_classes_get_probabilities_that_sum_to_one_and_follow_the_signal() {
        let (x, _) = block(900, 3, 7);
        // Class by which third of [-1, 1) column 0 falls in; columns 1 and 2 are noise.
        let codes: Vec<u32> = x.column(0).iter().map(|v| ((v + 1.0) * 1.5).floor().min(2.0) as u32).collect();
        let target = classes(codes.clone(), 3);
        let train_rows: Vec<usize> = (0..600).collect();
        let train = Block::gather_rows(&x, &train_rows);
        let test = Block::gather_rows(&x, &(600..900).collect::<Vec<_>>());
        let (pred, probs) = boosted_fit_predict(&target, &train, &train_rows, &[test], false).expect("boosted fit");
        assert_eq!(probs.len(), 300 * 3);
        for row in probs.chunks(3) {
            assert!(row.iter().all(|p| (0.0..=1.0).contains(p)), "{row:?}");
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{row:?}");
        }
        let hits = pred[0].iter().zip(&codes[600..]).filter(|(p, c)| **p as u32 == **c).count();
        assert!(hits >= 270, "{hits} of 300 right on a one-column rule");
    }

    #[test]
    fn balanced_class_weights_predict_the_rare_class_more_often() {
        use rand::Rng;
        let (x, mut rng) = block(2000, 2, 11);
        // 10 % positives, only weakly tied to column 0.
        let codes: Vec<u32> =
            x.column(0).iter().map(|v| u32::from(rng.gen_range(0.0f32..1.0) < 0.05 + 0.1 * (v + 1.0))).collect();
        let target = classes(codes, 2);
        let train_rows: Vec<usize> = (0..1500).collect();
        let train = Block::gather_rows(&x, &train_rows);
        let test = Block::gather_rows(&x, &(1500..2000).collect::<Vec<_>>());
        let positives = |balanced| {
            let (pred, _) = boosted_fit_predict(&target, &train, &train_rows, std::slice::from_ref(&test), balanced)
                .expect("boosted fit");
            pred[0].iter().filter(|p| **p == 1.0).count()
        };
        let (plain, balanced) = (positives(false), positives(true));
        assert!(balanced > 3 * plain.max(10), "balanced {balanced} vs plain {plain} rare-class predictions of 500");
    }

    #[test]
    fn regression_boosting_fits_a_nonlinear_target() {
        let (x, _) = block(1200, 2, 3);
        let y: Vec<f32> = x.column(0).iter().zip(x.column(1)).map(|(a, b)| a * a + a * b).collect();
        let target = Target::Continuous(y.clone());
        let train_rows: Vec<usize> = (0..900).collect();
        let train = Block::gather_rows(&x, &train_rows);
        let test = Block::gather_rows(&x, &(900..1200).collect::<Vec<_>>());
        let (pred, raw) = boosted_fit_predict(&target, &train, &train_rows, &[test], false).expect("boosted fit");
        assert_eq!(raw.len(), 300);
        assert!(score(&target, &(900..1200).collect::<Vec<_>>(), &pred[0]) > 0.8);
    }
}
