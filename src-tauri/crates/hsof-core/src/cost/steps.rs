//! The calendar steps cost and capacity answer: a verdict and the evidence recorded with it.

use chrono::{DateTime, Utc};
use hsof_cost::CostStatus;

use super::{CapacityView, CostView};
use crate::{AppContext, Error};

pub use hsof_ops::calendar::COST_PARTS as COST_STEP_PARTS;

fn money(v: Option<f64>, currency: &str) -> String {
    v.map_or("—".into(), |v| format!("{v:.2} {currency}"))
}

fn verdict(s: CostStatus) -> &'static str {
    match s {
        CostStatus::Ok => "pass",
        CostStatus::Warning => "warn",
        CostStatus::Critical => "fail",
        CostStatus::Unknown => "unknown",
    }
}

fn source_lines(v: &CostView) -> String {
    let mut out = format!("source: {} ({})\n", v.source.name, v.source_url);
    for p in &v.source.prices {
        out.push_str(&format!("  price: {p}\n"));
    }
    for g in &v.source.gaps {
        out.push_str(&format!("  not priced: {g}\n"));
    }
    for p in &v.problems {
        out.push_str(&format!("  not read: {p}\n"));
    }
    out
}

/// A cost step's verdict (`pass`, `warn`, `fail`, `unknown`) and evidence: `spend`,
/// `per-dataset` or `idle-gpu`.
pub fn cost_evidence(v: &CostView, part: &str) -> (&'static str, String) {
    let c = &v.currency;
    match part {
        "spend" => {
            let b = &v.budget;
            let mut out = format!(
                "{}: month to date {}, projected {} (budget {}), {} days left\nprojection: {}\n",
                b.month,
                money(Some(b.month_to_date), c),
                money(Some(b.projected), c),
                money(b.budget, c),
                b.days_left,
                b.method
            );
            if let Some(n) = &b.note {
                out.push_str(&format!("{n}\n"));
            }
            out.push_str(&source_lines(v));
            (if v.source.kind == "none" { "unknown" } else { verdict(b.status) }, out)
        }
        "per-dataset" => {
            let mut out = String::new();
            for p in v.months.iter().chain(&v.weeks).chain(&v.days) {
                out.push_str(&format!(
                    "{:<11} cost {:>12}  datasets {:>8}  per dataset {}{}\n",
                    p.label,
                    money(p.cost, c),
                    p.datasets.map_or("—".into(), |d| format!("{d:.0}")),
                    money(p.per_dataset, c),
                    p.note.as_ref().map(|n| format!("  ({n})")).unwrap_or_default()
                ));
            }
            if let Some(w) = v.week_over_week {
                out.push_str(&format!("week over week: {:+.1} %\n", w * 100.0));
            }
            out.push_str(&source_lines(v));
            let known = v.weeks.iter().chain(&v.days).any(|p| p.per_dataset.is_some());
            let up = v.week_over_week.is_some_and(|w| w > 0.2);
            (
                if !known {
                    "unknown"
                } else if up {
                    "warn"
                } else {
                    "pass"
                },
                out,
            )
        }
        _ => {
            // idle-gpu
            let i = &v.idle;
            let mut out = format!(
                "{} GPU-hours allocated, {} idle ({}), {}\nmethod: {} — {}\n",
                fmt1(i.total_allocated_gpu_hours),
                fmt1(i.total_idle_gpu_hours),
                if i.total_allocated_gpu_hours > 0.0 {
                    format!("{:.0} %", 100.0 * i.total_idle_gpu_hours / i.total_allocated_gpu_hours)
                } else {
                    "—".into()
                },
                money(i.total_idle_money, c),
                v.idle_source,
                i.method
            );
            for r in &i.rows {
                out.push_str(&format!(
                    "{} {}: {} of {} GPU-hours idle, {}\n",
                    r.day,
                    r.node,
                    fmt1(r.idle_gpu_hours),
                    fmt1(r.allocated_gpu_hours),
                    money(r.idle_money, c)
                ));
            }
            for n in &i.unpriced_nodes {
                out.push_str(&format!("no GPU price for node {n}\n"));
            }
            for n in &i.no_utilization_nodes {
                out.push_str(&format!("no utilisation for node {n}: its idle time is not counted\n"));
            }
            let share =
                (i.total_allocated_gpu_hours > 0.0).then(|| i.total_idle_gpu_hours / i.total_allocated_gpu_hours);
            (
                match share {
                    None => "unknown",
                    Some(s) if s > 0.5 => "warn",
                    Some(_) => "pass",
                },
                out,
            )
        }
    }
}

fn fmt1(v: f64) -> String {
    format!("{v:.1}")
}

