//! A small histogram gradient-boosted tree model on pre-binned columns: stage 2's nonlinear
//! reward and stage 1's model-based ranking of its pool.
//!
//! Why hand-written rather than a crate: the search scores hundreds of different column
//! subsets of the same rows. Here the columns are quantile-binned to `u8` codes once
//! ([`Binned`]) and every fit reads a subset of them in place; the crates we looked at
//! (`perpetual`, `smartcore`, `linfa-trees`) take a fresh dense matrix per fit and bin it
//! again, which costs more than the fit itself at these sizes.
//!
//! The model is the usual second-order boosting (as LightGBM / scikit-learn's
//! `HistGradientBoosting*`): depth-limited trees grown level by level; at each node the
//! gradient and hessian sums per (column, bin) give the best split by
//! `G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)`; leaves get `-G/(H+λ)` times the learning
//! rate. Squared loss for a continuous target; logistic loss for classes (one-vs-rest per
//! class for three or more). Trees of depth ≥ 2 model pairwise interactions, which a linear
//! reward cannot see. Everything is deterministic: no sampling inside a fit.

use crate::data::{ColumnMatrix, Target};
use crate::stage1::mi::quantile_edges;

/// Bins per column (at most).
pub const MAX_BINS: usize = 16;

/// Columns of a matrix as bin codes.
#[derive(Debug, Clone)]
pub struct Binned {
    /// Codes of each binned column, one per row.
    pub codes: Vec<Vec<u8>>,
    /// Bins of each column.
    pub bins: Vec<u8>,
}

impl Binned {
    /// Bins `columns` of `x` at quantiles (ties merge, as stage 1's histograms).
    pub fn new(x: &ColumnMatrix, columns: &[usize]) -> Self {
        let mut codes = Vec::with_capacity(columns.len());
        let mut bins = Vec::with_capacity(columns.len());
        for &c in columns {
            let col = x.column(c);
            let edges = quantile_edges(col, MAX_BINS);
            codes.push(col.iter().map(|v| edges.partition_point(|e| e <= v) as u8).collect());
            bins.push((edges.len() + 1) as u8);
        }
        Self { codes, bins }
    }
}

/// Boosting settings.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Boosting rounds.
    pub rounds: u32,
    /// Tree depth.
    pub depth: u32,
    /// Shrinkage.
    pub learning_rate: f64,
    /// L2 penalty on leaf values.
    pub lambda: f64,
    /// Fewest rows in a leaf.
    pub min_leaf: usize,
    /// Weigh each class by n / (k · n_class) over the training rows (classes only).
    pub balanced: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self { rounds: 15, depth: 3, learning_rate: 0.3, lambda: 1.0, min_leaf: 5, balanced: false }
    }
}

/// Weight of each class over training rows with `counts` per class: with `balanced`,
/// n / (k · n_class) for the k classes present (scikit-learn's `balanced`, so the weights sum
/// to n), otherwise 1; a class absent from the rows weighs 1 (it has no row to weigh).
pub(crate) fn class_weights(counts: &[usize], balanced: bool) -> Vec<f64> {
    let n: usize = counts.iter().sum();
    let present = counts.iter().filter(|c| **c > 0).count().max(1);
    counts.iter().map(|&c| if balanced && c > 0 { n as f64 / (present * c) as f64 } else { 1.0 }).collect()
}

/// One fitted tree: split nodes then leaves, heap layout (children of `i` at `2i+1`, `2i+2`).
#[derive(Debug, Clone)]
struct Tree {
    /// Per internal node: (column position in the subset, bin threshold: code <= t goes left),
    /// or `None` for a node that did not split (its value sits in both children).
    splits: Vec<Option<(usize, u8)>>,
    leaves: Vec<f64>,
}

impl Tree {
    fn leaf_of(&self, codes: &[&[u8]], row: usize) -> usize {
        let mut i = 0;
        while i < self.splits.len() {
            i = match self.splits[i] {
                Some((c, t)) if codes[c][row] > t => 2 * i + 2,
                _ => 2 * i + 1,
            };
        }
        i - self.splits.len()
    }
}

type Entry = (f64, f64, u32);

