//! The runbook's key metrics and how each value is graded against its target (pure).

use serde::{Deserialize, Serialize};

use crate::Level;

/// Targets and thresholds, mapped from the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Targets {
    /// GPU utilisation target (business hours), warning below, %.
    pub gpu_util_min: f64,
    /// GPU utilisation low warning, %.
    pub gpu_util_low: f64,
    /// GPU temperature critical, °C.
    pub gpu_temp_crit: f64,
    /// Error rate target, %.
    pub error_rate_max: f64,
    /// Error rate critical, %.
    pub error_rate_crit: f64,
    /// Latency P95 target, s.
    pub p95_max: f64,
    /// Latency P95 warning, s.
    pub p95_warn: f64,
    /// Throughput target, datasets / h.
    pub throughput_min: f64,
    /// Quality target.
    pub quality_min: f64,
    /// CPU target, %.
    pub cpu_max: f64,
    /// Memory target, %.
    pub memory_max: f64,
    /// Memory warning, %.
    pub memory_warn: f64,
    /// Storage target, %.
    pub storage_max: f64,
    /// Disk warning, %.
    pub disk_warn: f64,
    /// Backup older than this is a warning, hours.
    pub backup_max_age_h: f64,
    /// A failed backup is critical (pages); otherwise it is a warning.
    pub backup_failure_critical: bool,
}

/// One key metric, graded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct KeyMetric {
    /// Stable id (the config key under `[metrics]`).
    pub id: String,
    /// Label.
    pub label: String,
    /// Unit shown after the value.
    pub unit: String,
    /// The value; `None` when the query returned nothing.
    pub value: Option<f64>,
    /// Graded level.
    pub level: Level,
    /// The target as people read it, e.g. `< 0.1 % (critical > 1 %)`.
    pub target: String,
    /// The PromQL used.
    pub query: String,
    /// Why there is no value, when there is none.
    pub error: Option<String>,
    /// The query graphed in Grafana Explore over the last 6 h (`endpoints.grafana_url`);
    /// `None` when no Grafana is configured.
    #[serde(default)]
    pub grafana: Option<String>,
    /// Its panel on the HSOF dashboards in Grafana; `None` without a Grafana.
    #[serde(default)]
    pub dashboard: Option<String>,
}

impl KeyMetric {
    /// The value as people read it: backup age in hours, others with their unit.
    pub fn display_value(&self) -> String {
        match self.value {
            Some(v) if self.id == "backup_age_secs" => format!("{:.1} h ago", v / 3600.0),
            Some(v) if self.unit.is_empty() => format!("{v:.3}"),
            Some(v) => format!("{v:.2} {}", self.unit),
            None => "no data".into(),
        }
    }
}

/// `(id, label, unit)` of every key metric, in display order.
pub const KEY_METRICS: [(&str, &str, &str); 11] = [
    ("gpu_utilization_pct", "GPU utilisation", "%"),
    ("gpu_temperature_c", "GPU temperature", "°C"),
    ("error_rate_pct", "Error rate", "%"),
    ("latency_p95_secs", "Latency P95", "s"),
    ("throughput_per_hour", "Throughput", "datasets/h"),
    ("selection_quality", "Selection quality", ""),
    ("cpu_pct", "CPU", "%"),
    ("memory_pct", "Memory", "%"),
    ("storage_pct", "Storage", "%"),
    ("backup_age_secs", "Last backup", "s ago"),
    ("backup_failures_1d", "Backup failures (24 h)", ""),
];

fn above(v: f64, warn: f64, crit: Option<f64>) -> Level {
    match crit {
        Some(c) if v > c => Level::Critical,
        _ if v > warn => Level::Warning,
        _ => Level::Healthy,
    }
}

/// Grades `value` of metric `id`, returning the level and the target text.
/// `business_hours` matters for GPU utilisation, whose target only holds then.
pub fn grade(id: &str, value: Option<f64>, t: &Targets, business_hours: bool) -> (Level, String) {
    let target = match id {
        "gpu_utilization_pct" => format!("> {} % in business hours (warning < {} %)", t.gpu_util_min, t.gpu_util_low),
        "gpu_temperature_c" => format!("critical > {} °C", t.gpu_temp_crit),
        "error_rate_pct" => format!("< {} % (critical > {} %)", t.error_rate_max, t.error_rate_crit),
        "latency_p95_secs" => format!("< {} s (warning > {} s)", t.p95_max, t.p95_warn),
        "throughput_per_hour" => format!("> {} datasets/h", t.throughput_min),
        "selection_quality" => format!("> {}", t.quality_min),
        "cpu_pct" => format!("< {} % average", t.cpu_max),
        "memory_pct" => format!("< {} % (warning > {} %)", t.memory_max, t.memory_warn),
        "storage_pct" => format!("< {} % (warning > {} %)", t.storage_max, t.disk_warn),
        "backup_age_secs" => format!("< {} h", t.backup_max_age_h),
        "backup_failures_1d" if t.backup_failure_critical => "0 (critical on any failure)".to_string(),
        "backup_failures_1d" => "0 (warning on any failure)".to_string(),
        _ => String::new(),
    };
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return (Level::Unknown, target);
    };
    let level = match id {
        "gpu_utilization_pct" if v < t.gpu_util_low => Level::Warning,
        "gpu_utilization_pct" if business_hours && v < t.gpu_util_min => Level::Warning,
        "gpu_utilization_pct" => Level::Healthy,
        "gpu_temperature_c" => above(v, f64::INFINITY, Some(t.gpu_temp_crit)),
        "error_rate_pct" => above(v, t.error_rate_max, Some(t.error_rate_crit)),
        "latency_p95_secs" => above(v, t.p95_warn, None),
        "throughput_per_hour" | "selection_quality" => {
            let min = if id == "throughput_per_hour" { t.throughput_min } else { t.quality_min };
            if v < min {
                Level::Warning
            } else {
                Level::Healthy
            }
        }
        "cpu_pct" => above(v, t.cpu_max, None),
        "memory_pct" => above(v, t.memory_warn.min(t.memory_max), None),
        "storage_pct" => above(v, t.storage_max.min(t.disk_warn), None),
        "backup_age_secs" => above(v / 3600.0, t.backup_max_age_h, None),
        "backup_failures_1d" => above(v, 0.0, t.backup_failure_critical.then_some(0.0)),
        _ => Level::Unknown,
    };
    (level, target)
}
