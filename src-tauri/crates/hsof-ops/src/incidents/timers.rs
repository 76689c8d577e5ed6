//! The clocks an open incident runs against: acknowledge within the response time,
//! escalate on schedule, post status updates at the policy's cadence.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::time_format::{human_duration, local_time};
use super::{BusinessHours, Escalation, Incident, SeverityPolicy};

/// Deadlines and their state at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Timers {
    /// Acknowledge by then (declared + response time).
    pub ack_due: DateTime<Utc>,
    /// Not acknowledged, not resolved, and `now` is past `ack_due`.
    pub ack_overdue: bool,
    /// Escalate by then, per the policy's escalation rule.
    pub escalate_at: DateTime<Utc>,
    /// Not resolved, not yet escalated, and `now >= escalate_at`.
    pub escalation_due: bool,
    /// Next status update by then (last update, or declaration, + cadence); `None` when the
    /// policy has no cadence or the incident is resolved.
    pub next_update_due: Option<DateTime<Utc>>,
    /// `now` is past `next_update_due`.
    pub update_overdue: bool,
    /// Seconds from `now` to `ack_due`; negative when past.
    #[specta(type = f64)]
    pub seconds_to_ack: i64,
    /// Seconds from `now` to `escalate_at`; negative when past.
    #[specta(type = f64)]
    pub seconds_to_escalation: i64,
    /// Seconds from `now` to `next_update_due`; negative when past.
    #[specta(type = Option<f64>)]
    pub seconds_to_update: Option<i64>,
}

/// The incident's timers at `now`.
pub fn timers(incident: &Incident, policy: &SeverityPolicy, hours: &BusinessHours, now: DateTime<Utc>) -> Timers {
    let resolved = incident.is_resolved();
    let ack_due = incident.declared_at.checked_add_signed(policy.response).unwrap_or(incident.declared_at);
    let escalate_at = policy.escalation.escalate_at(incident.declared_at, hours);
    let next_update_due = match (policy.status_update, resolved) {
        (Some(every), false) => {
            let from = incident.last_update_at.unwrap_or(incident.declared_at);
            Some(from.checked_add_signed(every).unwrap_or(from))
        }
        _ => None,
    };
    Timers {
        ack_due,
        ack_overdue: !incident.is_acknowledged() && !resolved && now > ack_due,
        escalate_at,
        escalation_due: !resolved && incident.escalated_at.is_none() && now >= escalate_at,
        next_update_due,
        update_overdue: next_update_due.is_some_and(|due| now > due),
        seconds_to_ack: (ack_due - now).num_seconds(),
        seconds_to_escalation: (escalate_at - now).num_seconds(),
        seconds_to_update: next_update_due.map(|due| (due - now).num_seconds()),
    }
}

/// What a reminder asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// Nobody has acknowledged the incident within the response time.
    Acknowledge,
    /// The escalation time has come.
    Escalate,
    /// A status update is due.
    StatusUpdate,
}

impl fmt::Display for ReminderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Acknowledge => "acknowledge",
            Self::Escalate => "escalate",
            Self::StatusUpdate => "status_update",
        })
    }
}

/// A notification to show. `(kind, due_at)` identifies it: the caller notifies once per
/// identity, and a new deadline (e.g. after a status update) is a new reminder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Reminder {
    /// What it asks for.
    pub kind: ReminderKind,
    /// The deadline it is about.
    pub due_at: DateTime<Utc>,
    /// Notification title.
    pub title: String,
    /// Notification body (times in the team's time zone).
    pub body: String,
}

impl Reminder {
    /// A stable text form of `(kind, due_at)` for storing which reminders were sent, e.g.
    /// `acknowledge@2026-03-02T10:05:00Z`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.kind, self.due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

/// Reminders due at `now` (each identified by (kind, due_at) so the caller can notify once
/// per reminder). None for resolved incidents; no acknowledge reminder once acknowledged.
pub fn due_reminders(
    incident: &Incident,
    policy: &SeverityPolicy,
    hours: &BusinessHours,
    now: DateTime<Utc>,
) -> Vec<Reminder> {
    if incident.is_resolved() {
        return Vec::new();
    }
    let t = timers(incident, policy, hours, now);
    let tz = hours.tz;
    let name = format!("{} incident {} “{}”", incident.severity, incident.reference(), incident.title);
    let mut out = Vec::new();
    if !incident.is_acknowledged() && now >= t.ack_due {
        out.push(Reminder {
            kind: ReminderKind::Acknowledge,
            due_at: t.ack_due,
            title: format!("Acknowledge {} incident {}", incident.severity, incident.reference()),
            body: format!(
                "{name} was due for acknowledgement at {} ({} after declaration).",
                local_time(t.ack_due, tz),
                human_duration(policy.response)
            ),
        });
    }
    if t.escalation_due {
        let rule = match policy.escalation {
            Escalation::Immediate => "immediately".to_string(),
            Escalation::After(d) => format!("after {} if unresolved", human_duration(d)),
            Escalation::NextBusinessDay => "on the next business day if unresolved".to_string(),
        };
        out.push(Reminder {
            kind: ReminderKind::Escalate,
            due_at: t.escalate_at,
            title: format!("Escalate {} incident {}", incident.severity, incident.reference()),
            body: format!("{name} must be escalated {rule} (due {}).", local_time(t.escalate_at, tz)),
        });
    }
    if let Some(due) = t.next_update_due.filter(|due| now >= *due) {
        let last = incident.last_update_at.map_or_else(
            || "No status update has been posted yet".to_string(),
            |at| format!("The last status update was at {}", local_time(at, tz)),
        );
        out.push(Reminder {
            kind: ReminderKind::StatusUpdate,
            due_at: due,
            title: format!("Status update due for incident {}", incident.reference()),
            body: format!("{last}; {name} needs an update (due {}).", local_time(due, tz)),
        });
    }
    out
}