/// Gradient, hessian and row sums per (subset column, bin) over `rows` (positions in the
/// row-major `local` codes of `d` columns).
fn histogram(local: &[u8], d: usize, max_bins: usize, rows: &[usize], g: &[f64], h: &[f64], out: &mut [Entry]) {
    out.iter_mut().for_each(|v| *v = (0.0, 0.0, 0));
    for &i in rows {
        let (gi, hi) = (g[i], h[i]);
        for (c, &b) in local[i * d..(i + 1) * d].iter().enumerate() {
            let e = &mut out[c * max_bins + usize::from(b)];
            e.0 += gi;
            e.1 += hi;
            e.2 += 1;
        }
    }
}

/// Fits one booster for a gradient function and returns the raw scores of `eval` rows, plus
/// the split gain each subset column earned. The training rows' codes are first copied into
/// one row-major block (each row's columns side by side), and each level builds the histogram
/// of the smaller child only: the larger is its parent's minus it.
#[allow(clippy::too_many_arguments)]
fn boost(
    codes: &[&[u8]],
    bins: &[u8],
    train: &[usize],
    eval: &[usize],
    init: f64,
    grad: &dyn Fn(usize, f64) -> (f64, f64),
    p: Params,
    gain: &mut [f64],
) -> Vec<f64> {
    let d = codes.len();
    let n_internal = (1usize << p.depth) - 1;
    let mut f_train = vec![init; train.len()];
    let mut f_eval = vec![init; eval.len()];
    let mut g = vec![0.0; train.len()];
    let mut h = vec![0.0; train.len()];
    let mut local = vec![0u8; train.len() * d];
    for (i, &r) in train.iter().enumerate() {
        for (c, col) in codes.iter().enumerate() {
            local[i * d + c] = col[r];
        }
    }
    // Node of each training row at the current level.
    let mut node = vec![0usize; train.len()];
    let max_bins = usize::from(bins.iter().copied().max().unwrap_or(1));
    let size = d * max_bins;
    let all_rows: Vec<usize> = (0..train.len()).collect();
    for _ in 0..p.rounds {
        for (i, &r) in train.iter().enumerate() {
            (g[i], h[i]) = grad(r, f_train[i]);
        }
        node.iter_mut().for_each(|v| *v = 0);
        let mut tree = Tree { splits: vec![None; n_internal], leaves: vec![0.0; n_internal + 1] };
        let mut totals = vec![(0.0f64, 0.0f64, 0u32); 2 * n_internal + 1];
        for i in 0..train.len() {
            totals[0].0 += g[i];
            totals[0].1 += h[i];
            totals[0].2 += 1;
        }
        let mut hists: Vec<Vec<Entry>> = vec![vec![(0.0, 0.0, 0); size]];
        histogram(&local, d, max_bins, &all_rows, &g, &h, &mut hists[0]);
        for level in 0..p.depth {
            let first = (1usize << level) - 1;
            let width = 1usize << level;
            for (k, hist) in hists.iter().enumerate() {
                let id = first + k;
                let (gt, ht, nt) = totals[id];
                if (nt as usize) < 2 * p.min_leaf {
                    continue;
                }
                let parent = gt * gt / (ht + p.lambda);
                let mut best: Option<(f64, usize, u8, Entry)> = None;
                for (c, &nb) in bins.iter().enumerate() {
                    let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0u32);
                    for b in 0..usize::from(nb).saturating_sub(1) {
                        let e = hist[c * max_bins + b];
                        gl += e.0;
                        hl += e.1;
                        nl += e.2;
                        let nr = nt - nl;
                        if (nl as usize) < p.min_leaf || (nr as usize) < p.min_leaf {
                            continue;
                        }
                        let (gr, hr) = (gt - gl, ht - hl);
                        let gain = gl * gl / (hl + p.lambda) + gr * gr / (hr + p.lambda) - parent;
                        if gain > 1e-12 && best.is_none_or(|b| gain > b.0) {
                            best = Some((gain, c, b as u8, (gl, hl, nl)));
                        }
                    }
                }
                if let Some((gn, c, t, left)) = best {
                    tree.splits[id] = Some((c, t));
                    gain[c] += gn;
                    totals[2 * id + 1] = left;
                    totals[2 * id + 2] = (gt - left.0, ht - left.1, nt - left.2);
                }
            }
            // Move rows down; a node that did not split sends everything left with its totals.
            for i in 0..train.len() {
                let id = node[i];
                node[i] = match tree.splits[id] {
                    Some((c, t)) if local[i * d + c] > t => 2 * id + 2,
                    _ => 2 * id + 1,
                };
            }
            for k in 0..width {
                let id = first + k;
                if tree.splits[id].is_none() {
                    totals[2 * id + 1] = totals[id];
                    totals[2 * id + 2] = (0.0, 0.0, 0);
                }
            }
            if level + 1 == p.depth {
                break;
            }
            // The next level's histograms.
            let next_first = 2 * first + 1;
            let mut members: Vec<Vec<usize>> = vec![Vec::new(); 2 * width];
            for (i, &nd) in node.iter().enumerate() {
                members[nd - next_first].push(i);
            }
            let mut next: Vec<Vec<Entry>> = Vec::with_capacity(2 * width);
            for (k, parent) in hists.into_iter().enumerate() {
                let id = first + k;
                let empty = vec![(0.0, 0.0, 0); size];
                if tree.splits[id].is_none() {
                    next.push(parent);
                    next.push(empty);
                    continue;
                }
                let (l, r) = (2 * k, 2 * k + 1);
                let small_left = members[l].len() <= members[r].len();
                let mut small = empty;
                histogram(&local, d, max_bins, &members[if small_left { l } else { r }], &g, &h, &mut small);
                let mut big = parent;
                for (b, s) in big.iter_mut().zip(&small) {
                    b.0 -= s.0;
                    b.1 -= s.1;
                    b.2 -= s.2;
                }
                if small_left {
                    next.push(small);
                    next.push(big);
                } else {
                    next.push(big);
                    next.push(small);
                }
            }
            hists = next;
        }
        for (l, leaf) in tree.leaves.iter_mut().enumerate() {
            let (gs, hs, ns) = totals[n_internal + l];
            if ns > 0 {
                *leaf = -gs / (hs + p.lambda) * p.learning_rate;
            }
        }
        for (i, v) in f_train.iter_mut().enumerate() {
            *v += tree.leaves[node[i] - n_internal];
        }
        for (i, &r) in eval.iter().enumerate() {
            f_eval[i] += tree.leaves[tree.leaf_of(codes, r)];
        }
    }
    f_eval
}

