//! Timers and reminders against the runbook's severity table, with an injected clock.

mod common;

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use common::{berlin, incident, utc};
use hsof_ops::incidents::{
    due_reminders, parse_holidays_ics, timers, BusinessHours, Escalation, ReminderKind, Severity, SeverityPolicy,
};
use proptest::prelude::*;

fn mins(m: i64) -> Duration {
    Duration::minutes(m)
}

#[test]
fn the_runbook_table_is_the_default_policy() {
    let p0 = SeverityPolicy::runbook(Severity::P0);
    assert_eq!(
        (p0.response, p0.escalation, p0.status_update, p0.postmortem),
        (mins(5), Escalation::Immediate, Some(mins(15)), true)
    );
    let p1 = SeverityPolicy::runbook(Severity::P1);
    assert_eq!(
        (p1.response, p1.escalation, p1.status_update, p1.postmortem),
        (mins(15), Escalation::After(mins(30)), Some(mins(15)), true)
    );
    let p2 = SeverityPolicy::runbook(Severity::P2);
    assert_eq!(
        (p2.response, p2.escalation, p2.status_update, p2.postmortem),
        (mins(60), Escalation::After(mins(240)), None, false)
    );
    let p3 = SeverityPolicy::runbook(Severity::P3);
    assert_eq!(
        (p3.response, p3.escalation, p3.status_update, p3.postmortem),
        (mins(240), Escalation::NextBusinessDay, None, false)
    );
}

#[test]
fn deadlines_follow_each_severity() {
    // Monday 2026-03-02 11:00 CET.
    let declared = utc(2026, 3, 2, 10, 0);
    let cases = [
        (Severity::P0, mins(5), declared, Some(mins(15))),
        (Severity::P1, mins(15), declared + mins(30), Some(mins(15))),
        (Severity::P2, mins(60), declared + mins(240), None),
        // Next business day: Tuesday 09:00 CET = 08:00 UTC.
        (Severity::P3, mins(240), utc(2026, 3, 3, 8, 0), None),
    ];
    for (severity, response, escalate_at, update) in cases {
        let i = incident(1, severity, declared);
        let t = timers(&i, &SeverityPolicy::runbook(severity), &berlin(), declared + mins(1));
        assert_eq!(t.ack_due, declared + response, "{severity}");
        assert!(!t.ack_overdue, "{severity}");
        assert_eq!(t.seconds_to_ack, (response - mins(1)).num_seconds(), "{severity}");
        assert_eq!(t.escalate_at, escalate_at, "{severity}");
        assert_eq!(t.escalation_due, severity == Severity::P0, "P0 escalates immediately: {severity}");
        assert_eq!(t.seconds_to_escalation, (escalate_at - declared - mins(1)).num_seconds(), "{severity}");
        assert_eq!(t.next_update_due, update.map(|u| declared + u), "{severity}");
        assert_eq!(t.seconds_to_update, update.map(|u| (u - mins(1)).num_seconds()), "{severity}");
        assert!(!t.update_overdue, "{severity}");
    }
}

#[test]
fn overdue_timers_count_negative_and_stop_when_done() {
    let declared = utc(2026, 3, 2, 10, 0);
    let policy = SeverityPolicy::runbook(Severity::P1);
    let mut i = incident(2, Severity::P1, declared);

    let t = timers(&i, &policy, &berlin(), declared + mins(20));
    assert!(t.ack_overdue && t.update_overdue && !t.escalation_due);
    assert_eq!((t.seconds_to_ack, t.seconds_to_update, t.seconds_to_escalation), (-300, Some(-300), 600));

    // Exactly at the deadline: escalation is due, acknowledgement not yet overdue.
    let t = timers(&i, &policy, &berlin(), declared + mins(15));
    assert!(!t.ack_overdue);
    assert!(timers(&i, &policy, &berlin(), declared + mins(30)).escalation_due);

    i.acknowledge(declared + mins(16)).expect("ack");
    i.record_update(declared + mins(25)).expect("update");
    let t = timers(&i, &policy, &berlin(), declared + mins(35));
    assert!(!t.ack_overdue && t.escalation_due);
    assert_eq!(t.next_update_due, Some(declared + mins(40)));
    assert!(!t.update_overdue);

    i.escalate(declared + mins(36)).expect("escalate");
    assert!(!timers(&i, &policy, &berlin(), declared + mins(37)).escalation_due);

    i.resolve(declared + mins(50)).expect("resolve");
    let t = timers(&i, &policy, &berlin(), declared + mins(300));
    assert!(!t.ack_overdue && !t.escalation_due && !t.update_overdue);
    assert_eq!((t.next_update_due, t.seconds_to_update), (None, None));
}

