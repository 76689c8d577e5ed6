//! What each severity demands (response time, escalation, update cadence, post-mortem) and
//! the team's business hours, which decide when "next business day" is.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

use super::{IncidentError, Severity};

/// When an unresolved incident must be escalated, counted from its declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escalation {
    /// At once, on declaration.
    Immediate,
    /// This long after declaration.
    After(Duration),
    /// At the start of business hours on the next business day.
    NextBusinessDay,
}

impl Escalation {
    /// Parses `immediate`, `next-business-day` or a positive duration (`30m`, `4h`, `90s`,
    /// `1h30m`; see [`parse_duration`]).
    pub fn parse(s: &str) -> Result<Self, IncidentError> {
        let word = s.trim().to_ascii_lowercase();
        match word.as_str() {
            "immediate" | "immediately" => return Ok(Self::Immediate),
            "next-business-day" | "next_business_day" | "next business day" => return Ok(Self::NextBusinessDay),
            _ => {}
        }
        let bad = || {
            IncidentError::invalid(format!(
                "invalid escalation `{}`: expected `immediate`, `next-business-day` or a duration such as 30m, 4h or 1h30m",
                s.trim()
            ))
        };
        match parse_duration(&word) {
            Ok(d) if d > Duration::zero() => Ok(Self::After(d)),
            _ => Err(bad()),
        }
    }

    /// When an incident declared at `declared_at` is due for escalation.
    pub fn escalate_at(&self, declared_at: DateTime<Utc>, hours: &BusinessHours) -> DateTime<Utc> {
        match self {
            Self::Immediate => declared_at,
            Self::After(d) => declared_at.checked_add_signed(*d).unwrap_or(declared_at),
            Self::NextBusinessDay => hours.next_business_day_start(declared_at),
        }
    }
}

impl fmt::Display for Escalation {
    /// The form [`Escalation::parse`] reads back: `immediate`, `1h30m`, `next-business-day`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Immediate => f.write_str("immediate"),
            Self::After(d) => f.write_str(&format_duration(*d)),
            Self::NextBusinessDay => f.write_str("next-business-day"),
        }
    }
}

/// Parses a duration written as number–unit pairs: `90s`, `30m`, `4h`, `1h30m`, `2d`
/// (units `d`, `h`, `m`, `s`, any case; spaces between pairs allowed).
pub fn parse_duration(s: &str) -> Result<Duration, IncidentError> {
    let text = s.trim();
    let bad = || IncidentError::invalid(format!("invalid duration `{text}`: expected e.g. 90s, 30m, 4h or 1h30m"));
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut pairs = 0;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c.to_ascii_lowercase() {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        digits.clear();
        pairs += 1;
    }
    if pairs == 0 || !digits.is_empty() {
        return Err(bad());
    }
    Duration::try_seconds(total).ok_or_else(bad)
}

/// Writes a duration compactly, the way [`parse_duration`] reads it: `1h30m`, `45s`, `0s`.
/// Negative durations get a leading `-`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.num_seconds();
    let mut rest = secs.unsigned_abs();
    let mut out = String::from(if secs < 0 { "-" } else { "" });
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= len {
            out.push_str(&format!("{}{unit}", rest / len));
            rest %= len;
        }
    }
    if out.is_empty() || out == "-" {
        out = "0s".into();
    }
    out
}

/// What a severity demands of the responders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeverityPolicy {
    /// Time allowed to acknowledge.
    pub response: Duration,
    /// When to escalate if still unresolved.
    pub escalation: Escalation,
    /// How often to post a status update while unresolved; `None` when no cadence applies.
    pub status_update: Option<Duration>,
    /// Whether a post-mortem must be scheduled after resolution.
    pub postmortem: bool,
}

impl SeverityPolicy {
    /// The runbook's table: P0 5 min / immediate / updates every 15 min; P1 15 min / 30 min /
    /// 15 min; P2 1 h / 4 h / none; P3 4 h / next business day / none. Post-mortem for P0/P1.
    pub fn runbook(severity: Severity) -> Self {
        let (response, escalation, status_update) = match severity {
            Severity::P0 => (Duration::minutes(5), Escalation::Immediate, Some(Duration::minutes(15))),
            Severity::P1 => {
                (Duration::minutes(15), Escalation::After(Duration::minutes(30)), Some(Duration::minutes(15)))
            }
            Severity::P2 => (Duration::hours(1), Escalation::After(Duration::hours(4)), None),
            Severity::P3 => (Duration::hours(4), Escalation::NextBusinessDay, None),
        };
        Self { response, escalation, status_update, postmortem: matches!(severity, Severity::P0 | Severity::P1) }
    }
}

/// The team's working hours, Monday to Friday in its time zone, except the team's holidays
/// (local dates, see [`parse_holidays_ics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    /// Team time zone.
    pub tz: chrono_tz::Tz,
    /// Local opening time.
    pub start: NaiveTime,
    /// Local closing time (exclusive).
    pub end: NaiveTime,
    /// Local dates that are not business days although they fall on a weekday.
    pub holidays: BTreeSet<NaiveDate>,
}

