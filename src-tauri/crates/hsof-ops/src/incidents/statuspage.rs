//! Stakeholder updates: incidents on an Atlassian Statuspage page (REST API v1), or the same
//! update as JSON to a plain webhook for teams without a status page.
//!
//! The update itself ([`StakeholderUpdate`], [`page_request`], [`webhook_body`]) is pure, so the
//! app previews exactly what it sends. The clients follow [`SlackClient`](super::SlackClient):
//! https only (http just for loopback test receivers), no redirects, secrets (the API key, the
//! webhook's path) never in `Debug` or errors, and failures classified as retryable or not.
//! Whether a drill may reach stakeholders is the caller's decision, as for Slack.
//!
//! Statuspage's API: `Authorization: OAuth <api key>`; `POST /pages/{page_id}/incidents`
//! creates an incident and answers `201` with it (its `id` is kept); `PATCH
//! /pages/{page_id}/incidents/{incident_id}` updates it. Both take `{"incident": {...}}` with
//! `status`, `body`, `component_ids` and `components` (component id → component status).
//! Statuspage rate-limits with `420` or `429`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::slack::parse_retry_after;
use super::{Incident, Severity};

/// Statuspage's API, the default base URL.
pub const STATUSPAGE_API: &str = "https://api.statuspage.io/v1";

/// The status of an incident on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    /// The cause is not known yet.
    Investigating,
    /// The cause is known; a fix is under way.
    Identified,
    /// A fix is in place and being watched.
    Monitoring,
    /// Over.
    Resolved,
}

/// The status of one component on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Working normally.
    Operational,
    /// Working, slower or less reliably.
    DegradedPerformance,
    /// Down for some users.
    PartialOutage,
    /// Down.
    MajorOutage,
    /// Taken down on purpose.
    UnderMaintenance,
}

/// The component status a severity means while the incident is open (P0 `major_outage`, P1
/// `partial_outage`, P2 `degraded_performance`, P3 `operational`); `operational` once resolved.
pub fn component_status(severity: Severity, resolved: bool) -> ComponentStatus {
    if resolved {
        return ComponentStatus::Operational;
    }
    match severity {
        Severity::P0 => ComponentStatus::MajorOutage,
        Severity::P1 => ComponentStatus::PartialOutage,
        Severity::P2 => ComponentStatus::DegradedPerformance,
        Severity::P3 => ComponentStatus::Operational,
    }
}

/// The page status of an incident: resolved → `Resolved`; acknowledged → `Identified`; else
/// `Investigating`. `Monitoring` is never derived: a user picks it.
pub fn page_status(incident: &Incident) -> PageStatus {
    if incident.is_resolved() {
        PageStatus::Resolved
    } else if incident.is_acknowledged() {
        PageStatus::Identified
    } else {
        PageStatus::Investigating
    }
}

/// One stakeholder update, as previewed and as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StakeholderUpdate {
    /// The page incident's status.
    pub status: PageStatus,
    /// What stakeholders read.
    pub body: String,
    /// Statuspage component id → its status.
    pub components: BTreeMap<String, ComponentStatus>,
    /// The page incident's title.
    pub name: String,
}

impl StakeholderUpdate {
    /// A first draft for `incident`: its title as the name, [`page_status`], and for each of
    /// its components that `component_ids` maps to a Statuspage component id, the
    /// [`component_status`] of its severity. Components without an id are left off the page.
    pub fn draft(incident: &Incident, body: &str, component_ids: &BTreeMap<String, String>) -> Self {
        let status = component_status(incident.severity, incident.is_resolved());
        let components = incident
            .components
            .iter()
            .filter_map(|c| component_ids.get(c.trim()))
            .map(|id| (id.clone(), status))
            .collect();
        Self {
            status: page_status(incident),
            body: body.trim().to_string(),
            components,
            name: incident.title.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }
}

/// The Statuspage request for an update: a POST that creates the page incident when
/// `page_incident` is `None` (or blank), else a PATCH of that incident.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct PageRequest {
    /// `POST` or `PATCH`.
    pub method: String,
    /// The path below the API's base URL, ids percent-encoded.
    pub path: String,
    /// The JSON body.
    #[specta(type = specta_typescript::Unknown)]
    pub body: Value,
}

