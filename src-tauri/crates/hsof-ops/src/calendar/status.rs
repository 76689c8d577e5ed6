//! Where an occurrence stands, from its checklist progress and the time.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::Cadence;
use super::recurrence::Occurrence;

/// The status the calendar colours an occurrence by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceStatus {
    /// Not started yet.
    Upcoming,
    /// Started (or past its end but within grace), nothing done yet.
    Due,
    /// Completed with every step done.
    Done,
    /// Completed with steps missing, or some steps done and still within grace.
    Partial,
    /// Deliberately skipped.
    Skipped,
    /// Past its end plus grace and not completed.
    Overdue,
    /// It ended before the app kept records, so nothing is known about it (the app sets
    /// this, not [`status`]: a fresh install is not a month of overdue work).
    Untracked,
}

/// What has been recorded for an occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
pub struct Progress {
    /// Steps in the checklist.
    pub steps_total: u32,
    /// Steps ticked or run with a verdict.
    pub steps_done: u32,
    /// Someone marked the occurrence as skipped.
    pub skipped: bool,
    /// Someone marked the occurrence as completed.
    pub completed: bool,
}

/// How long after its planned end an occurrence may still be done before it is overdue:
/// daily 4 h, weekly 1 day, monthly 3 days, quarterly 7 days.
pub fn grace(c: Cadence) -> Duration {
    match c {
        Cadence::Daily => Duration::hours(4),
        Cadence::Weekly => Duration::days(1),
        Cadence::Monthly => Duration::days(3),
        Cadence::Quarterly => Duration::days(7),
    }
}

/// The status of `o` at `now`.
///
/// Skipped wins over everything; then completion (Done, or Partial when steps are
/// missing); then time: Upcoming before start, Due from start until end + grace (Partial
/// when some steps are done, also when they were done early), Overdue afterwards.
pub fn status(o: &Occurrence, p: &Progress, now: DateTime<Utc>) -> OccurrenceStatus {
    if p.skipped {
        return OccurrenceStatus::Skipped;
    }
    if p.completed {
        return if p.steps_done >= p.steps_total { OccurrenceStatus::Done } else { OccurrenceStatus::Partial };
    }
    if now >= o.end + grace(o.cadence) {
        OccurrenceStatus::Overdue
    } else if p.steps_done > 0 {
        OccurrenceStatus::Partial
    } else if now < o.start {
        OccurrenceStatus::Upcoming
    } else {
        OccurrenceStatus::Due
    }
}
