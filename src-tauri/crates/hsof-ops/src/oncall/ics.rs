//! The shifts as an iCalendar file (RFC 5545), for Google Calendar, Outlook and Apple
//! Calendar.

use chrono::{DateTime, Utc};

use super::shifts::{Shift, ShiftSource};

/// Domain of every UID this export writes.
const UID_DOMAIN: &str = "hsof-control-center";

/// RFC 5545 UTC DATE-TIME.
const UTC_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The shifts as an iCalendar file (RFC 5545): one VEVENT per shift, DTSTART/DTEND in
/// UTC, SUMMARY `On call: <who>` (`On call: <who> (override: <reason>)`), UID
/// `oncall-<yyyymmddThhmmssZ of start>-<slug of who>@hsof-control-center`, DTSTAMP
/// `generated`, X-WR-CALNAME `<team> on-call`; lines folded at 75 octets and text escaped
/// per RFC 5545. An override's event also has a DESCRIPTION saying who made it.
///
/// The events are TRANSP:TRANSPARENT (being on call does not make anyone busy). No clock
/// is read, so the same input gives the same bytes.
pub fn ics(shifts: &[Shift], team: &str, generated: DateTime<Utc>) -> String {
    let stamp = generated.format(UTC_FORMAT).to_string();
    let mut out = String::new();
    let mut line = |text: String| crate::calendar::ics::fold_into(&mut out, &text);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//HSOF//Control Center//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", escape(&format!("{team} on-call"))));
    for s in shifts {
        let start = s.start.format(UTC_FORMAT).to_string();
        line("BEGIN:VEVENT".into());
        line(format!("UID:oncall-{start}-{}@{UID_DOMAIN}", slug(&s.who)));
        line(format!("DTSTAMP:{stamp}"));
        line(format!("DTSTART:{start}"));
        line(format!("DTEND:{}", s.end.format(UTC_FORMAT)));
        match &s.source {
            ShiftSource::Rotation => line(format!("SUMMARY:{}", escape(&format!("On call: {}", s.who)))),
            ShiftSource::Override { id, reason, by } => {
                let summary = if reason.trim().is_empty() {
                    format!("On call: {} (override)", s.who)
                } else {
                    format!("On call: {} (override: {reason})", s.who)
                };
                line(format!("SUMMARY:{}", escape(&summary)));
                line(format!("DESCRIPTION:{}", escape(&format!("Override {id} by {by}."))));
            }
        }
        line("TRANSP:TRANSPARENT".into());
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// `Zoë Müller` → `zoë-müller`: lowercase letters and digits, runs of anything else as
/// one `-`; `someone` when nothing is left.
fn slug(who: &str) -> String {
    let mut out = String::new();
    for c in who.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "someone".into()
    } else {
        trimmed.to_owned()
    }
}

/// A TEXT value escaped per RFC 5545 §3.3.11: `\` `;` `,` and line breaks.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