/// The request that sends `u` to page `page_id`.
///
/// A create sends `{"incident": {"name", "status", "body", "component_ids", "components",
/// "deliver_notifications": true}}`; an update sends `{"incident": {"status", "body",
/// "component_ids", "components"}}`. `component_ids` lists the keys of `components` in order.
/// With no components, both keys are left out, so an update keeps the affected components the
/// page already shows.
pub fn page_request(page_id: &str, page_incident: Option<&str>, u: &StakeholderUpdate) -> PageRequest {
    let page = segment(page_id);
    let mut incident = serde_json::Map::new();
    let target = page_incident.map(str::trim).filter(|id| !id.is_empty());
    if target.is_none() {
        incident.insert("name".into(), json!(u.name.trim()));
        incident.insert("deliver_notifications".into(), json!(true));
    }
    incident.insert("status".into(), json!(u.status));
    incident.insert("body".into(), json!(u.body));
    if !u.components.is_empty() {
        incident.insert("component_ids".into(), json!(u.components.keys().collect::<Vec<_>>()));
        incident.insert("components".into(), json!(u.components));
    }
    let body = json!({ "incident": incident });
    match target {
        None => PageRequest { method: "POST".into(), path: format!("/pages/{page}/incidents"), body },
        Some(id) => {
            PageRequest { method: "PATCH".into(), path: format!("/pages/{page}/incidents/{}", segment(id)), body }
        }
    }
}

/// The body of the plain stakeholder webhook (the alternative to a status page):
/// `{"incident": reference, "title": the update's name, "severity": "P1", "status":
/// "identified", "body", "components": {id: status}, "sent_at": RFC 3339 UTC}`.
pub fn webhook_body(incident: &Incident, u: &StakeholderUpdate, at: DateTime<Utc>) -> Value {
    json!({
        "incident": incident.reference(),
        "title": u.name.trim(),
        "severity": incident.severity.to_string(),
        "status": u.status,
        "body": u.body,
        "components": u.components,
        "sent_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

/// When the next stakeholder update is due: `every` after the last one sent (after the
/// declaration when none was, or when the last one predates it), for an unresolved incident;
/// `None` once resolved.
pub fn next_due(
    incident: &Incident,
    last_sent: Option<DateTime<Utc>>,
    every: chrono::Duration,
) -> Option<DateTime<Utc>> {
    if incident.is_resolved() {
        return None;
    }
    let from = last_sent.map_or(incident.declared_at, |l| l.max(incident.declared_at));
    Some(from + every)
}

/// Why a stakeholder update could not be sent. No message contains the API key or a webhook
/// URL's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusPageError {
    /// The URL is not https (http is accepted only for loopback test receivers).
    #[error("the stakeholder update URL must use https (got {0})")]
    NotHttps(String),
    /// The URL, or the page id that goes into it, cannot be used.
    #[error("the stakeholder update URL is not valid: {0}")]
    BadUrl(String),
    /// The API key cannot be used.
    #[error("the Statuspage API key cannot be used: {0}")]
    BadKey(String),
    /// The receiver refused the update (4xx other than 420 and 429): retrying will not help.
    #[error("the stakeholder update was rejected (HTTP {status}): {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The receiver's answer, shortened.
        body: String,
    },
    /// The receiver is failing or rate-limiting (5xx, 420, 429): retry later.
    #[error("the stakeholder update service is unavailable (HTTP {status}): {body}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// The receiver's answer, shortened.
        body: String,
        /// How long the receiver asked us to wait (`Retry-After`), if it did.
        retry_after: Option<Duration>,
    },
    /// No answer within the client's timeout.
    #[error("the stakeholder update service did not answer in time")]
    Timeout,
    /// No connection (DNS, refused, TLS).
    #[error("the stakeholder update service is unreachable: {0}")]
    Unreachable(String),
    /// Statuspage accepted a create but its answer has no incident id. Not retryable: the
    /// incident may exist, and a retry would open a second one.
    #[error("Statuspage's answer cannot be used: {0}")]
    BadAnswer(String),
}

