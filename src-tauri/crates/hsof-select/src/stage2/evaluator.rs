//! The fast cross-validated subset evaluator used by the search (and by stage 3's greedy path).
//!
//! Model: ridge least squares on standardised columns with an unpenalised intercept, fitted to the
//! target (regression) or to class indicators (classification: one indicator for binary, one per
//! class otherwise, as scikit-learn's `RidgeClassifier`). Score: the pooled held-out R² over the
//! folds, `1 - Σ SSE_test / Σ SST_test`, in 0..1 for useful subsets (higher is better).
//!
//! Speed: rows are reordered so each fold is contiguous, and the per-fold Gram matrices `XᵀX`, `Xᵀy`
//! and `yᵀy` of all candidate columns are computed once. Training statistics are "all minus fold",
//! and the held-out error follows from the fold's own statistics
//! (`SSE = yᵀy - 2 wᵀXᵀy + wᵀXᵀXw`), so scoring a subset of size d costs O(k·d³), with no pass over
//! the rows. Standardisation uses the whole-data mean and deviation (a negligible leak that does not
//! favour any subset).

use rayon::prelude::*;

use crate::cholesky;
use crate::data::{ColumnMatrix, Target};
use crate::error::{Result, SelectError};
use crate::progress::CancelToken;

/// One column's row of every fold's `XᵀX` and `Xᵀy`.
type GramRow = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// Precomputed fold statistics for a fixed set of columns.
#[derive(Debug, Clone)]
pub struct SubsetEvaluator {
    dim: usize,
    outputs: usize,
    /// Per fold then "all": `dim x dim` row-major. Index `dim - 1` is the intercept.
    gram: Vec<Vec<f64>>,
    /// Per fold then "all": `dim x outputs`.
    xy: Vec<Vec<f64>>,
    /// Per fold: Σ y² per output.
    yy: Vec<Vec<f64>>,
    /// Per fold: Σ y per output.
    ysum: Vec<Vec<f64>>,
    /// Rows per fold.
    sizes: Vec<f64>,
    ridge: f64,
}

