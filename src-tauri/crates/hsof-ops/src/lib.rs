//! HSOF operations: the operations calendar (the runbook's procedures catalog, recurrence,
//! statuses, `.ics` export, maintenance windows and quality gates) and incident
//! response — severities and their policies, acknowledgement/escalation/update timers,
//! Slack posts, post-incident summaries and response statistics.
//! The on-call rotation: hand-overs in the team's zone, holidays, overrides, gaps and `.ics`.
//!
//! No Tauri and no clocks here: every function that depends on time takes `now` (or the
//! event's time) as an argument, so the app, the CLI and the tests share one behaviour.

#![warn(missing_docs)]

pub mod calendar;
pub mod incidents;
pub mod oncall;
