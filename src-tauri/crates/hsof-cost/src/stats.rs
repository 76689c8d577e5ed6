//! The small statistics the cost and capacity views use. Every function skips `NaN`
//! values (the crate's "no data") and answers `None` when too few values remain.

/// The values that are numbers.
fn finite(xs: &[f64]) -> impl Iterator<Item = f64> + '_ {
    xs.iter().copied().filter(|v| v.is_finite())
}

/// Arithmetic mean; `None` for no values.
pub fn mean(xs: &[f64]) -> Option<f64> {
    let (sum, n) = finite(xs).fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Sample standard deviation (divides by n − 1); `None` for fewer than 2 values.
pub fn stddev(xs: &[f64]) -> Option<f64> {
    let m = mean(xs)?;
    let (ss, n) = finite(xs).fold((0.0, 0usize), |(s, n), v| (s + (v - m).powi(2), n + 1));
    (n >= 2).then(|| (ss / (n - 1) as f64).sqrt())
}

/// The `p` quantile (`p` in 0..=1, clamped) by linear interpolation between the closest
/// ranks (the "type 7" definition most tools use: `p = 0.95` of 0..=100 is 95).
/// `None` for no values.
pub fn quantile(xs: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = finite(xs).collect();
    if v.is_empty() || p.is_nan() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    let (a, b) = (v.get(lo)?, v.get(hi)?);
    Some(a + (b - a) * (h - lo as f64))
}

/// An ordinary least-squares line `y = intercept + slope × x`, with what a prediction
/// interval needs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct Ols {
    /// Change in y per unit of x.
    pub slope: f64,
    /// y at x = 0.
    pub intercept: f64,
    /// Standard deviation of the residuals, √(Σ residual² / (n − 2)); 0 with 2 points.
    pub residual_sd: f64,
    /// Number of (x, y) pairs used.
    pub n: u32,
    /// Mean of the xs.
    pub x_mean: f64,
    /// Σ (x − x̄)².
    pub sxx: f64,
}

impl Ols {
    /// The line at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }

    /// Standard error of a new observation at `x`:
    /// `residual_sd × √(1 + 1/n + (x − x̄)² / Sxx)`.
    pub fn prediction_se(&self, x: f64) -> f64 {
        let n = f64::from(self.n.max(1));
        self.residual_sd * (1.0 + 1.0 / n + (x - self.x_mean).powi(2) / self.sxx).sqrt()
    }
}

