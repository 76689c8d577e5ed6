//! The interaction screen: pairs of columns that say something about the target together
//! that neither says alone (y = sign(x_a · x_b) is the pure case: each column's marginal
//! mutual information is zero).
//!
//! Method: a conditional-independence G-test on median-split columns (the log-linear test
//! behind interaction information, as in Jakulin & Bratko's "Testing the significance of
//! attribute interactions", 2004). Each candidate column is cut at its median into a bit
//! vector over a deterministic sample of at most [`PAIR_SAMPLE`] rows; the class (or the
//! quantile-binned continuous target) is one bit vector per class. For a pair (A, B) the
//! 2 × 2 × K table comes from popcounts of ANDed words, and
//!
//! - `I(B;Y|A) = I(AB;Y) - I(A;Y)` and `I(A;Y|B) = I(AB;Y) - I(B;Y)`, each with
//!   `2m·I ~ χ²(2(K-1))` when the second column adds nothing (m sampled rows);
//! - the pair is kept when both conditional statistics pass the Bonferroni-corrected
//!   threshold for all pairs tested (family-wise error 5 %) and the interaction
//!   information `I(AB;Y) - I(A;Y) - I(B;Y)` is positive (the pair is synergistic, not two
//!   separately useful columns).
//!
//! A kept pair's columns get relevance `max(own, I(AB;Y))`, so the rest of the pipeline
//! ranks them with the columns that matter.

use rayon::prelude::*;

use crate::data::ColumnMatrix;
use crate::error::{Result, SelectError};
use crate::progress::CancelToken;

/// Rows sampled for the screen.
pub const PAIR_SAMPLE: usize = 2048;
/// Most pairs reported (the strongest).
pub const MAX_PAIRS: usize = 64;

/// A synergistic pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// Matrix column.
    pub a: usize,
    /// Matrix column.
    pub b: usize,
    /// `I(AB;Y)` in nats on the median-split columns.
    pub joint_mi: f64,
    /// The smaller of the two conditional G statistics.
    pub g: f64,
}

/// What the screen did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Screen {
    /// Kept pairs, strongest first.
    pub pairs: Vec<Pair>,
    /// Pairs tested.
    pub tested: usize,
    /// The χ² threshold each conditional statistic had to pass.
    pub threshold: f64,
}

