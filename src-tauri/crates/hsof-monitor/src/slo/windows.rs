//! Multi-window, multi-burn-rate alert conditions (SRE workbook, 30-day SLO window).

use serde::Serialize;

/// The burn-rate windows the app queries, shortest first.
pub const BURN_WINDOWS: [(&str, u64); 7] =
    [("5m", 300), ("30m", 1800), ("1h", 3600), ("2h", 7200), ("6h", 21_600), ("1d", 86_400), ("3d", 259_200)];

/// What a firing condition asks of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Wake someone up.
    Page,
    /// Handle in working hours.
    Ticket,
}

/// One condition: both windows burn faster than `factor`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, specta::Type)]
pub struct BurnCondition {
    /// Long window, e.g. `1h`.
    pub long: &'static str,
    /// Short window, e.g. `5m`.
    pub short: &'static str,
    /// Burn-rate threshold.
    pub factor: f64,
    /// What it means when it fires.
    pub severity: Severity,
}

/// The four standard conditions: 14.4× 1h+5m and 6× 6h+30m page; 3× 1d+2h and 1× 3d+6h ticket.
pub const BURN_CONDITIONS: [BurnCondition; 4] = [
    BurnCondition { long: "1h", short: "5m", factor: 14.4, severity: Severity::Page },
    BurnCondition { long: "6h", short: "30m", factor: 6.0, severity: Severity::Page },
    BurnCondition { long: "1d", short: "2h", factor: 3.0, severity: Severity::Ticket },
    BurnCondition { long: "3d", short: "6h", factor: 1.0, severity: Severity::Ticket },
];

/// A condition evaluated against current burn rates.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
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
        .map(|c| {
            let (long_rate, short_rate) = (rate(c.long), rate(c.short));
            let firing = matches!((long_rate, short_rate), (Some(l), Some(s)) if l > c.factor && s > c.factor);
            ConditionState { condition: *c, long_rate, short_rate, firing }
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
