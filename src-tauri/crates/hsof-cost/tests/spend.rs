//! Known answers for cost per dataset and the month projection, built by construction.

use chrono::{DateTime, Datelike, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use hsof_cost::spend::{cost_per_dataset, project_month, CostGrain};
use hsof_cost::CostStatus;

const H: i64 = 3600;

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("valid date")
}

/// Hourly points whose hour ends run from `first_end` to `last_end` inclusive.
fn series(first_end: DateTime<Utc>, last_end: DateTime<Utc>, f: impl Fn(i64) -> f64) -> Vec<(f64, f64)> {
    (first_end.timestamp()..=last_end.timestamp()).step_by(H as usize).map(|t| (t as f64, f(t))).collect()
}

#[test]
fn ten_berlin_days_at_half_a_unit_per_dataset() {
    // Local 2026-12-01 00:00 is 2026-11-30 23:00 UTC; the first hour ends an hour later.
    let (first, last) = (at(2026, 12, 1, 0), at(2026, 12, 10, 23));
    let cost = series(first, last, |_| 2.0);
    // Datasets arrive a few seconds off the hour and still join.
    let sets: Vec<(f64, f64)> = series(first, last, |_| 4.0).into_iter().map(|(t, v)| (t + 7.0, v)).collect();
    let days = cost_per_dataset(&cost, &sets, CostGrain::Day, Berlin, last);
    assert_eq!(days.len(), 10);
    for d in &days {
        assert_eq!(d.per_dataset, Some(0.5), "{}", d.label);
        assert_eq!(d.coverage, 1.0);
        assert_eq!(d.cost, Some(48.0));
        assert_eq!(d.datasets, Some(96.0));
        assert_eq!(d.note, None, "{}", d.label);
    }
    assert_eq!(days[0].label, "2026-12-01");
    assert_eq!(days[0].start, at(2026, 11, 30, 23));
    assert_eq!(days[9].label, "2026-12-10");
}

#[test]
fn missing_hours_lower_coverage_and_say_so() {
    let (first, last) = (at(2026, 12, 1, 0), at(2026, 12, 10, 23));
    let gap = (at(2026, 12, 4, 8).timestamp(), at(2026, 12, 4, 13).timestamp());
    let cost = series(first, last, |t| if t >= gap.0 && t <= gap.1 { f64::NAN } else { 2.0 });
    let sets = series(first, last, |_| 4.0);
    let days = cost_per_dataset(&cost, &sets, CostGrain::Day, Berlin, last);
    let d = days.iter().find(|d| d.label == "2026-12-04").expect("the 4th");
    assert_eq!(d.coverage, 18.0 / 24.0);
    assert_eq!(d.note.as_deref(), Some("18 of 24 hours have data"));
    assert_eq!(d.cost, Some(36.0));
    assert_eq!(d.per_dataset, Some(0.5));
}

#[test]
fn no_datasets_and_no_data() {
    let (first, last) = (at(2026, 12, 1, 0), at(2026, 12, 2, 23));
    let cost = series(first, last, |_| 2.0);
    let sets = series(first, last, |t| if t <= at(2026, 12, 1, 23).timestamp() { 0.0 } else { f64::NAN });
    let days = cost_per_dataset(&cost, &sets, CostGrain::Day, Berlin, last);
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].per_dataset, None);
    assert_eq!(days[0].note.as_deref(), Some("no datasets processed"));
    assert_eq!(days[1].per_dataset, None);
    assert_eq!(days[1].coverage, 0.0);
    assert_eq!(days[1].cost, Some(48.0));
    assert!(days[1].note.as_deref().is_some_and(|n| n.starts_with("no data")));
    assert!(cost_per_dataset(&[], &[], CostGrain::Day, Berlin, last).is_empty());
}

#[test]
fn clock_change_days_have_23_and_25_hours() {
    // 2027-03-28 (spring forward) and 2027-10-31 (fall back) in Berlin.
    for (day, hours, label) in [((3, 27), 23.0, "2027-03-28"), ((10, 30), 25.0, "2027-10-31")] {
        let first = at(2027, day.0, day.1, 0);
        let last = first + chrono::Duration::days(3);
        let cost = series(first, last, |_| 2.0);
        let sets = series(first, last, |_| 1.0);
        let days = cost_per_dataset(&cost, &sets, CostGrain::Day, Berlin, last);
        let d = days.iter().find(|d| d.label == label).expect("the clock-change day");
        assert_eq!(d.cost, Some(2.0 * hours), "{label}");
        assert_eq!(d.coverage, 1.0, "{label}");
        assert_eq!((d.end - d.start).num_hours() as f64, hours);
    }
}

