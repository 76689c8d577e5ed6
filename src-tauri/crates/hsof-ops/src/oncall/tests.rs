//! The on-call rotation's behaviour: DST, holidays, overrides, gaps, tonight and `.ics`.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use chrono_tz::Europe::Berlin;
use proptest::prelude::*;

use super::*;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("a valid UTC time")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn rotation(rrule: &str, start: &str, timezone: &str, members: &[&str]) -> Rotation {
    Rotation {
        members: names(members),
        rrule: rrule.into(),
        start: start.into(),
        timezone: timezone.into(),
        skip_holidays: false,
    }
}

/// Weekly on Monday at 09:00 Berlin time, a → b → c, from 2026-01-05.
fn weekly_berlin() -> Rotation {
    rotation("FREQ=WEEKLY;BYDAY=MO", "2026-01-05T09:00", "Europe/Berlin", &["a", "b", "c"])
}

fn no_holidays() -> BTreeSet<NaiveDate> {
    BTreeSet::new()
}

fn holidays(days: &[NaiveDate]) -> BTreeSet<NaiveDate> {
    days.iter().copied().collect()
}

/// Asserts the hand-overs `handovers(holidays, from, to)` returns.
fn check_handovers(
    r: &Rotation,
    holidays: &BTreeSet<NaiveDate>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    expected: &[(DateTime<Utc>, &str)],
) {
    let got = r.handovers(holidays, from, to).expect("a valid rotation");
    let got: Vec<(DateTime<Utc>, &str)> = got.iter().map(|(at, who)| (*at, who.as_str())).collect();
    assert_eq!(got, expected);
}

fn an_override(id: &str, start: DateTime<Utc>, end: DateTime<Utc>, who: &str, created_at: DateTime<Utc>) -> Override {
    Override {
        id: id.into(),
        start,
        end,
        who: who.into(),
        reason: format!("reason {id}"),
        by: "lead".into(),
        created_at,
    }
}

/// (start, end, who, from an override) of each shift.
fn summary(cov: &Coverage) -> Vec<(DateTime<Utc>, DateTime<Utc>, &str, bool)> {
    cov.shifts
        .iter()
        .map(|s| (s.start, s.end, s.who.as_str(), matches!(s.source, ShiftSource::Override { .. })))
        .collect()
}

fn local_hm(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz).format("%a %H:%M").to_string()
}

// --- Hand-overs across DST ---------------------------------------------------------------

#[test]
fn weekly_handover_stays_at_nine_across_berlin_spring_forward() {
    let r = weekly_berlin();
    check_handovers(
        &r,
        &no_holidays(),
        utc(2026, 3, 25, 0, 0),
        utc(2026, 4, 1, 0, 0),
        // 2026-03-23 is occurrence 11 (c); 2026-03-29 puts Berlin on CEST.
        &[(utc(2026, 3, 23, 8, 0), "c"), (utc(2026, 3, 30, 7, 0), "a"), (utc(2026, 4, 6, 7, 0), "b")],
    );
    let cov =
        coverage(&r, &[], &names(&["a", "b", "c"]), &no_holidays(), utc(2026, 3, 23, 8, 0), utc(2026, 4, 6, 7, 0))
            .expect("coverage");
    let hours: Vec<i64> = cov.shifts.iter().map(|s| (s.end - s.start).num_hours()).collect();
    assert_eq!(hours, vec![167, 168]);
    assert!(cov.shifts.iter().all(|s| local_hm(s.start, Berlin) == "Mon 09:00"));
    assert!(cov.gaps.is_empty());
}

#[test]
fn weekly_handover_stays_at_nine_across_berlin_fall_back() {
    let r = weekly_berlin();
    let cov =
        coverage(&r, &[], &names(&["a", "b", "c"]), &no_holidays(), utc(2026, 10, 19, 7, 0), utc(2026, 11, 2, 8, 0))
            .expect("coverage");
    assert_eq!(
        summary(&cov),
        vec![
            // Occurrence 41 (c), then 2026-10-25 puts Berlin back on CET.
            (utc(2026, 10, 19, 7, 0), utc(2026, 10, 26, 8, 0), "c", false),
            (utc(2026, 10, 26, 8, 0), utc(2026, 11, 2, 8, 0), "a", false),
        ]
    );
    assert_eq!((cov.shifts[0].end - cov.shifts[0].start).num_hours(), 169);
    assert!(cov.shifts.iter().all(|s| local_hm(s.start, Berlin) == "Mon 09:00"));
}

