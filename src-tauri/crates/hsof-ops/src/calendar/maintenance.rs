//! Maintenance windows: the runbook's 48-hour advance notice ("Maintenance notifications
//! (48 hours advance)") and the announcement to send.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ics::MaintenanceWindow;

/// How far ahead users must be told about a maintenance window.
pub const NOTICE: Duration = Duration::hours(48);

/// The longest window accepted.
pub const MAX_WINDOW: Duration = Duration::hours(12);

/// A window that cannot be scheduled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaintenanceError {
    /// The end is not after the start.
    #[error("the window ends ({end}) before it starts ({start}); the end must be after the start")]
    EndsBeforeStart {
        /// The requested start (RFC 3339).
        start: String,
        /// The requested end (RFC 3339).
        end: String,
    },
    /// The start is not in the future.
    #[error("the window starts at {start}, which is not in the future (now {now})")]
    InThePast {
        /// The requested start (RFC 3339).
        start: String,
        /// The time of the check (RFC 3339).
        now: String,
    },
    /// The window is longer than [`MAX_WINDOW`].
    #[error("the window lasts {minutes} min; split it, the most one window may last is 12 h")]
    TooLong {
        /// Its length in minutes.
        minutes: i64,
    },
}

/// A window that can be scheduled, with its notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct WindowCheck {
    /// The start is at least [`NOTICE`] away.
    pub notice_ok: bool,
    /// When the announcement must go out: start − 48 h.
    pub notice_due: DateTime<Utc>,
    /// Things to know that do not block the window (short notice).
    pub warnings: Vec<String>,
}

/// Validates a window: end after start, start in the future, at most 12 h long.
/// Short notice (start − now < 48 h) is a warning, not an error.
pub fn check_window(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<WindowCheck, MaintenanceError> {
    if end <= start {
        return Err(MaintenanceError::EndsBeforeStart { start: start.to_rfc3339(), end: end.to_rfc3339() });
    }
    if start <= now {
        return Err(MaintenanceError::InThePast { start: start.to_rfc3339(), now: now.to_rfc3339() });
    }
    if end - start > MAX_WINDOW {
        return Err(MaintenanceError::TooLong { minutes: (end - start).num_minutes() });
    }
    let notice_due = start - NOTICE;
    let notice_ok = start - now >= NOTICE;
    let mut warnings = Vec::new();
    if !notice_ok {
        warnings.push(format!(
            "short notice: the window starts in {} h; the runbook asks for 48 hours' advance notice, \
             so announce it now",
            (start - now).num_hours()
        ));
    }
    Ok(WindowCheck { notice_ok, notice_due, warnings })
}

/// The ready-to-send announcement (Slack or email): what, when (team-local and UTC),
/// expected impact and contact.
pub fn announcement(w: &MaintenanceWindow, tz: Tz, impact: &str, contact: &str) -> String {
    let start = w.start.with_timezone(&tz);
    let end = w.end.with_timezone(&tz);
    let local_end = if start.date_naive() == end.date_naive() {
        end.format("%H:%M %Z")
    } else {
        end.format("%a %Y-%m-%d %H:%M %Z")
    };
    let utc_end = if w.start.date_naive() == w.end.date_naive() {
        w.end.format("%H:%M UTC")
    } else {
        w.end.format("%a %Y-%m-%d %H:%M UTC")
    };
    let minutes = (w.end - w.start).num_minutes();
    let length = match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    };
    let mut text = format!(
        "Scheduled maintenance: {title}\n\n\
         When: {local_start} – {local_end} ({tz})\n\
         \u{20}     {utc_start} – {utc_end}\n\
         Duration: {length}\n\
         Expected impact: {impact}\n",
        title = w.title,
        local_start = start.format("%a %Y-%m-%d %H:%M %Z"),
        tz = tz.name(),
        utc_start = w.start.format("%a %Y-%m-%d %H:%M UTC"),
        impact = impact.trim(),
    );
    if !w.description.trim().is_empty() {
        text.push_str(&format!("Details: {}\n", w.description.trim()));
    }
    text.push_str(&format!("Contact: {}\n", contact.trim()));
    text
}