#[test]
fn next_business_day_skips_weekends_in_local_time() {
    let hours = berlin();
    // Friday 2026-03-06 18:30 CET → Monday 2026-03-09 09:00 CET.
    assert_eq!(hours.next_business_day_start(utc(2026, 3, 6, 17, 30)), utc(2026, 3, 9, 8, 0));
    // Saturday noon → Monday.
    assert_eq!(hours.next_business_day_start(utc(2026, 3, 7, 11, 0)), utc(2026, 3, 9, 8, 0));
    // Friday 23:30 UTC is already Saturday 00:30 in Berlin → Monday.
    assert_eq!(hours.next_business_day_start(utc(2026, 3, 6, 23, 30)), utc(2026, 3, 9, 8, 0));
    // Sunday evening → Monday; Monday early morning → Tuesday (the *next* day).
    assert_eq!(hours.next_business_day_start(utc(2026, 3, 8, 21, 0)), utc(2026, 3, 9, 8, 0));
    assert_eq!(hours.next_business_day_start(utc(2026, 3, 9, 6, 0)), utc(2026, 3, 10, 8, 0));
    // Wednesday → Thursday.
    assert_eq!(hours.next_business_day_start(utc(2026, 3, 4, 15, 0)), utc(2026, 3, 5, 8, 0));
}

#[test]
fn next_business_day_is_right_across_dst_changes() {
    let hours = berlin();
    // Friday 2026-03-27 20:00 CET; clocks go forward on Sunday the 29th;
    // Monday 2026-03-30 09:00 CEST = 07:00 UTC.
    assert_eq!(hours.next_business_day_start(utc(2026, 3, 27, 19, 0)), utc(2026, 3, 30, 7, 0));
    // Friday 2026-10-23 20:00 CEST; clocks go back on Sunday the 25th; Monday 09:00 CET = 08:00 UTC.
    assert_eq!(hours.next_business_day_start(utc(2026, 10, 23, 18, 0)), utc(2026, 10, 26, 8, 0));
    // And a P3 declared that Friday evening escalates on Monday morning.
    let i = incident(3, Severity::P3, utc(2026, 3, 27, 19, 0));
    let t = timers(&i, &SeverityPolicy::runbook(Severity::P3), &hours, utc(2026, 3, 30, 7, 0));
    assert_eq!(t.escalate_at, utc(2026, 3, 30, 7, 0));
    assert!(t.escalation_due);
}