/// A capacity step's verdict and evidence: `rightsizing`, `autoscaling`, `growth`,
/// `patterns` or `regressions`.
pub fn capacity_evidence(v: &CapacityView, part: &str, now: DateTime<Utc>) -> (&'static str, String) {
    use hsof_cost::autoscale::ScalingVerdict;
    use hsof_cost::rightsize::SizingVerdict;
    let mut out = String::new();
    let verdict = match part {
        "rightsizing" => {
            for r in &v.rightsizing {
                out.push_str(&format!(
                    "{}/{} {:?}: {:?} — {}{}\n",
                    r.workload,
                    r.container,
                    r.resource,
                    r.verdict,
                    r.reason,
                    r.monthly_saving.map(|s| format!(" (saves {s:.2} {} a month)", v.currency)).unwrap_or_default()
                ));
            }
            let known = v.rightsizing.iter().any(|r| r.verdict != SizingVerdict::NoData);
            let off = v.rightsizing.iter().any(|r| matches!(r.verdict, SizingVerdict::Over | SizingVerdict::Under));
            if !known {
                "unknown"
            } else if off {
                "warn"
            } else {
                "pass"
            }
        }
        "autoscaling" => {
            for a in &v.autoscaling {
                out.push_str(&format!("{} ({}): {:?} — {}\n", a.name, a.targets.join(", "), a.verdict, a.reason));
            }
            if v.autoscaling.is_empty() {
                out.push_str("no HorizontalPodAutoscaler in the namespace\n");
            }
            if v.autoscaling.iter().any(|a| {
                matches!(
                    a.verdict,
                    ScalingVerdict::PinnedAtMax | ScalingVerdict::Flapping | ScalingVerdict::NeverScales
                )
            }) {
                "warn"
            } else if v.autoscaling.iter().all(|a| a.verdict == ScalingVerdict::NoData) {
                "unknown"
            } else {
                "pass"
            }
        }
        "growth" => {
            let g = &v.datasets_growth;
            for w in &g.weeks {
                out.push_str(&format!("{}: {:.0} datasets\n", w.week, w.value));
            }
            out.push_str(&format!("trend: {}\n", g.method));
            if let Some(s) = g.slope_per_week {
                out.push_str(&format!("{s:+.1} datasets a week\n"));
            }
            let at_best = g.capacity_week.is_some() && g.capacity_week == g.weeks.last().map(|w| w.week.clone());
            match (&g.reaches_capacity, g.capacity) {
                (_, Some(c)) if at_best => out.push_str(&format!(
                    "demand is at the most today's GPUs have served ({c:.0}, {}): beyond it is untested\n",
                    g.capacity_week.clone().unwrap_or_default()
                )),
                (Some(t), Some(c)) => out.push_str(&format!(
                    "demand reaches the best week at today's GPUs ({c:.0}, {}) around {} (between {} and {})\n",
                    g.capacity_week.clone().unwrap_or_default(),
                    t.format("%Y-%m-%d"),
                    g.reaches_capacity_earliest.map_or("—".into(), |t| t.format("%Y-%m-%d").to_string()),
                    g.reaches_capacity_latest.map_or("later".into(), |t| t.format("%Y-%m-%d").to_string()),
                )),
                _ => out.push_str(&format!("{}\n", g.note.clone().unwrap_or_else(|| "capacity not reached".into()))),
            }
            if g.slope_per_week.is_none() {
                "unknown"
            } else if g.reaches_capacity_earliest.is_some_and(|t| (t - now).num_weeks() < 8) {
                "warn"
            } else {
                "pass"
            }
        }
        "patterns" => {
            for (name, p) in [("P95 latency (s)", &v.latency_pattern), ("datasets per hour", &v.throughput_pattern)] {
                out.push_str(&format!(
                    "{name}: peak hour {}, peak weekday {}\n  by hour: {}\n",
                    p.peak_hour.map_or("—".into(), |h| format!("{h:02}:00")),
                    p.peak_weekday.map_or("—", |d| ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d as usize % 7]),
                    p.by_hour.iter().map(|v| v.map_or("—".into(), |v| format!("{v:.2}"))).collect::<Vec<_>>().join(" ")
                ));
            }
            if v.latency_pattern.peak_hour.is_none() && v.throughput_pattern.peak_hour.is_none() {
                "unknown"
            } else {
                "pass"
            }
        }
        _ => {
            // regressions
            out.push_str(&format!("period {} against baseline {}\n", v.regression_period, v.regression_baseline));
            for r in &v.regressions {
                out.push_str(&format!("{}: {}\n", r.name, r.verdict));
            }
            if v.regressions.iter().any(|r| r.regression) {
                "fail"
            } else if v.regressions.iter().all(|r| r.baseline_mean.is_none() || r.period_mean.is_none()) {
                "unknown"
            } else {
                "pass"
            }
        }
    };
    for p in &v.problems {
        out.push_str(&format!("not read: {p}\n"));
    }
    out.push_str(&format!("source: {}\n", v.source_url));
    (verdict, out)
}

impl AppContext {
    /// One cost or capacity step of the calendar: its verdict and evidence.
    pub(crate) async fn cost_step(&self, part: &str, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        Ok(match part {
            "spend" | "per-dataset" | "idle-gpu" => cost_evidence(&self.cost_view(now).await?, part),
            _ => capacity_evidence(&self.capacity_view(now, None, None).await?, part, now),
        })
    }
}