impl SubsetEvaluator {
    /// Precomputes statistics of `columns` (dataset column indices) over `folds`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        x: &ColumnMatrix,
        columns: &[usize],
        means: &[f64],
        sds: &[f64],
        target: &Target,
        folds: &[Vec<usize>],
        ridge: f64,
        cancel: &CancelToken,
    ) -> Result<Self> {
        let order: Vec<usize> = folds.concat();
        let n = order.len();
        let mut bounds = vec![0];
        for f in folds {
            bounds.push(bounds[bounds.len() - 1] + f.len());
        }
        // Standardised, fold-ordered columns; the last one is the intercept.
        let mut z: Vec<Vec<f32>> = columns
            .iter()
            .map(|&c| {
                let col = x.column(c);
                let sd = if sds[c] > 0.0 { sds[c] } else { 1.0 };
                order.iter().map(|&r| ((f64::from(col[r]) - means[c]) / sd) as f32).collect()
            })
            .collect();
        z.push(vec![1.0; n]);
        let ys: Vec<Vec<f32>> = match target {
            Target::Classes { codes, labels } => {
                let first = usize::from(labels.len() == 2);
                (first..labels.len())
                    .map(|k| order.iter().map(|&r| f32::from(codes[r] as usize == k)).collect())
                    .collect()
            }
            Target::Continuous(y) => {
                let mean = y.iter().map(|v| f64::from(*v)).sum::<f64>() / y.len().max(1) as f64;
                let sd = (y.iter().map(|v| (f64::from(*v) - mean).powi(2)).sum::<f64>() / y.len().max(1) as f64).sqrt();
                let sd = if sd > 0.0 { sd } else { 1.0 };
                vec![order.iter().map(|&r| ((f64::from(y[r]) - mean) / sd) as f32).collect()]
            }
        };
        let (dim, outputs, k) = (z.len(), ys.len(), folds.len());
        // Row a of every fold's Gram and Xᵀy, computed in parallel over a.
        let rows: Vec<Option<GramRow>> = (0..dim)
            .into_par_iter()
            .map(|a| {
                if cancel.is_cancelled() {
                    return None;
                }
                let g = (0..k)
                    .map(|f| {
                        (a..dim)
                            .map(|b| dot_f64(&z[a][bounds[f]..bounds[f + 1]], &z[b][bounds[f]..bounds[f + 1]]))
                            .collect()
                    })
                    .collect();
                let xy = (0..k)
                    .map(|f| {
                        ys.iter()
                            .map(|y| dot_f64(&z[a][bounds[f]..bounds[f + 1]], &y[bounds[f]..bounds[f + 1]]))
                            .collect()
                    })
                    .collect();
                Some((g, xy))
            })
            .collect();
        let mut gram = vec![vec![0.0; dim * dim]; k + 1];
        let mut xy = vec![vec![0.0; dim * outputs]; k + 1];
        for (a, row) in rows.into_iter().enumerate() {
            let (g, v) = row.ok_or(SelectError::Cancelled)?;
            for f in 0..k {
                for (off, val) in g[f].iter().enumerate() {
                    let b = a + off;
                    gram[f][a * dim + b] = *val;
                    gram[f][b * dim + a] = *val;
                    gram[k][a * dim + b] += *val;
                    if b != a {
                        gram[k][b * dim + a] += *val;
                    }
                }
                for (o, val) in v[f].iter().enumerate() {
                    xy[f][a * outputs + o] = *val;
                    xy[k][a * outputs + o] += *val;
                }
            }
        }
        let per_fold = |f: usize, op: &dyn Fn(f32) -> f64| -> Vec<f64> {
            ys.iter().map(|y| y[bounds[f]..bounds[f + 1]].iter().map(|v| op(*v)).sum()).collect()
        };
        let yy = (0..k).map(|f| per_fold(f, &|v| f64::from(v) * f64::from(v))).collect();
        let ysum = (0..k).map(|f| per_fold(f, &|v| f64::from(v))).collect();
        let sizes = folds.iter().map(|f| f.len() as f64).collect();
        Ok(Self { dim, outputs, gram, xy, yy, ysum, sizes, ridge })
    }

    /// Number of columns (without the intercept).
    pub fn n_columns(&self) -> usize {
        self.dim - 1
    }

    /// Pooled held-out R² of the ridge model on `subset` (indices into the evaluator's columns).
    pub fn score(&self, subset: &[usize]) -> f64 {
        let mut idx: Vec<usize> = subset.iter().copied().filter(|&i| i < self.dim - 1).collect();
        idx.push(self.dim - 1);
        let (d, m, dim, k) = (idx.len(), self.outputs, self.dim, self.sizes.len());
        let n: f64 = self.sizes.iter().sum();
        let (mut sse, mut sst) = (0.0, 0.0);
        let mut a = vec![0.0; d * d];
        let mut w = vec![0.0; d * m];
        for f in 0..k {
            let (gf, ga) = (&self.gram[f], &self.gram[k]);
            let (bf, ba) = (&self.xy[f], &self.xy[k]);
            let n_train = n - self.sizes[f];
            for (i, &p) in idx.iter().enumerate() {
                for (j, &q) in idx.iter().enumerate() {
                    a[i * d + j] = ga[p * dim + q] - gf[p * dim + q];
                }
                if i + 1 < d {
                    a[i * d + i] += self.ridge * n_train;
                }
                for o in 0..m {
                    w[i * m + o] = ba[p * m + o] - bf[p * m + o];
                }
            }
            if !cholesky::solve(&mut a, d, &mut w, m) {
                return 0.0;
            }
            for o in 0..m {
                let mut e = self.yy[f][o];
                for (i, &p) in idx.iter().enumerate() {
                    e -= 2.0 * w[i * m + o] * bf[p * m + o];
                    for (j, &q) in idx.iter().enumerate() {
                        e += w[i * m + o] * w[j * m + o] * gf[p * dim + q];
                    }
                }
                sse += e.max(0.0);
                sst += self.yy[f][o] - self.ysum[f][o].powi(2) / self.sizes[f].max(1.0);
            }
        }
        if sst <= 0.0 {
            0.0
        } else {
            1.0 - sse / sst
        }
    }
}

/// Dot product with f64 lanes (the Gram must be accurate: scores differ in the 4th decimal).
fn dot_f64(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += f64::from(x[l]) * f64::from(y[l]);
        }
    }
    acc.iter().sum::<f64>() + tail
}
