//! Charts: each line is backfilled from a Prometheus range query into the local series
//! store, then read back downsampled in SQL, so a chart still draws (marked stale) when
//! Prometheus is away and a 30-day range reads a few hundred rows.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_charts::{palette, render_svg, Chart, Guide, Line};
use serde::{Deserialize, Serialize};

use super::metrics::query_for;
use super::{rfc3339, Freshness, Monitor};
use crate::{AppContext, Error};

/// Which chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Availability SLI (rolling 1 h) against the objective.
    AvailabilitySli,
    /// Availability error budget left over the SLO window, with the ideal line.
    BudgetBurndown,
    /// Availability burn rates over 1 h, 6 h and 1 d against the page/ticket factors.
    BurnRates,
    /// Latency P95 against the warning and target.
    LatencyP95,
    /// Datasets per hour against the target.
    Throughput,
    /// Error rate against the target and critical threshold.
    ErrorRate,
    /// GPU utilisation against the target and low warning.
    GpuUtilization,
    /// GPU temperature against the critical threshold.
    GpuTemperature,
}

/// Every chart, in the order screens show them.
pub const CHART_KINDS: [ChartKind; 8] = [
    ChartKind::AvailabilitySli,
    ChartKind::BudgetBurndown,
    ChartKind::BurnRates,
    ChartKind::LatencyP95,
    ChartKind::Throughput,
    ChartKind::ErrorRate,
    ChartKind::GpuUtilization,
    ChartKind::GpuTemperature,
];

/// A drawn chart.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ChartView {
    /// Which.
    pub kind: ChartKind,
    /// The SVG document.
    pub svg: String,
    /// Points drawn, over all lines.
    pub points: u32,
    /// Source and age.
    pub freshness: Freshness,
    /// The matching panel on the HSOF dashboards in Grafana; `None` without a Grafana.
    pub grafana: Option<String>,
}

struct LineSpec {
    name: String,
    series: String,
    promql: Option<String>,
    color: &'static str,
    dashed: bool,
}

fn spec(kind: ChartKind, m: &Monitor) -> (String, String, Vec<LineSpec>, Vec<Guide>) {
    let c = &m.config;
    let obj = c.slo.availability_objective;
    let bad = "sum(increase(hsof_requests_total{status=~\"5..\"}[W])) or vector(0)";
    let total = "sum(increase(hsof_requests_total[W]))";
    let ratio = |w: &str| format!("(({}) / {})", bad.replace('W', w), total.replace('W', w));
    let line = |name: &str, series: &str, promql: Option<String>, color, dashed| LineSpec {
        name: name.into(),
        series: series.into(),
        promql,
        color,
        dashed,
    };
    let guide = |name: String, value: f64, color: &str| Guide { name, value, color: color.into() };
    let metric = |id: &str| Some(query_for(m, id).to_string());
    match kind {
        ChartKind::AvailabilitySli => (
            "Availability SLI (rolling 1 h)".into(),
            "% good".into(),
            vec![line(
                "SLI",
                "chart.availability_sli",
                Some(format!("100 * (1 - {})", ratio("1h"))),
                palette::ACCENT,
                false,
            )],
            vec![guide(format!("objective {} %", obj * 100.0), obj * 100.0, palette::WARN)],
        ),
        ChartKind::BudgetBurndown => {
            let w = format!("{}d", c.slo.window_days);
            (
                format!("Availability error budget left ({w} window)"),
                "% of budget".into(),
                vec![line(
                    "budget left",
                    "chart.budget_left",
                    Some(format!("100 * (1 - {} / (1 - {obj}))", ratio(&w))),
                    palette::ACCENT,
                    false,
                )],
                vec![guide("spent".into(), 0.0, palette::CRIT)],
            )
        }
        ChartKind::BurnRates => (
            "Availability burn rate".into(),
            "× budget".into(),
            vec![
                line("1 h", "chart.burn_1h", Some(format!("{} / (1 - {obj})", ratio("1h"))), palette::CRIT, false),
                line("6 h", "chart.burn_6h", Some(format!("{} / (1 - {obj})", ratio("6h"))), palette::WARN, false),
                line("1 d", "chart.burn_1d", Some(format!("{} / (1 - {obj})", ratio("1d"))), palette::ACCENT, false),
            ],
            vec![
                guide("page 14.4×".into(), 14.4, palette::CRIT),
                guide("page 6×".into(), 6.0, palette::WARN),
                guide("1× = on budget".into(), 1.0, palette::MUTED),
            ],
        ),
        ChartKind::LatencyP95 => (
            "Request latency P95".into(),
            "seconds".into(),
            vec![line("P95", "metric.latency_p95_secs", metric("latency_p95_secs"), palette::ACCENT, false)],
            vec![
                guide(
                    format!("target {} s", c.thresholds.latency_p95_max_secs),
                    c.thresholds.latency_p95_max_secs,
                    palette::CRIT,
                ),
                guide(
                    format!("warning {} s", c.thresholds.warning.latency_p95_secs),
                    c.thresholds.warning.latency_p95_secs,
                    palette::WARN,
                ),
            ],
        ),
        ChartKind::Throughput => (
            "Throughput".into(),
            "datasets / hour".into(),
            vec![line(
                "datasets/h",
                "metric.throughput_per_hour",
                metric("throughput_per_hour"),
                palette::ACCENT,
                false,
            )],
            vec![guide(
                format!("target {}", c.thresholds.throughput_min_per_hour),
                c.thresholds.throughput_min_per_hour,
                palette::WARN,
            )],
        ),
        ChartKind::ErrorRate => (
            "Error rate".into(),
            "% of requests".into(),
            vec![line("errors", "metric.error_rate_pct", metric("error_rate_pct"), palette::ACCENT, false)],
            vec![
                guide(
                    format!("target {} %", c.thresholds.error_rate_max_pct),
                    c.thresholds.error_rate_max_pct,
                    palette::WARN,
                ),
                guide(
                    format!("critical {} %", c.thresholds.critical.error_rate_pct),
                    c.thresholds.critical.error_rate_pct,
                    palette::CRIT,
                ),
            ],
        ),
        ChartKind::GpuUtilization => (
            "GPU utilisation".into(),
            "%".into(),
            vec![line(
                "utilisation",
                "metric.gpu_utilization_pct",
                metric("gpu_utilization_pct"),
                palette::ACCENT,
                false,
            )],
            vec![
                guide(
                    format!("target {} %", c.thresholds.gpu_utilization_min_pct),
                    c.thresholds.gpu_utilization_min_pct,
                    palette::OK,
                ),
                guide(
                    format!("low {} %", c.thresholds.warning.gpu_utilization_low_pct),
                    c.thresholds.warning.gpu_utilization_low_pct,
                    palette::WARN,
                ),
            ],
        ),
        ChartKind::GpuTemperature => (
            "GPU temperature (hottest)".into(),
            "°C".into(),
            vec![line("temperature", "metric.gpu_temperature_c", metric("gpu_temperature_c"), palette::ACCENT, false)],
            vec![guide(
                format!("critical {} °C", c.thresholds.critical.gpu_temperature_c),
                c.thresholds.critical.gpu_temperature_c,
                palette::CRIT,
            )],
        ),
    }
}

