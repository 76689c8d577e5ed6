//! The four SLOs from raw counters, histogram buckets and gauges (no recording rules
//! assumed), with the team's recording rules shown beside when they exist.

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use hsof_monitor::prom::PromClient;
use hsof_monitor::slo::{
    budget_remaining, burn_rate, evaluate_conditions, time_to_exhaustion_secs, BurnSeverity, ConditionState, Counts,
    BURN_WINDOWS,
};
use hsof_monitor::Level;
use serde::{Deserialize, Serialize};

use super::{last_known_or, remember, rfc3339, Fresh, Freshness, Monitor};
use crate::{AppContext, Error};

/// One SLO, evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct SloStatus {
    /// `availability`, `latency`, `throughput`, `quality`.
    pub id: String,
    /// Title.
    pub name: String,
    /// What good means.
    pub description: String,
    /// Objective, e.g. 0.999.
    pub objective: f64,
    /// SLI over the SLO window.
    pub sli: Option<f64>,
    /// Error budget left over the window (1 = all, 0 = spent, negative = overspent).
    pub budget_remaining: Option<f64>,
    /// Good and total events over the window.
    pub window_counts: Option<Counts>,
    /// Burn rate per window (`5m` … `3d`).
    pub burn_rates: Vec<WindowRate>,
    /// The four multi-window conditions.
    pub conditions: Vec<ConditionState>,
    /// Seconds until the budget is gone at the 1 h burn rate.
    pub exhaustion_secs: Option<f64>,
    /// Overall level: critical when a page condition fires or the budget is spent.
    pub level: Level,
    /// The cluster's own recording rule for this budget, as a cross-check (percent).
    pub recording_rule: Option<RecordingRuleValue>,
    /// Why it could not be computed.
    pub error: Option<String>,
    /// Its panel on the HSOF SLO dashboard in Grafana; `None` without a Grafana.
    #[serde(default)]
    pub dashboard: Option<String>,
}

/// A burn rate over one window.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct WindowRate {
    /// Window, e.g. `1h`.
    pub window: String,
    /// Burn rate; `None` without traffic.
    pub rate: Option<f64>,
}

/// A recording rule's value, for comparison.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct RecordingRuleValue {
    /// Rule name.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// All SLOs.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct SloReport {
    /// Window, days.
    pub window_days: u32,
    /// The four SLOs.
    pub slos: Vec<SloStatus>,
    /// Rules the cluster's Prometheus failed to evaluate (e.g. the known-bad `max(0, …)` ones).
    pub broken_rules: Vec<String>,
    /// Source and age.
    pub freshness: Freshness,
}

const CACHE_KEY: &str = "slo";

/// PromQL for the bad and total events of an SLO over `w`.
pub(crate) fn queries(id: &str, m: &Monitor, w: &str) -> (String, String) {
    let c = &m.config;
    match id {
        "availability" => (
            format!("sum(increase(hsof_requests_total{{status=~\"5..\"}}[{w}])) or vector(0)"),
            format!("sum(increase(hsof_requests_total[{w}]))"),
        ),
        "latency" => {
            let le = format_le(c.slo.latency_threshold_secs);
            (
                format!("sum(increase(hsof_request_duration_seconds_count[{w}])) - sum(increase(hsof_request_duration_seconds_bucket{{le=~\"{le}\"}}[{w}]))"),
                format!("sum(increase(hsof_request_duration_seconds_count[{w}]))"),
            )
        }
        // Time-slice SLOs: the bad share of slices, and the number of slices.
        "throughput" => (
            format!(
                "avg_over_time((3600 * sum(rate(hsof_datasets_processed_total[1h])) < bool {})[{w}:5m])",
                c.thresholds.throughput_min_per_hour
            ),
            format!("count_over_time((3600 * sum(rate(hsof_datasets_processed_total[1h])))[{w}:5m])"),
        ),
        _ => (
            format!(
                "avg_over_time((avg(hsof_selection_quality_score) < bool {})[{w}:1m])",
                c.thresholds.selection_quality_min
            ),
            format!("count_over_time(avg(hsof_selection_quality_score)[{w}:1m])"),
        ),
    }
}

/// `le` label matcher for a bucket bound: client libraries write `30` or `30.0`.
fn format_le(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}(\\\\.0+)?")
    } else {
        format!("{v}")
    }
}

fn time_slice(id: &str) -> bool {
    matches!(id, "throughput" | "quality")
}

