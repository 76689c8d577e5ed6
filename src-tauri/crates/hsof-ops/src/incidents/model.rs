//! The incident record, its timeline and the inputs that create and update it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::IncidentError;

/// Longest accepted incident title, in characters.
pub const TITLE_MAX_CHARS: usize = 200;

/// How bad an incident is. The derived order puts the most severe first: `P0 < P1 < P2 < P3`,
/// so sorting ascending lists P0 incidents first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
pub enum Severity {
    /// System down, data loss.
    P0,
    /// Significant degradation.
    P1,
    /// Minor issues, workarounds available.
    P2,
    /// Cosmetic issues, feature requests.
    P3,
}

impl Severity {
    /// All severities, most severe first.
    pub fn all() -> [Severity; 4] {
        [Self::P0, Self::P1, Self::P2, Self::P3]
    }

    /// The runbook's description of the level.
    pub fn description(self) -> &'static str {
        match self {
            Self::P0 => "System down, data loss",
            Self::P1 => "Significant degradation",
            Self::P2 => "Minor issues, workarounds available",
            Self::P3 => "Cosmetic issues, feature requests",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::P0 => "P0",
            Self::P1 => "P1",
            Self::P2 => "P2",
            Self::P3 => "P3",
        })
    }
}

impl FromStr for Severity {
    type Err = IncidentError;

    /// Accepts `P0`..`P3` in any case, surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_word("severity", s, &Self::all())
    }
}

/// Parses `s` against the `Display` forms of `values`; the error lists the valid words.
fn parse_word<T: Copy + fmt::Display>(what: &str, s: &str, values: &[T]) -> Result<T, IncidentError> {
    let wanted = s.trim();
    values.iter().copied().find(|v| v.to_string().eq_ignore_ascii_case(wanted)).ok_or_else(|| {
        let valid: Vec<String> = values.iter().map(ToString::to_string).collect();
        IncidentError::invalid(format!("unknown {what} `{wanted}`: expected one of {}", valid.join(", ")))
    })
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Declared, nobody has acknowledged it yet.
    Open,
    /// Someone owns it.
    Acknowledged,
    /// Over; the summary can be written.
    Resolved,
}

impl IncidentStatus {
    const ALL: [IncidentStatus; 3] = [Self::Open, Self::Acknowledged, Self::Resolved];
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        })
    }
}

impl FromStr for IncidentStatus {
    type Err = IncidentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_word("incident status", s, &Self::ALL)
    }
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// The incident was declared.
    Declared,
    /// Someone acknowledged it.
    Acknowledged,
    /// A snapshot of cluster/service state was attached.
    Snapshot,
    /// A status update (conditions, actions, needs).
    Update,
    /// A change made to the system (rollback, scale, config).
    Change,
    /// The incident was escalated.
    Escalated,
    /// The incident was resolved.
    Resolved,
    /// A free-form note.
    Note,
    /// A message reached Slack.
    SlackPosted,
    /// A Slack post failed.
    SlackFailed,
    /// The post-incident summary was written.
    Summary,
    /// A role was assigned or handed over (data: role, who, previous).
    Role,
    /// A follow-up action was created from the incident (data: its name).
    FollowUp,
    /// A stakeholder update reached the status page or the stakeholder webhook.
    StakeholderPosted,
    /// A stakeholder update failed.
    StakeholderFailed,
}

impl TimelineKind {
    const ALL: [TimelineKind; 15] = [
        Self::Declared,
        Self::Acknowledged,
        Self::Snapshot,
        Self::Update,
        Self::Change,
        Self::Escalated,
        Self::Resolved,
        Self::Note,
        Self::SlackPosted,
        Self::SlackFailed,
        Self::Summary,
        Self::Role,
        Self::FollowUp,
        Self::StakeholderPosted,
        Self::StakeholderFailed,
    ];
}

impl TimelineKind {
    /// The stored and displayed name (`slack_posted`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Declared => "declared",
            Self::Acknowledged => "acknowledged",
            Self::Snapshot => "snapshot",
            Self::Update => "update",
            Self::Change => "change",
            Self::Escalated => "escalated",
            Self::Resolved => "resolved",
            Self::Note => "note",
            Self::SlackPosted => "slack_posted",
            Self::SlackFailed => "slack_failed",
            Self::Summary => "summary",
            Self::Role => "role",
            Self::FollowUp => "follow_up",
            Self::StakeholderPosted => "stakeholder_posted",
            Self::StakeholderFailed => "stakeholder_failed",
        }
    }
}

