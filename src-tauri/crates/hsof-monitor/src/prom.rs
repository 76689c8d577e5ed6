//! Prometheus HTTP API v1: instant and range queries, rules, with timeouts.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::http::Endpoint;
use crate::MonitorError;

/// One value of one series at one time.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Sample {
    /// Series labels.
    pub labels: BTreeMap<String, String>,
    /// Unix seconds.
    pub ts: f64,
    /// Value (`NaN` and infinities included, as Prometheus sends them).
    pub value: f64,
}

/// One series over a range.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Series {
    /// Series labels.
    pub labels: BTreeMap<String, String>,
    /// `(unix seconds, value)` in time order.
    pub points: Vec<(f64, f64)>,
}

/// A rule as `/api/v1/rules` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct RuleStatus {
    /// Group name.
    pub group: String,
    /// Record or alert name.
    pub name: String,
    /// `recording` or `alerting`.
    pub kind: String,
    /// `ok`, `err` or `unknown`.
    pub health: String,
    /// The last evaluation error, if any.
    pub last_error: Option<String>,
}

/// A Prometheus server.
#[derive(Debug, Clone)]
pub struct PromClient {
    ep: Endpoint,
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum QueryData {
    Vector(Vec<VectorItem>),
    Matrix(Vec<MatrixItem>),
    Scalar((f64, String)),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct VectorItem {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

#[derive(Deserialize)]
struct MatrixItem {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct RulesData {
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
struct RuleGroup {
    name: String,
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
struct RawRule {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    health: String,
    #[serde(rename = "lastError", default)]
    last_error: Option<String>,
}

fn parse_value(s: &str) -> f64 {
    match s {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or(f64::NAN),
    }
}

impl PromClient {
    /// A client for the server at `base` (e.g. `http://prometheus:9090`).
    pub fn new(base: &str, timeout: Duration) -> Result<Self, MonitorError> {
        Ok(Self { ep: Endpoint::new("Prometheus", base, timeout)? })
    }

    /// Messages name the server `shown` (the configured `k8s-service://…`) instead of its base.
    pub fn shown_as(mut self, shown: &str) -> Self {
        self.ep.shown = Some(shown.to_string());
        self
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<(T, Option<String>), MonitorError> {
        let url = self.ep.url(path);
        let (status, body, date) = self.ep.send(&url, self.ep.http()?.get(url.clone()).query(params)).await?;
        // Prometheus answers 400/422/503 with a JSON error envelope worth showing.
        let env: Envelope<T> = match self.ep.decode(&url, &body) {
            Ok(e) => e,
            Err(_) if status >= 400 => return Err(self.ep.http_error(&url, status, &body)),
            Err(e) => return Err(e),
        };
        if env.status != "success" {
            let message = format!("{}: {}", env.error_type.unwrap_or_default(), env.error.unwrap_or_default());
            return Err(MonitorError::Api { service: "Prometheus", message });
        }
        let data = env.data.ok_or_else(|| MonitorError::Malformed {
            service: "Prometheus",
            url: self.ep.show(&url),
            message: "no data".into(),
        })?;
        Ok((data, date))
    }

    /// Evaluates `query` at `at` (server time when `None`). A scalar comes back as one
    /// sample without labels.
    pub async fn instant(&self, query: &str, at: Option<DateTime<Utc>>) -> Result<Vec<Sample>, MonitorError> {
        let mut params = vec![("query", query.to_string())];
        if let Some(t) = at {
            params.push(("time", format!("{:.3}", t.timestamp_millis() as f64 / 1000.0)));
        }
        let (data, _) = self.get::<QueryData>("api/v1/query", &params).await?;
        Ok(match data {
            QueryData::Vector(v) => v
                .into_iter()
                .map(|i| Sample { labels: i.metric, ts: i.value.0, value: parse_value(&i.value.1) })
                .collect(),
            QueryData::Scalar((ts, v)) => vec![Sample { labels: BTreeMap::new(), ts, value: parse_value(&v) }],
            QueryData::Matrix(m) => m
                .into_iter()
                .filter_map(|i| {
                    i.values.last().map(|(ts, v)| Sample { labels: i.metric, ts: *ts, value: parse_value(v) })
                })
                .collect(),
            QueryData::String(_) => vec![],
        })
    }

    /// The first value of an instant query, `None` when it returns nothing.
    pub async fn scalar(&self, query: &str, at: Option<DateTime<Utc>>) -> Result<Option<f64>, MonitorError> {
        Ok(self.instant(query, at).await?.first().map(|s| s.value).filter(|v| !v.is_nan()))
    }

    /// Evaluates `query` from `start` to `end` every `step`.
    pub async fn range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> Result<Vec<Series>, MonitorError> {
        let secs = |t: DateTime<Utc>| format!("{:.3}", t.timestamp_millis() as f64 / 1000.0);
        let params = [
            ("query", query.to_string()),
            ("start", secs(start)),
            ("end", secs(end)),
            ("step", format!("{}s", step.as_secs().max(1))),
        ];
        let (data, _) = self.get::<QueryData>("api/v1/query_range", &params).await?;
        match data {
            QueryData::Matrix(m) => Ok(m
                .into_iter()
                .map(|i| Series {
                    labels: i.metric,
                    points: i.values.iter().map(|(t, v)| (*t, parse_value(v))).collect(),
                })
                .collect()),
            _ => Ok(vec![]),
        }
    }

    /// Every rule the server loaded and whether its last evaluation worked.
    pub async fn rules(&self) -> Result<Vec<RuleStatus>, MonitorError> {
        let (data, _) = self.get::<RulesData>("api/v1/rules", &[]).await?;
        Ok(data
            .groups
            .into_iter()
            .flat_map(|g| {
                let group = g.name;
                g.rules.into_iter().map(move |r| RuleStatus {
                    group: group.clone(),
                    name: r.name,
                    kind: r.kind,
                    health: if r.health.is_empty() { "unknown".into() } else { r.health },
                    last_error: r.last_error.filter(|e| !e.is_empty()),
                })
            })
            .collect())
    }

    /// Seconds the server's clock is ahead of `now`, from `/api/v1/status/buildinfo`'s Date header.
    pub async fn clock_skew(&self, now: DateTime<Utc>) -> Result<Option<f64>, MonitorError> {
        let url = self.ep.url("api/v1/status/buildinfo");
        let (_, _, date) = self.ep.send(&url, self.ep.http()?.get(url.clone())).await?;
        Ok(crate::http::clock_skew_secs(date.as_deref(), now))
    }
}
