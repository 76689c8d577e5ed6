//! Incident response as the runbook describes it ("Incident Response Procedures"):
//! declare, acknowledge within the severity's response time, escalate on schedule, post
//! status updates, resolve, then write the summary.
//!
//! After the incident, [`postmortem`] merges the sources' timelines, measures the impact on
//! the error budgets and writes the post-mortem; during it, [`statuspage`] prepares and sends
//! the stakeholder updates (Atlassian Statuspage or a plain webhook).
//!
//! Everything here is pure except [`SlackClient`], which posts to a Slack incoming webhook, and
//! the Statuspage and webhook clients in [`statuspage`].

pub mod error;
pub mod followups;
pub mod lifecycle;
pub mod model;
pub mod policy;
pub mod postmortem;
pub mod roles;
pub mod slack;
pub mod stats;
pub mod statuspage;
pub mod summary;
pub(crate) mod time_format;
pub mod timers;

pub use error::IncidentError;
pub use model::{Incident, IncidentStatus, NewIncident, Severity, StatusUpdate, TimelineEvent, TimelineKind};
pub use policy::{format_duration, parse_duration, parse_holidays_ics, BusinessHours, Escalation, SeverityPolicy};
pub use slack::{
    declared_message, parse_retry_after, resolved_message, retry_after, update_messages, SlackClient, SlackError,
    SlackMessage,
};
pub use stats::{stats, SeverityStats};
pub use summary::summary_markdown;
pub use timers::{due_reminders, timers, Reminder, ReminderKind, Timers};
