//! Occurrences: every rule over 2026 against expected dates, both Berlin DST changes,
//! keys, and the sorted-and-inside-the-range invariant.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use chrono_tz::Tz;
use hsof_ops::calendar::{load_catalog, occurrence_by_key, occurrences, parse_catalog, Catalog, Occurrence};
use proptest::prelude::*;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("valid time")
}

fn builtin() -> Catalog {
    load_catalog(None).expect("valid")
}

fn of(all: &[Occurrence], id: &str) -> Vec<Occurrence> {
    all.iter().filter(|o| o.procedure_id == id).cloned().collect()
}

fn local_dates(all: &[Occurrence], tz: Tz) -> Vec<NaiveDate> {
    all.iter().map(|o| o.start.with_timezone(&tz).date_naive()).collect()
}

fn dates(list: &[(i32, u32, u32)]) -> Vec<NaiveDate> {
    list.iter().map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).expect("valid date")).collect()
}

fn year_2026(catalog: &Catalog) -> Vec<Occurrence> {
    occurrences(catalog, Berlin, utc(2025, 12, 31, 23, 0), utc(2026, 12, 31, 23, 0))
}

#[test]
fn the_morning_check_stays_at_nine_local_across_both_dst_changes() {
    let all = occurrences(&builtin(), Berlin, utc(2026, 3, 27, 0, 0), utc(2026, 3, 31, 0, 0));
    let morning: Vec<DateTime<Utc>> = of(&all, "morning-health-check").iter().map(|o| o.start).collect();
    // CET (+01:00) until 29 March 02:00, then CEST (+02:00).
    assert_eq!(
        morning,
        [utc(2026, 3, 27, 8, 0), utc(2026, 3, 28, 8, 0), utc(2026, 3, 29, 7, 0), utc(2026, 3, 30, 7, 0)]
    );

    let all = occurrences(&builtin(), Berlin, utc(2026, 10, 23, 0, 0), utc(2026, 10, 27, 0, 0));
    let morning: Vec<DateTime<Utc>> = of(&all, "morning-health-check").iter().map(|o| o.start).collect();
    assert_eq!(
        morning,
        [utc(2026, 10, 23, 7, 0), utc(2026, 10, 24, 7, 0), utc(2026, 10, 25, 8, 0), utc(2026, 10, 26, 8, 0)]
    );

    let year = of(&year_2026(&builtin()), "morning-health-check");
    assert_eq!(year.len(), 365 - 4, "daily from 5 January");
    assert!(year.iter().all(|o| o.start.with_timezone(&Berlin).format("%H:%M").to_string() == "09:00"));
    assert!(year.iter().all(|o| o.end - o.start == chrono::Duration::minutes(30)));
}

#[test]
fn monthly_mondays_fall_on_the_right_monday_of_every_month_in_2026() {
    let all = year_2026(&builtin());
    let first = [(1, 5), (2, 2), (3, 2), (4, 6), (5, 4), (6, 1), (7, 6), (8, 3), (9, 7), (10, 5), (11, 2), (12, 7)];
    let expected = |week: u32| dates(&first.map(|(m, d)| (2026, m, d + 7 * (week - 1))));
    assert_eq!(local_dates(&of(&all, "monthly-system-review"), Berlin), expected(1));
    assert_eq!(local_dates(&of(&all, "monthly-dr-test"), Berlin), expected(2));
    assert_eq!(local_dates(&of(&all, "monthly-security-assessment"), Berlin), expected(3));
    assert_eq!(local_dates(&of(&all, "monthly-technology-updates"), Berlin), expected(4));
    let first_fridays = dates(&[
        (2026, 1, 2),
        (2026, 2, 6),
        (2026, 3, 6),
        (2026, 4, 3),
        (2026, 5, 1),
        (2026, 6, 5),
        (2026, 7, 3),
        (2026, 8, 7),
        (2026, 9, 4),
        (2026, 10, 2),
        (2026, 11, 6),
        (2026, 12, 4),
    ]);
    assert_eq!(local_dates(&of(&all, "monthly-review"), Berlin), first_fridays);
    assert!(of(&all, "monthly-system-review").iter().all(|o| o.start.with_timezone(&Berlin).weekday() == Weekday::Mon));
}

