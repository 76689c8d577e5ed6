//! Multi-window, multi-burn-rate alert conditions (SRE workbook, 30-day SLO window).

use serde::{Deserialize, Serialize};

/// The burn-rate windows the app queries, shortest first.
pub const BURN_WINDOWS: [(&str, u64); 7] =
    [("5m", 300), ("30m", 1800), ("1h", 3600), ("2h", 7200), ("6h", 21_600), ("1d", 86_400), ("3d", 259_200)];

/// What a firing condition asks of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum BurnSeverity {
    /// Wake someone up.
    Page,
    /// Handle in working hours.
    Ticket,
}

/// One condition: both windows burn faster than `factor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct BurnCondition {
    /// Long window, e.g. `1h`.
    pub long: String,
    /// Short window, e.g. `5m`.
    pub short: String,
    /// Burn-rate threshold.
    pub factor: f64,
    /// What it means when it fires.
    pub severity: BurnSeverity,
}

/// The four standard conditions `(long, short, factor, severity)`: 14.4× 1h+5m and
/// 6× 6h+30m page; 3× 1d+2h and 1× 3d+6h ticket.
pub const BURN_CONDITIONS: [(&str, &str, f64, BurnSeverity); 4] = [
    ("1h", "5m", 14.4, BurnSeverity::Page),
    ("6h", "30m", 6.0, BurnSeverity::Page),
    ("1d", "2h", 3.0, BurnSeverity::Ticket),
    ("3d", "6h", 1.0, BurnSeverity::Ticket),
];

/// A condition evaluated against current burn rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ConditionState {
    /// The condition.
    pub condition: BurnCondition,
    /// Burn rate over the long window, when known.
    pub long_rate: Option<f64>,
    /// Burn rate over the short window, when known.
    pub short_rate: Option<f64>,
    /// Both windows above the factor.
    pub firing: bool,
}

/// Evaluates [`BURN_CONDITIONS`] given a lookup from window name to burn rate.
pub fn evaluate_conditions(rate: impl Fn(&str) -> Option<f64>) -> Vec<ConditionState> {
    BURN_CONDITIONS
        .iter()
        .map(|&(long, short, factor, severity)| {
            let (long_rate, short_rate) = (rate(long), rate(short));
            let firing = matches!((long_rate, short_rate), (Some(l), Some(s)) if l > factor && s > factor);
            let condition = BurnCondition { long: long.into(), short: short.into(), factor, severity };
            ConditionState { condition, long_rate, short_rate, firing }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_needs_both_windows_hot() {
        let rates = |w: &str| match w {
            "1h" => Some(15.0),
            "5m" => Some(20.0),
            "6h" => Some(5.0),
            "30m" => Some(7.0),
            _ => None,
        };
        let s = evaluate_conditions(rates);
        assert!(s[0].firing, "14.4× on 1h and 5m");
        assert!(!s[1].firing, "6h at 5× is below 6×");
        assert!(!s[2].firing && s[2].long_rate.is_none(), "unknown windows never fire");
    }

    #[test]
    fn a_spike_that_has_stopped_does_not_page() {
        let s = evaluate_conditions(|w| Some(if w == "5m" { 0.0 } else { 20.0 }));
        assert!(!s[0].firing);
        assert!(s[1].firing && s[2].firing && s[3].firing);
    }
}
