//! Rehearsal (game day): a drill is an incident declared on a demo scenario, timed like a
//! real one, never posted to Slack and kept out of the response-time statistics.

use chrono::{DateTime, Utc};
use hsof_core::incidents::IncidentDetail;
use hsof_core::{AppContext, Error};
use hsof_ops::incidents::{NewIncident, Severity};
use serde::Serialize;

use crate::{Profile, Scenario};

/// A scenario as the drill dialog offers it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DrillScenario {
    /// The name commands take.
    pub name: String,
    /// What the simulated HSOF does.
    pub description: String,
    /// The severity a drill on it is declared with unless chosen.
    pub severity: Severity,
}

/// Every scenario but `healthy`, with its default severity.
pub fn scenarios() -> Vec<DrillScenario> {
    crate::SCENARIOS
        .into_iter()
        .filter(|s| *s != Scenario::Healthy)
        .map(|s| DrillScenario {
            name: s.name().into(),
            description: s.description().into(),
            severity: default_severity(s),
        })
        .collect()
}

/// Starts a drill: the profile's running demo switches to `scenario`, then the drill
/// incident is declared in `ctx`'s store. Refused, with the command that fixes it, when
/// no demo runs.
pub fn start(
    ctx: &AppContext,
    profile: &Profile,
    scenario: &str,
    severity: Option<Severity>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<IncidentDetail, Error> {
    let scenario: Scenario = scenario.parse().map_err(Error::InvalidInput)?;
    crate::set_scenario(profile, scenario).map_err(Error::Unavailable)?;
    ctx.incident_declare(&incident(scenario, severity), actor, now)
}

/// The components a scenario hurts, as the runbook names them.
fn components(s: Scenario) -> Vec<String> {
    let c: &[&str] = match s {
        Scenario::Healthy => &[],
        Scenario::GpuHot => &["gpu"],
        Scenario::ErrorBurst => &["model", "pipeline"],
        Scenario::RolloutStuck => &["deployment"],
        Scenario::BackupFailed => &["backup"],
        Scenario::NodeLost => &["cluster", "gpu"],
        Scenario::RegionDown => &["cluster", "service"],
    };
    c.iter().map(|x| (*x).to_string()).collect()
}

/// The severity the runbook gives what the scenario does.
pub fn default_severity(s: Scenario) -> Severity {
    match s {
        Scenario::RegionDown => Severity::P0,
        Scenario::ErrorBurst | Scenario::NodeLost => Severity::P1,
        Scenario::GpuHot | Scenario::BackupFailed | Scenario::RolloutStuck => Severity::P2,
        Scenario::Healthy => Severity::P3,
    }
}

/// The drill's declaration: the scenario's symptoms as the title and description.
pub fn incident(s: Scenario, severity: Option<Severity>) -> NewIncident {
    NewIncident {
        title: format!("Drill: {}", s.name()),
        severity: severity.unwrap_or_else(|| default_severity(s)),
        components: components(s),
        description: format!(
            "Game-day drill on the demo environment. What the simulated HSOF does: {}. Respond as to a real incident: acknowledge, snapshot, post updates, act, resolve.",
            s.description()
        ),
        source_alert: None,
        drill: Some(s.name().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_gives_a_valid_drill_declaration() {
        for s in crate::SCENARIOS {
            let d = incident(s, None);
            d.validate().expect("valid");
            assert_eq!(d.drill.as_deref(), Some(s.name()));
        }
        assert_eq!(incident(Scenario::GpuHot, Some(Severity::P0)).severity, Severity::P0);
    }
}
