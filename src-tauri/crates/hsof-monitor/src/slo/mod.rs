//! SLO math: pure functions over counts and time, no clocks or network.
//!
//! Every SLO here reduces to a *bad fraction* over a window — failed requests over all
//! requests (request-based), or hours / minutes below target over all of them
//! (time-slice). From it: SLI = 1 − bad, burn rate = bad / (1 − objective), budget
//! remaining = 1 − burn over the SLO window (Google SRE workbook, ch. 5).

mod windows;

pub use windows::{evaluate_conditions, BurnCondition, BurnSeverity, ConditionState, BURN_CONDITIONS, BURN_WINDOWS};

use serde::{Deserialize, Serialize};

/// Good and total events over one window (requests, or time slices).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Counts {
    /// Events that met the objective's condition.
    pub good: f64,
    /// All events.
    pub total: f64,
}

impl Counts {
    /// Builds counts from bad and total, clamping bad into `0..=total` (counter resets and
    /// scrape jitter can make `increase(bad)` exceed `increase(total)` by a hair).
    pub fn from_bad(bad: f64, total: f64) -> Self {
        let total = total.max(0.0);
        Self { good: total - bad.clamp(0.0, total), total }
    }

    /// Bad events.
    pub fn bad(&self) -> f64 {
        self.total - self.good
    }

    /// Fraction of events that were bad; `None` with no events.
    pub fn bad_fraction(&self) -> Option<f64> {
        (self.total > 0.0).then(|| (self.bad() / self.total).clamp(0.0, 1.0))
    }

    /// Service level indicator: fraction good; `None` with no events.
    pub fn sli(&self) -> Option<f64> {
        self.bad_fraction().map(|b| 1.0 - b)
    }
}

/// How fast the error budget burns: 1.0 spends exactly the budget over the SLO window.
/// `objective` is in `(0, 1)`, e.g. 0.999.
pub fn burn_rate(bad_fraction: f64, objective: f64) -> f64 {
    let allowed = 1.0 - objective;
    if allowed <= 0.0 {
        return if bad_fraction > 0.0 { f64::INFINITY } else { 0.0 };
    }
    bad_fraction / allowed
}

/// Share of the error budget left after `counts` over the SLO window: 1 = untouched,
/// 0 = spent, negative = overspent (down to 1 − 1/(1 − objective) when everything failed).
pub fn budget_remaining(counts: Counts, objective: f64) -> f64 {
    match counts.bad_fraction() {
        Some(b) => 1.0 - burn_rate(b, objective),
        None => 1.0,
    }
}

/// Seconds until the remaining budget is gone if the current burn rate holds; `None` when
/// it never runs out (burn rate zero) and `Some(0)` when it already has.
pub fn time_to_exhaustion_secs(remaining: f64, current_burn: f64, slo_window_secs: f64) -> Option<f64> {
    if remaining <= 0.0 {
        return Some(0.0);
    }
    (current_burn > 0.0 && current_burn.is_finite()).then(|| remaining * slo_window_secs / current_burn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_examples() {
        // 99.9 %: 1 bad in 1000 burns exactly the budget.
        let c = Counts::from_bad(1.0, 1000.0);
        assert!((burn_rate(c.bad_fraction().unwrap_or(0.0), 0.999) - 1.0).abs() < 1e-9);
        assert!(budget_remaining(c, 0.999).abs() < 1e-9);
        // Half the allowed errors leaves half the budget.
        assert!((budget_remaining(Counts::from_bad(5.0, 10_000.0), 0.999) - 0.5).abs() < 1e-9);
        // No traffic spends nothing.
        assert_eq!(budget_remaining(Counts { good: 0.0, total: 0.0 }, 0.999), 1.0);
        // 14.4× burn empties a 30-day budget in 50 hours.
        let t = time_to_exhaustion_secs(1.0, 14.4, 30.0 * 86_400.0).unwrap_or(0.0);
        assert!((t / 3600.0 - 50.0).abs() < 1e-9);
        assert_eq!(time_to_exhaustion_secs(0.5, 0.0, 86_400.0), None);
        assert_eq!(time_to_exhaustion_secs(-0.1, 2.0, 86_400.0), Some(0.0));
    }

    proptest! {
        #[test]
        fn budget_is_bounded(bad in 0.0f64..1e9, extra in 0.0f64..1e9, obj in 0.5f64..0.9999) {
            let r = budget_remaining(Counts::from_bad(bad, bad + extra), obj);
            prop_assert!(r <= 1.0);
            prop_assert!(r >= 1.0 - 1.0 / (1.0 - obj) - 1e-9);
        }

        #[test]
        fn more_errors_never_leave_more_budget(bad in 0.0f64..1e6, more in 0.0f64..1e6, total in 1e6f64..1e7, obj in 0.5f64..0.9999) {
            let a = budget_remaining(Counts::from_bad(bad, total), obj);
            let b = budget_remaining(Counts::from_bad(bad + more, total), obj);
            prop_assert!(b <= a + 1e-12);
        }

        #[test]
        fn burn_rate_is_one_exactly_at_the_objective(obj in 0.5f64..0.99999) {
            prop_assert!((burn_rate(1.0 - obj, obj) - 1.0).abs() < 1e-9);
        }

        #[test]
        fn sli_and_bad_fraction_add_up(bad in 0.0f64..1e9, total in 0.0f64..1e9) {
            let c = Counts::from_bad(bad, total);
            if let (Some(s), Some(b)) = (c.sli(), c.bad_fraction()) {
                prop_assert!((s + b - 1.0).abs() < 1e-9 && (0.0..=1.0).contains(&s));
            } else {
                prop_assert_eq!(c.total, 0.0);
            }
        }
    }
}
