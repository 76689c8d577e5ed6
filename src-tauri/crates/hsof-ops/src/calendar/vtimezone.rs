//! A `VTIMEZONE` component derived from the tz database, since RFC 5545 requires one for
//! every TZID an `.ics` uses (Outlook relies on it; Google and Apple read the IANA name).
//!
//! Regular DST rules ("last Sunday of March at 02:00") become yearly RRULEs; a zone whose
//! transitions follow no such rule gets one observance per transition.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Weekday};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// Years scanned after the first year, to find the rules (and, failing that, to list
/// the transitions).
const YEARS: i32 = 12;

/// What distinguishes one observance from another at an instant.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Observance {
    offset_secs: i32,
    dst: bool,
    name: String,
}

fn observance(tz: Tz, at: NaiveDateTime) -> Observance {
    let offset = tz.offset_from_utc_datetime(&at);
    let offset_secs = offset.fix().local_minus_utc();
    let name = offset.abbreviation().map_or_else(|| format_offset(offset_secs), str::to_owned);
    Observance { offset_secs, dst: offset.dst_offset() != Duration::zero(), name }
}

/// One change of observance.
struct Transition {
    /// Local wall-clock time of the change, in the offset before it.
    local: NaiveDateTime,
    from: Observance,
    to: Observance,
}

/// The transitions from the start of `first_year` to the end of `first_year + YEARS`.
fn transitions(tz: Tz, first_year: i32) -> Vec<Transition> {
    let Some(start) = NaiveDate::from_ymd_opt(first_year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)) else {
        return Vec::new();
    };
    let days = i64::from(YEARS + 1) * 366;
    let mut found = Vec::new();
    let mut prev = observance(tz, start);
    for day in 1..=days {
        let at = start + Duration::days(day);
        let now = observance(tz, at);
        if now == prev {
            continue;
        }
        // Bisect to the second within the day.
        let (mut lo, mut hi) = (at - Duration::days(1), at);
        while hi - lo > Duration::seconds(1) {
            let mid = lo + (hi - lo) / 2;
            if observance(tz, mid) == prev {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let local = hi + Duration::seconds(i64::from(prev.offset_secs));
        found.push(Transition { local, from: prev, to: now.clone() });
        prev = now;
    }
    found
}

fn format_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn days_in_month(d: NaiveDate) -> u32 {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).and_then(|n| n.pred_opt()).map_or(31, |last| last.day())
}

/// `BYMONTH=3;BYDAY=-1SU` when every transition of a kind falls on the same nth weekday.
fn yearly_rule(group: &[&Transition]) -> Option<String> {
    let first = group.first()?;
    let weekday = first.local.weekday();
    let forward = |t: &Transition| (t.local.day() as i32 - 1) / 7 + 1;
    let backward = |t: &Transition| -((days_in_month(t.local.date()) - t.local.day()) as i32 / 7 + 1);
    let same_day = group.iter().all(|t| t.local.weekday() == weekday && t.local.month() == first.local.month());
    if !same_day {
        return None;
    }
    let nth = [forward, backward].into_iter().find_map(|f| {
        let n = f(first);
        group.iter().all(|t| f(t) == n).then_some(n)
    })?;
    Some(format!("FREQ=YEARLY;BYMONTH={};BYDAY={nth}{}", first.local.month(), weekday_code(weekday)))
}

fn component(t: &Transition, rrule: Option<&str>) -> String {
    let kind = if t.to.dst { "DAYLIGHT" } else { "STANDARD" };
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        format!("DTSTART:{}", t.local.format("%Y%m%dT%H%M%S")),
        format!("TZOFFSETFROM:{}", format_offset(t.from.offset_secs)),
        format!("TZOFFSETTO:{}", format_offset(t.to.offset_secs)),
        format!("TZNAME:{}", t.to.name),
    ];
    if let Some(rule) = rrule {
        lines.push(format!("RRULE:{rule}"));
    }
    lines.push(format!("END:{kind}"));
    lines.join("\r\n")
}

/// The `VTIMEZONE` block for `tz`, CRLF-terminated, covering `first_year` onwards.
pub(crate) fn vtimezone(tz: Tz, first_year: i32) -> String {
    let found = transitions(tz, first_year);
    let mut parts = vec![format!("BEGIN:VTIMEZONE\r\nTZID:{}", tz.name())];
    if found.is_empty() {
        let first = NaiveDate::from_ymd_opt(first_year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        let now = observance(tz, first.unwrap_or_default());
        let fixed = Transition { local: NaiveDateTime::default(), from: now.clone(), to: now };
        parts.push(component(&fixed, None));
    } else {
        // Group by what the change is and when in the day it happens.
        let mut kinds: BTreeMap<(Observance, Observance, u32, chrono::NaiveTime), Vec<&Transition>> = BTreeMap::new();
        for t in &found {
            kinds.entry((t.from.clone(), t.to.clone(), t.local.month(), t.local.time())).or_default().push(t);
        }
        let every_year = |g: &Vec<&Transition>| g.len() == (YEARS + 1) as usize;
        let rules: Option<Vec<(String, &Transition)>> =
            kinds.values().map(|g| if every_year(g) { yearly_rule(g).map(|r| (r, g[0])) } else { None }).collect();
        match rules {
            Some(rules) => parts.extend(rules.iter().map(|(rule, t)| component(t, Some(rule)))),
            None => parts.extend(found.iter().map(|t| component(t, None))),
        }
    }
    parts.push("END:VTIMEZONE\r\n".into());
    parts.join("\r\n")
}
