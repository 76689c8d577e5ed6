//! Spend: cost per dataset by local day, week or month, and the month's spend projected
//! against the budget.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use crate::hours::{
    by_hour_end, day_start, hour_starts, local_date, monday_of, month_of, next_month, utc, week_label, HOUR,
};
use crate::{num, stats, CostStatus, Points};

/// The length of a reporting period, in the configured time zone. Weeks start on Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CostGrain {
    /// A local calendar day (23 or 25 hours on a clock-change day).
    Day,
    /// A local week, Monday 00:00 to Monday 00:00, labelled by its ISO week.
    Week,
    /// A local calendar month.
    Month,
}

/// Cost, datasets and cost per dataset over one local period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct CostPeriod {
    /// Day, week or month.
    pub grain: CostGrain,
    /// `2026-12-07` for a day, `2026-W50` (ISO week) for a week, `2026-12` for a month.
    pub label: String,
    /// The period's first instant (local midnight).
    pub start: DateTime<Utc>,
    /// The next period's first instant (for the current period: still its end, not now).
    pub end: DateTime<Utc>,
    /// Sum of the hourly cost increases over the hours that have a cost value.
    pub cost: Option<f64>,
    /// Sum of the hourly datasets increases over the hours that have a datasets value.
    pub datasets: Option<f64>,
    /// Cost ÷ datasets over the hours that have both values; none when no dataset was
    /// processed in those hours or no hour has both.
    pub per_dataset: Option<f64>,
    /// Share (0..1) of the period's hours elapsed up to now that have both a cost and a
    /// datasets value.
    pub coverage: f64,
    /// What to keep in mind: "no data", "no datasets processed", "N of M hours have data",
    /// "to date"; joined by "; ".
    pub note: Option<String>,
}

/// The first day of the period a date is in.
fn period_first(grain: CostGrain, d: NaiveDate) -> NaiveDate {
    match grain {
        CostGrain::Day => d,
        CostGrain::Week => monday_of(d),
        CostGrain::Month => month_of(d),
    }
}

/// The first day of the following period.
fn period_next(grain: CostGrain, first: NaiveDate) -> NaiveDate {
    match grain {
        CostGrain::Day => first + Duration::days(1),
        CostGrain::Week => first + Duration::days(7),
        CostGrain::Month => next_month(first),
    }
}

/// The period's label.
fn period_label(grain: CostGrain, first: NaiveDate) -> String {
    match grain {
        CostGrain::Day => first.format("%Y-%m-%d").to_string(),
        CostGrain::Week => week_label(first),
        CostGrain::Month => first.format("%Y-%m").to_string(),
    }
}

