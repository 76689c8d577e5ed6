//! Relevance estimators.
//!
//! **Classification: mutual information from a quantile-binned histogram with the Miller–Madow
//! bias correction.** The column is cut into `bins` bins at quantiles taken from a deterministic
//! hashed sample of at most [`EDGE_SAMPLE`] rows (tied quantiles merge, so a 0/1 column gets two
//! bins). With plug-in entropies over the non-empty cells,
//! `MI = H(X) + H(Y) - H(X,Y)` and Miller–Madow adds `(m - 1) / 2n` to each entropy, `m` being the
//! number of non-empty bins, so `MI_MM = MI + (m_x + m_y - m_xy - 1) / 2n`, clamped at 0. Unlike
//! scikit-learn's k-NN estimator this is one pass over the column with a small table, so it is fast
//! and cache-friendly; the correction removes most of the positive bias that independent columns get.
//!
//! **Regression**: stage 1 cuts a continuous target into quantile bins and scores it as classes
//! with the same estimator (see [`crate::stage1`]), so a nonlinear dependence counts. The F
//! statistic of the univariate linear fit, `F = r² / (1 - r²) · (n - 2)` from the Pearson
//! correlation `r`, remains for a caller that passes the continuous target itself; stage 1 no
//! longer does.

/// Rows sampled to place the bin edges.
pub const EDGE_SAMPLE: usize = 2048;

/// Default number of bins: ceil(n^(1/3)) clamped to 4..=32.
pub fn default_bins(n_rows: usize) -> usize {
    ((n_rows as f64).cbrt().ceil() as usize).clamp(4, 32)
}

/// Interior bin edges (sorted, distinct) at the quantiles of a deterministic sample of `col`.
pub fn quantile_edges(col: &[f32], bins: usize) -> Vec<f32> {
    let n = col.len();
    let mut sample: Vec<f32> = if n <= EDGE_SAMPLE {
        col.to_vec()
    } else {
        // Rows k·p mod n for a large prime p: spread over the column without aliasing periodic data
        // (a plain stride would see only even rows of an alternating column).
        (0..EDGE_SAMPLE as u64).map(|k| col[(k.wrapping_mul(2_654_435_761) % n as u64) as usize]).collect()
    };
    sample.sort_unstable_by(f32::total_cmp);
    let mut edges: Vec<f32> = (1..bins).filter_map(|k| sample.get(k * sample.len() / bins).copied()).collect();
    edges.dedup();
    // An edge equal to the sample minimum would leave bin 0 empty by construction; drop it.
    if edges.first() == sample.first() && !edges.is_empty() && sample.first() < sample.last() {
        let min = sample[0];
        edges.retain(|e| *e > min);
    }
    edges
}

/// Miller–Madow corrected mutual information (nats) between a numeric column and class codes.
/// `counts` is scratch space, resized as needed.
pub fn mutual_information(col: &[f32], classes: &[u32], n_classes: usize, bins: usize, counts: &mut Vec<u32>) -> f64 {
    let edges = quantile_edges(col, bins);
    let nb = edges.len() + 1;
    counts.clear();
    counts.resize(nb * n_classes, 0);
    for (x, c) in col.iter().zip(classes) {
        let b = edges.partition_point(|e| e <= x);
        counts[b * n_classes + *c as usize] += 1;
    }
    mi_from_counts(counts, nb, n_classes, col.len())
}

/// Miller–Madow corrected mutual information (nats) from a joint histogram: the entry at
/// `b * n_classes + c` counts the rows in bin `b` (of `nb`) with class `c`. Shared by the CPU
/// estimator and the CUDA backend, which builds the same histogram on the device.
pub fn mi_from_counts(counts: &[u32], nb: usize, n_classes: usize, n_rows: usize) -> f64 {
    let n = n_rows as f64;
    let plogp = |k: u32| {
        if k == 0 {
            0.0
        } else {
            let p = f64::from(k) / n;
            -p * p.ln()
        }
    };
    let (mut hx, mut hy, mut hxy) = (0.0, 0.0, 0.0);
    let (mut mx, mut my, mut mxy) = (0usize, 0usize, 0usize);
    for b in 0..nb {
        let row = &counts[b * n_classes..(b + 1) * n_classes];
        let s: u32 = row.iter().sum();
        hx += plogp(s);
        mx += usize::from(s > 0);
        for k in row {
            hxy += plogp(*k);
            mxy += usize::from(*k > 0);
        }
    }
    for c in 0..n_classes {
        let s: u32 = (0..nb).map(|b| counts[b * n_classes + c]).sum();
        hy += plogp(s);
        my += usize::from(s > 0);
    }
    let correction = (mx as f64 + my as f64 - mxy as f64 - 1.0) / (2.0 * n);
    (hx + hy - hxy + correction).max(0.0)
}

/// Pearson correlation of two columns, accumulated in f64 (means given).
pub fn pearson(x: &[f32], mean_x: f64, y: &[f32], mean_y: f64) -> f64 {
    let (mut sxy, mut sxx, mut syy) = (0.0f64, 0.0f64, 0.0f64);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (f64::from(*a) - mean_x, f64::from(*b) - mean_y);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// F statistic of the univariate regression with correlation `r` on `n` rows.
pub fn f_statistic(r: f64, n: usize) -> f64 {
    let r2 = (r * r).min(1.0 - 1e-12);
    r2 / (1.0 - r2) * (n.saturating_sub(2)) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_column_scores_near_zero_and_dependent_high() {
        let n = 4000;
        let classes: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
        // A deterministic pseudo-random column unrelated to the class.
        let noise: Vec<f32> = (0..n).map(|i| ((i * 7919 + 13) % 1009) as f32).collect();
        let signal: Vec<f32> = (0..n).map(|i| (i % 2) as f32 * 3.0 + ((i * 31) % 17) as f32 / 17.0).collect();
        let mut scratch = Vec::new();
        let mi_noise = mutual_information(&noise, &classes, 2, 16, &mut scratch);
        let mi_signal = mutual_information(&signal, &classes, 2, 16, &mut scratch);
        assert!(mi_noise < 0.01, "noise MI {mi_noise}");
        assert!((mi_signal - std::f64::consts::LN_2).abs() < 0.02, "signal MI {mi_signal}");
    }

    #[test]
    fn binary_column_gets_two_bins() {
        let col: Vec<f32> = (0..100).map(|i| (i % 2) as f32).collect();
        assert_eq!(quantile_edges(&col, 8), vec![1.0]);
    }
}
