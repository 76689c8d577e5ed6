//! Regressions: weekly metrics of a period against a baseline, told apart from noise
//! with Welch's t.

use crate::{num, stats};

/// Weeks each side needs before a change can be told from noise.
pub const MIN_WEEKS: usize = 3;

/// A change is beyond the noise when |t| reaches Student's t at 97.5 % for the Welch–
/// Satterthwaite degrees of freedom ([`stats::t_critical_95`]): two-sided 95 %, so noise
/// alone passes it about 1 time in 20 however few the weeks (a fixed |t| ≥ 2 passed it
/// about 1 time in 7 with 8 and 4 weeks).
pub fn threshold(base: &[f64], period: &[f64]) -> f64 {
    stats::welch_df(period, base).map_or(f64::INFINITY, stats::t_critical_95)
}

/// Which direction of a metric is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Higher is better (throughput, success rate).
    Higher,
    /// Lower is better (latency, cost, failures).
    Lower,
}

/// One metric's weekly values in the baseline and in the period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct MetricWeeks {
    /// Stable id.
    pub id: String,
    /// Name to show.
    pub name: String,
    /// Unit to show after values (`s`, `%`, `EUR`).
    pub unit: String,
    /// Which direction is good.
    pub better: Better,
    /// Weekly values of the baseline; `NaN` = missing (skipped).
    pub baseline: Vec<f64>,
    /// Weekly values of the period under review; `NaN` = missing (skipped).
    pub period: Vec<f64>,
}

/// One metric compared.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct RegressionRow {
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Mean of the baseline weeks.
    pub baseline_mean: Option<f64>,
    /// Mean of the period weeks.
    pub period_mean: Option<f64>,
    /// Period mean − baseline mean.
    pub change: Option<f64>,
    /// Change as a percentage of the baseline mean (none when that is 0).
    pub change_pct: Option<f64>,
    /// Welch's t of period against baseline (positive when the period is higher); none
    /// with fewer than 2 weeks on a side or when neither side varies.
    pub t: Option<f64>,
    /// At least 3 weeks on each side and |t| at or above Student's 95 % critical value for
    /// the Welch–Satterthwaite degrees of freedom (or no variation and different means).
    pub significant: bool,
    /// Significant and in the worse direction.
    pub regression: bool,
    /// The comparison in a sentence.
    pub verdict: String,
}

/// Compares each metric's period against its baseline.
///
/// The weekly values of each side are compared with Welch's t (difference of means over
/// √(s²₁/n₁ + s²₂/n₂), which allows the two sides different spreads). A change counts as
/// beyond the noise when both sides have at least 3 weeks and |t| reaches [`threshold`]
/// (Student's t at two-sided 95 % for the Welch–Satterthwaite df); it is a regression
/// when it is beyond the noise and in the worse direction. When neither side varies at
/// all, different means count as a change and equal means as none.
pub fn compare(rows: &[MetricWeeks]) -> Vec<RegressionRow> {
    rows.iter().map(compare_one).collect()
}

