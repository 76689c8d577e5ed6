//! The runbook's key metrics from Prometheus, cached for when Prometheus is away.

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use hsof_monitor::keymetrics::{grade, KeyMetric, KEY_METRICS};
use serde::{Deserialize, Serialize};

use super::{last_known_or, remember, rfc3339, Fresh, Freshness, Monitor};
use crate::{AppContext, Error};

/// Key metrics with their source and age.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct KeyMetricsView {
    /// Each metric graded against its target.
    pub metrics: Vec<KeyMetric>,
    /// Source and age.
    pub freshness: Freshness,
}

pub(crate) const CACHE_KEY: &str = "key_metrics";

impl Fresh for KeyMetricsView {
    fn freshness_mut(&mut self) -> &mut Freshness {
        &mut self.freshness
    }
}

impl AppContext {
    /// Queries every key metric; when Prometheus cannot be reached, returns the last known
    /// values marked stale (or an empty, stale view if there are none yet).
    pub async fn key_metrics(&self, now: DateTime<Utc>) -> Result<KeyMetricsView, Error> {
        let m = self.monitor();
        let store = self.store()?;
        let source = format!("Prometheus {}", m.config.endpoints.prometheus_url);
        let fresh = match &m.prom {
            Ok(prom) => query_all(&m, prom, now).await,
            Err(e) => Err(e.clone()),
        };
        match fresh {
            Ok(metrics) => {
                let ts = now.timestamp();
                for k in metrics.iter().filter(|k| k.value.is_some()) {
                    let id = store.series_id(&self.scoped(&format!("metric.{}", k.id)))?;
                    store.insert_samples(id, &[(ts, k.value.unwrap_or(f64::NAN))])?;
                }
                let view = KeyMetricsView {
                    metrics,
                    freshness: Freshness { source, fetched_at: Some(rfc3339(now)), stale: false, error: None },
                };
                remember(store, &self.scoped(CACHE_KEY), &view, now)?;
                Ok(view)
            }
            Err(error) => last_known_or(store, &self.scoped(CACHE_KEY), error.clone(), || KeyMetricsView {
                metrics: KEY_METRICS
                    .iter()
                    .map(|(id, label, unit)| {
                        let (level, target) = grade(id, None, &m.targets, m.business_hours(now));
                        KeyMetric {
                            id: (*id).into(),
                            label: (*label).into(),
                            unit: (*unit).into(),
                            value: None,
                            level,
                            target,
                            query: query_for(&m, id).into(),
                            error: Some(error.clone()),
                            grafana: grafana_link(&m, id),
                            dashboard: super::grafana::metric_link(&m, id),
                        }
                    })
                    .collect(),
                freshness: Freshness { source, fetched_at: None, stale: true, error: None },
            }),
        }
    }
}

/// The metric's query in Grafana Explore, when `endpoints.grafana_url` is set.
pub(crate) fn grafana_link(m: &Monitor, id: &str) -> Option<String> {
    hsof_monitor::grafana::explore_url(&m.config.endpoints.grafana_url, query_for(m, id), "6h")
}

pub(crate) fn query_for<'a>(m: &'a Monitor, id: &str) -> &'a str {
    let q = &m.config.metrics;
    match id {
        "gpu_utilization_pct" => &q.gpu_utilization_pct,
        "gpu_temperature_c" => &q.gpu_temperature_c,
        "error_rate_pct" => &q.error_rate_pct,
        "latency_p95_secs" => &q.latency_p95_secs,
        "throughput_per_hour" => &q.throughput_per_hour,
        "selection_quality" => &q.selection_quality,
        "cpu_pct" => &q.cpu_pct,
        "memory_pct" => &q.memory_pct,
        "storage_pct" => &q.storage_pct,
        "backup_age_secs" => &q.backup_age_secs,
        "backup_failures_1d" => &q.backup_failures_1d,
        _ => "",
    }
}

/// All metrics at once. Fails only when Prometheus itself is unreachable; a query that
/// errors or returns nothing gives that metric an error and no value.
async fn query_all(
    m: &Monitor,
    prom: &hsof_monitor::prom::PromClient,
    now: DateTime<Utc>,
) -> Result<Vec<KeyMetric>, String> {
    let answers = join_all(KEY_METRICS.iter().map(|(id, _, _)| prom.scalar(query_for(m, id), Some(now)))).await;
    if answers.iter().all(|a| matches!(a, Err(e) if e.is_unavailable())) {
        if let Some(Err(e)) = answers.into_iter().next() {
            return Err(e.to_string());
        }
        return Err("Prometheus gave no answer".into());
    }
    let business = m.business_hours(now);
    Ok(KEY_METRICS
        .iter()
        .zip(answers)
        .map(|((id, label, unit), answer)| {
            let (value, error) = match answer {
                Ok(Some(v)) => (Some(v), None),
                Ok(None) => (None, Some("no data: the query returned no series".to_string())),
                Err(e) => (None, Some(e.to_string())),
            };
            let (level, target) = grade(id, value, &m.targets, business);
            KeyMetric {
                id: (*id).into(),
                label: (*label).into(),
                unit: (*unit).into(),
                value,
                level,
                target,
                query: query_for(m, id).into(),
                error,
                grafana: grafana_link(m, id),
                dashboard: super::grafana::metric_link(m, id),
            }
        })
        .collect())
}
