//! Hour buckets and local calendar arithmetic shared by the modules.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// Seconds in an hour.
pub(crate) const HOUR: i64 = 3600;

/// Seconds in a week.
pub(crate) const WEEK: i64 = 7 * 86_400;

/// The hour end a timestamp belongs to: rounded to the nearest whole UTC hour.
pub(crate) fn hour_key(t: f64) -> Option<i64> {
    if t.is_finite() {
        Some((t / HOUR as f64).round() as i64 * HOUR)
    } else {
        None
    }
}

/// The points with a value, keyed by the end of their hour (the last point wins when two
/// round to the same hour).
pub(crate) fn by_hour_end(points: &[(f64, f64)]) -> BTreeMap<i64, f64> {
    points.iter().filter(|(_, v)| v.is_finite()).filter_map(|&(t, v)| hour_key(t).map(|k| (k, v))).collect()
}

/// Unix seconds as a UTC instant (the epoch when out of range).
pub(crate) fn utc(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// The local date at an instant.
pub(crate) fn local_date(tz: Tz, secs: i64) -> NaiveDate {
    utc(secs).with_timezone(&tz).date_naive()
}

/// The first instant of a local date, in unix seconds: local midnight, or where the day
/// starts when a clock change skips midnight.
pub(crate) fn day_start(tz: Tz, date: NaiveDate) -> i64 {
    for minute in 0..(24 * 60) {
        let Some(local) = date.and_hms_opt(minute / 60, minute % 60, 0) else { continue };
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.timestamp();
        }
    }
    // Unreachable for real zones; fall back to midnight UTC.
    date.and_hms_opt(0, 0, 0).map(|d| d.and_utc().timestamp()).unwrap_or(0)
}

/// The starts of the whole UTC hours that begin in `[start, end)`.
pub(crate) fn hour_starts(start: i64, end: i64) -> impl Iterator<Item = i64> {
    let first = start.div_euclid(HOUR) * HOUR + if start.rem_euclid(HOUR) == 0 { 0 } else { HOUR };
    (0..).map(move |i| first + i * HOUR).take_while(move |&h| h < end)
}

/// The Monday of the (Monday-first) week a date is in.
pub(crate) fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// The first day of the month a date is in.
pub(crate) fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The first day of the next month.
pub(crate) fn next_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 { (first.year() + 1, 1) } else { (first.year(), first.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first + Duration::days(31))
}

/// ISO week label of a Monday: `2026-W49`.
pub(crate) fn week_label(monday: NaiveDate) -> String {
    let w = monday.iso_week();
    format!("{:04}-W{:02}", w.year(), w.week())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_days_follow_the_clock_changes() {
        let tz = chrono_tz::Europe::Berlin;
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default();
        let spring = day_start(tz, d(2027, 3, 29)) - day_start(tz, d(2027, 3, 28));
        let autumn = day_start(tz, d(2027, 11, 1)) - day_start(tz, d(2027, 10, 31));
        assert_eq!(spring, 23 * HOUR);
        assert_eq!(autumn, 25 * HOUR);
        assert_eq!(hour_starts(day_start(tz, d(2027, 3, 28)), day_start(tz, d(2027, 3, 29))).count(), 23);
    }

    #[test]
    fn hours_round_and_weeks_label() {
        assert_eq!(hour_key(7199.0), Some(7200));
        assert_eq!(hour_key(f64::NAN), None);
        let monday = monday_of(NaiveDate::from_ymd_opt(2026, 12, 10).unwrap_or_default());
        assert_eq!(monday, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default());
        assert_eq!(week_label(monday), "2026-W50");
        let hs: Vec<i64> = hour_starts(1800, 3 * HOUR).collect();
        assert_eq!(hs, vec![3600, 7200]);
    }
}