/// Cost per dataset by local period.
///
/// `cost` and `datasets` are hourly increases (the point at `t` covers the hour ending at
/// `t`); they are joined on `t` rounded to the whole hour, so the two series may differ in
/// length. An hour belongs to the local period its start falls in. Only hours that have
/// ended by `now` count. Periods run from the one holding the first hour with any value to
/// the one holding `now` (included "to date"). Coverage is measured against the period's
/// hours elapsed by now, so a day has 23 or 25 hours on a clock change.
pub fn cost_per_dataset(
    cost: &Points,
    datasets: &Points,
    grain: CostGrain,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<CostPeriod> {
    let costs = by_hour_end(cost);
    let sets = by_hour_end(datasets);
    let now_s = now.timestamp();
    let Some(first_end) = costs.keys().chain(sets.keys()).copied().filter(|&k| k <= now_s).min() else {
        return Vec::new();
    };
    let last_start = now_s.div_euclid(HOUR) * HOUR - HOUR;
    let last_date = local_date(tz, last_start);
    let mut first = period_first(grain, local_date(tz, first_end - HOUR));
    let mut out = Vec::new();
    while first <= last_date {
        let next = period_next(grain, first);
        let (start, end) = (day_start(tz, first), day_start(tz, next));
        out.push(one_period(&costs, &sets, grain, period_label(grain, first), (start, end), now_s));
        first = next;
    }
    out
}

/// Sums one period `[start, end)` up to `now_s`.
fn one_period(
    costs: &BTreeMap<i64, f64>,
    sets: &BTreeMap<i64, f64>,
    grain: CostGrain,
    label: String,
    (start, end): (i64, i64),
    now_s: i64,
) -> CostPeriod {
    let (mut cost, mut datasets) = (None::<f64>, None::<f64>);
    let (mut cost_both, mut sets_both) = (0.0, 0.0);
    let (mut hours, mut both) = (0u32, 0u32);
    for h in hour_starts(start, end).take_while(|h| h + HOUR <= now_s) {
        hours += 1;
        let c = costs.get(&(h + HOUR)).copied();
        let d = sets.get(&(h + HOUR)).copied();
        if let Some(c) = c {
            cost = Some(cost.unwrap_or(0.0) + c);
        }
        if let Some(d) = d {
            datasets = Some(datasets.unwrap_or(0.0) + d);
        }
        if let (Some(c), Some(d)) = (c, d) {
            both += 1;
            cost_both += c;
            sets_both += d;
        }
    }
    let coverage = if hours > 0 { f64::from(both) / f64::from(hours) } else { 0.0 };
    let per_dataset = (both > 0 && sets_both > 0.0).then(|| cost_both / sets_both);
    let mut notes = Vec::new();
    if both == 0 {
        notes.push(format!("no data (0 of {hours} hours)"));
    } else {
        if sets_both <= 0.0 {
            notes.push("no datasets processed".to_string());
        }
        if both < hours {
            notes.push(format!("{both} of {hours} hours have data"));
        }
    }
    if end > now_s {
        notes.push("to date".to_string());
    }
    CostPeriod {
        grain,
        label,
        start: utc(start),
        end: utc(end),
        cost,
        datasets,
        per_dataset,
        coverage,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// The month's spend so far and where it is heading, against the budget.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct BudgetProjection {
    /// The local month, `2026-12`.
    pub month: String,
    /// The currency the amounts are in (as configured; nothing is converted).
    pub currency: String,
    /// Sum of the hourly cost in the local month up to now.
    pub month_to_date: f64,
    /// Month to date plus the expected spend of the rest of the month.
    pub projected: f64,
    /// The configured monthly budget.
    pub budget: Option<f64>,
    /// Whole local days after today left in the month.
    pub days_left: u32,
    /// How the rest of the month was estimated, in words.
    pub method: String,
    /// Projected against the budget.
    pub status: CostStatus,
    /// Projected ÷ budget, when the budget is above 0.
    pub share_of_budget: Option<f64>,
    /// What to keep in mind (no budget, missing hours).
    pub note: Option<String>,
}

/// Days with at least this many hours of data count as complete for the weekday pattern.
const FULL_DAY_HOURS: usize = 20;

/// Projects the local month's spend.
///
/// Month to date is the sum of the hourly cost from the first of the local month to
/// `now`. Each remaining local day of the month is expected to cost the mean daily spend
/// of the same weekday over the 28 local days before today, counting only days with at
/// least 20 hours of data; the rest of today counts as the share of today's hours still
/// to come. A weekday without such a day takes the mean of all such days; with none at
/// all, the rest of the month is month to date's mean hourly spend times the hours left.
///
/// Status: no budget (or a budget of 0 or less) → unknown; projected above the budget →
/// critical; above `warn_share` × budget → warning; otherwise ok.
pub fn project_month(
    hourly_cost: &Points,
    tz: Tz,
    now: DateTime<Utc>,
    budget: Option<f64>,
    currency: &str,
    warn_share: f64,
) -> BudgetProjection {
    let costs = by_hour_end(hourly_cost);
    let now_s = now.timestamp();
    let today = local_date(tz, now_s);
    let month_first = month_of(today);
    let month_next = next_month(month_first);
    let (month_start, month_end) = (day_start(tz, month_first), day_start(tz, month_next));
    let (mut mtd, mut elapsed, mut with_data, mut left_hours) = (0.0, 0u32, 0u32, 0u32);
    for h in hour_starts(month_start, month_end) {
        if h + HOUR > now_s {
            left_hours += 1;
            continue;
        }
        elapsed += 1;
        if let Some(v) = costs.get(&(h + HOUR)) {
            mtd += v;
            with_data += 1;
        }
    }

    let (by_weekday, all_days) = weekday_means(&costs, tz, today);
    let (today_start, today_end) = (day_start(tz, today), day_start(tz, today + Duration::days(1)));
    let today_hours = hour_starts(today_start, today_end).count().max(1);
    let today_left = hour_starts(today_start, today_end).filter(|h| h + HOUR > now_s).count();
    let fraction = today_left as f64 / today_hours as f64;
    let rest_days: Vec<NaiveDate> = today.iter_days().skip(1).take_while(|d| *d < month_next).collect();
    let days_left = u32::try_from(rest_days.len()).unwrap_or(u32::MAX);

    let mut notes = Vec::new();
    let (rest, method) = if let Some(all_mean) = stats::mean(&all_days) {
        let mut fell_back = Vec::new();
        let mut expect = |d: NaiveDate| {
            let wd = d.weekday();
            by_weekday[wd.num_days_from_monday() as usize].unwrap_or_else(|| {
                if !fell_back.contains(&wd) {
                    fell_back.push(wd);
                }
                all_mean
            })
        };
        let mut rest = fraction * expect(today);
        for d in &rest_days {
            rest += expect(*d);
        }
        let mut method = format!(
            "month to date + each remaining day at the mean of its weekday over the last 4 weeks \
             ({} of 28 days had at least {FULL_DAY_HOURS} hours of data)",
            all_days.len()
        );
        if !fell_back.is_empty() {
            let names: Vec<String> = fell_back.iter().map(|w| weekday_name(*w).to_string()).collect();
            method.push_str(&format!(
                "; {} had no such day and took the mean of all {} days ({} {currency})",
                names.join(", "),
                all_days.len(),
                num(all_mean)
            ));
        }
        (rest, method)
    } else if with_data > 0 {
        let rate = mtd / f64::from(with_data);
        let method = format!(
            "month to date + the {left_hours} hours left at month to date's mean of {} {currency} per hour \
             (no day in the last 4 weeks had {FULL_DAY_HOURS} hours of data to learn the weekday pattern from)",
            num(rate)
        );
        (rate * f64::from(left_hours), method)
    } else {
        notes.push("no cost data this month or in the last 4 weeks".to_string());
        (0.0, "no cost data to project from: the projection is the month to date only".to_string())
    };
    if with_data > 0 && with_data < elapsed {
        notes.push(format!("{with_data} of {elapsed} hours so far this month have cost data"));
    }
    let projected = mtd + rest;
    let share_of_budget = budget.filter(|b| *b > 0.0).map(|b| projected / b);
    let status = match budget {
        None => {
            notes.insert(0, "no budget configured: set [cost] monthly_budget".to_string());
            CostStatus::Unknown
        }
        Some(b) if b.is_nan() || b <= 0.0 => {
            notes.insert(0, format!("budget is {}: set [cost] monthly_budget above 0 to compare", num(b)));
            CostStatus::Unknown
        }
        Some(_) if with_data == 0 && all_days.is_empty() => CostStatus::Unknown,
        Some(b) if projected > b => CostStatus::Critical,
        Some(b) if projected > warn_share * b => CostStatus::Warning,
        Some(_) => CostStatus::Ok,
    };
    BudgetProjection {
        month: month_first.format("%Y-%m").to_string(),
        currency: currency.to_string(),
        month_to_date: mtd,
        projected,
        budget,
        days_left,
        method,
        status,
        share_of_budget,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// The mean daily spend per weekday (Monday first) over the 28 local days before `today`,
/// from days with at least [`FULL_DAY_HOURS`] hours of data, and those days' totals.
fn weekday_means(costs: &BTreeMap<i64, f64>, tz: Tz, today: NaiveDate) -> ([Option<f64>; 7], Vec<f64>) {
    let mut per: [Vec<f64>; 7] = Default::default();
    let mut all = Vec::new();
    for back in 1..=28 {
        let d = today - Duration::days(back);
        let (s, e) = (day_start(tz, d), day_start(tz, d + Duration::days(1)));
        let vals: Vec<f64> = hour_starts(s, e).filter_map(|h| costs.get(&(h + HOUR)).copied()).collect();
        if vals.len() >= FULL_DAY_HOURS {
            let total: f64 = vals.iter().sum();
            per[d.weekday().num_days_from_monday() as usize].push(total);
            all.push(total);
        }
    }
    (per.map(|v| stats::mean(&v)), all)
}

/// English weekday name, plural ("Mondays").
fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Mondays",
        Weekday::Tue => "Tuesdays",
        Weekday::Wed => "Wednesdays",
        Weekday::Thu => "Thursdays",
        Weekday::Fri => "Fridays",
        Weekday::Sat => "Saturdays",
        Weekday::Sun => "Sundays",
    }
}