impl BusinessHours {
    /// Parses an IANA zone (`Europe/Berlin`) and `HH:MM` opening and closing times; the
    /// opening must come before the closing.
    pub fn parse(tz: &str, start: &str, end: &str) -> Result<Self, IncidentError> {
        let zone: chrono_tz::Tz = tz.trim().parse().map_err(|_| {
            IncidentError::invalid(format!(
                "unknown time zone `{}`: expected an IANA name such as Europe/Berlin",
                tz.trim()
            ))
        })?;
        let time = |what: &str, s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
                IncidentError::invalid(format!(
                    "invalid business-hours {what} `{}`: expected HH:MM, e.g. 09:00",
                    s.trim()
                ))
            })
        };
        let (start, end) = (time("start", start)?, time("end", end)?);
        if start >= end {
            return Err(IncidentError::invalid(format!(
                "business hours must start before they end (got {} to {})",
                start.format("%H:%M"),
                end.format("%H:%M")
            )));
        }
        Ok(Self { tz: zone, start, end, holidays: BTreeSet::new() })
    }

    /// The same hours with `holidays` as days off.
    pub fn with_holidays(mut self, holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.holidays.extend(holidays);
        self
    }

    /// True for a weekday that is not one of the team's holidays.
    pub fn is_business_day(&self, day: NaiveDate) -> bool {
        is_weekday(day) && !self.holidays.contains(&day)
    }

    /// True when `at` falls on a business day between opening (inclusive) and closing
    /// (exclusive).
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz);
        let time = local.time();
        self.is_business_day(local.date_naive()) && self.start <= time && time < self.end
    }

    /// Start of business hours on the next business day after `at` (local date + 1 day,
    /// skipping weekends and holidays), correct across DST.
    pub fn next_business_day_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let mut day = at.with_timezone(&self.tz).date_naive();
        // Weekends plus at most every listed holiday; bounded either way.
        for _ in 0..(3 + self.holidays.len()).min(800) {
            day = day.checked_add_days(Days::new(1)).unwrap_or(day);
            if self.is_business_day(day) {
                break;
            }
        }
        self.local_to_utc(day, self.start)
    }

    /// The instant of local `time` on `day`. In a DST gap the first valid local time after
    /// it is used; when a time occurs twice, the earlier.
    fn local_to_utc(&self, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let mut local = day.and_time(time);
        for _ in 0..8 {
            if let Some(t) = self.tz.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
            local += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&local)
    }
}

/// The days of a holiday calendar (`.ics`, RFC 5545), as local dates: each `VEVENT`'s
/// `DTSTART` up to its `DTEND` (exclusive; one day when absent). A yearly rule
/// (`RRULE:FREQ=YEARLY`, a fixed date such as Christmas) repeats the day for 100 years or
/// until its `COUNT`/`UNTIL`; any other rule is refused, since guessing would move
/// escalations.
pub fn parse_holidays_ics(text: &str) -> Result<BTreeSet<NaiveDate>, IncidentError> {
    use icalendar::{Calendar, CalendarComponent, Component};
    let cal: Calendar = text.parse().map_err(|e| IncidentError::invalid(format!("not an iCalendar file: {e}")))?;
    let mut days = BTreeSet::new();
    let mut events = 0;
    for c in &cal.components {
        let CalendarComponent::Event(ev) = c else { continue };
        events += 1;
        let name = ev.get_summary().unwrap_or("an event").to_string();
        let start: NaiveDate =
            ev.get_start().ok_or_else(|| IncidentError::invalid(format!("holiday `{name}` has no DTSTART")))?.into();
        let end: NaiveDate = ev.get_end().map(NaiveDate::from).unwrap_or(start);
        let span = (end - start).num_days().clamp(1, 366);
        let (repeat, until) = match ev.property_value("RRULE") {
            None => (1, None),
            Some(rule) => yearly(rule).ok_or_else(|| {
                IncidentError::invalid(format!(
                    "holiday `{name}` repeats by `{rule}`: only FREQ=YEARLY (with COUNT or UNTIL) is understood; list the dates instead"
                ))
            })?,
        };
        for year in 0..repeat {
            let Some(first) = start.with_year(start.year() + year) else { continue };
            if until.is_some_and(|u| first > u) {
                break;
            }
            for d in 0..span {
                if let Some(day) = first.checked_add_days(Days::new(d as u64)) {
                    days.insert(day);
                }
            }
        }
    }
    if events == 0 {
        return Err(IncidentError::invalid("the holiday calendar has no events (VEVENT)"));
    }
    Ok(days)
}

/// `FREQ=YEARLY[;COUNT=n][;UNTIL=date]` → (occurrences, last date); `None` for other rules.
fn yearly(rule: &str) -> Option<(i32, Option<NaiveDate>)> {
    let mut yearly = false;
    let (mut count, mut until) = (100, None);
    for part in rule.split(';') {
        let (k, v) = part.split_once('=')?;
        match k.trim().to_ascii_uppercase().as_str() {
            "FREQ" => yearly = v.trim().eq_ignore_ascii_case("YEARLY"),
            "COUNT" => count = v.trim().parse::<i32>().ok()?.clamp(0, 100),
            "UNTIL" => until = Some(NaiveDate::parse_from_str(v.trim().get(..8)?, "%Y%m%d").ok()?),
            "INTERVAL" if v.trim() == "1" => {}
            "WKST" => {}
            _ => return None,
        }
    }
    yearly.then_some((count, until))
}

fn is_weekday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}