#[test]
fn weeks_months_and_the_current_period_to_date() {
    // Mon 2026-11-30 local to Wed 2026-12-09 13:00 local (12:00 UTC).
    let (first, now) = (at(2026, 11, 30, 0), at(2026, 12, 9, 12));
    let cost = series(first, now, |_| 1.0);
    let sets = series(first, now, |_| 2.0);
    let weeks = cost_per_dataset(&cost, &sets, CostGrain::Week, Berlin, now);
    let labels: Vec<&str> = weeks.iter().map(|w| w.label.as_str()).collect();
    assert_eq!(labels, vec!["2026-W49", "2026-W50"]);
    assert_eq!(weeks[0].cost, Some(168.0));
    assert_eq!(weeks[0].note, None);
    assert_eq!(weeks[1].cost, Some(2.0 * 24.0 + 13.0));
    assert_eq!(weeks[1].coverage, 1.0);
    assert_eq!(weeks[1].note.as_deref(), Some("to date"));
    let months = cost_per_dataset(&cost, &sets, CostGrain::Month, Berlin, now);
    let labels: Vec<&str> = months.iter().map(|m| m.label.as_str()).collect();
    assert_eq!(labels, vec!["2026-11", "2026-12"]);
    // November: only its last day has data.
    assert_eq!(months[0].note.as_deref(), Some("24 of 720 hours have data"));
    assert_eq!(months[1].per_dataset, Some(0.5));
}

/// 24 an hour on local weekdays, 0 at weekends.
fn weekday_cost(t: i64) -> f64 {
    let start = Utc.timestamp_opt(t - H, 0).single().expect("ts").with_timezone(&Berlin);
    match start.weekday() {
        Weekday::Sat | Weekday::Sun => 0.0,
        _ => 24.0,
    }
}

#[test]
fn projection_follows_the_weekday_pattern_exactly() {
    // Wednesday 2026-12-09 13:00 local. December 2026 has 23 weekdays.
    let now = at(2026, 12, 9, 12);
    let cost = series(at(2026, 11, 1, 0), now, weekday_cost);
    let p = project_month(&cost, Berlin, now, Some(20_000.0), "EUR", 0.9);
    assert_eq!(p.month, "2026-12");
    assert!((p.month_to_date - (6.0 * 576.0 + 13.0 * 24.0)).abs() < 1e-9);
    assert!((p.projected - 23.0 * 576.0).abs() < 1e-9, "{}", p.projected);
    assert_eq!(p.days_left, 22);
    assert_eq!(p.status, CostStatus::Ok);
    assert!(p.method.contains("mean of its weekday over the last 4 weeks"), "{}", p.method);
    assert!(p.method.contains("28 of 28 days"), "{}", p.method);
    assert_eq!(p.note, None);
    let warn = project_month(&cost, Berlin, now, Some(14_000.0), "EUR", 0.9);
    assert_eq!(warn.status, CostStatus::Warning);
    assert!((warn.share_of_budget.expect("share") - 13_248.0 / 14_000.0).abs() < 1e-12);
    assert_eq!(project_month(&cost, Berlin, now, Some(13_000.0), "EUR", 0.9).status, CostStatus::Critical);
}

#[test]
fn a_weekday_without_history_takes_the_mean_of_all_days() {
    let now = at(2026, 12, 9, 12);
    let no_mondays = |t: i64| {
        let start = Utc.timestamp_opt(t - H, 0).single().expect("ts").with_timezone(&Berlin);
        if start.weekday() == Weekday::Mon {
            f64::NAN
        } else {
            24.0
        }
    };
    let cost = series(at(2026, 11, 1, 0), now, no_mondays);
    let p = project_month(&cost, Berlin, now, Some(1e6), "EUR", 0.9);
    assert!(p.method.contains("Mondays had no such day"), "{}", p.method);
    // Every day's mean is 576, Mondays included by the fallback.
    assert!((p.projected - (p.month_to_date + (11.0 / 24.0 + 22.0) * 576.0)).abs() < 1e-9);
    assert!(p.note.as_deref().is_some_and(|n| n.contains("181 of 205 hours")), "{:?}", p.note);
}

#[test]
fn without_full_days_the_hourly_rate_is_extrapolated() {
    // Data only since local midnight of 1 December; now is local 10:00.
    let now = at(2026, 12, 1, 9);
    let cost = series(at(2026, 12, 1, 0), now, |_| 2.0);
    let p = project_month(&cost, Berlin, now, Some(10_000.0), "EUR", 0.9);
    assert_eq!(p.month_to_date, 20.0);
    assert!((p.projected - 744.0 * 2.0).abs() < 1e-9);
    assert!(p.method.contains("734 hours left"), "{}", p.method);
    assert_eq!(p.days_left, 30);
}

#[test]
fn budget_missing_or_zero_is_unknown() {
    let now = at(2026, 12, 9, 12);
    let cost = series(at(2026, 11, 1, 0), now, weekday_cost);
    let none = project_month(&cost, Berlin, now, None, "EUR", 0.9);
    assert_eq!(none.status, CostStatus::Unknown);
    assert_eq!(none.note.as_deref(), Some("no budget configured: set [cost] monthly_budget"));
    assert_eq!(none.share_of_budget, None);
    let zero = project_month(&cost, Berlin, now, Some(0.0), "EUR", 0.9);
    assert_eq!(zero.status, CostStatus::Unknown);
    assert!(zero.note.as_deref().is_some_and(|n| n.starts_with("budget is 0: ")));
    let empty = project_month(&[], Berlin, now, Some(100.0), "EUR", 0.9);
    assert_eq!((empty.status, empty.projected), (CostStatus::Unknown, 0.0));
}
