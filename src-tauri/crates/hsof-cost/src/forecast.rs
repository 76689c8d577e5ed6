//! Growth forecast: weekly demand, its linear trend with a ≈95 % band, and when it reaches
//! the capacity seen so far; and the hour-of-day and weekday pattern.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use chrono_tz::Tz;

use crate::hours::{by_hour_end, day_start, hour_starts, local_date, monday_of, utc, week_label, HOUR, WEEK};
use crate::{num, stats, Points};

/// Weeks with at least this share of their hours with data enter the trend.
pub const MIN_COVERAGE: f64 = 0.9;

/// Usable weeks the trend needs.
pub const MIN_WEEKS: usize = 4;

/// Weeks [`GrowthForecast::projection`] covers.
pub const PROJECTION_WEEKS: u32 = 12;

/// One complete local week of an hourly series.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct WeekTotal {
    /// ISO week of its Monday, `2026-W50`.
    pub week: String,
    /// Monday 00:00 local.
    pub start: DateTime<Utc>,
    /// Sum of the hourly values that week (hours without data add nothing).
    pub value: f64,
    /// Share (0..1) of the week's hours with a value.
    pub coverage: f64,
    /// Mean of the hourly GPU allocation that week, when there is any.
    pub gpus: Option<f64>,
}

/// Totals of the complete local weeks (Monday 00:00 to Monday 00:00, ending by `now`),
/// from the week of the first hour with a value. An hour belongs to the week its start
/// falls in; the point at `t` covers the hour ending at `t`.
pub fn weekly_totals(hourly: &Points, hourly_gpus: &Points, tz: Tz, now: DateTime<Utc>) -> Vec<WeekTotal> {
    let values = by_hour_end(hourly);
    let gpus = by_hour_end(hourly_gpus);
    let now_s = now.timestamp();
    let Some(&first_end) = values.keys().chain(gpus.keys()).min() else { return Vec::new() };
    let mut monday = monday_of(local_date(tz, first_end - HOUR));
    let mut out = Vec::new();
    loop {
        let next = monday + Duration::days(7);
        let (start, end) = (day_start(tz, monday), day_start(tz, next));
        if end > now_s {
            break;
        }
        let (mut value, mut with, mut hours) = (0.0, 0u32, 0u32);
        let mut g = Vec::new();
        for h in hour_starts(start, end) {
            hours += 1;
            if let Some(v) = values.get(&(h + HOUR)) {
                value += v;
                with += 1;
            }
            if let Some(v) = gpus.get(&(h + HOUR)) {
                g.push(*v);
            }
        }
        let coverage = if hours > 0 { f64::from(with) / f64::from(hours) } else { 0.0 };
        out.push(WeekTotal { week: week_label(monday), start: utc(start), value, coverage, gpus: stats::mean(&g) });
        monday = next;
    }
    out
}

/// Weekly demand, its trend and when it reaches capacity.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct GrowthForecast {
    /// The weeks, as given.
    pub weeks: Vec<WeekTotal>,
    /// Trend: change per week.
    pub slope_per_week: Option<f64>,
    /// Trend: value at the first week (week index 0).
    pub intercept: Option<f64>,
    /// Standard deviation of the weeks around the trend.
    pub residual_sd: Option<f64>,
    /// How the trend and its band were computed, in words.
    pub method: String,
    /// The highest weekly value seen with the current number of GPUs (within 0.5).
    pub capacity: Option<f64>,
    /// The week that value was seen in.
    pub capacity_week: Option<String>,
    /// First projected week whose trend value reaches capacity.
    pub reaches_capacity: Option<DateTime<Utc>>,
    /// First projected week whose upper band reaches capacity (the earliest it is likely).
    pub reaches_capacity_earliest: Option<DateTime<Utc>>,
    /// First projected week whose lower band reaches capacity (by then it is likely).
    pub reaches_capacity_latest: Option<DateTime<Utc>>,
    /// What to keep in mind: too few weeks, flat demand, capacity not reached.
    pub note: Option<String>,
    /// `(unix s of the week's start, trend, low ≈95 %, high ≈95 %)` for the next 12 weeks
    /// (the crossing dates look up to `horizon_weeks` ahead, which may be further).
    pub projection: Vec<(f64, f64, f64, f64)>,
}

