//! The `.ics` export (RFC 5545, `icalendar` crate): one recurring event per procedure and
//! one event per maintenance window, for Google Calendar, Outlook and Apple Calendar.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike};
use serde::{Deserialize, Serialize};

use super::catalog::{Action, Catalog, GateSet, Procedure};
use super::rule;
use super::vtimezone::vtimezone;

/// Domain of every UID this export writes.
const UID_DOMAIN: &str = "hsof-control-center";

/// A scheduled maintenance window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct MaintenanceWindow {
    /// Its id in the store.
    #[specta(type = f64)]
    pub id: i64,
    /// What is being done.
    pub title: String,
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
    /// Details for the announcement and the calendar entry.
    pub description: String,
}

/// How a step's action reads in the event description.
fn action_label(action: &Action) -> String {
    match action {
        Action::PodStatus => "pod status".into(),
        Action::HealthEndpoints => "health endpoints".into(),
        Action::AlertReview => "alert review".into(),
        Action::KeyMetrics => "key metrics".into(),
        Action::Top => "resource usage (top)".into(),
        Action::BackupStatus => "backup status".into(),
        Action::ImagesInPods => "images in pods".into(),
        Action::DfInPod => "disk usage in the pod".into(),
        Action::SloReview => "SLO review".into(),
        Action::ThresholdReview => "alert thresholds".into(),
        Action::RunJob { job } => format!("run job {job}"),
        Action::DrDrill { part } => format!("DR drill ({part})"),
        Action::SecurityReview { part } => format!("security review ({part})"),
        Action::Upkeep { part } => format!("maintenance check ({part})"),
        Action::Cost { part } => format!("cost and capacity check ({part})"),
        Action::Incidents { part } => format!("incident follow-through ({part})"),
        Action::EvaluateGates { gates: GateSet::Deployment } => "deployment gates".into(),
        Action::EvaluateGates { gates: GateSet::Production } => "production gates".into(),
    }
}

/// The checklist as plain text: numbered steps, their commands, and what the app automates.
fn description(p: &Procedure) -> String {
    let mut text = String::new();
    if !p.section.is_empty() {
        text.push_str(&format!("Runbook: {}\n\n", p.section));
    }
    for (i, step) in p.steps.iter().enumerate() {
        text.push_str(&format!("{}. {}", i + 1, step.text));
        if let Some(action) = &step.action {
            text.push_str(&format!(" [automated: {}]", action_label(action)));
        }
        text.push('\n');
        for command in &step.commands {
            text.push_str(&format!("   $ {command}\n"));
        }
    }
    text.push_str("\nRun the checklist in HSOF Control Center.");
    text
}

fn procedure_event(p: &Procedure, tz: Tz, stamp: DateTime<Utc>) -> Option<Event> {
    let start = rule::parse_start(&p.start).ok()?;
    let end = start + Duration::minutes(i64::from(p.duration_minutes));
    let rrule = p.rrule.trim();
    let rrule = rrule.strip_prefix("RRULE:").unwrap_or(rrule);
    let mut event = Event::new();
    event
        .uid(&format!("{}@{UID_DOMAIN}", p.id))
        // DTSTAMP is when this file was made (RFC 5545 §3.8.7.2), so subscribed calendars
        // see an edited procedure as newer.
        .timestamp(stamp)
        .summary(&p.title)
        .description(&description(p))
        .starts(CalendarDateTime::WithTimezone { date_time: start, tzid: tz.name().to_owned() })
        .ends(CalendarDateTime::WithTimezone { date_time: end, tzid: tz.name().to_owned() })
        .add_property("RRULE", rrule)
        .add_property("CATEGORIES", p.cadence.to_string());
    Some(event.done())
}

fn window_event(w: &MaintenanceWindow, stamp: DateTime<Utc>) -> Event {
    Event::new()
        .uid(&format!("maintenance-{}@{UID_DOMAIN}", w.id))
        .timestamp(stamp)
        .summary(&format!("Maintenance: {}", w.title))
        .description(&w.description)
        .starts(w.start)
        .ends(w.end)
        .add_property("CATEGORIES", "maintenance")
        .done()
}

/// An `.ics` with one recurring `VEVENT` per procedure (`RRULE`, `DTSTART;TZID=`, SUMMARY,
/// a DESCRIPTION listing the steps, UID `<id>@hsof-control-center`), the `VTIMEZONE` of
/// the team zone, and one `VEVENT` per maintenance window (UTC times).
///
/// No clock is read: every DTSTAMP is `exported_at`, the time the caller makes the file
/// (so the same input at the same instant gives the same bytes).
pub fn export_ics(catalog: &Catalog, tz: Tz, windows: &[MaintenanceWindow], exported_at: DateTime<Utc>) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//HSOF//Control Center//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        .append_property(("X-WR-CALNAME", "HSOF operations"))
        .append_property(("X-WR-TIMEZONE", tz.name()));
    let events: Vec<Event> = catalog.procedures.iter().filter_map(|p| procedure_event(p, tz, exported_at)).collect();
    let first_year = catalog.procedures.iter().filter_map(|p| rule::parse_start(&p.start).ok()).map(|s| s.year()).min();
    for event in events {
        calendar.push(event);
    }
    for w in windows {
        calendar.push(window_event(w, exported_at));
    }
    let text = refold(&calendar.done().to_string());
    match first_year {
        // One year early, so the zone's observances cover the first events.
        Some(year) => insert_before_first_component(&text, &vtimezone(tz, year - 1)),
        None => text,
    }
}

/// Content lines folded at 75 octets (RFC 5545 §3.1), continuation space included: the
/// `icalendar` crate lets a last continuation reach 76.
/// Appends one content line, folded at 75 octets (RFC 5545 §3.1) without splitting a
/// UTF-8 character: each continuation starts with a space, which counts.
pub(crate) fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = 75;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = 74;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

fn refold(text: &str) -> String {
    let unfolded = text.replace("\r\n ", "");
    let mut out = String::with_capacity(text.len() + text.len() / 40);
    for line in unfolded.split_terminator("\r\n") {
        fold_into(&mut out, line);
    }
    out
}

/// Puts `block` (CRLF-terminated) after the calendar's own properties.
fn insert_before_first_component(text: &str, block: &str) -> String {
    let header_end = "BEGIN:VCALENDAR\r\n".len();
    let at = text
        .get(header_end..)
        .and_then(|rest| rest.find("\r\nBEGIN:").map(|i| header_end + i + 2))
        .or_else(|| text.rfind("END:VCALENDAR"))
        .unwrap_or(text.len());
    format!("{}{block}{}", &text[..at], &text[at..])
}
