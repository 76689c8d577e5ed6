//! Known answers for the weekly totals, the growth forecast and the daily pattern.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use hsof_cost::forecast::{forecast, pattern, weekly_totals, WeekTotal};

const WEEK: i64 = 7 * 86_400;

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("valid date")
}

/// xorshift64*, uniform in [-1, 1).
struct Rng(u64);
impl Rng {
    fn symmetric(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let u = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
        u * 2.0 - 1.0
    }
}

/// Weeks with the given values, 8 GPUs and full coverage, starting Monday 2026-01-05 (UTC).
fn weeks(values: &[f64]) -> Vec<WeekTotal> {
    let base = at(2026, 1, 5, 0).timestamp();
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| WeekTotal {
            week: format!("w{i}"),
            start: Utc.timestamp_opt(base + i as i64 * WEEK, 0).single().expect("ts"),
            value,
            coverage: 1.0,
            gpus: Some(8.0),
        })
        .collect()
}

#[test]
fn weekly_totals_keep_complete_local_weeks_only() {
    // From Monday 2027-03-15 local 00:00 to Wednesday 2027-04-07; the week of 22 March has
    // the spring clock change (167 hours).
    let first_end = at(2027, 3, 14, 23) + chrono::Duration::hours(1);
    let now = at(2027, 4, 7, 10);
    let n = (now - first_end).num_hours();
    let hourly: Vec<(f64, f64)> = (0..=n).map(|i| ((first_end.timestamp() + i * 3600) as f64, 1.0)).collect();
    let gpus: Vec<(f64, f64)> = hourly.iter().map(|&(t, _)| (t, 4.0)).collect();
    let w = weekly_totals(&hourly, &gpus, Berlin, now);
    let labels: Vec<&str> = w.iter().map(|w| w.week.as_str()).collect();
    assert_eq!(labels, vec!["2027-W11", "2027-W12", "2027-W13"]);
    assert_eq!(w[0].value, 168.0);
    assert_eq!(w[1].value, 167.0);
    assert_eq!(w[1].coverage, 1.0);
    assert_eq!(w[2].gpus, Some(4.0));
    assert_eq!(w[0].start, at(2027, 3, 14, 23));
}

#[test]
fn a_planted_slope_is_recovered() {
    let mut rng = Rng(0x2545_F491);
    let values: Vec<f64> = (0..16).map(|w| 100.0 + 10.0 * w as f64 + rng.symmetric()).collect();
    let f = forecast(weeks(&values), Some(8.0), 12);
    let slope = f.slope_per_week.expect("a trend");
    assert!((slope - 10.0).abs() < 0.1, "slope {slope}");
    assert!((f.intercept.expect("intercept") - 100.0).abs() < 1.0);
    assert!(f.residual_sd.expect("sd") < 1.0);
    assert_eq!(f.projection.len(), 12);
    assert!(f.method.contains("≈95 %, ±2 standard errors"), "{}", f.method);
    // Capacity is the last (highest) week; the trend passes it the next week.
    assert_eq!(f.capacity_week.as_deref(), Some("w15"));
    let next = f.weeks[15].start + chrono::Duration::seconds(WEEK);
    assert_eq!(f.reaches_capacity, Some(next));
}

#[test]
fn capacity_crossing_dates_come_from_the_trend_and_its_band() {
    // Week 0: a busy but partly recorded week (not in the fit) sets capacity at 255.
    // Weeks 1..=12: 90 + 10x ± 4 in a pattern (+, −, −, +) uncorrelated with x, so the fit
    // is exactly 90 + 10x with residual sd 4·√1.2.
    let noise = [4.0, -4.0, -4.0, 4.0];
    let mut values = vec![255.0];
    values.extend((1..=12).map(|x| 90.0 + 10.0 * x as f64 + noise[(x - 1) % 4]));
    let mut w = weeks(&values);
    w[0].coverage = 0.85;
    let f = forecast(w, Some(8.0), 12);
    assert!((f.slope_per_week.expect("slope") - 10.0).abs() < 1e-9);
    assert!((f.intercept.expect("intercept") - 90.0).abs() < 1e-9);
    assert!((f.residual_sd.expect("sd") - 4.0 * 1.2f64.sqrt()).abs() < 1e-9);
    assert_eq!(f.capacity, Some(255.0));
    assert_eq!(f.capacity_week.as_deref(), Some("w0"));
    // Trend reaches 255 at x = 17 (k = 5); the upper band at x = 16 (261.5); the lower
    // band at x = 18 (257.6; at x = 17 it is 248.1).
    let week = |k: i64| Some(f.weeks[12].start + chrono::Duration::seconds(k * WEEK));
    assert_eq!(f.reaches_capacity, week(5));
    assert_eq!(f.reaches_capacity_earliest, week(4));
    assert_eq!(f.reaches_capacity_latest, week(6));
    let (t, mean, low, high) = f.projection[4];
    assert_eq!(t as i64, f.weeks[12].start.timestamp() + 5 * WEEK);
    assert!((mean - 260.0).abs() < 1e-9 && low < mean && high > mean);
    assert_eq!(f.note, None);
}