#[test]
fn weekly_handover_stays_at_nine_across_new_york_dst() {
    let r = rotation("FREQ=WEEKLY;BYDAY=MO", "2026-01-05T09:00", "America/New_York", &["a", "b", "c"]);
    let team = names(&["a", "b", "c"]);
    // 2026-03-08: EST → EDT.
    let spring =
        coverage(&r, &[], &team, &no_holidays(), utc(2026, 3, 2, 14, 0), utc(2026, 3, 16, 13, 0)).expect("coverage");
    assert_eq!(
        summary(&spring),
        vec![
            (utc(2026, 3, 2, 14, 0), utc(2026, 3, 9, 13, 0), "c", false),
            (utc(2026, 3, 9, 13, 0), utc(2026, 3, 16, 13, 0), "a", false),
        ]
    );
    assert_eq!((spring.shifts[0].end - spring.shifts[0].start).num_hours(), 167);
    // 2026-11-01: EDT → EST.
    let fall =
        coverage(&r, &[], &team, &no_holidays(), utc(2026, 10, 26, 13, 0), utc(2026, 11, 9, 14, 0)).expect("coverage");
    assert_eq!(
        summary(&fall),
        vec![
            (utc(2026, 10, 26, 13, 0), utc(2026, 11, 2, 14, 0), "a", false),
            (utc(2026, 11, 2, 14, 0), utc(2026, 11, 9, 14, 0), "b", false),
        ]
    );
    assert_eq!((fall.shifts[0].end - fall.shifts[0].start).num_hours(), 169);
    assert!(spring.shifts.iter().chain(&fall.shifts).all(|s| local_hm(s.start, New_York) == "Mon 09:00"));
}

#[test]
fn a_handover_in_the_spring_forward_gap_is_at_the_end_of_the_gap() {
    let r = rotation("FREQ=DAILY", "2026-03-27T02:30", "Europe/Berlin", &["a", "b"]);
    check_handovers(
        &r,
        &no_holidays(),
        utc(2026, 3, 28, 0, 0),
        utc(2026, 3, 30, 0, 0),
        &[
            (utc(2026, 3, 27, 1, 30), "a"),
            (utc(2026, 3, 28, 1, 30), "b"),
            // 02:30 does not exist on 2026-03-29: 03:00 CEST, the first instant after the gap.
            (utc(2026, 3, 29, 1, 0), "a"),
            (utc(2026, 3, 30, 0, 30), "b"),
        ],
    );
    assert_eq!(local_hm(utc(2026, 3, 29, 1, 0), Berlin), "Sun 03:00");
}

#[test]
fn the_rrule_crate_alone_would_put_the_gap_handover_at_half_past_three() {
    // Why the rotation computes in wall time and converts itself: with DTSTART in the
    // zone, `rrule` adds 2 h 30 min to midnight on the spring-forward day.
    let start = rrule::Tz::from(Berlin).with_ymd_and_hms(2026, 3, 27, 2, 30, 0).single().expect("valid");
    let rule: rrule::RRule<rrule::Unvalidated> = "FREQ=DAILY".parse().expect("rule");
    let set = rrule::RRuleSet::new(start).rrule(rule.validate(start).expect("valid rule"));
    let third = (&set).into_iter().nth(2).expect("an occurrence").with_timezone(&Utc);
    assert_eq!(local_hm(third, Berlin), "Sun 03:30");
    // The rotation follows its own rule: 03:00.
    let r = rotation("FREQ=DAILY", "2026-03-27T02:30", "Europe/Berlin", &["a"]);
    let ours = r.handovers(&no_holidays(), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 0)).expect("valid");
    assert_eq!(ours[0].0, utc(2026, 3, 29, 1, 0));
}

#[test]
fn a_repeated_handover_time_on_the_fall_back_day_is_the_earlier_instant() {
    let r = rotation("FREQ=DAILY", "2026-10-23T02:30", "Europe/Berlin", &["a", "b"]);
    let cov =
        coverage(&r, &[], &names(&["a", "b"]), &no_holidays(), utc(2026, 10, 24, 0, 30), utc(2026, 10, 26, 1, 30))
            .expect("coverage");
    assert_eq!(
        summary(&cov),
        vec![
            (utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), "b", false),
            // 02:30 CEST (the first 02:30) to 02:30 CET the next day: 25 hours.
            (utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30), "a", false),
        ]
    );
    assert_eq!((cov.shifts[1].end - cov.shifts[1].start).num_hours(), 25);
}

// --- Holidays ------------------------------------------------------------------------------