/// Fits `ys` against `xs` (pairs where either is `NaN` are skipped). `None` for fewer than
/// 2 pairs or when every x is the same.
pub fn ols(xs: &[f64], ys: &[f64]) -> Option<Ols> {
    let pairs: Vec<(f64, f64)> =
        xs.iter().zip(ys).map(|(&x, &y)| (x, y)).filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let n = pairs.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let x_mean = pairs.iter().map(|p| p.0).sum::<f64>() / nf;
    let y_mean = pairs.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = pairs.iter().map(|(x, _)| (x - x_mean).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = pairs.iter().map(|(x, y)| (x - x_mean) * (y - y_mean)).sum();
    let slope = sxy / sxx;
    let intercept = y_mean - slope * x_mean;
    let sse: f64 = pairs.iter().map(|(x, y)| (y - intercept - slope * x).powi(2)).sum();
    let residual_sd = if n > 2 { (sse / (nf - 2.0)).sqrt() } else { 0.0 };
    Some(Ols { slope, intercept, residual_sd, n: u32::try_from(n).unwrap_or(u32::MAX), x_mean, sxx })
}

/// Welch's t statistic for the difference of means, `(mean(a) − mean(b)) / √(s²a/na + s²b/nb)`
/// (positive when `a` is higher). `None` when either side has fewer than 2 values. When
/// neither side varies the standard error is 0: the answer is then `±∞` if the means differ
/// and `0` if they are equal.
pub fn welch(a: &[f64], b: &[f64]) -> Option<f64> {
    let na = finite(a).count() as f64;
    let nb = finite(b).count() as f64;
    let (ma, mb) = (mean(a)?, mean(b)?);
    let (sa, sb) = (stddev(a)?, stddev(b)?);
    let se = (sa * sa / na + sb * sb / nb).sqrt();
    let diff = ma - mb;
    if se > 0.0 {
        Some(diff / se)
    } else if diff == 0.0 {
        Some(0.0)
    } else {
        Some(diff.signum() * f64::INFINITY)
    }
}

/// Welch–Satterthwaite degrees of freedom of [`welch`]'s t; `None` with fewer than 2
/// values a side or no variation on either.
pub fn welch_df(a: &[f64], b: &[f64]) -> Option<f64> {
    let na = finite(a).count() as f64;
    let nb = finite(b).count() as f64;
    if na < 2.0 || nb < 2.0 {
        return None;
    }
    let (va, vb) = (stddev(a)?.powi(2) / na, stddev(b)?.powi(2) / nb);
    let den = va * va / (na - 1.0) + vb * vb / (nb - 1.0);
    (den > 0.0).then(|| (va + vb).powi(2) / den)
}

/// Student's t at 97.5 % (two-sided 95 %) for `df` degrees of freedom: the table for 1–30,
/// interpolated in 1/df beyond (1.960 at infinity); fractional df interpolated the same way.
pub fn t_critical_95(df: f64) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    if !df.is_finite() || df >= 30.0 {
        // 1/df from 1/30 down to 0: 2.042 to 1.960.
        let x = if df.is_finite() { 30.0 / df } else { 0.0 };
        return 1.960 + (2.042 - 1.960) * x;
    }
    let df = df.max(1.0);
    let (lo, hi) = (df.floor(), df.ceil());
    let (tl, th) = (T[lo as usize - 1], T[hi as usize - 1]);
    if hi == lo {
        return tl;
    }
    // Interpolate in 1/df, where t is nearly linear.
    let w = (1.0 / lo - 1.0 / df) / (1.0 / lo - 1.0 / hi);
    tl + (th - tl) * w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn t_critical_values_and_welch_df() {
        assert!((t_critical_95(6.0) - 2.447).abs() < 1e-9);
        assert!((t_critical_95(30.0) - 2.042).abs() < 1e-9);
        assert!((t_critical_95(f64::INFINITY) - 1.960).abs() < 1e-9);
        let mid = t_critical_95(6.5);
        assert!(mid < 2.447 && mid > 2.365, "{mid}");
        assert!(t_critical_95(120.0) > 1.96 && t_critical_95(120.0) < 2.0);
        // Equal spreads and sizes: df = 2n − 2.
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [2.0, 3.0, 4.0, 5.0];
        assert!((welch_df(&a, &b).unwrap_or(0.0) - 6.0).abs() < 1e-9);
        assert!(welch_df(&[1.0], &b).is_none());
    }

    #[test]
    fn mean_stddev_quantile_known_answers() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0, f64::NAN];
        assert_eq!(mean(&xs), Some(5.0));
        // Sample variance: 32 / 7.
        assert!(close(stddev(&xs).expect("sd"), (32.0f64 / 7.0).sqrt()));
        let r: Vec<f64> = (0..=100).map(f64::from).collect();
        assert!(close(quantile(&r, 0.95).expect("q"), 95.0));
        assert!(close(quantile(&[1.0, 2.0], 0.5).expect("q"), 1.5));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(mean(&[f64::NAN]), None);
        assert_eq!(stddev(&[1.0]), None);
    }

    #[test]
    fn ols_recovers_an_exact_line() {
        let xs = [0.0, 1.0, 2.0, 3.0];
        let ys = [1.0, 3.0, 5.0, 7.0];
        let fit = ols(&xs, &ys).expect("fit");
        assert!(close(fit.slope, 2.0) && close(fit.intercept, 1.0) && close(fit.residual_sd, 0.0));
        assert_eq!(fit.n, 4);
        assert!(close(fit.x_mean, 1.5) && close(fit.sxx, 5.0));
        assert!(ols(&[1.0, 1.0], &[2.0, 3.0]).is_none());
    }

    #[test]
    fn welch_known_answer_and_degenerate_cases() {
        // Means 2 and 5, variances 1 and 1, n = 3 each: se = √(2/3).
        let t = welch(&[5.0, 4.0, 6.0], &[2.0, 1.0, 3.0]).expect("t");
        assert!(close(t, 3.0 / (2.0f64 / 3.0).sqrt()));
        assert_eq!(welch(&[1.0, 1.0], &[2.0, 2.0]), Some(f64::NEG_INFINITY));
        assert_eq!(welch(&[1.0, 1.0], &[1.0, 1.0]), Some(0.0));
        assert_eq!(welch(&[1.0], &[1.0, 2.0]), None);
    }
}
