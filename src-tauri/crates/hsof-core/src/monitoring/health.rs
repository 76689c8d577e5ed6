//! HSOF health: poll, store, and summarise downtime and uptime.

use chrono::{DateTime, Utc};
use hsof_monitor::health::{down_for_secs, uptime, ComponentHealth, EndpointResult, HealthReport, UpSample};
use hsof_monitor::Level;
use serde::Serialize;

use super::{rfc3339, Freshness};
use crate::{AppContext, Error};

/// Health as Overview and `hsofctl health` show it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct HealthView {
    /// This poll, judged.
    pub report: HealthReport,
    /// Seconds the service has been unreachable, when it is.
    pub down_for_secs: Option<f64>,
    /// Down for longer than `thresholds.critical.system_down_secs`.
    pub system_down: bool,
    /// Share of the last 24 h the service answered (from this app's polls).
    pub uptime_24h: Option<f64>,
    /// Share of the last 7 days.
    pub uptime_7d: Option<f64>,
    /// Share of the last 30 days.
    pub uptime_30d: Option<f64>,
    /// Source and age.
    pub freshness: Freshness,
}

impl AppContext {
    /// Polls the four health endpoints once, stores the result and summarises availability.
    pub async fn health_check(&self, now: impl Fn() -> DateTime<Utc>) -> Result<HealthView, Error> {
        let m = self.monitor();
        let base = m.config.endpoints.hsof_health_url.clone();
        let report = match &m.health {
            Ok(c) => c.check(&m.limits, &now).await,
            Err(e) => unconfigured(&base, now(), e),
        };
        let t = now();
        let ts = t.timestamp();
        let store = self.store()?;
        if m.health.is_ok() {
            let json = serde_json::to_string(&report).unwrap_or_default();
            store.insert_health(
                self.current_cluster().scope(),
                ts,
                report.reachable,
                &format!("{:?}", report.overall).to_uppercase(),
                &json,
            )?;
        }
        let samples: Vec<UpSample> = store
            .health_up_since(self.current_cluster().scope(), ts - 30 * 86_400)?
            .into_iter()
            .map(|(ts, up)| UpSample { ts, up })
            .collect();
        let poll = i64::from(m.config.endpoints.poll_interval_secs.max(5));
        let down = down_for_secs(&samples, ts);
        let limit = i64::from(m.config.thresholds.critical.system_down_secs);
        Ok(HealthView {
            down_for_secs: down.map(|d| d as f64),
            system_down: down.is_some_and(|d| d > limit),
            uptime_24h: uptime(&samples, ts, 86_400, 3 * poll),
            uptime_7d: uptime(&samples, ts, 7 * 86_400, 3 * poll),
            uptime_30d: uptime(&samples, ts, 30 * 86_400, 3 * poll),
            freshness: Freshness {
                source: format!("HSOF {base}"),
                fetched_at: Some(rfc3339(t)),
                stale: !report.reachable,
                error: report.endpoints.iter().find_map(|e| e.error.clone()),
            },
            report,
        })
    }
}

fn unconfigured(base: &str, now: DateTime<Utc>, why: &str) -> HealthReport {
    let c = |name: &str| ComponentHealth { name: name.into(), level: Level::Unknown, reason: why.into() };
    HealthReport {
        checked_at: rfc3339(now),
        base_url: base.into(),
        reachable: false,
        overall: Level::Unknown,
        components: vec![c("service"), c("gpu"), c("model"), c("pipeline")],
        endpoints: vec![EndpointResult {
            path: "/health".into(),
            http_status: None,
            latency_ms: 0.0,
            error: Some(why.into()),
        }],
        gpu: None,
        model: None,
        pipeline: None,
    }
}