/// Deterministic sample rows `k·p mod n` (distinct, sorted) for a large prime `p`.
pub fn sample_rows(n: usize, m: usize) -> Vec<usize> {
    if n <= m {
        return (0..n).collect();
    }
    let mut rows: Vec<usize> = (0..m as u64).map(|k| (k.wrapping_mul(2_654_435_761) % n as u64) as usize).collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

fn bits(values: impl Iterator<Item = bool>, words: usize) -> Vec<u64> {
    let mut out = vec![0u64; words];
    for (i, v) in values.enumerate() {
        if v {
            out[i / 64] |= 1 << (i % 64);
        }
    }
    out
}

fn and_count(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
}

fn and3_count(a: &[u64], b: &[u64], c: &[u64]) -> u32 {
    a.iter().zip(b).zip(c).map(|((x, y), z)| (x & y & z).count_ones()).sum()
}

/// Plug-in mutual information (nats) of a table `cells[x * k + c]` over `m` rows.
fn mi(cells: &[f64], k: usize, m: f64) -> f64 {
    let nx = cells.len() / k;
    let mut py = vec![0.0; k];
    let mut total = 0.0;
    for x in 0..nx {
        let px: f64 = cells[x * k..(x + 1) * k].iter().sum();
        for c in 0..k {
            py[c] += cells[x * k + c];
        }
        for c in 0..k {
            let v = cells[x * k + c];
            if v > 0.0 {
                total += v * (v * m / px).ln();
            }
        }
    }
    // Σ v·ln(v·m / (px·py)) = Σ v·ln(v·m / px) - Σ_c py·ln(py)
    let hy: f64 = py.iter().filter(|v| **v > 0.0).map(|v| v * v.ln()).sum();
    (total - hy) / m
}

/// Survival function of χ² with an even number of degrees of freedom.
fn chi2_sf_even(x: f64, df: usize) -> f64 {
    let h = x / 2.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..df / 2 {
        term *= h / i as f64;
        sum += term;
    }
    (-h).exp() * sum
}

/// The χ² value (even `df`) whose upper tail is `p`.
pub fn chi2_threshold(p: f64, df: usize) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while chi2_sf_even(hi, df) > p {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if chi2_sf_even(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Screens every pair of `candidates` (matrix columns) against class codes `classes`
/// (`0..k`).
pub fn screen(
    x: &ColumnMatrix,
    candidates: &[usize],
    classes: &[u32],
    k: usize,
    cancel: &CancelToken,
) -> Result<Screen> {
    let rows = sample_rows(x.n_rows, PAIR_SAMPLE);
    let m = rows.len();
    let words = m.div_ceil(64);
    if candidates.len() < 2 || k < 2 || m < 16 {
        return Ok(Screen::default());
    }
    let ys: Vec<Vec<u64>> = (0..k).map(|c| bits(rows.iter().map(|&r| classes[r] as usize == c), words)).collect();
    let n_class: Vec<f64> = ys.iter().map(|y| f64::from(y.iter().map(|w| w.count_ones()).sum::<u32>())).collect();
    // Median-split bit vector of each candidate; None when the split is degenerate.
    let cols: Vec<Option<Vec<u64>>> = candidates
        .par_iter()
        .map(|&c| {
            let col = x.column(c);
            let mut v: Vec<f32> = rows.iter().map(|&r| col[r]).collect();
            v.sort_unstable_by(f32::total_cmp);
            let median = v[m / 2];
            let mut split = median;
            // A column whose upper half is one value: split below it instead.
            if v[m - 1] == median {
                split = v.iter().rev().find(|x| **x < median).copied().unwrap_or(median);
            }
            let b = bits(rows.iter().map(|&r| col[r] > split), words);
            let ones: u32 = b.iter().map(|w| w.count_ones()).sum();
            (ones >= 8 && (m as u32 - ones) >= 8).then_some(b)
        })
        .collect();
    // Per column: ones per class, and I(A;Y).
    let single: Vec<Option<(Vec<f64>, f64)>> = cols
        .iter()
        .map(|b| {
            b.as_ref().map(|b| {
                let ones: Vec<f64> = ys.iter().map(|y| f64::from(and_count(b, y))).collect();
                let mut cells = vec![0.0; 2 * k];
                for c in 0..k {
                    cells[k + c] = ones[c];
                    cells[c] = n_class[c] - ones[c];
                }
                let i = mi(&cells, k, m as f64);
                (ones, i)
            })
        })
        .collect();
    let p = candidates.len();
    let tested = p * (p - 1) / 2;
    let df = 2 * (k - 1);
    let threshold = chi2_threshold(0.05 / tested as f64, df);
    let found: Vec<Option<Vec<Pair>>> = (0..p)
        .into_par_iter()
        .map(|i| {
            if cancel.is_cancelled() {
                return None;
            }
            let mut out = Vec::new();
            let (Some(a), Some((a_ones, ia))) = (&cols[i], &single[i]) else { return Some(out) };
            let mut cells = vec![0.0; 4 * k];
            for j in i + 1..p {
                let (Some(b), Some((b_ones, ib))) = (&cols[j], &single[j]) else { continue };
                for c in 0..k {
                    let n11 = f64::from(and3_count(a, b, &ys[c]));
                    let n10 = a_ones[c] - n11;
                    let n01 = b_ones[c] - n11;
                    cells[3 * k + c] = n11;
                    cells[2 * k + c] = n10;
                    cells[k + c] = n01;
                    cells[c] = n_class[c] - n11 - n10 - n01;
                }
                let joint = mi(&cells, k, m as f64);
                let synergy = joint - ia - ib;
                let g = 2.0 * m as f64 * (joint - ia.max(*ib));
                if synergy > 0.0 && g > threshold {
                    out.push(Pair { a: candidates[i], b: candidates[j], joint_mi: joint, g });
                }
            }
            Some(out)
        })
        .collect();
    let mut pairs = Vec::new();
    for f in found {
        pairs.extend(f.ok_or(SelectError::Cancelled)?);
    }
    pairs.sort_by(|x, y| y.g.total_cmp(&x.g).then(x.a.cmp(&y.a)).then(x.b.cmp(&y.b)));
    pairs.truncate(MAX_PAIRS);
    Ok(Screen { pairs, tested, threshold })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_matches_known_quantiles() {
        // χ²(2) upper 5 % point is 5.991; χ²(4) 9.488.
        assert!((chi2_threshold(0.05, 2) - 5.991).abs() < 1e-3);
        assert!((chi2_threshold(0.05, 4) - 9.488).abs() < 1e-3);
    }

    #[test]
    fn an_xor_pair_is_found_and_independent_noise_is_not() {
        let n = 3000;
        let mut s = 11u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let cols: Vec<Vec<f32>> = (0..40).map(|_| (0..n).map(|_| next()).collect()).collect();
        let classes: Vec<u32> = (0..n).map(|r| u32::from((cols[7][r] > 0.0) != (cols[23][r] > 0.0))).collect();
        let x = ColumnMatrix::from_columns(n, cols);
        let all: Vec<usize> = (0..40).collect();
        let s = screen(&x, &all, &classes, 2, &CancelToken::new()).expect("screen");
        assert_eq!(s.tested, 780);
        assert_eq!(s.pairs.len(), 1, "{:?}", s.pairs);
        assert_eq!((s.pairs[0].a, s.pairs[0].b), (7, 23));
        assert!(s.pairs[0].joint_mi > 0.6, "joint MI near ln 2: {}", s.pairs[0].joint_mi);
    }
}