#[test]
fn a_holiday_monday_moves_the_weekly_handover_to_tuesday() {
    let mut r = weekly_berlin();
    r.skip_holidays = true;
    let easter_monday = holidays(&[day(2026, 4, 6)]);
    check_handovers(
        &r,
        &easter_monday,
        utc(2026, 4, 1, 0, 0),
        utc(2026, 4, 10, 0, 0),
        &[(utc(2026, 3, 30, 7, 0), "a"), (utc(2026, 4, 7, 7, 0), "b"), (utc(2026, 4, 13, 7, 0), "c")],
    );
    // Without skip_holidays the holiday changes nothing.
    r.skip_holidays = false;
    check_handovers(
        &r,
        &easter_monday,
        utc(2026, 4, 1, 0, 0),
        utc(2026, 4, 10, 0, 0),
        &[(utc(2026, 3, 30, 7, 0), "a"), (utc(2026, 4, 6, 7, 0), "b"), (utc(2026, 4, 13, 7, 0), "c")],
    );
}

#[test]
fn a_holiday_in_a_daily_rotation_keeps_the_person_on_call_and_nobody_loses_a_turn() {
    let mut r = rotation("FREQ=DAILY", "2026-04-27T09:00", "Europe/Berlin", &["a", "b", "c"]);
    r.skip_holidays = true;
    // Friday 2026-05-01: its hand-over would move to Monday, past Saturday's, so it does
    // not happen; a stays two days and the order goes on with b.
    check_handovers(
        &r,
        &holidays(&[day(2026, 5, 1)]),
        utc(2026, 4, 27, 7, 0),
        utc(2026, 5, 5, 0, 0),
        &[
            (utc(2026, 4, 27, 7, 0), "a"),
            (utc(2026, 4, 28, 7, 0), "b"),
            (utc(2026, 4, 29, 7, 0), "c"),
            (utc(2026, 4, 30, 7, 0), "a"),
            (utc(2026, 5, 2, 7, 0), "b"),
            (utc(2026, 5, 3, 7, 0), "c"),
            (utc(2026, 5, 4, 7, 0), "a"),
            (utc(2026, 5, 5, 7, 0), "b"),
        ],
    );
}

#[test]
fn christmas_eve_and_day_back_to_back() {
    let christmas = holidays(&[day(2026, 12, 24), day(2026, 12, 25)]);
    // Weekly on Thursday: Thursday 24th moves past Friday 25th and the weekend to Monday.
    let mut weekly = rotation("FREQ=WEEKLY;BYDAY=TH", "2026-12-03T09:00", "Europe/Berlin", &["a", "b"]);
    weekly.skip_holidays = true;
    check_handovers(
        &weekly,
        &christmas,
        utc(2026, 12, 20, 0, 0),
        utc(2027, 1, 5, 0, 0),
        &[
            (utc(2026, 12, 17, 8, 0), "a"),
            (utc(2026, 12, 28, 8, 0), "b"),
            (utc(2026, 12, 31, 8, 0), "a"),
            (utc(2027, 1, 7, 8, 0), "b"),
        ],
    );
    // Daily: whoever takes over on the 23rd stays until the 26th; then the order goes on.
    let mut daily = rotation("FREQ=DAILY", "2026-12-21T09:00", "Europe/Berlin", &["a", "b", "c"]);
    daily.skip_holidays = true;
    let cov =
        coverage(&daily, &[], &names(&["a", "b", "c"]), &christmas, utc(2026, 12, 23, 8, 0), utc(2026, 12, 28, 8, 0))
            .expect("coverage");
    assert_eq!(
        summary(&cov),
        vec![
            (utc(2026, 12, 23, 8, 0), utc(2026, 12, 26, 8, 0), "c", false),
            (utc(2026, 12, 26, 8, 0), utc(2026, 12, 27, 8, 0), "a", false),
            (utc(2026, 12, 27, 8, 0), utc(2026, 12, 28, 8, 0), "b", false),
        ]
    );
}

// --- Overrides, members, gaps ----------------------------------------------------------------

