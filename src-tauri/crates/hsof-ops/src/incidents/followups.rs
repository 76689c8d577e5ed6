//! Follow-up actions: the states an action item goes through and when it is due. An item
//! is open until done or given up (won't do, with why); its due date is a date in the
//! team's time zone, overdue from the day after it.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::IncidentError;

/// Where a follow-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpState {
    /// Not started.
    Open,
    /// Someone is on it.
    InProgress,
    /// Done.
    Done,
    /// Decided against, with a reason.
    WontDo,
}

impl FollowUpState {
    /// Every state.
    pub const ALL: [FollowUpState; 4] = [Self::Open, Self::InProgress, Self::Done, Self::WontDo];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::WontDo => "wont_do",
        }
    }

    /// Done or won't do.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Done | Self::WontDo)
    }
}

impl fmt::Display for FollowUpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FollowUpState {
    type Err = IncidentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
            "open" | "reopen" => Ok(Self::Open),
            "in_progress" | "start" | "started" => Ok(Self::InProgress),
            "done" => Ok(Self::Done),
            "wont_do" | "won't_do" | "wontdo" => Ok(Self::WontDo),
            other => Err(IncidentError::invalid(format!(
                "unknown state {other:?}: expected open, in-progress, done or wont-do"
            ))),
        }
    }
}

/// Checks a change of state: won't do needs a reason; a state is not set to itself.
pub fn check_transition(from: FollowUpState, to: FollowUpState, reason: Option<&str>) -> Result<(), IncidentError> {
    if from == to {
        return Err(IncidentError::invalid(format!("the follow-up is {} already", from.as_str().replace('_', " "))));
    }
    if to == FollowUpState::WontDo && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(IncidentError::invalid("won't do needs a reason (why it is not worth doing)"));
    }
    Ok(())
}

/// When a follow-up is due, seen on `today` (the team's local date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Due {
    /// Done or won't do: no longer due.
    Closed,
    /// Past its date by this many days.
    Overdue {
        /// Days late (1 the day after the due date).
        days: u32,
    },
    /// Due today.
    Today,
    /// Due in this many days.
    Later {
        /// Days left.
        days: u32,
    },
}

/// Where a follow-up due on `due` stands on `today`.
pub fn due(state: FollowUpState, due: NaiveDate, today: NaiveDate) -> Due {
    if state.is_closed() {
        return Due::Closed;
    }
    let d = (due - today).num_days();
    match d {
        0 => Due::Today,
        d if d < 0 => Due::Overdue { days: u32::try_from(-d).unwrap_or(u32::MAX) },
        d => Due::Later { days: u32::try_from(d).unwrap_or(u32::MAX) },
    }
}

/// Parses a due date: `YYYY-MM-DD`, or `+Nd` / `+Nw` from `today`.
pub fn parse_due(s: &str, today: NaiveDate) -> Result<NaiveDate, IncidentError> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('+') {
        let (n, unit) = rest.split_at(rest.len().saturating_sub(1));
        let n: i64 = n.parse().map_err(|_| IncidentError::invalid(format!("due: {s:?}: expected +3d or +2w")))?;
        let days = match unit {
            "d" => n,
            "w" => n * 7,
            _ => return Err(IncidentError::invalid(format!("due: {s:?}: expected +3d or +2w"))),
        };
        if !(0..=3650).contains(&days) {
            return Err(IncidentError::invalid(format!("due: {s:?} is more than ten years away")));
        }
        return Ok(today + chrono::Duration::days(days));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| IncidentError::invalid(format!("due: {s:?} is not a date YYYY-MM-DD (or +3d, +2w)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn overdue_from_the_day_after_and_never_once_closed() {
        let today = d("2026-12-08");
        assert_eq!(due(FollowUpState::Open, d("2026-12-08"), today), Due::Today);
        assert_eq!(due(FollowUpState::InProgress, d("2026-12-07"), today), Due::Overdue { days: 1 });
        assert_eq!(due(FollowUpState::Open, d("2026-12-15"), today), Due::Later { days: 7 });
        assert_eq!(due(FollowUpState::Done, d("2026-11-01"), today), Due::Closed);
        assert_eq!(due(FollowUpState::WontDo, d("2026-11-01"), today), Due::Closed);
    }

    #[test]
    fn transitions_and_dates_are_checked() {
        assert!(check_transition(FollowUpState::Open, FollowUpState::WontDo, None).is_err());
        assert!(check_transition(FollowUpState::Open, FollowUpState::WontDo, Some("superseded")).is_ok());
        assert!(check_transition(FollowUpState::Done, FollowUpState::Done, None).is_err());
        assert_eq!("in-progress".parse::<FollowUpState>().expect("parse"), FollowUpState::InProgress);
        assert_eq!(parse_due("+2w", d("2026-12-08")).expect("ok"), d("2026-12-22"));
        assert_eq!(parse_due("2026-12-31", d("2026-12-08")).expect("ok"), d("2026-12-31"));
        assert!(parse_due("tomorrow", d("2026-12-08")).is_err());
        assert!(parse_due("+5y", d("2026-12-08")).is_err());
    }
}