/// Fits a line to the weekly values, projects it 12 weeks ahead and looks up to
/// `horizon_weeks` weeks ahead for the week it reaches capacity.
///
/// Ordinary least squares over the weeks with at least 90 % of their hours with data,
/// x = week number from the first week (gaps keep their place). The band is a prediction
/// interval, trend ± 2 × residual sd × √(1 + 1/n + (x − x̄)²/Sxx): ≈95 %. At least 4
/// such weeks are needed. Capacity is the highest weekly value of any week whose mean GPU
/// allocation is within 0.5 of `current_gpus` (any week when that is unknown). The
/// crossing dates are the first projected week (starts 7 × 86 400 s apart after the last
/// week's start) where the trend, the upper band and the lower band reach capacity; none
/// when demand is flat or falling, or beyond the horizon.
pub fn forecast(weeks: Vec<WeekTotal>, current_gpus: Option<f64>, horizon_weeks: u32) -> GrowthForecast {
    let base = weeks.first().map(|w| w.start.timestamp()).unwrap_or(0);
    let index = |w: &WeekTotal| ((w.start.timestamp() - base) as f64 / WEEK as f64).round();
    let usable: Vec<&WeekTotal> = weeks.iter().filter(|w| w.coverage >= MIN_COVERAGE).collect();
    let xs: Vec<f64> = usable.iter().map(|w| index(w)).collect();
    let ys: Vec<f64> = usable.iter().map(|w| w.value).collect();
    let fit = if usable.len() >= MIN_WEEKS { stats::ols(&xs, &ys) } else { None };

    let mut notes = Vec::new();
    let peak = weeks
        .iter()
        .filter(|w| match current_gpus {
            Some(c) => w.gpus.is_some_and(|g| (g - c).abs() <= 0.5),
            None => true,
        })
        .max_by(|a, b| a.value.total_cmp(&b.value));
    if peak.is_none() && !weeks.is_empty() {
        notes.push(match current_gpus {
            Some(c) => format!("no week ran with {} GPUs: capacity unknown", num(c)),
            None => "no week to take capacity from".to_string(),
        });
    }
    let capacity = peak.map(|w| w.value);

    let method = format!(
        "ordinary least squares over the complete weeks with at least {:.0} % of their hours with data \
         ({} of {} weeks), x = week number; band ≈95 %, ±2 standard errors of a new week \
         (residual sd × √(1 + 1/n + (x − x̄)²/Sxx)); capacity = the highest week seen with the current GPUs",
        MIN_COVERAGE * 100.0,
        usable.len(),
        weeks.len()
    );
    let (mut reaches, mut earliest, mut latest) = (None, None, None);
    let mut projection = Vec::new();
    match (fit, weeks.last()) {
        (Some(f), Some(last)) => {
            let last_x = index(last);
            let band = |k: u32| {
                let x = last_x + f64::from(k);
                let start = last.start.timestamp() + i64::from(k) * WEEK;
                let (mean, half) = (f.at(x), 2.0 * f.prediction_se(x));
                (start as f64, mean, mean - half, mean + half)
            };
            projection = (1..=PROJECTION_WEEKS).map(band).collect();
            if f.slope <= 0.0 {
                notes.push(format!("demand is flat or falling: capacity not reached within {horizon_weeks} weeks"));
            } else if let Some(cap) = capacity {
                let first = |pick: fn(&(f64, f64, f64, f64)) -> f64| {
                    (1..=horizon_weeks).map(band).find(|p| pick(p) >= cap).map(|p| utc(p.0 as i64))
                };
                reaches = first(|p| p.1);
                earliest = first(|p| p.3);
                latest = first(|p| p.2);
                if reaches.is_none() {
                    notes.push(format!(
                        "at +{} a week the trend stays below capacity {} within {horizon_weeks} weeks",
                        num(f.slope),
                        num(cap)
                    ));
                }
            }
        }
        _ => notes.insert(0, format!("{} complete weeks: at least {MIN_WEEKS} are needed", usable.len())),
    }
    GrowthForecast {
        slope_per_week: fit.map(|f| f.slope),
        intercept: fit.map(|f| f.intercept),
        residual_sd: fit.map(|f| f.residual_sd),
        method,
        capacity,
        capacity_week: peak.map(|w| w.week.clone()),
        reaches_capacity: reaches,
        reaches_capacity_earliest: earliest,
        reaches_capacity_latest: latest,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        projection,
        weeks,
    }
}

/// When in the day and week the load comes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct CapacityPattern {
    /// Mean value for each local hour of the day (0..24, of the hour's start).
    pub by_hour: Vec<Option<f64>>,
    /// Mean value for each local weekday, Monday first.
    pub by_weekday: Vec<Option<f64>>,
    /// The local hour with the highest mean.
    pub peak_hour: Option<u32>,
    /// The weekday with the highest mean (0 = Monday).
    pub peak_weekday: Option<u32>,
}

/// Means of an hourly series by local hour of day and by weekday (of each hour's start;
/// the point at `t` covers the hour ending at `t`). `NaN` values are skipped.
pub fn pattern(hourly: &Points, tz: Tz) -> CapacityPattern {
    let mut hours = vec![Vec::new(); 24];
    let mut days = vec![Vec::new(); 7];
    for (end, v) in by_hour_end(hourly) {
        let local = utc(end - HOUR).with_timezone(&tz);
        if let Some(b) = hours.get_mut(local.hour() as usize) {
            b.push(v);
        }
        if let Some(b) = days.get_mut(local.weekday().num_days_from_monday() as usize) {
            b.push(v);
        }
    }
    let by_hour: Vec<Option<f64>> = hours.iter().map(|b| stats::mean(b)).collect();
    let by_weekday: Vec<Option<f64>> = days.iter().map(|b| stats::mean(b)).collect();
    CapacityPattern { peak_hour: peak(&by_hour), peak_weekday: peak(&by_weekday), by_hour, by_weekday }
}

/// Index of the highest value (the first on a tie).
fn peak(xs: &[Option<f64>]) -> Option<u32> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in xs.iter().enumerate() {
        if let Some(v) = v {
            if best.is_none_or(|(_, b)| *v > b) {
                best = Some((i, *v));
            }
        }
    }
    best.and_then(|(i, _)| u32::try_from(i).ok())
}
