//! Monitoring services: health, key metrics, alerts, SLOs, thresholds and the runbook's
//! morning and evening checks. Each call reads the clients built from the configuration,
//! stores what it learned, and falls back to the last known values, marked stale, when a
//! source is unreachable.

mod alerts;
mod charts;
mod checks;
mod grafana;
mod health;
mod metrics;
mod slo;
mod thresholds;

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use hsof_monitor::alertmanager::AlertmanagerClient;
use hsof_monitor::health::{HealthClient, HealthLimits};
use hsof_monitor::keymetrics::Targets;
use hsof_monitor::prom::PromClient;
use serde::{Deserialize, Serialize};

pub use alerts::{AlertGroup, AlertsView};
pub use charts::{ChartKind, ChartView, CHART_KINDS};
pub use checks::{CheckItem, CheckOutcome, Checklist, MorningView};
pub use health::HealthView;
pub use metrics::KeyMetricsView;
pub use slo::{SloReport, SloStatus};
pub use thresholds::ThresholdView;

use crate::config::{parse_hhmm, Config};

/// Clients and limits derived from one configuration.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub(crate) health: Result<HealthClient, String>,
    pub(crate) prom: Result<PromClient, String>,
    pub(crate) alertmanager: Result<AlertmanagerClient, String>,
    pub(crate) limits: HealthLimits,
    pub(crate) targets: Targets,
    /// The team's holidays (`team.holidays`, `team.holidays_ics`), read once per config;
    /// one that cannot be read is logged and left out (`config validate` names it).
    pub(crate) holidays: std::sync::Arc<std::collections::BTreeSet<chrono::NaiveDate>>,
    pub(crate) config: Config,
}

impl Monitor {
    /// Builds clients from `config`; a bad URL becomes that client's error, not a panic.
    /// Service references (`k8s-service://…`) need a cluster: built this way they are that
    /// client's error; [`Monitor::from_config_with`] resolves them.
    pub fn from_config(config: &Config) -> Self {
        Self::from_config_with(config, &|u: &str| {
            if u.starts_with(hsof_cluster::SERVICE_SCHEME) {
                Err(format!("{u}: a service reference is reached through the cluster, which is not connected here"))
            } else {
                Ok(u.to_string())
            }
        })
    }

    /// Builds clients from `config`, each endpoint passed through `resolve` first (a service
    /// reference becomes the service proxy forwarder's loopback URL). Sources shown to the
    /// user keep the configured value.
    pub fn from_config_with(config: &Config, resolve: &dyn Fn(&str) -> Result<String, String>) -> Self {
        let timeout = Duration::from_secs(u64::from(config.endpoints.request_timeout_secs.max(1)));
        let e = &config.endpoints;
        let h = &config.health;
        let t = &config.thresholds;
        Self {
            // A resolved reference keeps its configured name in every message and report.
            health: resolve(&e.hsof_health_url).and_then(|u| {
                let c = HealthClient::new(&u, timeout).map_err(|e| e.to_string())?;
                Ok(if u == e.hsof_health_url { c } else { c.shown_as(&e.hsof_health_url) })
            }),
            prom: resolve(&e.prometheus_url).and_then(|u| {
                let c = PromClient::new(&u, timeout).map_err(|e| e.to_string())?;
                Ok(if u == e.prometheus_url { c } else { c.shown_as(&e.prometheus_url) })
            }),
            alertmanager: resolve(&e.alertmanager_url).and_then(|u| {
                let c = AlertmanagerClient::new(&u, timeout).map_err(|e| e.to_string())?;
                Ok(if u == e.alertmanager_url { c } else { c.shown_as(&e.alertmanager_url) })
            }),
            limits: HealthLimits {
                gpu_memory_pct: (h.gpu_memory_warn_pct, h.gpu_memory_crit_pct),
                gpu_temperature_c: (h.gpu_temperature_warn_c, h.gpu_temperature_crit_c),
                model_error_rate_pct: (h.model_error_rate_warn_pct, h.model_error_rate_crit_pct),
                inference_latency_ms: (h.inference_latency_warn_ms, h.inference_latency_crit_ms),
            },
            targets: Targets {
                gpu_util_min: t.gpu_utilization_min_pct,
                gpu_util_low: t.warning.gpu_utilization_low_pct,
                gpu_temp_crit: t.critical.gpu_temperature_c,
                error_rate_max: t.error_rate_max_pct,
                error_rate_crit: t.critical.error_rate_pct,
                p95_max: t.latency_p95_max_secs,
                p95_warn: t.warning.latency_p95_secs,
                throughput_min: t.throughput_min_per_hour,
                quality_min: t.selection_quality_min,
                cpu_max: t.cpu_utilization_max_pct,
                memory_max: t.memory_utilization_max_pct,
                memory_warn: t.warning.memory_pct,
                storage_max: t.storage_max_pct,
                disk_warn: t.warning.disk_pct,
                backup_max_age_h: t.backup_max_age_hours,
                backup_failure_critical: t.critical.backup_failure,
            },
            holidays: std::sync::Arc::new(config.team.holiday_dates().unwrap_or_else(|e| {
                tracing::warn!("holidays left out: {e}");
                Default::default()
            })),
            config: config.clone(),
        }
    }

    /// True when `now` falls in the team's business hours (Monday–Friday, not a holiday).
    pub fn business_hours(&self, now: DateTime<Utc>) -> bool {
        use chrono::Datelike;
        let tz: chrono_tz::Tz = self.config.team.timezone.parse().unwrap_or(chrono_tz::UTC);
        let local = now.with_timezone(&tz);
        let minute = local.hour() * 60 + local.minute();
        let start = parse_hhmm(&self.config.team.business_hours_start).unwrap_or(9 * 60);
        let end = parse_hhmm(&self.config.team.business_hours_end).unwrap_or(18 * 60);
        local.weekday().num_days_from_monday() < 5
            && !self.holidays.contains(&local.date_naive())
            && minute >= start
            && minute < end
    }
}

/// Where a number came from and how old it is, shown beside every figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Freshness {
    /// The source, e.g. `Prometheus http://…`.
    pub source: String,
    /// When the values were fetched (RFC 3339); `None` when never.
    pub fetched_at: Option<String>,
    /// True when the source failed and these are the last known values.
    pub stale: bool,
    /// Why the source failed this time.
    pub error: Option<String>,
}

/// A view that carries its [`Freshness`], so it can be cached and served stale.
pub(crate) trait Fresh: Serialize + serde::de::DeserializeOwned {
    fn freshness_mut(&mut self) -> &mut Freshness;
}

/// Stores `view` as the last good answer under `key`.
pub(crate) fn remember<T: Fresh>(
    store: &hsof_store::Store,
    key: &str,
    view: &T,
    now: DateTime<Utc>,
) -> Result<(), crate::Error> {
    store.put_last_known(key, &serde_json::to_string(view).unwrap_or_default(), &rfc3339(now))?;
    Ok(())
}

/// The last good answer under `key` (or `empty()` when there is none), marked stale
/// because of `error`: what every monitoring view shows while its source is away.
pub(crate) fn last_known_or<T: Fresh>(
    store: &hsof_store::Store,
    key: &str,
    error: String,
    empty: impl FnOnce() -> T,
) -> Result<T, crate::Error> {
    let cached = store.last_known(key)?.and_then(|(json, _)| serde_json::from_str::<T>(&json).ok());
    let mut view = cached.unwrap_or_else(empty);
    let f = view.freshness_mut();
    f.stale = true;
    f.error = Some(error);
    Ok(view)
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
