//! Which panel of the HSOF deployment's Grafana dashboards shows what the app shows: panel
//! ids as in the reference `grafana-dashboards.json` (production) and `slo-dashboard.json`.

use hsof_monitor::grafana::{dashboard_url, Dashboard};

use super::charts::ChartKind;
use super::Monitor;

/// The dashboard link for `panel`, over `range`, when `endpoints.grafana_url` is set.
fn link(m: &Monitor, (dashboard, panel): (Dashboard, u32), range: &str) -> Option<String> {
    let e = &m.config.endpoints;
    let uid = match dashboard {
        Dashboard::Production => &e.grafana_production_uid,
        Dashboard::Slo => &e.grafana_slo_uid,
    };
    dashboard_url(&e.grafana_url, uid, dashboard, Some(panel), range)
}

/// The panel that shows the same as `kind`.
pub(crate) fn chart_panel(kind: ChartKind) -> (Dashboard, u32) {
    match kind {
        ChartKind::AvailabilitySli => (Dashboard::Slo, 1),
        ChartKind::BudgetBurndown => (Dashboard::Slo, 2),
        ChartKind::BurnRates => (Dashboard::Slo, 5),
        ChartKind::Throughput => (Dashboard::Slo, 6),
        ChartKind::LatencyP95 => (Dashboard::Slo, 8),
        ChartKind::ErrorRate => (Dashboard::Slo, 9),
        ChartKind::GpuUtilization => (Dashboard::Production, 1),
        ChartKind::GpuTemperature => (Dashboard::Production, 6),
    }
}

/// The panel for an SLO (`availability`, `latency`, `throughput`, `quality`).
fn slo_panel(id: &str) -> Option<(Dashboard, u32)> {
    Some(match id {
        "availability" => (Dashboard::Slo, 1),
        "latency" => (Dashboard::Slo, 3),
        "throughput" => (Dashboard::Slo, 6),
        "quality" => (Dashboard::Slo, 7),
        _ => return None,
    })
}

/// The panel for a key metric (its `[metrics]` key).
fn metric_panel(id: &str) -> Option<(Dashboard, u32)> {
    Some(match id {
        "gpu_utilization_pct" => (Dashboard::Production, 1),
        "gpu_temperature_c" => (Dashboard::Production, 6),
        "error_rate_pct" => (Dashboard::Production, 12),
        "latency_p95_secs" => (Dashboard::Slo, 8),
        "throughput_per_hour" => (Dashboard::Slo, 6),
        "selection_quality" => (Dashboard::Production, 4),
        "cpu_pct" | "memory_pct" => (Dashboard::Production, 9),
        "backup_age_secs" | "backup_failures_1d" => (Dashboard::Production, 11),
        _ => return None,
    })
}

pub(crate) fn chart_link(m: &Monitor, kind: ChartKind, range: &str) -> Option<String> {
    link(m, chart_panel(kind), range)
}

pub(crate) fn slo_link(m: &Monitor, id: &str) -> Option<String> {
    slo_panel(id).and_then(|p| link(m, p, &format!("{}d", m.config.slo.window_days)))
}

pub(crate) fn metric_link(m: &Monitor, id: &str) -> Option<String> {
    metric_panel(id).and_then(|p| link(m, p, "6h"))
}