/// Predictions of a booster fitted on `train` rows for `eval` rows: class probabilities
/// (row-major, `n_classes` per row) or values. `gain` (one per subset column) accumulates the
/// split gain of each column.
pub fn fit_predict(
    data: &Binned,
    subset: &[usize],
    target: &Target,
    train: &[usize],
    eval: &[usize],
    p: Params,
    gain: &mut [f64],
) -> Vec<f64> {
    let codes: Vec<&[u8]> = subset.iter().map(|&c| data.codes[c].as_slice()).collect();
    let bins: Vec<u8> = subset.iter().map(|&c| data.bins[c]).collect();
    match target {
        Target::Continuous(y) => {
            let init = train.iter().map(|&r| f64::from(y[r])).sum::<f64>() / train.len().max(1) as f64;
            let grad = |r: usize, f: f64| (f - f64::from(y[r]), 1.0);
            boost(&codes, &bins, train, eval, init, &grad, p, gain)
        }
        Target::Classes { codes: classes, labels } => {
            let k = labels.len();
            let count = target.class_counts(train);
            let weight = class_weights(&count, p.balanced);
            let one_vs_rest: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
            let raw: Vec<Vec<f64>> = one_vs_rest
                .iter()
                .map(|&c| {
                    let pos = train.iter().filter(|&&r| classes[r] as usize == c).count() as f64;
                    let prior = ((pos + 0.5) / (train.len() as f64 + 1.0)).clamp(1e-6, 1.0 - 1e-6);
                    let init = (prior / (1.0 - prior)).ln();
                    let grad = |r: usize, f: f64| {
                        let q = 1.0 / (1.0 + (-f).exp());
                        let w = weight[classes[r] as usize];
                        (w * (q - f64::from(u8::from(classes[r] as usize == c))), w * (q * (1.0 - q)).max(1e-6))
                    };
                    boost(&codes, &bins, train, eval, init, &grad, p, gain)
                })
                .collect();
            let mut out = Vec::with_capacity(eval.len() * k);
            for i in 0..eval.len() {
                if k == 2 {
                    let q = 1.0 / (1.0 + (-raw[0][i]).exp());
                    out.extend([1.0 - q, q]);
                } else {
                    let qs: Vec<f64> = raw.iter().map(|r| 1.0 / (1.0 + (-r[i]).exp())).collect();
                    let s: f64 = qs.iter().sum::<f64>().max(1e-12);
                    out.extend(qs.iter().map(|q| q / s));
                }
            }
            out
        }
    }
}