/// A team holiday calendar as calendar apps export it: all-day events (DTEND exclusive),
/// one multi-day, one yearly.
const HOLIDAYS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//team//holidays//EN\r\n\
BEGIN:VEVENT\r\nUID:h1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Christmas\r\nDTSTART;VALUE=DATE:20251225\r\n\
DTEND;VALUE=DATE:20251227\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:h2\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Easter Monday\r\nDTSTART;VALUE=DATE:20260406\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:h3\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Team offsite\r\nDTSTART;VALUE=DATE:20260330\r\n\
DTEND;VALUE=DATE:20260401\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[test]
fn next_business_day_skips_the_team_holidays() {
    let days = parse_holidays_ics(HOLIDAYS).expect("holidays");
    let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).expect("date");
    for day in [d(2025, 12, 25), d(2025, 12, 26), d(2026, 12, 25), d(2026, 12, 26), d(2040, 12, 26)] {
        assert!(days.contains(&day), "{day}");
    }
    assert!(days.contains(&d(2026, 4, 6)) && days.contains(&d(2026, 3, 30)) && days.contains(&d(2026, 3, 31)));
    assert!(!days.contains(&d(2026, 4, 1)) && !days.contains(&d(2026, 12, 27)) && !days.contains(&d(2026, 4, 7)));
    let hours = berlin().with_holidays(days);
    // Thursday 2026-12-24: Christmas is Friday the 25th and the weekend follows, so Monday
    // the 28th. Without the calendar: Friday the 25th.
    assert_eq!(hours.next_business_day_start(utc(2026, 12, 24, 15, 0)), utc(2026, 12, 28, 8, 0));
    assert_eq!(berlin().next_business_day_start(utc(2026, 12, 24, 15, 0)), utc(2026, 12, 25, 8, 0));
    // Good Friday is not listed; Easter Monday is: Thursday 2nd → Friday 3rd; Friday 3rd → Tuesday 7th (CEST).
    assert_eq!(hours.next_business_day_start(utc(2026, 4, 3, 15, 0)), utc(2026, 4, 7, 7, 0));
    // Friday before the offsite → Wednesday April 1st.
    assert_eq!(hours.next_business_day_start(utc(2026, 3, 27, 19, 0)), utc(2026, 4, 1, 7, 0));
    assert!(!hours.is_open(utc(2026, 12, 25, 9, 0)), "Christmas is not open");
    // A P3 declared on Christmas Eve escalates after the holidays.
    let i = incident(4, Severity::P3, utc(2026, 12, 24, 15, 0));
    let t = timers(&i, &SeverityPolicy::runbook(Severity::P3), &hours, utc(2026, 12, 25, 9, 0));
    assert_eq!(t.escalate_at, utc(2026, 12, 28, 8, 0));
    assert!(!t.escalation_due);
}

#[test]
fn a_holiday_calendar_that_cannot_be_read_says_why() {
    let err = parse_holidays_ics("hello").expect_err("not ics");
    assert!(err.to_string().contains("iCalendar"), "{err}");
    let empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n";
    assert!(parse_holidays_ics(empty).expect_err("no events").to_string().contains("no events"));
    let monthly = HOLIDAYS.replace("RRULE:FREQ=YEARLY", "RRULE:FREQ=MONTHLY;BYDAY=1MO");
    let err = parse_holidays_ics(&monthly).expect_err("monthly");
    assert!(err.to_string().contains("Christmas") && err.to_string().contains("FREQ=YEARLY"), "{err}");
    let counted =
        parse_holidays_ics(&HOLIDAYS.replace("RRULE:FREQ=YEARLY", "RRULE:FREQ=YEARLY;COUNT=2")).expect("count");
    let d = |y, m, dd| chrono::NaiveDate::from_ymd_opt(y, m, dd).expect("date");
    assert!(counted.contains(&d(2026, 12, 25)) && !counted.contains(&d(2027, 12, 25)));
}

#[test]
fn business_hours_are_weekdays_between_start_and_end() {
    let hours = berlin();
    assert!(hours.is_open(utc(2026, 3, 2, 8, 0)), "Monday 09:00 CET");
    assert!(!hours.is_open(utc(2026, 3, 2, 7, 59)), "Monday 08:59 CET");
    assert!(!hours.is_open(utc(2026, 3, 2, 16, 0)), "Monday 17:00 CET");
    assert!(!hours.is_open(utc(2026, 3, 7, 10, 0)), "Saturday");
    assert!(hours.is_open(utc(2026, 3, 30, 7, 0)), "Monday 09:00 CEST");

    assert!(BusinessHours::parse("Mars/Olympus", "09:00", "17:00").is_err());
    let err = BusinessHours::parse("Europe/Berlin", "9am", "17:00").expect_err("bad time");
    assert!(err.to_string().contains("expected HH:MM"), "{err}");
    assert!(BusinessHours::parse("Europe/Berlin", "17:00", "09:00").is_err());
}