impl StatusPageError {
    /// True for transient failures worth retrying: unavailable, timeout, unreachable.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Timeout | Self::Unreachable(_))
    }

    /// The wait the receiver asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for a 420 or 429: rate-limited, so later updates must wait too.
    pub fn is_rate_limit(&self) -> bool {
        matches!(self, Self::Unavailable { status: 420 | 429, .. })
    }
}

/// Sends [`StakeholderUpdate`]s to one Statuspage page.
#[derive(Clone)]
pub struct StatusPageClient {
    base: reqwest::Url,
    page_id: String,
    key: String,
    auth: reqwest::header::HeaderValue,
    http: reqwest::Client,
}

impl fmt::Debug for StatusPageClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusPageClient")
            .field("base", &origin(&self.base))
            .field("page_id", &self.page_id)
            .finish_non_exhaustive()
    }
}

impl StatusPageClient {
    /// A client for page `page_id` at `base_url` ([`STATUSPAGE_API`], or a test receiver).
    /// `base_url` must be https, or http on a loopback host (127.0.0.1, ::1, localhost), and
    /// have no query or fragment; `page_id` and `api_key` must not be blank.
    pub fn new(base_url: &str, page_id: &str, api_key: &str, timeout: Duration) -> Result<Self, StatusPageError> {
        let base = checked_url(base_url)?;
        if base.query().is_some() || base.fragment().is_some() {
            return Err(StatusPageError::BadUrl("the base URL must not have a query or a fragment".into()));
        }
        let page_id = page_id.trim();
        if page_id.is_empty() {
            return Err(StatusPageError::BadUrl("the page id is empty".into()));
        }
        if is_dot_segment(page_id) {
            return Err(StatusPageError::BadUrl(format!("`{page_id}` is not a page id")));
        }
        let key = api_key.trim();
        if key.is_empty() {
            return Err(StatusPageError::BadKey("it is empty".into()));
        }
        let mut auth = reqwest::header::HeaderValue::from_str(&format!("OAuth {key}"))
            .map_err(|_| StatusPageError::BadKey("it contains characters an HTTP header cannot carry".into()))?;
        auth.set_sensitive(true);
        Ok(Self { base, page_id: page_id.to_string(), key: key.to_string(), auth, http: http_client(timeout)? })
    }

    /// Sends `u`: creates the page incident when `page_incident` is `None` (or blank), else
    /// updates it. Returns the page incident's id: the new one after a create, else the one
    /// given.
    pub async fn send(&self, page_incident: Option<&str>, u: &StakeholderUpdate) -> Result<String, StatusPageError> {
        if let Some(id) = page_incident.map(str::trim).filter(|id| is_dot_segment(id)) {
            return Err(StatusPageError::BadUrl(format!("`{id}` is not a page incident id")));
        }
        let req = page_request(&self.page_id, page_incident, u);
        let url = format!("{}{}", self.base.as_str().trim_end_matches('/'), req.path);
        let url = reqwest::Url::parse(&url).map_err(|e| StatusPageError::BadUrl(e.to_string()))?;
        let method = if req.method == "POST" { reqwest::Method::POST } else { reqwest::Method::PATCH };
        let resp = self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, self.auth.clone())
            .json(&req.body)
            .send()
            .await
            .map_err(|e| transport(e, &self.key))?;
        let (status, body) = answer(resp, &self.key).await?;
        let given = page_incident.map(str::trim).filter(|id| !id.is_empty());
        if let Some(id) = given {
            return Ok(id.to_string());
        }
        let id = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::trim).map(str::to_string))
            .filter(|id| !id.is_empty());
        id.ok_or_else(|| {
            StatusPageError::BadAnswer(format!(
                "the create answered HTTP {status} without an incident id: {}",
                short(&body)
            ))
        })
    }
}