#[test]
fn an_override_splits_a_shift() {
    let r = weekly_berlin();
    let o = an_override("o1", utc(2026, 1, 7, 8, 0), utc(2026, 1, 8, 8, 0), "b", utc(2026, 1, 1, 0, 0));
    let cov =
        coverage(&r, &[o], &names(&["a", "b", "c"]), &no_holidays(), utc(2026, 1, 5, 8, 0), utc(2026, 1, 12, 8, 0))
            .expect("coverage");
    assert_eq!(
        summary(&cov),
        vec![
            (utc(2026, 1, 5, 8, 0), utc(2026, 1, 7, 8, 0), "a", false),
            (utc(2026, 1, 7, 8, 0), utc(2026, 1, 8, 8, 0), "b", true),
            (utc(2026, 1, 8, 8, 0), utc(2026, 1, 12, 8, 0), "a", false),
        ]
    );
    assert_eq!(
        cov.shifts[1].source,
        ShiftSource::Override { id: "o1".into(), reason: "reason o1".into(), by: "lead".into() }
    );
    assert_eq!(on_call_at(&cov, utc(2026, 1, 7, 12, 0)).map(|s| s.who.as_str()), Some("b"));
    assert_eq!(on_call_at(&cov, utc(2026, 1, 8, 8, 0)).map(|s| s.who.as_str()), Some("a"));
    assert_eq!(on_call_at(&cov, utc(2026, 1, 12, 8, 0)), None, "the coverage ends at `to`");
    assert_eq!(next_after(&cov, utc(2026, 1, 6, 0, 0)).map(|s| s.start), Some(utc(2026, 1, 7, 8, 0)));
    assert_eq!(
        next_after(&cov, utc(2026, 1, 7, 12, 0)).map(|s| (s.start, s.who.as_str())),
        Some((utc(2026, 1, 8, 8, 0), "a"))
    );
    assert_eq!(next_after(&cov, utc(2026, 1, 9, 0, 0)), None, "nobody else within the coverage");
}

#[test]
fn where_overrides_overlap_the_one_created_later_wins() {
    let r = weekly_berlin();
    let team = names(&["a", "b", "c"]);
    let (from, to) = (utc(2026, 1, 5, 8, 0), utc(2026, 1, 12, 8, 0));
    let early = an_override("o1", utc(2026, 1, 7, 8, 0), utc(2026, 1, 9, 8, 0), "b", utc(2026, 1, 1, 0, 0));
    let late = an_override("o2", utc(2026, 1, 8, 8, 0), utc(2026, 1, 10, 8, 0), "c", utc(2026, 1, 2, 0, 0));
    let expected_late_wins = vec![
        (utc(2026, 1, 5, 8, 0), utc(2026, 1, 7, 8, 0), "a", false),
        (utc(2026, 1, 7, 8, 0), utc(2026, 1, 8, 8, 0), "b", true),
        (utc(2026, 1, 8, 8, 0), utc(2026, 1, 10, 8, 0), "c", true),
        (utc(2026, 1, 10, 8, 0), utc(2026, 1, 12, 8, 0), "a", false),
    ];
    // The order in the slice does not matter, only `created_at`.
    for overrides in [vec![early.clone(), late.clone()], vec![late.clone(), early.clone()]] {
        let cov = coverage(&r, &overrides, &team, &no_holidays(), from, to).expect("coverage");
        assert_eq!(summary(&cov), expected_late_wins);
    }
    let (mut early, mut late) = (early, late);
    std::mem::swap(&mut early.created_at, &mut late.created_at);
    let cov = coverage(&r, &[early, late], &team, &no_holidays(), from, to).expect("coverage");
    assert_eq!(
        summary(&cov),
        vec![
            (utc(2026, 1, 5, 8, 0), utc(2026, 1, 7, 8, 0), "a", false),
            (utc(2026, 1, 7, 8, 0), utc(2026, 1, 9, 8, 0), "b", true),
            (utc(2026, 1, 9, 8, 0), utc(2026, 1, 10, 8, 0), "c", true),
            (utc(2026, 1, 10, 8, 0), utc(2026, 1, 12, 8, 0), "a", false),
        ]
    );
}

#[test]
fn a_removed_member_is_a_named_gap() {
    let r = weekly_berlin();
    let cov = coverage(&r, &[], &names(&["a", "c"]), &no_holidays(), utc(2026, 1, 5, 8, 0), utc(2026, 1, 26, 8, 0))
        .expect("coverage");
    assert_eq!(
        summary(&cov),
        vec![
            (utc(2026, 1, 5, 8, 0), utc(2026, 1, 12, 8, 0), "a", false),
            (utc(2026, 1, 19, 8, 0), utc(2026, 1, 26, 8, 0), "c", false),
        ]
    );
    assert_eq!(
        cov.gaps,
        vec![Gap {
            start: utc(2026, 1, 12, 8, 0),
            end: utc(2026, 1, 19, 8, 0),
            why: "b is no longer a member of the team".into()
        }]
    );
    assert_eq!(
        describe_gaps(&cov.gaps, Berlin),
        vec!["2026-01-12 09:00 – 2026-01-19 09:00 Europe/Berlin (7 d): b is no longer a member of the team"]
    );
    // An override by a current member fills part of the gap.
    let o = an_override("o1", utc(2026, 1, 12, 8, 0), utc(2026, 1, 15, 8, 0), "a", utc(2026, 1, 1, 0, 0));
    let cov = coverage(&r, &[o], &names(&["a", "c"]), &no_holidays(), utc(2026, 1, 5, 8, 0), utc(2026, 1, 26, 8, 0))
        .expect("coverage");
    assert_eq!(cov.gaps.len(), 1);
    assert_eq!((cov.gaps[0].start, cov.gaps[0].end), (utc(2026, 1, 15, 8, 0), utc(2026, 1, 19, 8, 0)));
    assert_eq!(next_after(&cov, utc(2026, 1, 16, 0, 0)).map(|s| s.who.as_str()), Some("c"));
}