impl fmt::Display for TimelineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimelineKind {
    type Err = IncidentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_word("timeline kind", s, &Self::ALL)
    }
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct TimelineEvent {
    /// Storage id.
    #[specta(type = f64)]
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who recorded it (user name, or `hsof` for automatic entries).
    pub author: String,
    /// What it records.
    pub kind: TimelineKind,
    /// Human-readable text.
    pub text: String,
    /// Structured detail (snapshot, update fields, Slack error); `null` when none.
    #[specta(type = specta_typescript::Unknown)]
    pub data: serde_json::Value,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Incident {
    /// Storage id, shown as `#id`.
    #[specta(type = f64)]
    pub id: i64,
    /// One-line title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Current status.
    pub status: IncidentStatus,
    /// Affected components (`gpu`, `model`, `pipeline`, ...).
    pub components: Vec<String>,
    /// What is known at declaration.
    pub description: String,
    /// When it was declared.
    pub declared_at: DateTime<Utc>,
    /// Who declared it.
    pub declared_by: String,
    /// When it was acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it was escalated.
    pub escalated_at: Option<DateTime<Utc>>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the last status update was posted.
    pub last_update_at: Option<DateTime<Utc>>,
    /// The alert it was declared from, as AlertManager sent it.
    #[specta(type = Option<specta_typescript::Unknown>)]
    pub source_alert: Option<serde_json::Value>,
    /// A drill on this demo scenario: rehearsal, never posted to Slack, kept out of the
    /// response-time statistics. `None` for a real incident.
    #[serde(default)]
    pub drill: Option<String>,
    /// Its name in the team store when shared (`inc-…`): how teammates, whose local ids
    /// differ, refer to it.
    #[serde(default)]
    pub shared_name: Option<String>,
}

impl Incident {
    /// How messages refer to it: the shared name, else `#id`.
    pub fn reference(&self) -> String {
        self.shared_name.clone().unwrap_or_else(|| format!("#{}", self.id))
    }

    /// True once resolved (by status or by a resolution time).
    pub fn is_resolved(&self) -> bool {
        self.status == IncidentStatus::Resolved || self.resolved_at.is_some()
    }

    /// True once someone acknowledged it.
    pub fn is_acknowledged(&self) -> bool {
        self.acknowledged_at.is_some() || self.status == IncidentStatus::Acknowledged
    }
}

/// A status update: the runbook's "Communicate Status" step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StatusUpdate {
    /// What is happening now.
    pub conditions: String,
    /// What is being done.
    pub actions: String,
    /// What help is needed.
    pub needs: String,
}

impl StatusUpdate {
    /// At least one of conditions, actions and needs must say something.
    pub fn validate(&self) -> Result<(), IncidentError> {
        if [&self.conditions, &self.actions, &self.needs].iter().all(|s| s.trim().is_empty()) {
            return Err(IncidentError::invalid("a status update needs at least one of conditions, actions or needs"));
        }
        Ok(())
    }
}

/// What the engineer enters to declare an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct NewIncident {
    /// One-line title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Affected components.
    pub components: Vec<String>,
    /// What is known so far.
    pub description: String,
    /// The alert it comes from, if any.
    #[specta(type = Option<specta_typescript::Unknown>)]
    pub source_alert: Option<serde_json::Value>,
    /// Declared as a drill on this demo scenario (see [`Incident::drill`]).
    #[serde(default)]
    pub drill: Option<String>,
}

impl NewIncident {
    /// The title must be non-empty after trimming and at most [`TITLE_MAX_CHARS`] characters.
    pub fn validate(&self) -> Result<(), IncidentError> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err(IncidentError::invalid("an incident needs a title"));
        }
        let len = title.chars().count();
        if len > TITLE_MAX_CHARS {
            return Err(IncidentError::invalid(format!(
                "the title is {len} characters long; keep it to {TITLE_MAX_CHARS} and put detail in the description"
            )));
        }
        Ok(())
    }
}