#[test]
fn quarterly_reviews_fall_on_the_first_monday_of_january_april_july_and_october() {
    let all = year_2026(&builtin());
    let quarters = dates(&[(2026, 1, 5), (2026, 4, 6), (2026, 7, 6), (2026, 10, 5)]);
    assert_eq!(local_dates(&of(&all, "quarterly-strategic-review"), Berlin), quarters);
    let reviews: Vec<NaiveDate> = [
        "quarterly-performance-review",
        "quarterly-technology-roadmap",
        "quarterly-security-audit",
        "quarterly-annual-planning",
    ]
    .iter()
    .map(|id| {
        let list = of(&all, id);
        assert_eq!(list.len(), 1, "{id} is held once a year");
        list[0].start.with_timezone(&Berlin).date_naive()
    })
    .collect();
    assert_eq!(reviews, quarters);

    // The every-third-month form of the same rule yields the same dates.
    let catalog = parse_catalog(
        "q.toml",
        "[[procedures]]\nid = \"q\"\ntitle = \"Q\"\ncadence = \"quarterly\"\nrrule = \"FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO\"\n\
         start = \"2026-01-05T13:00\"\nduration_minutes = 60\n[[procedures.steps]]\nid = \"a\"\ntext = \"A\"\n",
    )
    .expect("valid");
    assert_eq!(local_dates(&year_2026(&catalog), Berlin), quarters);
}

#[test]
fn weekly_and_working_day_rules_hit_their_weekdays() {
    let all = year_2026(&builtin());
    for (id, weekday, count) in [
        ("weekly-capacity-planning", Weekday::Mon, 52),
        ("weekly-team-meeting", Weekday::Mon, 52),
        ("weekly-security-review", Weekday::Wed, 52),
        ("weekly-maintenance", Weekday::Fri, 51),
    ] {
        let list = of(&all, id);
        assert_eq!(list.len(), count, "{id}");
        assert!(list.iter().all(|o| o.start.with_timezone(&Berlin).weekday() == weekday), "{id}");
    }
    let standup = of(&all, "daily-standup");
    assert_eq!(standup.len(), 51 * 5 + 4, "working days from 5 January to 31 December");
    assert!(standup.iter().all(|o| !matches!(o.start.with_timezone(&Berlin).weekday(), Weekday::Sat | Weekday::Sun)));
    let meeting = &of(&all, "weekly-team-meeting")[0];
    assert_eq!(meeting.start, utc(2026, 1, 5, 13, 0), "14:00 CET");
}

#[test]
fn occurrences_are_sorted_by_start_then_id_and_keys_name_the_local_start() {
    let all = occurrences(&builtin(), Berlin, utc(2026, 1, 5, 0, 0), utc(2026, 1, 6, 0, 0));
    let ids: Vec<&str> = all.iter().map(|o| o.procedure_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "morning-health-check",
            "daily-smoke-tests",
            "daily-standup",
            "monthly-system-review",
            "weekly-capacity-planning",
            "quarterly-performance-review",
            "weekly-team-meeting",
            "quarterly-strategic-review",
            "evening-status-review",
        ]
    );
    assert_eq!(all[0].key, "morning-health-check@2026-01-05T09:00");
    assert_eq!(all[0].title, "Morning Health Check");
}