/// Held-out skill in 0..1 for useful models: R² for a continuous target; for classes the
/// log-loss improvement over the training-class prior (McFadden's pseudo-R²), so both read
/// like the ridge reward.
pub fn skill(target: &Target, train: &[usize], eval: &[usize], pred: &[f64]) -> f64 {
    match target {
        Target::Continuous(y) => {
            let mean = eval.iter().map(|&r| f64::from(y[r])).sum::<f64>() / eval.len().max(1) as f64;
            let sst: f64 = eval.iter().map(|&r| (f64::from(y[r]) - mean).powi(2)).sum();
            let sse: f64 = eval.iter().zip(pred).map(|(&r, p)| (f64::from(y[r]) - p).powi(2)).sum();
            if sst > 0.0 {
                1.0 - sse / sst
            } else {
                0.0
            }
        }
        Target::Classes { codes, labels } => {
            let k = labels.len();
            let mut prior = vec![0.5; k];
            for &r in train {
                prior[codes[r] as usize] += 1.0;
            }
            let total: f64 = prior.iter().sum();
            let (mut ll, mut ll0) = (0.0, 0.0);
            for (i, &r) in eval.iter().enumerate() {
                let c = codes[r] as usize;
                ll -= pred[i * k + c].clamp(1e-9, 1.0).ln();
                ll0 -= (prior[c] / total).ln();
            }
            if ll0 > 0.0 {
                1.0 - ll / ll0
            } else {
                0.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_two_trees_learn_an_xor_a_linear_model_cannot() {
        let n = 1200;
        // Two columns whose signs decide the class together, one noise column.
        let mut s = 7u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let a: Vec<f32> = (0..n).map(|_| next()).collect();
        let b: Vec<f32> = (0..n).map(|_| next()).collect();
        let noise: Vec<f32> = (0..n).map(|_| next()).collect();
        let codes: Vec<u32> = (0..n).map(|i| u32::from((a[i] > 0.0) != (b[i] > 0.0))).collect();
        let x = ColumnMatrix::from_columns(n, vec![a, b, noise]);
        let t = Target::Classes { codes, labels: vec!["0".into(), "1".into()] };
        let binned = Binned::new(&x, &[0, 1, 2]);
        let train: Vec<usize> = (0..n).filter(|i| i % 3 != 0).collect();
        let eval: Vec<usize> = (0..n).filter(|i| i % 3 == 0).collect();
        let p = Params::default();
        let mut gain = vec![0.0; 3];
        let both = skill(&t, &train, &eval, &fit_predict(&binned, &[0, 1], &t, &train, &eval, p, &mut gain));
        let mut g2 = vec![0.0; 2];
        let one = skill(&t, &train, &eval, &fit_predict(&binned, &[0, 2], &t, &train, &eval, p, &mut g2));
        assert!(both > 0.6, "the pair explains the class: {both}");
        assert!(one < 0.1, "one half of the pair explains nothing: {one}");
    }

    #[test]
    fn balanced_weights_raise_the_recall_of_a_rare_class() {
        let n = 2000;
        let mut s = 3u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 33) as f32 / (1u64 << 31) as f32
        };
        // 10 % positives (half of them in the training rows), shifted by half a spread: they
        // overlap the negatives.
        let codes: Vec<u32> = (0..n).map(|i| u32::from(i % 20 < 2)).collect();
        let x: Vec<f32> = codes.iter().map(|&c| next() + 0.5 * c as f32).collect();
        let t = Target::Classes { codes: codes.clone(), labels: vec!["0".into(), "1".into()] };
        let binned = Binned::new(&ColumnMatrix::from_columns(n, vec![x]), &[0]);
        let train: Vec<usize> = (0..n).filter(|i| i % 2 == 0).collect();
        let eval: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
        let recall = |balanced: bool| {
            let p = Params { balanced, ..Params::default() };
            let pred = fit_predict(&binned, &[0], &t, &train, &eval, p, &mut [0.0]);
            let pos: Vec<usize> = (0..eval.len()).filter(|&i| codes[eval[i]] == 1).collect();
            pos.iter().filter(|&&i| pred[2 * i + 1] > 0.5).count() as f64 / pos.len() as f64
        };
        let (plain, balanced) = (recall(false), recall(true));
        assert!(balanced > plain + 0.2, "rare-class recall: {plain} unweighted, {balanced} balanced");
    }
}