/// Posts stakeholder updates as JSON ([`webhook_body`]) to one webhook. The URL's path may be
/// a secret, so neither `Debug` nor an error shows more than its scheme and host.
#[derive(Clone)]
pub struct WebhookClient {
    url: reqwest::Url,
    http: reqwest::Client,
}

impl fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookClient").field("url", &origin(&self.url)).finish_non_exhaustive()
    }
}

impl WebhookClient {
    /// `url` must be https; http is allowed only for loopback hosts (127.0.0.1, ::1, localhost).
    pub fn new(url: &str, timeout: Duration) -> Result<Self, StatusPageError> {
        Ok(Self { url: checked_url(url)?, http: http_client(timeout)? })
    }

    /// Posts `body`. Any 2xx answer is success.
    pub async fn post(&self, body: &Value) -> Result<(), StatusPageError> {
        let resp = self.http.post(self.url.clone()).json(body).send().await.map_err(|e| transport(e, ""))?;
        answer(resp, "").await.map(|_| ())
    }
}

/// `url` parsed, https or loopback http, with a host.
fn checked_url(url: &str) -> Result<reqwest::Url, StatusPageError> {
    let url = reqwest::Url::parse(url.trim()).map_err(|e| StatusPageError::BadUrl(e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        _ => return Err(StatusPageError::NotHttps(origin(&url))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(StatusPageError::BadUrl("it has no host".into()));
    }
    Ok(url)
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, StatusPageError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        // A redirect could lead elsewhere or down to http, carrying the key; the API never needs one.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("hsof-control-center/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StatusPageError::BadUrl(e.to_string()))
}

/// A 2xx answer's status and body, or the error it means.
async fn answer(resp: reqwest::Response, key: &str) -> Result<(u16, String), StatusPageError> {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, Utc::now()));
    let body = resp.text().await.map_err(|e| transport(e, key))?;
    let body = redact(body.trim(), key);
    match status {
        200..=299 => Ok((status, body)),
        420 | 429 | 500..=599 => Err(StatusPageError::Unavailable { status, body: short(&body), retry_after }),
        _ => {
            tracing::debug!(status, body = %short(&body), "a stakeholder update was refused");
            Err(StatusPageError::Rejected { status, body: short(&body) })
        }
    }
}

/// The first 300 characters.
fn short(body: &str) -> String {
    body.chars().take(300).collect()
}

/// `text` without `key` in it.
fn redact(text: &str, key: &str) -> String {
    if key.is_empty() {
        text.to_string()
    } else {
        text.replace(key, "[redacted]")
    }
}