#[test]
fn gaps_before_the_first_handover_and_without_members_say_why() {
    let r = weekly_berlin();
    let cov = coverage(&r, &[], &names(&["a", "b", "c"]), &no_holidays(), utc(2026, 1, 1, 0, 0), utc(2026, 1, 6, 0, 0))
        .expect("coverage");
    assert_eq!(
        describe_gaps(&cov.gaps, Berlin),
        vec!["2026-01-01 01:00 – 2026-01-05 09:00 Europe/Berlin (4 d 8 h): the rotation starts at 2026-01-05 09:00 Europe/Berlin"]
    );
    assert_eq!(summary(&cov), vec![(utc(2026, 1, 5, 8, 0), utc(2026, 1, 6, 0, 0), "a", false)]);

    let empty = rotation("FREQ=WEEKLY;BYDAY=MO", "2026-01-05T09:00", "Europe/Berlin", &[]);
    assert!(empty.validate().is_ok());
    let cov =
        coverage(&empty, &[], &[], &no_holidays(), utc(2026, 2, 1, 0, 0), utc(2026, 2, 8, 0, 0)).expect("coverage");
    assert!(cov.shifts.is_empty());
    assert_eq!(
        cov.gaps,
        vec![Gap {
            start: utc(2026, 2, 1, 0, 0),
            end: utc(2026, 2, 8, 0, 0),
            why: "the rotation has no members".into()
        }]
    );
}

#[test]
fn gaps_read_in_the_teams_zone() {
    let gaps = vec![
        Gap { start: utc(2026, 12, 24, 17, 0), end: utc(2026, 12, 25, 8, 0), why: "nobody took Christmas".into() },
        // 18:00 to 09:00 over the spring-forward night passes 14 hours.
        Gap { start: utc(2026, 3, 28, 17, 0), end: utc(2026, 3, 29, 7, 0), why: "x".into() },
        Gap { start: utc(2026, 3, 2, 14, 0), end: utc(2026, 3, 2, 15, 30), why: "y".into() },
    ];
    assert_eq!(
        describe_gaps(&gaps, Berlin),
        vec![
            "2026-12-24 18:00 – 2026-12-25 09:00 Europe/Berlin (15 h): nobody took Christmas",
            "2026-03-28 18:00 – 2026-03-29 09:00 Europe/Berlin (14 h): x",
            "2026-03-02 15:00 – 2026-03-02 16:30 Europe/Berlin (1 h 30 min): y",
        ]
    );
    assert_eq!(
        describe_gaps(&gaps[2..], New_York),
        vec!["2026-03-02 09:00 – 2026-03-02 10:30 America/New_York (1 h 30 min): y"]
    );
}

// --- Tonight -----------------------------------------------------------------------------------

#[test]
fn night_is_dst_correct_and_depends_on_the_morning() {
    let evening = NaiveTime::from_hms_opt(18, 0, 0).expect("valid");
    let morning = NaiveTime::from_hms_opt(9, 0, 0).expect("valid");
    let spring = (utc(2026, 3, 28, 17, 0), utc(2026, 3, 29, 7, 0));
    // Saturday 20:00 CET, and Sunday 08:00 CEST (before the morning): the same night, 14 h.
    assert_eq!(night(utc(2026, 3, 28, 19, 0), Berlin, evening, morning), spring);
    assert_eq!(night(utc(2026, 3, 29, 6, 0), Berlin, evening, morning), spring);
    assert_eq!(spring.1 - spring.0, Duration::hours(14));
    // Sunday 10:00 CEST (after the morning): the coming night, 15 h.
    assert_eq!(
        night(utc(2026, 3, 29, 8, 0), Berlin, evening, morning),
        (utc(2026, 3, 29, 16, 0), utc(2026, 3, 30, 7, 0))
    );
    // Saturday 2026-10-24 22:00 CEST: the fall-back night, 16 h.
    let fall = night(utc(2026, 10, 24, 20, 0), Berlin, evening, morning);
    assert_eq!(fall, (utc(2026, 10, 24, 16, 0), utc(2026, 10, 25, 8, 0)));
    assert_eq!(fall.1 - fall.0, Duration::hours(16));
    // New York, in the small hours of the spring-forward Sunday.
    assert_eq!(
        night(utc(2026, 3, 8, 8, 0), New_York, evening, morning),
        (utc(2026, 3, 7, 23, 0), utc(2026, 3, 8, 13, 0))
    );
    // Exactly at the morning, tonight is the coming one.
    assert_eq!(night(utc(2026, 1, 5, 8, 0), Berlin, evening, morning), (utc(2026, 1, 5, 17, 0), utc(2026, 1, 6, 8, 0)));
}

