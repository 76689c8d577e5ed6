//! Roles on an incident: the incident commander, the communications lead and the scribe.
//! A role is assigned or handed over by a timeline entry (kind `role`, its data naming the
//! role and the person); who holds each role at a time is read back from the timeline, so
//! every hand-over keeps its time and the shared record needs nothing else.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{IncidentError, TimelineEvent, TimelineKind};

/// A role on an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Leads the response and decides.
    Commander,
    /// Talks to stakeholders (status page, stakeholder updates).
    Communications,
    /// Keeps the timeline.
    Scribe,
}

impl Role {
    /// Every role, in the order they are shown.
    pub const ALL: [Role; 3] = [Role::Commander, Role::Communications, Role::Scribe];

    /// The stored name (`commander`, `communications`, `scribe`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Commander => "commander",
            Role::Communications => "communications",
            Role::Scribe => "scribe",
        }
    }

    /// How people call it.
    pub fn title(self) -> &'static str {
        match self {
            Role::Commander => "Incident commander",
            Role::Communications => "Communications lead",
            Role::Scribe => "Scribe",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = IncidentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "commander" | "ic" | "incident-commander" => Ok(Role::Commander),
            "communications" | "comms" | "communications-lead" => Ok(Role::Communications),
            "scribe" => Ok(Role::Scribe),
            other => Err(IncidentError::InvalidInput(format!(
                "unknown role {other:?}: expected commander, communications or scribe"
            ))),
        }
    }
}

/// Who holds a role, since when, and who assigned it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RoleHolder {
    /// The role.
    pub role: Role,
    /// The person.
    pub who: String,
    /// Since.
    pub since: DateTime<Utc>,
    /// Who assigned or handed it over.
    pub by: String,
    /// Who held it before, when someone did.
    pub previous: Option<String>,
}

/// The data of a role entry.
pub fn entry_data(role: Role, who: &str, previous: Option<&str>) -> serde_json::Value {
    serde_json::json!({"role": role.as_str(), "who": who, "previous": previous})
}

/// The text of a role entry: `Incident commander: ali (handed over from bo)`.
pub fn entry_text(role: Role, who: &str, previous: Option<&str>) -> String {
    match previous {
        Some(p) if p != who => format!("{}: {who} (handed over from {p})", role.title()),
        _ => format!("{}: {who}", role.title()),
    }
}

/// Checks an assignment: a person named, and not the one already holding the role.
pub fn check_assignment(current: &[RoleHolder], role: Role, who: &str) -> Result<(), IncidentError> {
    let who = who.trim();
    if who.is_empty() {
        return Err(IncidentError::InvalidInput(format!("{}: name the person", role.title())));
    }
    if who.len() > 100 {
        return Err(IncidentError::InvalidInput(format!("{}: a name of at most 100 characters", role.title())));
    }
    if current.iter().any(|h| h.role == role && h.who == who) {
        return Err(IncidentError::InvalidInput(format!("{who} is already the {}", role.title().to_lowercase())));
    }
    Ok(())
}

/// Who holds each role at the end of `timeline` (entries in time order): the last role
/// entry for each role wins. Roles nobody holds are left out.
pub fn current(timeline: &[TimelineEvent]) -> Vec<RoleHolder> {
    let mut out: Vec<RoleHolder> = Vec::new();
    for e in timeline.iter().filter(|e| e.kind == TimelineKind::Role) {
        let Some(role) = e.data["role"].as_str().and_then(|r| r.parse::<Role>().ok()) else { continue };
        let Some(who) = e.data["who"].as_str().filter(|w| !w.is_empty()) else { continue };
        let previous = out.iter().find(|h| h.role == role).map(|h| h.who.clone());
        out.retain(|h| h.role != role);
        out.push(RoleHolder { role, who: who.to_string(), since: e.at, by: e.author.clone(), previous });
    }
    out.sort_by_key(|h| Role::ALL.iter().position(|r| *r == h.role));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(at: &str, role: &str, who: &str) -> TimelineEvent {
        TimelineEvent {
            id: 0,
            at: at.parse().expect("time"),
            author: "ali".into(),
            kind: TimelineKind::Role,
            text: String::new(),
            data: json!({"role": role, "who": who}),
        }
    }

    #[test]
    fn the_last_hand_over_of_each_role_stands_with_its_time() {
        let tl = vec![
            role("2026-12-05T10:00:00Z", "commander", "ali"),
            role("2026-12-05T10:01:00Z", "scribe", "cy"),
            role("2026-12-05T11:00:00Z", "commander", "bo"),
        ];
        let now = current(&tl);
        assert_eq!(now.len(), 2);
        assert_eq!(
            (now[0].role, now[0].who.as_str(), now[0].previous.as_deref()),
            (Role::Commander, "bo", Some("ali"))
        );
        assert_eq!(now[0].since, "2026-12-05T11:00:00Z".parse::<DateTime<Utc>>().expect("t"));
        assert_eq!(now[1].role, Role::Scribe);
        assert!(check_assignment(&now, Role::Commander, "bo").is_err());
        assert!(check_assignment(&now, Role::Commander, " ").is_err());
        assert!(check_assignment(&now, Role::Communications, "bo").is_ok());
        assert_eq!(entry_text(Role::Commander, "bo", Some("ali")), "Incident commander: bo (handed over from ali)");
        assert_eq!("IC".parse::<Role>().expect("alias"), Role::Commander);
    }
}