impl AppContext {
    /// Draws `kind` over the last `range_secs` (1 h to 30 d) at `now`.
    pub async fn chart(
        &self,
        kind: ChartKind,
        range_secs: u32,
        dark: bool,
        now: DateTime<Utc>,
    ) -> Result<ChartView, Error> {
        let range = i64::from(range_secs.clamp(3600, 30 * 86_400));
        let m = self.monitor();
        let store = self.store()?;
        let (title, y_label, specs, guides) = spec(kind, &m);
        let (from, to) = (now.timestamp() - range, now.timestamp());
        let bucket = (range / 300).max(15);
        let mut error = None;
        let mut lines = Vec::new();
        for s in specs {
            let id = store.series_id(&self.scoped(&s.series))?;
            if let (Ok(prom), Some(q)) = (&m.prom, &s.promql) {
                let start = DateTime::<Utc>::from_timestamp(from, 0).unwrap_or(now);
                match prom.range(q, start, now, Duration::from_secs(bucket as u64)).await {
                    Ok(series) => {
                        let pts: Vec<(i64, f64)> = series
                            .into_iter()
                            .next()
                            .map(|s| s.points.into_iter().map(|(t, v)| (t as i64, v)).collect())
                            .unwrap_or_default();
                        store.insert_samples(id, &pts)?;
                    }
                    Err(e) => error = Some(e.to_string()),
                }
            }
            let points = store.downsample(id, from, to, bucket)?.into_iter().map(|b| (b.ts, b.avg)).collect();
            lines.push(Line { name: s.name, points, color: s.color.into(), dashed: s.dashed });
        }
        if kind == ChartKind::BudgetBurndown {
            // The ideal: a budget spent evenly reaches 0 % at the end of the window.
            let w = f64::from(m.config.slo.window_days) * 86_400.0;
            let ideal = |t: i64| 100.0 * (1.0 - ((t - from) as f64 / w).min(1.0));
            lines.push(Line {
                name: "ideal (even spend)".into(),
                points: vec![(from as f64, ideal(from)), (to as f64, ideal(to))],
                color: palette::OK.into(),
                dashed: true,
            });
        }
        let points = lines.iter().map(|l| l.points.len() as u32).sum();
        let svg = render_svg(&Chart { title, y_label, lines, guides, y_range: None, width: 640, height: 240, dark })
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let source = match &m.prom {
            Ok(_) => format!("Prometheus {} → local store", m.config.endpoints.prometheus_url),
            Err(_) => "local store".into(),
        };
        Ok(ChartView {
            kind,
            svg,
            points,
            freshness: Freshness {
                source,
                fetched_at: Some(rfc3339(now)),
                stale: error.is_some() || m.prom.is_err(),
                error,
            },
            grafana: super::grafana::chart_link(&m, kind, &format!("{range}s")),
        })
    }
}