#[test]
fn night_wall_times_in_a_dst_gap_are_the_end_of_the_gap() {
    let evening = NaiveTime::from_hms_opt(23, 0, 0).expect("valid");
    let morning = NaiveTime::from_hms_opt(2, 30, 0).expect("valid");
    // Morning 02:30 does not exist on 2026-03-29 in Berlin: 03:00 CEST.
    assert_eq!(
        night(utc(2026, 3, 28, 23, 0), Berlin, evening, morning),
        (utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 1, 0))
    );
}

// --- iCalendar -----------------------------------------------------------------------------------

#[test]
fn ics_has_one_event_per_shift_and_parses_back() {
    use icalendar::Component;

    let r = weekly_berlin();
    let reason = "covering for a while because of the datacenter move; Alice, Bob & Carol agreed \\ ok";
    let mut o = an_override("o-42", utc(2026, 1, 7, 8, 0), utc(2026, 1, 8, 8, 0), "Zoë Müller", utc(2026, 1, 1, 0, 0));
    o.reason = reason.into();
    let team = names(&["a", "b", "c", "Zoë Müller"]);
    let cov =
        coverage(&r, &[o], &team, &no_holidays(), utc(2026, 1, 5, 8, 0), utc(2026, 1, 19, 8, 0)).expect("coverage");
    assert_eq!(cov.shifts.len(), 4);
    let text = ics(&cov.shifts, "Platform, EU", utc(2026, 1, 2, 10, 0));

    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "line of {} octets: {line:?}", line.len());
    }
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(text.contains("\r\nX-WR-CALNAME:Platform\\, EU on-call\r\n"));
    assert!(text.contains("\r\nUID:oncall-20260105T080000Z-a@hsof-control-center\r\n"));
    assert!(text.contains("\r\nUID:oncall-20260107T080000Z-zoë-müller@hsof-control-center\r\n"));
    assert!(text.contains("\r\nDTSTART:20260107T080000Z\r\nDTEND:20260108T080000Z\r\n"));
    assert_eq!(text.matches("\r\nDTSTAMP:20260102T100000Z\r\n").count(), 4);
    let summary_line =
        text.split("\r\n").find(|l| l.starts_with("SUMMARY:On call: Zoë")).expect("the override's summary");
    assert_eq!(summary_line.len(), 75, "the long summary is folded");

    let parsed: icalendar::Calendar = text.parse().expect("a valid iCalendar file");
    let events: Vec<&icalendar::Event> = parsed.components.iter().filter_map(|c| c.as_event()).collect();
    assert_eq!(events.len(), 4);
    let summaries: Vec<&str> = events.iter().filter_map(|e| e.get_summary()).collect();
    assert_eq!(summaries[0], "On call: a");
    // Escaped on the way out, unescaped by the parser: the text comes back as written.
    assert_eq!(summaries[1], format!("On call: Zoë Müller (override: {reason})"));
    assert_eq!(events[1].get_start(), Some(icalendar::DatePerhapsTime::DateTime(utc(2026, 1, 7, 8, 0).into())));
    assert_eq!(events[1].get_end(), Some(icalendar::DatePerhapsTime::DateTime(utc(2026, 1, 8, 8, 0).into())));
    assert_eq!(events[1].get_description(), Some("Override o-42 by lead."));

    // The crate's lower-level parser reads the same file property by property.
    let unfolded = icalendar::parser::unfold(&text);
    let raw = icalendar::parser::read_calendar(&unfolded).expect("parses");
    assert_eq!(raw.components.iter().filter(|c| c.name == "VEVENT").count(), 4);
    let calname = raw.properties.iter().find(|p| p.name == "X-WR-CALNAME").map(|p| p.val.to_string());
    assert_eq!(calname.as_deref(), Some("Platform, EU on-call"));
}