#[test]
fn flat_demand_has_no_date() {
    let f = forecast(weeks(&[100.0; 10]), Some(8.0), 12);
    assert_eq!(f.slope_per_week, Some(0.0));
    assert_eq!(f.reaches_capacity, None);
    assert_eq!(f.reaches_capacity_earliest, None);
    assert_eq!(f.note.as_deref(), Some("demand is flat or falling: capacity not reached within 12 weeks"));
}

#[test]
fn too_few_weeks_or_no_matching_gpus() {
    let f = forecast(weeks(&[1.0, 2.0, 3.0]), None, 12);
    assert_eq!(f.slope_per_week, None);
    assert!(f.projection.is_empty());
    assert_eq!(f.note.as_deref(), Some("3 complete weeks: at least 4 are needed"));
    assert_eq!(f.capacity, Some(3.0));
    let g = forecast(weeks(&[1.0, 2.0, 3.0, 4.0, 5.0]), Some(16.0), 12);
    assert_eq!(g.capacity, None);
    assert!(g.note.as_deref().is_some_and(|n| n.contains("no week ran with 16 GPUs")), "{:?}", g.note);
    let empty = forecast(Vec::new(), None, 12);
    assert_eq!(empty.note.as_deref(), Some("0 complete weeks: at least 4 are needed"));
}

#[test]
fn pattern_by_local_hour_and_weekday() {
    // Two weeks from Monday 2026-12-07 local 00:00; value = 10 × weekday + local hour.
    let first_end = at(2026, 12, 7, 0);
    let pts: Vec<(f64, f64)> = (0..14 * 24)
        .map(|i: i64| {
            let t = first_end.timestamp() + i * 3600;
            let (day, hour) = (i / 24 % 7, i % 24);
            (t as f64, (10 * day + hour) as f64)
        })
        .collect();
    let p = pattern(&pts, Berlin);
    assert_eq!(p.by_hour.len(), 24);
    assert_eq!(p.by_weekday.len(), 7);
    assert_eq!(p.by_hour[0], Some(30.0));
    assert_eq!(p.by_weekday[0], Some(11.5));
    assert_eq!(p.by_weekday[6], Some(71.5));
    assert_eq!(p.peak_hour, Some(23));
    assert_eq!(p.peak_weekday, Some(6));
    assert_eq!(pattern(&[], Berlin).peak_hour, None);
}

#[test]
fn crossings_look_past_the_projection_up_to_the_horizon() {
    // 100 + 10x for x = 1..=15 after a week-0 peak of 400: the trend reaches 400 at x = 30.
    let mut values = vec![400.0];
    values.extend((1..=15).map(|x| 100.0 + 10.0 * x as f64));
    let mut w = weeks(&values);
    w[0].coverage = 0.5;
    let far = forecast(w.clone(), Some(8.0), 52);
    assert_eq!(far.projection.len(), 12);
    assert_eq!(far.reaches_capacity, Some(far.weeks[15].start + chrono::Duration::seconds(15 * WEEK)));
    let near = forecast(w, Some(8.0), 12);
    assert_eq!(near.reaches_capacity, None);
    assert_eq!(near.note.as_deref(), Some("at +10 a week the trend stays below capacity 400 within 12 weeks"));
}