#[test]
fn a_key_finds_its_occurrence_only_when_the_rule_yields_it() {
    let catalog = builtin();
    let o = occurrence_by_key(&catalog, Berlin, "morning-health-check@2026-11-30T09:00").expect("an occurrence");
    assert_eq!((o.start, o.end), (utc(2026, 11, 30, 8, 0), utc(2026, 11, 30, 8, 30)));
    let summer =
        occurrence_by_key(&catalog, Berlin, "monthly-dr-test@2026-06-08T10:00").expect("second Monday of June");
    assert_eq!(summer.start, utc(2026, 6, 8, 8, 0));
    for key in [
        "morning-health-check@2026-11-30T09:30",
        "monthly-dr-test@2026-06-01T10:00",
        "morning-health-check@2025-12-30T09:00",
        "no-such-procedure@2026-11-30T09:00",
        "morning-health-check",
        "morning-health-check@yesterday",
    ] {
        assert_eq!(occurrence_by_key(&catalog, Berlin, key), None, "{key}");
    }
    let tokyo =
        occurrence_by_key(&catalog, chrono_tz::Asia::Tokyo, "morning-health-check@2026-11-30T09:00").expect("found");
    assert_eq!(tokyo.start, utc(2026, 11, 30, 0, 0));
}

#[test]
fn a_time_in_the_dst_gap_still_yields_one_occurrence_that_day() {
    let catalog = parse_catalog(
        "gap.toml",
        "[[procedures]]\nid = \"night\"\ntitle = \"Night\"\ncadence = \"daily\"\nrrule = \"FREQ=DAILY\"\n\
         start = \"2026-03-01T02:30\"\nduration_minutes = 10\n[[procedures.steps]]\nid = \"a\"\ntext = \"A\"\n",
    )
    .expect("valid");
    let all = occurrences(&catalog, Berlin, utc(2026, 3, 28, 0, 0), utc(2026, 3, 31, 0, 0));
    assert_eq!(local_dates(&all, Berlin), dates(&[(2026, 3, 28), (2026, 3, 29), (2026, 3, 30)]));
    assert_eq!(all[0].start, utc(2026, 3, 28, 1, 30));
    assert_eq!(all[2].start, utc(2026, 3, 30, 0, 30));
}

#[test]
fn an_empty_or_inverted_range_has_no_occurrences() {
    assert!(occurrences(&builtin(), Berlin, utc(2026, 5, 1, 0, 0), utc(2026, 5, 1, 0, 0)).is_empty());
    assert!(occurrences(&builtin(), Berlin, utc(2026, 5, 2, 0, 0), utc(2026, 5, 1, 0, 0)).is_empty());
    assert!(
        occurrences(&builtin(), Berlin, utc(2025, 1, 1, 0, 0), utc(2026, 1, 2, 0, 0)).is_empty(),
        "nothing before the first start"
    );
    let first = occurrences(&builtin(), Berlin, utc(2025, 1, 1, 0, 0), utc(2026, 1, 5, 0, 0));
    assert_eq!(first.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["monthly-review@2026-01-02T14:00"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn occurrences_are_sorted_and_inside_the_range(
        from_minutes in 0i64..(3 * 365 * 24 * 60),
        span_minutes in 0i64..(40 * 24 * 60),
        zone in prop::sample::select(vec![Berlin, chrono_tz::America::New_York, chrono_tz::Asia::Kolkata, chrono_tz::UTC]),
    ) {
        let from = utc(2025, 12, 1, 0, 0) + chrono::Duration::minutes(from_minutes);
        let to = from + chrono::Duration::minutes(span_minutes);
        let all = occurrences(&builtin(), zone, from, to);
        for o in &all {
            prop_assert!(o.start >= from && o.start < to, "{} outside [{from}, {to})", o.key);
            prop_assert!(o.end > o.start);
        }
        for pair in all.windows(2) {
            prop_assert!((pair[0].start, &pair[0].procedure_id) < (pair[1].start, &pair[1].procedure_id));
        }
        if let Some(o) = all.first() {
            let found = occurrence_by_key(&builtin(), zone, &o.key);
            prop_assert_eq!(found.as_ref(), Some(o));
        }
    }
}
