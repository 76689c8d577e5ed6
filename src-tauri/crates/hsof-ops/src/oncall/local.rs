//! Team-local wall time and the instants it names: DST gaps and repeated hours, tonight's
//! window, and how gaps read.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::shifts::Gap;

/// The instant of the local wall time `local` in `tz`. A time that does not exist that day
/// (it falls in the spring-forward gap, e.g. 02:30) is the first instant after the gap
/// (03:00 local); a time that occurs twice (fall back) is the earlier instant.
pub(crate) fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => after_gap(tz, local),
    }
}

/// The first instant whose local time is at or after `local`, which falls in a DST gap:
/// the instant the clocks jump. UTC offsets lie within −12 h and +14 h, so the instant is
/// between `local` read as UTC minus 15 hours and plus 13 hours; it is found to the second.
fn after_gap(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let naive_utc = local.and_utc();
    let (Some(lo), Some(hi)) =
        (naive_utc.checked_sub_signed(Duration::hours(15)), naive_utc.checked_add_signed(Duration::hours(13)))
    else {
        return naive_utc;
    };
    let (mut lo, mut hi) = (lo.timestamp(), hi.timestamp());
    let local_at = |secs: i64| DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&tz).naive_local());
    // Invariant: local(lo) < `local` <= local(hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match local_at(mid) {
            Some(t) if t >= local => hi = mid,
            Some(_) => lo = mid,
            None => return naive_utc,
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or(naive_utc)
}

/// `2026-01-05 09:00 Europe/Berlin`: an instant as the team reads it.
pub(crate) fn local_label(at: DateTime<Utc>, tz: Tz) -> String {
    format!("{} {}", at.with_timezone(&tz).format("%Y-%m-%d %H:%M"), tz.name())
}

/// Tonight in the team's time zone `tz`: from `evening` (local) on the local day of `now`
/// to `morning` on the next day; when `now` is before `morning` local, the night that
/// began the evening before. `evening` is expected to be later in the day than `morning`
/// (18:00 and 09:00).
///
/// Both ends are local wall times converted on their own dates, so the night is
/// DST-correct: 18:00–09:00 lasts 15 hours, 14 on the night the clocks go forward and 16
/// on the night they go back. A wall time in the spring-forward gap is the first instant
/// after it; a repeated one is the earlier instant.
pub fn night(now: DateTime<Utc>, tz: Tz, evening: NaiveTime, morning: NaiveTime) -> (DateTime<Utc>, DateTime<Utc>) {
    let local = now.with_timezone(&tz).naive_local();
    let today = local.date();
    let (first_day, second_day) = if local.time() < morning {
        (today.pred_opt().unwrap_or(today), today)
    } else {
        (today, today.succ_opt().unwrap_or(today))
    };
    (local_to_utc(tz, first_day.and_time(evening)), local_to_utc(tz, second_day.and_time(morning)))
}

/// One line per gap, in the team's zone `tz`:
/// `2026-12-24 18:00 – 2026-12-25 09:00 Europe/Berlin (15 h): <why>`.
///
/// The duration in brackets is the time that really passes (14 h for 18:00–09:00 over
/// the spring-forward night), in its two largest units (`1 d 6 h`, `2 h 30 min`).
pub fn describe_gaps(gaps: &[Gap], tz: Tz) -> Vec<String> {
    gaps.iter()
        .map(|g| {
            format!(
                "{} – {} {} ({}): {}",
                g.start.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                g.end.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                tz.name(),
                crate::incidents::time_format::human_duration(g.end - g.start),
                g.why
            )
        })
        .collect()
}