// --- Validation ------------------------------------------------------------------------------------

fn error(r: &Rotation) -> String {
    r.validate().expect_err("invalid").to_string()
}

#[test]
fn validate_names_the_field_and_says_what_is_wrong() {
    assert!(weekly_berlin().validate().is_ok());
    let mut r = weekly_berlin();
    r.rrule = "FREQ=FORTNIGHTLY;BYDAY=MO".into();
    assert!(error(&r).starts_with("rotation.rrule: `FREQ=FORTNIGHTLY;BYDAY=MO`"), "{}", error(&r));
    r.rrule = "FREQ=HOURLY;INTERVAL=12".into();
    assert!(error(&r).starts_with("rotation.rrule:") && error(&r).contains("too frequent"), "{}", error(&r));
    r.rrule = "FREQ=WEEKLY;BYDAY=MO;COUNT=10".into();
    assert!(error(&r).contains("without end"), "{}", error(&r));
    r.rrule = "DTSTART:20260105T090000\nRRULE:FREQ=WEEKLY".into();
    assert!(error(&r).starts_with("rotation.rrule: give the RRULE body only"), "{}", error(&r));
    r.rrule = "RRULE:FREQ=WEEKLY;BYDAY=MO".into();
    assert!(r.validate().is_ok(), "an RRULE: prefix is accepted");

    let mut r = weekly_berlin();
    r.start = "2026-01-06T09:00".into();
    assert_eq!(
        error(&r),
        "rotation.start: 2026-01-06T09:00 (Tue) is not an occurrence of `FREQ=WEEKLY;BYDAY=MO`; the first one from \
         then is 2026-01-12T09:00 (Mon): start on a date and time the rule yields"
    );
    r.start = "next Monday".into();
    assert!(error(&r).starts_with("rotation.start: `next Monday` is not a local date and time"), "{}", error(&r));

    let mut r = weekly_berlin();
    r.timezone = "Europe/Berln".into();
    assert_eq!(error(&r), "rotation.timezone: `Europe/Berln` is not an IANA time zone name such as Europe/Berlin");

    let mut r = weekly_berlin();
    r.members[1] = " ".into();
    assert_eq!(error(&r), "rotation.members[1]: the name is empty");

    // coverage and handovers refuse an invalid rotation with the same message.
    let mut r = weekly_berlin();
    r.timezone = "Mars/Olympus".into();
    let e = coverage(&r, &[], &[], &no_holidays(), utc(2026, 1, 1, 0, 0), utc(2026, 1, 2, 0, 0)).expect_err("invalid");
    assert!(e.to_string().starts_with("rotation.timezone:"));
    assert!(r.handovers(&no_holidays(), utc(2026, 1, 1, 0, 0), utc(2026, 1, 2, 0, 0)).is_err());
}

#[test]
fn override_validation() {
    let created = utc(2026, 1, 1, 0, 0);
    let ok = an_override("o1", utc(2026, 1, 7, 8, 0), utc(2026, 1, 8, 8, 0), "b", created);
    assert!(ok.validate().is_ok());
    let backwards = an_override("o2", utc(2026, 1, 8, 8, 0), utc(2026, 1, 7, 8, 0), "b", created);
    let e = backwards.validate().expect_err("ends before it starts").to_string();
    assert_eq!(e, "override.end: 2026-01-07 08:00:00 UTC is not after override.start 2026-01-08 08:00:00 UTC");
    let long = an_override("o3", utc(2026, 1, 1, 0, 0), utc(2026, 4, 2, 0, 0), "b", created);
    assert!(long.validate().expect_err("too long").to_string().contains("at most 90 days"));
    let nobody = an_override("o4", utc(2026, 1, 7, 8, 0), utc(2026, 1, 8, 8, 0), "", created);
    assert_eq!(nobody.validate().expect_err("nobody").to_string(), "override.who: nobody is named");
    // coverage says which override is wrong.
    let e = coverage(&weekly_berlin(), &[ok, backwards], &[], &no_holidays(), created, utc(2026, 2, 1, 0, 0))
        .expect_err("invalid override");
    assert!(e.to_string().ends_with("(override `o2`)"), "{e}");
}