/// A path segment: ASCII letters, digits, `-`, `_` and `~` as they are, every other byte
/// percent-encoded, so an id cannot add segments (`/`, `..`) or a query.
fn segment(id: &str) -> String {
    id.trim()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `.` or `..`: even percent-encoded, URL parsing would resolve it as a path step.
fn is_dot_segment(id: &str) -> bool {
    id == "." || id == ".."
}

/// `scheme://host[:port]`, never the path.
fn origin(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn transport(e: reqwest::Error, key: &str) -> StatusPageError {
    if e.is_timeout() {
        return StatusPageError::Timeout;
    }
    // The innermost cause says what happened; reqwest's own text would repeat the URL.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        message = s.to_string();
        src = s.source();
    }
    StatusPageError::Unreachable(redact(&message, key))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::mpsc;

    use super::*;
    use crate::incidents::IncidentStatus;

    const KEY: &str = "sp-key-0123456789abcdef";

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 27, h, m, 0).single().expect("valid time")
    }

    fn incident() -> Incident {
        Incident {
            id: 7,
            title: "Model  serving slow".into(),
            severity: Severity::P1,
            status: IncidentStatus::Open,
            components: vec!["model".into(), "gpu".into(), "ui".into()],
            description: String::new(),
            declared_at: t(9, 0),
            declared_by: "alice".into(),
            acknowledged_at: None,
            escalated_at: None,
            resolved_at: None,
            last_update_at: None,
            source_alert: None,
            drill: None,
            shared_name: Some("inc-42".into()),
        }
    }

    fn update() -> StakeholderUpdate {
        StakeholderUpdate {
            status: PageStatus::Identified,
            body: "Predictions are slow; a fix is rolling out.".into(),
            components: BTreeMap::from([
                ("k8s0api".to_string(), ComponentStatus::PartialOutage),
                ("b2gpu".to_string(), ComponentStatus::DegradedPerformance),
            ]),
            name: "Slow predictions".into(),
        }
    }

    #[test]
    fn statuspage_component_status_follows_the_severity_until_resolved() {
        let open: Vec<ComponentStatus> = Severity::all().iter().map(|&s| component_status(s, false)).collect();
        assert_eq!(
            open,
            [
                ComponentStatus::MajorOutage,
                ComponentStatus::PartialOutage,
                ComponentStatus::DegradedPerformance,
                ComponentStatus::Operational
            ]
        );
        assert!(Severity::all().iter().all(|&s| component_status(s, true) == ComponentStatus::Operational));
        assert_eq!(serde_json::to_value(ComponentStatus::DegradedPerformance).expect("json"), "degraded_performance");
        assert_eq!(serde_json::to_value(ComponentStatus::UnderMaintenance).expect("json"), "under_maintenance");
    }

    #[test]
    fn statuspage_page_status_follows_the_incident() {
        let mut i = incident();
        assert_eq!(page_status(&i), PageStatus::Investigating);
        i.acknowledged_at = Some(t(9, 5));
        assert_eq!(page_status(&i), PageStatus::Identified);
        i.resolved_at = Some(t(10, 0));
        assert_eq!(page_status(&i), PageStatus::Resolved);
    }

    #[test]
    fn statuspage_draft_maps_the_incident_components() {
        let ids =
            BTreeMap::from([("model".to_string(), "k8s0api".to_string()), ("gpu".to_string(), "b2gpu".to_string())]);
        let d = StakeholderUpdate::draft(&incident(), " Looking into it. ", &ids);
        assert_eq!(d.name, "Model serving slow");
        assert_eq!(d.status, PageStatus::Investigating);
        assert_eq!(d.body, "Looking into it.");
        assert_eq!(
            d.components,
            BTreeMap::from([
                ("b2gpu".to_string(), ComponentStatus::PartialOutage),
                ("k8s0api".to_string(), ComponentStatus::PartialOutage)
            ]),
            "`ui` has no page component and is left off"
        );
    }

    #[test]
    fn statuspage_page_request_creates_then_updates() {
        let create = page_request("pg1", None, &update());
        assert_eq!((create.method.as_str(), create.path.as_str()), ("POST", "/pages/pg1/incidents"));
        assert_eq!(
            create.body,
            json!({"incident": {
                "name": "Slow predictions",
                "status": "identified",
                "body": "Predictions are slow; a fix is rolling out.",
                "component_ids": ["b2gpu", "k8s0api"],
                "components": {"b2gpu": "degraded_performance", "k8s0api": "partial_outage"},
                "deliver_notifications": true
            }})
        );
        let mut u = update();
        u.status = PageStatus::Resolved;
        let patch = page_request("pg1", Some("inc9"), &u);
        assert_eq!((patch.method.as_str(), patch.path.as_str()), ("PATCH", "/pages/pg1/incidents/inc9"));
        assert_eq!(
            patch.body,
            json!({"incident": {
                "status": "resolved",
                "body": "Predictions are slow; a fix is rolling out.",
                "component_ids": ["b2gpu", "k8s0api"],
                "components": {"b2gpu": "degraded_performance", "k8s0api": "partial_outage"}
            }})
        );
        // No components: the keys are left out, so the page keeps the affected components.
        u.components.clear();
        assert_eq!(
            page_request("pg1", Some("inc9"), &u).body,
            json!({"incident": {"status": "resolved", "body": "Predictions are slow; a fix is rolling out."}})
        );
        // A blank id is no id; an id cannot climb out of its segment.
        assert_eq!(page_request("pg1", Some("  "), &u).method, "POST");
        assert_eq!(page_request("pg1", Some("../x?y"), &u).path, "/pages/pg1/incidents/%2E%2E%2Fx%3Fy");
    }

    #[test]
    fn statuspage_webhook_body_carries_the_update() {
        let body = webhook_body(&incident(), &update(), t(9, 30));
        assert_eq!(
            body,
            json!({
                "incident": "inc-42",
                "title": "Slow predictions",
                "severity": "P1",
                "status": "identified",
                "body": "Predictions are slow; a fix is rolling out.",
                "components": {"b2gpu": "degraded_performance", "k8s0api": "partial_outage"},
                "sent_at": "2026-03-27T09:30:00Z"
            })
        );
    }

    #[test]
    fn statuspage_next_due_counts_from_the_last_update() {
        let every = chrono::Duration::minutes(30);
        let mut i = incident();
        assert_eq!(next_due(&i, None, every), Some(t(9, 30)));
        assert_eq!(next_due(&i, Some(t(9, 20)), every), Some(t(9, 50)));
        assert_eq!(next_due(&i, Some(t(8, 0)), every), Some(t(9, 30)), "a send before the declaration does not count");
        i.status = IncidentStatus::Resolved;
        assert_eq!(next_due(&i, Some(t(9, 20)), every), None);
    }

    /// What the receiver got.
    struct Received {
        head: String,
        body: Vec<u8>,
    }

    impl Received {
        fn header(&self, name: &str) -> Option<String> {
            self.head.lines().skip(1).find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        }
    }

    /// A receiver on a free loopback port. Each request is reported on the channel, then
    /// answered with `reply` (status line and extra headers) and `body`, or never answered
    /// when `reply` is `None`. Returns the base URL `http://127.0.0.1:port/v1`.
    async fn receiver(reply: Option<&'static str>, body: &'static str) -> (String, mpsc::UnboundedReceiver<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let tx = tx.clone();
                tokio::spawn(async move { respond(stream, reply, body, tx).await });
            }
        });
        (format!("http://{addr}/v1"), rx)
    }

    async fn respond(
        mut stream: TcpStream,
        reply: Option<&'static str>,
        body: &'static str,
        tx: mpsc::UnboundedSender<Received>,
    ) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let (head, want) = loop {
            let Ok(n) = stream.read(&mut chunk).await else { return };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let len = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                buf.drain(..end + 4);
                break (head, len);
            }
        };
        while buf.len() < want {
            let Ok(n) = stream.read(&mut chunk).await else { return };
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let _ = tx.send(Received { head, body: buf });
        match reply {
            Some(reply) => {
                let answer = format!(
                    "HTTP/1.1 {reply}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
            // Silent until the client gives up.
            None => {
                let _ = stream.read(&mut chunk).await;
            }
        }
    }

    async fn received(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
        tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("in time").expect("a request")
    }

    fn client(base: &str) -> StatusPageClient {
        StatusPageClient::new(base, "pg1", KEY, Duration::from_secs(5)).expect("client")
    }

    #[tokio::test]
    async fn statuspage_client_creates_with_the_oauth_key_and_keeps_the_id() {
        let (base, mut rx) =
            receiver(Some("201 Created"), r#"{"id": "p31zjtct2jer", "name": "Slow predictions"}"#).await;
        let id = client(&base).send(None, &update()).await.expect("created");
        assert_eq!(id, "p31zjtct2jer");
        let got = received(&mut rx).await;
        assert!(got.head.starts_with("POST /v1/pages/pg1/incidents HTTP/1.1\r\n"), "{}", got.head);
        assert_eq!(got.header("authorization").as_deref(), Some("OAuth sp-key-0123456789abcdef"));
        assert_eq!(got.header("content-type").as_deref(), Some("application/json"));
        let body: Value = serde_json::from_slice(&got.body).expect("json body");
        assert_eq!(body, page_request("pg1", None, &update()).body);
    }

    #[tokio::test]
    async fn statuspage_client_patches_an_existing_incident() {
        let (base, mut rx) = receiver(Some("200 OK"), r#"{"id": "inc9"}"#).await;
        let id = client(&format!("{base}/")).send(Some("inc9"), &update()).await.expect("updated");
        assert_eq!(id, "inc9");
        let got = received(&mut rx).await;
        assert!(got.head.starts_with("PATCH /v1/pages/pg1/incidents/inc9 HTTP/1.1\r\n"), "{}", got.head);
        let body: Value = serde_json::from_slice(&got.body).expect("json body");
        assert_eq!(body["incident"]["status"], "identified");
        assert!(body["incident"].get("name").is_none());
    }

    #[tokio::test]
    async fn statuspage_client_a_create_without_an_id_is_a_bad_answer() {
        let (base, _rx) = receiver(Some("201 Created"), r#"{"name": "x"}"#).await;
        let err = client(&base).send(None, &update()).await.expect_err("no id");
        assert!(
            matches!(&err, StatusPageError::BadAnswer(m) if m.contains("HTTP 201 without an incident id")),
            "{err}"
        );
        assert!(!err.is_retryable(), "a retry could open a second incident");
    }

    #[tokio::test]
    async fn statuspage_client_a_401_is_rejected_for_good_without_the_key() {
        // A receiver that echoes the key must not get it into the error.
        let (base, _rx) =
            receiver(Some("401 Unauthorized"), r#"{"error": "invalid key sp-key-0123456789abcdef"}"#).await;
        let err = client(&base).send(None, &update()).await.expect_err("401");
        assert_eq!(
            err,
            StatusPageError::Rejected { status: 401, body: r#"{"error": "invalid key [redacted]"}"#.into() }
        );
        assert!(!err.is_retryable() && err.retry_after().is_none());
        assert!(!err.to_string().contains(KEY) && !format!("{err:?}").contains(KEY), "{err}");
    }

    #[tokio::test]
    async fn statuspage_client_a_503_or_a_rate_limit_is_retried_after_the_wait() {
        let (base, _rx) = receiver(Some("503 Service Unavailable\r\nRetry-After: 120"), "down").await;
        let err = client(&base).send(Some("inc9"), &update()).await.expect_err("503");
        assert_eq!(
            err,
            StatusPageError::Unavailable {
                status: 503,
                body: "down".into(),
                retry_after: Some(Duration::from_secs(120))
            }
        );
        assert!(err.is_retryable() && !err.is_rate_limit());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));

        // Statuspage's own rate limit answer.
        let (base, _rx) = receiver(Some("420 Enhance Your Calm"), "rate limited").await;
        let err = client(&base).send(None, &update()).await.expect_err("420");
        assert!(err.is_retryable() && err.is_rate_limit() && err.retry_after().is_none(), "{err:?}");
    }

    #[tokio::test]
    async fn statuspage_client_a_silent_receiver_times_out() {
        let (base, mut rx) = receiver(None, "").await;
        let client = StatusPageClient::new(&base, "pg1", KEY, Duration::from_secs(1)).expect("client");
        let outcome = tokio::time::timeout(Duration::from_secs(10), client.send(None, &update())).await;
        let err = outcome.expect("the client gives up by itself").expect_err("no answer");
        assert_eq!(err, StatusPageError::Timeout);
        assert!(err.is_retryable());
        assert!(rx.recv().await.is_some(), "the request did arrive");
    }

    #[tokio::test]
    async fn statuspage_client_nothing_listening_is_unreachable() {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
        let err = client(&format!("http://127.0.0.1:{port}/v1")).send(None, &update()).await.expect_err("refused");
        assert!(matches!(err, StatusPageError::Unreachable(_)) && err.is_retryable(), "{err:?}");
        assert!(!err.to_string().contains(KEY));
    }

    #[test]
    fn statuspage_client_accepts_only_https_or_loopback_http_and_hides_the_key() {
        let err = StatusPageClient::new("http://api.statuspage.io/v1", "pg1", KEY, Duration::from_secs(1))
            .expect_err("plain http");
        assert_eq!(err, StatusPageError::NotHttps("http://api.statuspage.io".into()));
        assert!(!err.to_string().contains(KEY));
        let c = StatusPageClient::new(STATUSPAGE_API, "pg1", KEY, Duration::from_secs(1)).expect("https");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains(KEY) && debug.contains("https://api.statuspage.io") && debug.contains("pg1"),
            "{debug}"
        );
        for ok in ["http://localhost:9000/v1", "http://[::1]:9000/v1", "http://127.0.0.1/v1"] {
            assert!(StatusPageClient::new(ok, "pg1", KEY, Duration::from_secs(1)).is_ok(), "{ok}");
        }
        let bad = |base: &str, page: &str, key: &str| {
            StatusPageClient::new(base, page, key, Duration::from_secs(1)).expect_err("refused").to_string()
        };
        assert_eq!(
            bad("not a url", "pg1", KEY),
            "the stakeholder update URL is not valid: relative URL without a base"
        );
        assert!(bad("https://x.test/v1?a=1", "pg1", KEY).contains("must not have a query"));
        assert!(bad(STATUSPAGE_API, " ", KEY).contains("the page id is empty"));
        assert!(bad(STATUSPAGE_API, "..", KEY).contains("`..` is not a page id"));
        assert_eq!(bad(STATUSPAGE_API, "pg1", ""), "the Statuspage API key cannot be used: it is empty");
        let err = bad(STATUSPAGE_API, "pg1", "sp-key\nX-Evil: 1");
        assert!(err.contains("cannot carry") && !err.contains("sp-key"), "{err}");
    }

    #[tokio::test]
    async fn statuspage_webhook_posts_the_body_and_hides_its_path() {
        let (base, mut rx) = receiver(Some("204 No Content"), "").await;
        let url = format!("{base}/hooks/secret-token");
        let hook = WebhookClient::new(&url, Duration::from_secs(5)).expect("client");
        let body = webhook_body(&incident(), &update(), t(9, 30));
        hook.post(&body).await.expect("delivered");
        let got = received(&mut rx).await;
        assert!(got.head.starts_with("POST /v1/hooks/secret-token HTTP/1.1\r\n"), "{}", got.head);
        assert!(got.header("authorization").is_none());
        assert_eq!(serde_json::from_slice::<Value>(&got.body).expect("json"), body);
        assert!(!format!("{hook:?}").contains("secret-token"));

        let (base, _rx) = receiver(Some("500 Internal Server Error"), "boom").await;
        let err = WebhookClient::new(&format!("{base}/hooks/secret-token"), Duration::from_secs(5))
            .expect("client")
            .post(&body)
            .await
            .expect_err("500");
        assert!(matches!(err, StatusPageError::Unavailable { status: 500, .. }) && err.is_retryable(), "{err:?}");

        let (base, _rx) = receiver(Some("404 Not Found"), "no such hook").await;
        let err = WebhookClient::new(&format!("{base}/hooks/secret-token"), Duration::from_secs(5))
            .expect("client")
            .post(&body)
            .await
            .expect_err("404");
        assert_eq!(err, StatusPageError::Rejected { status: 404, body: "no such hook".into() });

        let err =
            WebhookClient::new("http://hooks.example.com/secret-token", Duration::from_secs(1)).expect_err("http");
        assert_eq!(err.to_string(), "the stakeholder update URL must use https (got http://hooks.example.com)");
    }
}