#[test]
fn reminders_fire_once_per_deadline_and_stop_after_ack_and_resolve() {
    let declared = utc(2026, 3, 2, 10, 0);
    let policy = SeverityPolicy::runbook(Severity::P1);
    let hours = berlin();
    let mut i = incident(4, Severity::P1, declared);
    let mut sent = HashSet::new();
    let mut notified = Vec::new();
    for m in 0..=180 {
        let now = declared + mins(m);
        match m {
            20 => i.acknowledge(now).expect("ack"),
            32 => i.escalate(now).expect("escalate"),
            40 | 60 => i.record_update(now).expect("update"),
            80 => i.resolve(now).expect("resolve"),
            _ => {}
        }
        let due = due_reminders(&i, &policy, &hours, now);
        if m >= 20 {
            assert!(due.iter().all(|r| r.kind != ReminderKind::Acknowledge), "acknowledged at minute 20, asked at {m}");
        }
        if m >= 80 {
            assert!(due.is_empty(), "resolved at minute 80, reminded at {m}: {due:?}");
        }
        for r in due {
            if sent.insert((r.kind, r.due_at)) {
                notified.push((m, r.kind, (r.due_at - declared).num_minutes()));
            }
        }
    }
    assert_eq!(
        notified,
        vec![
            (15, ReminderKind::Acknowledge, 15),
            (15, ReminderKind::StatusUpdate, 15),
            (30, ReminderKind::Escalate, 30),
            (55, ReminderKind::StatusUpdate, 55),
            (75, ReminderKind::StatusUpdate, 75),
        ]
    );
}

#[test]
fn reminders_say_what_is_due_in_team_time() {
    let declared = utc(2026, 3, 2, 10, 0);
    let i = incident(5, Severity::P0, declared);
    let due = due_reminders(&i, &SeverityPolicy::runbook(Severity::P0), &berlin(), declared + mins(6));
    let ack = due.iter().find(|r| r.kind == ReminderKind::Acknowledge).expect("ack reminder");
    assert_eq!(ack.title, "Acknowledge P0 incident #5");
    assert!(
        ack.body.contains("2026-03-02 11:05 CET") && ack.body.contains("Inference latency above SLO"),
        "{}",
        ack.body
    );
    assert_eq!(ack.key(), "acknowledge@2026-03-02T10:05:00Z");
    assert!(due.iter().any(|r| r.kind == ReminderKind::Escalate && r.due_at == declared));
    assert!(due.iter().all(|r| r.kind != ReminderKind::StatusUpdate), "first update is due at 15 min");
}

fn at(offset_secs: i64) -> DateTime<Utc> {
    utc(2026, 1, 1, 0, 0) + Duration::seconds(offset_secs)
}

proptest! {
    #[test]
    fn ack_due_never_precedes_declaration_and_resolved_incidents_need_no_updates(
        sev in 0usize..4,
        declared in 0i64..(400 * 86_400),
        ack in proptest::option::of(0i64..86_400),
        update in proptest::option::of(0i64..86_400),
        resolved in proptest::option::of(0i64..(3 * 86_400)),
        now in -86_400i64..(10 * 86_400),
    ) {
        let severity = Severity::all()[sev];
        let policy = SeverityPolicy::runbook(severity);
        let mut i = incident(9, severity, at(declared));
        i.acknowledged_at = ack.map(|a| at(declared + a));
        i.last_update_at = update.map(|u| at(declared + u));
        i.resolved_at = resolved.map(|r| at(declared + r));
        let now = at(declared + now);
        let t = timers(&i, &policy, &berlin(), now);
        prop_assert!(t.ack_due >= i.declared_at);
        prop_assert!(t.escalate_at >= i.declared_at);
        prop_assert_eq!(t.seconds_to_ack, (t.ack_due - now).num_seconds());
        if resolved.is_some() {
            prop_assert_eq!(t.next_update_due, None);
            prop_assert!(!t.update_overdue && !t.escalation_due && !t.ack_overdue);
            prop_assert!(due_reminders(&i, &policy, &berlin(), now).is_empty());
        }
    }
}
