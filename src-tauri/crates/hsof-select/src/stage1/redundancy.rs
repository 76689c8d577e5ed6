//! Redundancy removal without an F x F correlation matrix.
//!
//! Columns are visited in relevance order. Each is standardised (z = (x - mean) / sd) and correlated
//! only with the columns already kept (a block of at most `keep` standardised columns, so memory is
//! `keep x n`, not `F x F`); when its |r| with any kept column exceeds the threshold it is dropped,
//! because the kept one is at least as relevant. The walk stops once `keep` columns are kept.

use crate::backend::Backend;
use crate::data::ColumnMatrix;
use crate::error::Result;
use crate::progress::{Ctl, Stage};

/// Dot product with eight independent f32 lanes (vectorises), summed in f64.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| f64::from(x * y)).sum();
    acc.iter().map(|v| f64::from(*v)).sum::<f64>() + tail
}

/// Writes the standardised copy of `col` into `out`, scaled by 1/sqrt(n) so that the dot product of
/// two such columns is their Pearson correlation.
pub fn standardise_into(col: &[f32], mean: f64, sd: f64, out: &mut Vec<f32>) {
    let scale = if sd > 0.0 { 1.0 / (sd * (col.len() as f64).sqrt()) } else { 0.0 };
    out.clear();
    out.extend(col.iter().map(|v| ((f64::from(*v) - mean) * scale) as f32));
}

/// Result of the greedy walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    /// Kept columns, in relevance order.
    pub columns: Vec<usize>,
    /// Columns dropped as redundant.
    pub dropped: usize,
}

/// Greedy redundancy removal over `ranked` (most relevant first). `means`/`sds` are per matrix column.
#[allow(clippy::too_many_arguments)]
pub fn remove_redundant(
    backend: &dyn Backend,
    x: &ColumnMatrix,
    ranked: &[usize],
    means: &[f64],
    sds: &[f64],
    keep: usize,
    threshold: f64,
    ctl: &Ctl<'_>,
) -> Result<Kept> {
    let n = x.n_rows;
    let mut block: Vec<f32> = Vec::with_capacity(keep.min(ranked.len()) * n);
    let mut columns = Vec::with_capacity(keep);
    let mut z = Vec::with_capacity(n);
    let mut dropped = 0;
    let mut last_report = 0;
    for &c in ranked {
        if columns.len() >= keep {
            break;
        }
        ctl.check()?;
        standardise_into(x.column(c), means[c], sds[c], &mut z);
        let max_r =
            ctl.install(|| backend.correlate_block(&z, &block, n)).into_iter().fold(0f32, |m, r| m.max(r.abs()));
        if f64::from(max_r) > threshold {
            dropped += 1;
            continue;
        }
        block.extend_from_slice(&z);
        columns.push(c);
        if columns.len() * 20 / keep.max(1) > last_report {
            last_report = columns.len() * 20 / keep.max(1);
            ctl.report(Stage::Filter, 0.5 + 0.5 * columns.len() as f32 / keep as f32, "removing redundant columns");
        }
    }
    Ok(Kept { columns, dropped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive_sum() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.1).collect();
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x * y)).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
    }
}
