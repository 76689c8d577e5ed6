//! Response statistics: mean time to acknowledge and to resolve, per severity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Incident, Severity};

/// Response statistics for one severity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SeverityStats {
    /// The severity.
    pub severity: Severity,
    /// Incidents declared in the range.
    pub count: u32,
    /// Mean seconds from declaration to acknowledgement over those acknowledged; `None` when none were.
    pub mtta_secs: Option<f64>,
    /// Mean seconds from declaration to resolution over those resolved; `None` when none were.
    pub mttr_secs: Option<f64>,
}

/// Mean time to acknowledge / resolve per severity for incidents declared in [from, to).
/// One entry per severity, most severe first, including severities with no incidents.
pub fn stats(incidents: &[Incident], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<SeverityStats> {
    Severity::all()
        .into_iter()
        .map(|severity| {
            let chosen: Vec<&Incident> = incidents
                .iter()
                .filter(|i| i.drill.is_none() && i.severity == severity && i.declared_at >= from && i.declared_at < to)
                .collect();
            let mean = |pick: fn(&Incident) -> Option<DateTime<Utc>>| {
                let secs: Vec<f64> = chosen
                    .iter()
                    .filter_map(|i| pick(i).map(|t| (t - i.declared_at).num_milliseconds().max(0) as f64 / 1000.0))
                    .collect();
                (!secs.is_empty()).then(|| secs.iter().sum::<f64>() / secs.len() as f64)
            };
            SeverityStats {
                severity,
                count: u32::try_from(chosen.len()).unwrap_or(u32::MAX),
                mtta_secs: mean(|i| i.acknowledged_at),
                mttr_secs: mean(|i| i.resolved_at),
            }
        })
        .collect()
}
