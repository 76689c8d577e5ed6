//! The shared HTTP plumbing: one `reqwest::Client` per server with a timeout, and error
//! mapping that keeps the service name and URL in every message.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::MonitorError;

/// A base URL plus a client with a timeout. The client is built on the first request, not
/// with the endpoint: building one loads the system's TLS roots (tens of milliseconds of CPU
/// each), and the app builds its monitor's endpoints while its window is starting and again
/// on every configuration change. Clones share the client once it is built.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub service: &'static str,
    pub base: url::Url,
    client: Arc<OnceLock<reqwest::Client>>,
    pub timeout: Duration,
    /// What to call the base in messages when it is not what the user configured (the
    /// service proxy forwarder's loopback URL stands for `k8s-service://NS/NAME:PORT`).
    pub shown: Option<String>,
}

impl Endpoint {
    pub fn new(service: &'static str, base: &str, timeout: Duration) -> Result<Self, MonitorError> {
        let bad = |message: String| MonitorError::BadUrl { service, url: base.to_string(), message };
        let mut base = url::Url::parse(base).map_err(|e| bad(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(bad("expected http:// or https://".into()));
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        Ok(Self { service, base, client: Arc::default(), timeout, shown: None })
    }

    /// The endpoint's client, built on first use.
    pub fn http(&self) -> Result<&reqwest::Client, MonitorError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let built = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(concat!("hsof-control-center/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MonitorError::Unreachable {
                service: self.service,
                url: self.show(&self.base),
                message: format!("could not set up an HTTP client: {e}"),
            })?;
        Ok(self.client.get_or_init(|| built))
    }

    /// `url` as messages show it: under the configured name when there is one.
    pub fn show(&self, url: &url::Url) -> String {
        match &self.shown {
            Some(name) => url.as_str().replacen(self.base.as_str(), &format!("{}/", name.trim_end_matches('/')), 1),
            None => url.to_string(),
        }
    }

    /// `path` relative to the base (no leading slash).
    pub fn url(&self, path: &str) -> url::Url {
        self.base.join(path.trim_start_matches('/')).unwrap_or_else(|_| self.base.clone())
    }

    /// Maps a transport error.
    pub fn transport(&self, url: &url::Url, e: reqwest::Error) -> MonitorError {
        if e.is_timeout() {
            MonitorError::Timeout { service: self.service, url: self.show(url), secs: self.timeout.as_secs_f64() }
        } else {
            // reqwest's own text repeats the URL; the innermost causes say what happened.
            let mut causes = Vec::new();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                causes.push(s.to_string());
                src = s.source();
            }
            let message = causes.last().cloned().unwrap_or_else(|| e.to_string());
            MonitorError::Unreachable { service: self.service, url: self.show(url), message }
        }
    }

    /// Sends `req`, returning the body text and the server's `Date` header.
    pub async fn send(
        &self,
        url: &url::Url,
        req: reqwest::RequestBuilder,
    ) -> Result<(u16, String, Option<String>), MonitorError> {
        let resp = req.send().await.map_err(|e| self.transport(url, e))?;
        let status = resp.status().as_u16();
        let date = resp.headers().get(reqwest::header::DATE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = resp.text().await.map_err(|e| self.transport(url, e))?;
        Ok((status, body, date))
    }

    /// Decodes JSON, naming the service and URL on failure.
    pub fn decode<T: DeserializeOwned>(&self, url: &url::Url, body: &str) -> Result<T, MonitorError> {
        serde_json::from_str(body).map_err(|e| MonitorError::Malformed {
            service: self.service,
            url: self.show(url),
            message: e.to_string(),
        })
    }

    pub fn http_error(&self, url: &url::Url, status: u16, body: &str) -> MonitorError {
        MonitorError::Http {
            service: self.service,
            url: self.show(url),
            status,
            body: body.chars().take(300).collect(),
        }
    }
}

/// Seconds the server's clock is ahead of `now` (negative: behind), from an HTTP `Date`.
pub fn clock_skew_secs(date_header: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> Option<f64> {
    let server = chrono::DateTime::parse_from_rfc2822(date_header?).ok()?;
    Some((server.with_timezone(&chrono::Utc) - now).num_milliseconds() as f64 / 1000.0)
}

/// One GET of `path` below `base` with `timeout`: the status and body, for probing whether a
/// URL answers (first-run onboarding checks what is configured before it proposes a change).
pub async fn probe(base: &str, path: &str, timeout: Duration) -> Result<(u16, String), MonitorError> {
    let e = Endpoint::new("source", base, timeout)?;
    let url = e.url(path);
    let (status, body, _) = e.send(&url, e.http()?.get(url.clone())).await?;
    Ok((status, body))
}