async fn counts(
    prom: &PromClient,
    id: &str,
    m: &Monitor,
    w: &str,
    at: DateTime<Utc>,
) -> Result<Option<Counts>, String> {
    let (bad_q, total_q) = queries(id, m, w);
    let (bad, total) = futures_util::future::join(prom.scalar(&bad_q, Some(at)), prom.scalar(&total_q, Some(at))).await;
    let (bad, total) = (bad.map_err(|e| e.to_string())?, total.map_err(|e| e.to_string())?);
    Ok(match (bad, total) {
        (Some(b), Some(t)) if time_slice(id) => Some(Counts::from_bad(b * t, t)),
        (Some(b), Some(t)) => Some(Counts::from_bad(b, t)),
        (None, Some(0.0)) => Some(Counts { good: 0.0, total: 0.0 }),
        _ => None,
    })
}

fn objective(id: &str, m: &Monitor) -> f64 {
    let s = &m.config.slo;
    match id {
        "availability" => s.availability_objective,
        "latency" => s.latency_objective,
        "throughput" => s.throughput_objective,
        _ => s.quality_objective,
    }
}

fn describe(id: &str, m: &Monitor) -> (&'static str, String) {
    let c = &m.config;
    match id {
        "availability" => ("Availability", "requests answered without a 5xx error".to_string()),
        "latency" => ("Latency", format!("requests finished under {} s", c.slo.latency_threshold_secs)),
        "throughput" => {
            ("Throughput", format!("5-minute slices at ≥ {} datasets/h", c.thresholds.throughput_min_per_hour))
        }
        _ => ("Quality", format!("1-minute slices with selection quality ≥ {}", c.thresholds.selection_quality_min)),
    }
}

const RECORDING: [(&str, &str); 4] = [
    ("availability", "hsof:availability_slo:error_budget_remaining"),
    ("latency", "hsof:latency_slo:error_budget_remaining"),
    ("throughput", "hsof:throughput_slo:error_budget_remaining"),
    ("quality", "hsof:quality_slo:error_budget_remaining"),
];

async fn evaluate(prom: &PromClient, id: &str, m: &Monitor, at: DateTime<Utc>) -> SloStatus {
    let obj = objective(id, m);
    let (name, description) = describe(id, m);
    let window = format!("{}d", m.config.slo.window_days);
    let mut jobs = vec![counts(prom, id, m, &window, at)];
    for (w, _) in BURN_WINDOWS {
        jobs.push(counts(prom, id, m, w, at));
    }
    let rule = RECORDING.iter().find(|(i, _)| *i == id).map(|(_, r)| *r).unwrap_or_default();
    let (mut results, recorded) = futures_util::future::join(join_all(jobs), prom.scalar(rule, Some(at))).await;
    let window_result = results.remove(0);
    let error =
        window_result.as_ref().err().cloned().or_else(|| results.iter().find_map(|r| r.as_ref().err().cloned()));
    let window_counts = window_result.ok().flatten();
    let burn_rates: Vec<WindowRate> = BURN_WINDOWS
        .iter()
        .zip(&results)
        .map(|((w, _), r)| WindowRate {
            window: (*w).into(),
            rate: r.as_ref().ok().and_then(|c| c.and_then(|c| c.bad_fraction())).map(|b| burn_rate(b, obj)),
        })
        .collect();
    let rate_of = |w: &str| burn_rates.iter().find(|r| r.window == w).and_then(|r| r.rate);
    let conditions = evaluate_conditions(rate_of);
    let remaining = window_counts.filter(|c| c.total > 0.0).map(|c| budget_remaining(c, obj));
    let window_secs = f64::from(m.config.slo.window_days) * 86_400.0;
    let exhaustion_secs = remaining.and_then(|r| time_to_exhaustion_secs(r, rate_of("1h").unwrap_or(0.0), window_secs));
    let level = if window_counts.is_none() && error.is_some() {
        Level::Unknown
    } else if conditions.iter().any(|c| c.firing && c.condition.severity == BurnSeverity::Page)
        || remaining.is_some_and(|r| r <= 0.0)
    {
        Level::Critical
    } else if conditions.iter().any(|c| c.firing) || remaining.is_some_and(|r| r < 0.25) {
        Level::Warning
    } else if window_counts.is_some_and(|c| c.total > 0.0) {
        Level::Healthy
    } else {
        Level::Unknown
    };
    SloStatus {
        id: id.into(),
        name: name.into(),
        description,
        objective: obj,
        sli: window_counts.and_then(|c| c.sli()),
        budget_remaining: remaining,
        window_counts,
        burn_rates,
        conditions,
        exhaustion_secs,
        level,
        recording_rule: recorded.ok().flatten().map(|value| RecordingRuleValue { name: rule.into(), value }),
        error,
        dashboard: super::grafana::slo_link(m, id),
    }
}

