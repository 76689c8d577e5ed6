//! HSOF's health endpoints: fetch all four, judge each component, and summarise
//! availability from stored samples.

mod eval;
pub mod model;
mod uptime;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use eval::{
    gpu_component, model_component, pipeline_component, service_component, ComponentHealth, HealthLimits, Parsed,
};
pub use uptime::{down_for_secs, uptime, UpSample};

use crate::http::Endpoint;
use crate::{Level, MonitorError};
use model::{GpuHealth, ModelHealth, OverallHealth, PipelineHealth};

/// What one endpoint answered.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct EndpointResult {
    /// Path, e.g. `/health/gpu`.
    pub path: String,
    /// HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// Round trip, ms.
    pub latency_ms: f64,
    /// Why it gave nothing usable (unreachable, timeout, HTTP error, parse error).
    pub error: Option<String>,
}

/// One poll of all four endpoints, judged.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct HealthReport {
    /// When the poll finished (RFC 3339).
    pub checked_at: String,
    /// Base URL polled.
    pub base_url: String,
    /// True when `/health` gave a readable answer (a 503 with a body counts: the service
    /// is up and says what is wrong). Feeds "system down" and uptime.
    pub reachable: bool,
    /// Worst component level.
    pub overall: Level,
    /// Service, GPU, model, pipeline.
    pub components: Vec<ComponentHealth>,
    /// Each endpoint's answer.
    pub endpoints: Vec<EndpointResult>,
    /// GPU readings, when `/health/gpu` answered.
    pub gpu: Option<GpuHealth>,
    /// Model state, when `/health/model` answered.
    pub model: Option<ModelHealth>,
    /// Pipeline state, when `/health/pipeline` answered.
    pub pipeline: Option<PipelineHealth>,
}

/// Client of HSOF's health endpoints.
#[derive(Debug, Clone)]
pub struct HealthClient {
    ep: Endpoint,
}

impl HealthClient {
    /// A client for the service at `base` (e.g. `https://hsof.company.com`).
    pub fn new(base: &str, timeout: Duration) -> Result<Self, MonitorError> {
        Ok(Self { ep: Endpoint::new("HSOF health", base, timeout)? })
    }

    /// Reports and messages name the service `shown` (the configured `k8s-service://…`).
    pub fn shown_as(mut self, shown: &str) -> Self {
        self.ep.shown = Some(shown.to_string());
        self
    }

    async fn fetch<T: serde::de::DeserializeOwned>(&self, path: &str) -> (EndpointResult, Parsed<T>) {
        let url = self.ep.url(path);
        // The client first (built on the first request), so that the latency is the server's.
        let client = self.ep.http();
        let start = Instant::now();
        let sent = match client {
            Ok(c) => self.ep.send(&url, c.get(url.clone())).await,
            Err(e) => Err(e),
        };
        let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
        let (http_status, parsed) = match sent {
            Err(e) => (None, Err(e.to_string())),
            // HSOF answers 503 with a body when unhealthy: judge the body if it parses.
            Ok((status, body, _)) => match serde_json::from_str::<T>(&body) {
                Ok(v) => (Some(status), Ok(v)),
                Err(_) if status >= 400 => {
                    (Some(status), Err(format!("HTTP {status}: {}", body.chars().take(120).collect::<String>())))
                }
                Err(e) => (Some(status), Err(format!("malformed JSON from {path}: {e}"))),
            },
        };
        let error = parsed.as_ref().err().cloned();
        (EndpointResult { path: format!("/{path}"), http_status, latency_ms, error }, parsed)
    }

    /// Polls the four endpoints concurrently and judges them at `now`.
    pub async fn check(&self, limits: &HealthLimits, now: impl FnOnce() -> DateTime<Utc>) -> HealthReport {
        let (o, g, m, p) = tokio::join!(
            self.fetch::<OverallHealth>("health"),
            self.fetch::<GpuHealth>("health/gpu"),
            self.fetch::<ModelHealth>("health/model"),
            self.fetch::<PipelineHealth>("health/pipeline"),
        );
        let base = self.ep.shown.clone().unwrap_or_else(|| self.ep.base.to_string());
        judge(&base, now(), o, g, m, p, limits)
    }
}

/// Judges the four answers (pure: everything is an argument).
pub fn judge(
    base_url: &str,
    now: DateTime<Utc>,
    overall: (EndpointResult, Parsed<OverallHealth>),
    gpu: (EndpointResult, Parsed<GpuHealth>),
    model: (EndpointResult, Parsed<ModelHealth>),
    pipeline: (EndpointResult, Parsed<PipelineHealth>),
    limits: &HealthLimits,
) -> HealthReport {
    let reachable = overall.1.is_ok();
    let mut components = vec![
        service_component(&overall.1),
        gpu_component(&gpu.1, limits),
        model_component(&model.1, limits),
        pipeline_component(&pipeline.1),
    ];
    if !reachable {
        // No health document: the service is down and its components cannot be judged.
        components[0] = ComponentHealth {
            name: "service".into(),
            level: Level::Critical,
            reason: overall.0.error.clone().unwrap_or_else(|| "no answer".into()),
        };
        for c in components.iter_mut().skip(1).filter(|c| c.level == Level::Unknown) {
            c.reason = "not judged: the service did not answer".into();
        }
    }
    let overall_level = components.iter().map(|c| c.level).max().unwrap_or(Level::Unknown);
    HealthReport {
        checked_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        base_url: base_url.to_string(),
        reachable,
        overall: overall_level,
        components,
        endpoints: vec![overall.0, gpu.0, model.0, pipeline.0],
        gpu: gpu.1.ok(),
        model: model.1.ok(),
        pipeline: pipeline.1.ok(),
    }
}