#[test]
fn to_before_from_is_an_error_and_an_empty_period_is_empty() {
    let r = weekly_berlin();
    let e =
        coverage(&r, &[], &[], &no_holidays(), utc(2026, 2, 1, 0, 0), utc(2026, 1, 1, 0, 0)).expect_err("backwards");
    assert!(e.to_string().starts_with("coverage: `to`"), "{e}");
    let cov = coverage(&r, &[], &[], &no_holidays(), utc(2026, 2, 1, 0, 0), utc(2026, 2, 1, 0, 0)).expect("empty");
    assert!(cov.shifts.is_empty() && cov.gaps.is_empty());
}

#[test]
fn serde_shapes() {
    let source = ShiftSource::Override { id: "o1".into(), reason: "r".into(), by: "lead".into() };
    assert_eq!(
        serde_json::to_value(&source).expect("json"),
        serde_json::json!({"kind": "override", "id": "o1", "reason": "r", "by": "lead"})
    );
    assert_eq!(serde_json::to_value(ShiftSource::Rotation).expect("json"), serde_json::json!({"kind": "rotation"}));
    let r = weekly_berlin();
    let back: Rotation = serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("json");
    assert_eq!(back, r);
}

// --- Properties ------------------------------------------------------------------------------------

/// Who the coverage should show at `t`: the latest-created override covering it, else the
/// rotation's person since the last hand-over; `None` for a gap.
fn expected_at(
    r: &Rotation,
    overrides: &[Override],
    team: &[String],
    t: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<String> {
    let winner = overrides
        .iter()
        .enumerate()
        .filter(|(_, o)| o.start <= t && t < o.end)
        .max_by_key(|(i, o)| (o.created_at, *i))
        .map(|(_, o)| o.who.clone());
    let who = winner.or_else(|| {
        let hs = r.handovers(&no_holidays(), from, to).expect("valid");
        hs.iter().rev().find(|(at, _)| *at <= t).map(|(_, who)| who.clone())
    })?;
    team.contains(&who).then_some(who)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn shifts_and_gaps_partition_the_period(
        from_h in 0i64..24 * 28,
        len_h in 1i64..24 * 21,
        start_week in 0u32..3,
        raw in prop::collection::vec((0i64..24 * 49, 1i64..24 * 10, 0usize..4, 0i64..1000), 0..7),
        team_size in 0usize..4,
    ) {
        let start = ["2026-01-05T09:00", "2026-01-12T09:00", "2026-01-19T09:00"][start_week as usize];
        let r = rotation("FREQ=WEEKLY;BYDAY=MO", start, "Europe/Berlin", &["a", "b", "c"]);
        let people = ["a", "b", "c", "x"];
        let base = utc(2026, 1, 1, 0, 0);
        let overrides: Vec<Override> = raw
            .iter()
            .enumerate()
            .map(|(i, (s, l, who, created))| {
                an_override(
                    &format!("o{i}"),
                    base + Duration::hours(*s),
                    base + Duration::hours(s + l),
                    people[*who],
                    base + Duration::minutes(*created),
                )
            })
            .collect();
        let team = names(&people[..team_size]);
        let from = base + Duration::hours(from_h);
        let to = from + Duration::hours(len_h);
        let cov = coverage(&r, &overrides, &team, &no_holidays(), from, to).expect("coverage");

        // Shifts and gaps, in time order, cover [from, to) exactly.
        let mut pieces: Vec<(DateTime<Utc>, DateTime<Utc>, Option<String>)> = cov
            .shifts
            .iter()
            .map(|s| (s.start, s.end, Some(s.who.clone())))
            .chain(cov.gaps.iter().map(|g| (g.start, g.end, None)))
            .collect();
        pieces.sort_by_key(|p| p.0);
        prop_assert_eq!(pieces.first().map(|p| p.0), Some(from));
        prop_assert_eq!(pieces.last().map(|p| p.1), Some(to));
        for p in &pieces {
            prop_assert!(p.0 < p.1, "empty piece {:?}", p);
        }
        for w in pieces.windows(2) {
            prop_assert_eq!(w[0].1, w[1].0);
        }
        for w in cov.shifts.windows(2) {
            prop_assert!(w[0].end <= w[1].start);
            prop_assert!(!(w[0].end == w[1].start && w[0].who == w[1].who && w[0].source == w[1].source), "unmerged");
        }
        for w in cov.gaps.windows(2) {
            prop_assert!(w[0].end <= w[1].start);
        }
        // At every piece's start and middle, the right person (or nobody).
        for p in &pieces {
            for t in [p.0, p.0 + (p.1 - p.0) / 2] {
                let got = on_call_at(&cov, t).map(|s| s.who.clone());
                prop_assert_eq!(&got, &p.2);
                prop_assert_eq!(got, expected_at(&r, &overrides, &team, t, from, to), "at {}", t);
            }
        }
    }
}