impl AppContext {
    /// Evaluates the four SLOs at `now`; the last report, marked stale, when Prometheus is away.
    pub async fn slo_report(&self, now: DateTime<Utc>) -> Result<SloReport, Error> {
        let m = self.monitor();
        let store = self.store()?;
        let source = format!("Prometheus {}", m.config.endpoints.prometheus_url);
        let prom = match &m.prom {
            Ok(p) => p.clone(),
            Err(e) => return stale_or_empty(self, &m, source, e.clone()),
        };
        let ids = ["availability", "latency", "throughput", "quality"];
        let (slos, rules) =
            futures_util::future::join(join_all(ids.iter().map(|id| evaluate(&prom, id, &m, now))), prom.rules()).await;
        if slos.iter().all(|s| {
            s.window_counts.is_none()
                && s.error.as_ref().is_some_and(|e| e.contains("unreachable") || e.contains("did not answer"))
        }) {
            let why = slos.iter().find_map(|s| s.error.clone()).unwrap_or_default();
            return stale_or_empty(self, &m, source, why);
        }
        let broken_rules = rules
            .map(|rs| {
                rs.into_iter()
                    .filter(|r| r.health == "err")
                    .map(|r| format!("{} ({}): {}", r.name, r.group, r.last_error.unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        let report = SloReport {
            window_days: m.config.slo.window_days,
            slos,
            broken_rules,
            freshness: Freshness { source, fetched_at: Some(rfc3339(now)), stale: false, error: None },
        };
        remember(store, &self.scoped(CACHE_KEY), &report, now)?;
        Ok(report)
    }
}

fn stale_or_empty(ctx: &AppContext, m: &Monitor, source: String, error: String) -> Result<SloReport, Error> {
    last_known_or(ctx.store()?, &ctx.scoped(CACHE_KEY), error, || SloReport {
        window_days: m.config.slo.window_days,
        slos: vec![],
        broken_rules: vec![],
        freshness: Freshness { source, fetched_at: None, stale: true, error: None },
    })
}

impl Fresh for SloReport {
    fn freshness_mut(&mut self) -> &mut Freshness {
        &mut self.freshness
    }
}

/// The SLOs by id, for a window's impact.
pub(crate) const SLO_IDS: [&str; 4] = ["availability", "latency", "throughput", "quality"];

impl AppContext {
    /// Each SLO over [start, end): bad and total events in it, the SLO window's total at
    /// its end (what the error budget is a share of), and the minutes whose 5-minute bad
    /// fraction was above the objective's allowance. What could not be read says why.
    pub(crate) async fn slo_windows(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<hsof_ops::incidents::postmortem::SloWindow> {
        let m = self.monitor();
        let secs = (end - start).num_seconds().max(60);
        let w = format!("{secs}s");
        let slo_w = format!("{}d", m.config.slo.window_days);
        let mut out = Vec::new();
        for id in SLO_IDS {
            let obj = objective(id, &m);
            let (title, _) = describe(id, &m);
            let mut win = hsof_ops::incidents::postmortem::SloWindow {
                id: id.into(),
                title: title.into(),
                objective: obj,
                slo_window_days: m.config.slo.window_days,
                bad_in_window: None,
                total_in_window: None,
                total_in_slo_window: None,
                minutes_over: None,
                error: None,
            };
            let prom = match &m.prom {
                Ok(p) => p,
                Err(e) => {
                    win.error = Some(e.clone());
                    out.push(win);
                    continue;
                }
            };
            let (inside, whole) =
                futures_util::future::join(counts(prom, id, &m, &w, end), counts(prom, id, &m, &slo_w, end)).await;
            match inside {
                Ok(Some(c)) => {
                    win.bad_in_window = Some(c.bad());
                    win.total_in_window = Some(c.total);
                }
                Ok(None) => win.error = Some("no data for the incident's window".into()),
                Err(e) => win.error = Some(e),
            }
            if let Ok(Some(c)) = whole {
                win.total_in_slo_window = Some(c.total);
            }
            let (bad_q, total_q) = queries(id, &m, "5m");
            let ratio = if time_slice(id) { format!("({bad_q})") } else { format!("({bad_q}) / ({total_q})") };
            let q = format!("{ratio} > {}", 1.0 - obj);
            let step = std::time::Duration::from_secs(60);
            match prom.range(&q, start, end, step).await {
                Ok(series) => {
                    let n: usize = series.iter().map(|s| s.points.iter().filter(|(_, v)| v.is_finite()).count()).sum();
                    win.minutes_over = Some(n as f64);
                }
                Err(e) => {
                    if win.error.is_none() {
                        win.error = Some(e.to_string());
                    }
                }
            }
            out.push(win);
        }
        out
    }
}