/// Compares one metric.
fn compare_one(m: &MetricWeeks) -> RegressionRow {
    let base: Vec<f64> = m.baseline.iter().copied().filter(|v| v.is_finite()).collect();
    let period: Vec<f64> = m.period.iter().copied().filter(|v| v.is_finite()).collect();
    let (bm, pm) = (stats::mean(&base), stats::mean(&period));
    let change = bm.zip(pm).map(|(b, p)| p - b);
    let change_pct = bm.zip(change).and_then(|(b, c)| (b != 0.0).then(|| c / b.abs() * 100.0));
    let raw_t = stats::welch(&period, &base);
    let t = raw_t.filter(|t| t.is_finite());
    let enough = base.len() >= MIN_WEEKS && period.len() >= MIN_WEEKS;
    let crit = threshold(&base, &period);
    let significant = enough && raw_t.is_some_and(|t| t.is_infinite() || t.abs() >= crit);
    let worse = change.is_some_and(|c| match m.better {
        Better::Higher => c < 0.0,
        Better::Lower => c > 0.0,
    });
    let regression = significant && worse;

    let u = if m.unit.is_empty() { String::new() } else { format!(" {}", m.unit) };
    let what = match (bm, pm, change_pct) {
        (Some(b), Some(p), Some(pct)) => format!("{}{u} against {}{u} ({pct:+.1} %)", num(p), num(b)),
        (Some(b), Some(p), None) => format!("{}{u} against {}{u}", num(p), num(b)),
        _ => String::new(),
    };
    let direction = if !significant {
        ""
    } else if regression {
        ": a regression"
    } else if change.is_some_and(|c| c != 0.0) {
        ": an improvement"
    } else {
        ""
    };
    let verdict = if bm.is_none() || pm.is_none() {
        format!("no values: {} baseline weeks and {} period weeks", base.len(), period.len())
    } else if !enough {
        format!(
            "{what}; only {} baseline and {} period weeks: at least {MIN_WEEKS} on each side are needed to tell \
             a change from noise",
            base.len(),
            period.len()
        )
    } else {
        match raw_t {
            Some(t) if t.is_infinite() => format!(
                "{what}; every week had the same value on each side and the two differ, so the change is real \
                 (no week-to-week noise to compare it with){direction}"
            ),
            Some(t) if t.abs() >= crit => format!(
                "{what}; beyond the noise of the weekly values (|t| = {:.1} ≥ {crit:.2}, Student's 95 % for \
                 {:.1} degrees of freedom){direction}",
                t.abs(),
                stats::welch_df(&period, &base).unwrap_or(0.0)
            ),
            Some(t) if crit.is_finite() => format!(
                "{what}; within the noise of the weekly values (|t| = {:.1} < {crit:.2}, Student's 95 %)",
                t.abs()
            ),
            Some(t) => format!("{what}; within the noise (|t| = {:.1}; no week-to-week variation to judge)", t.abs()),
            None => format!("{what}; t could not be computed"),
        }
    };
    RegressionRow {
        id: m.id.clone(),
        name: m.name.clone(),
        unit: m.unit.clone(),
        baseline_mean: bm,
        period_mean: pm,
        change,
        change_pct,
        t,
        significant,
        regression,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    fn metric(better: Better, baseline: Vec<f64>, period: Vec<f64>) -> MetricWeeks {
        MetricWeeks {
            id: "latency".to_string(),
            name: "p95 latency".to_string(),
            unit: "s".to_string(),
            better,
            baseline,
            period,
        }
    }

    fn noisy(rng: &mut XorShift, level: f64, n: usize) -> Vec<f64> {
        (0..n).map(|_| level * (1.0 + 0.03 * rng.symmetric())).collect()
    }

    #[test]
    fn planted_slowdown_is_a_regression() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let base = noisy(&mut rng, 10.0, 8);
        let period = noisy(&mut rng, 13.0, 4);
        let r = &compare(&[metric(Better::Lower, base, period)])[0];
        assert!(r.significant && r.regression, "{}", r.verdict);
        assert!((r.change_pct.expect("pct") - 30.0).abs() < 5.0);
        assert!(r.verdict.contains("beyond the noise"), "{}", r.verdict);
        assert!(r.verdict.ends_with("a regression"), "{}", r.verdict);
        // The same change for a higher-is-better metric is an improvement.
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let base = noisy(&mut rng, 10.0, 8);
        let period = noisy(&mut rng, 13.0, 4);
        let up = &compare(&[metric(Better::Higher, base, period)])[0];
        assert!(up.significant && !up.regression && up.verdict.ends_with("an improvement"));
    }

    #[test]
    fn noise_alone_is_not_significant() {
        // Student's critical value keeps noise-only pairs near the nominal 5 % however few
        // the weeks: a quarter a side, and 8 against 4; a fixed calm pair must not pass.
        let mut rng = XorShift(42);
        let trials = 400;
        let flagged = (0..trials)
            .filter(|_| {
                let base = noisy(&mut rng, 10.0, 13);
                let mut period = noisy(&mut rng, 10.0, 13);
                period.push(f64::NAN);
                compare(&[metric(Better::Lower, base, period)])[0].significant
            })
            .count();
        assert!(flagged * 100 / trials <= 8, "{flagged} of {trials} noise-only pairs flagged");
        let few = (0..trials)
            .filter(|_| {
                let base = noisy(&mut rng, 10.0, 8);
                let period = noisy(&mut rng, 10.0, 4);
                compare(&[metric(Better::Lower, base, period)])[0].significant
            })
            .count();
        assert!(few * 100 / trials <= 8, "{few} of {trials} noise-only pairs of 8 and 4 weeks flagged");
        let r = &compare(&[metric(Better::Lower, vec![10.0, 10.2, 9.8, 10.1], vec![10.1, 9.9, 10.0])])[0];
        assert!(!r.significant && r.verdict.contains("within the noise"), "{}", r.verdict);
    }

    #[test]
    fn too_few_weeks_and_constant_sides() {
        let few = &compare(&[metric(Better::Lower, vec![1.0, 1.1], vec![5.0, 5.1, 5.2])])[0];
        assert!(!few.significant && few.verdict.contains("at least 3"), "{}", few.verdict);
        let flat = &compare(&[metric(Better::Lower, vec![2.0; 4], vec![3.0; 4])])[0];
        assert!(flat.significant && flat.regression && flat.t.is_none(), "{}", flat.verdict);
        assert!(flat.verdict.contains("same value"), "{}", flat.verdict);
        let same = &compare(&[metric(Better::Lower, vec![2.0; 4], vec![2.0; 4])])[0];
        assert!(!same.significant && same.t == Some(0.0));
        let none = &compare(&[metric(Better::Lower, vec![], vec![f64::NAN])])[0];
        assert!(none.baseline_mean.is_none() && !none.significant);
    }
}
