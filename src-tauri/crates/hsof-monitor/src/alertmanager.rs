//! AlertManager API v2: active alerts, silences (create, list, expire).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::http::Endpoint;
use crate::MonitorError;

/// An alert as AlertManager holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Alert {
    /// Stable identity of the label set.
    pub fingerprint: String,
    /// Labels (`alertname`, `severity`, ...).
    pub labels: BTreeMap<String, String>,
    /// Annotations (`summary`, `description`, `runbook_url`, ...).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    /// When it will be considered resolved unless re-sent.
    #[serde(rename = "endsAt", default)]
    pub ends_at: String,
    /// Link back to the expression in Prometheus.
    #[serde(rename = "generatorURL", default)]
    pub generator_url: String,
    /// `active`, `suppressed` or `unprocessed`, and what silences it.
    pub status: AlertStatus,
}

impl Alert {
    /// `labels.alertname`.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map(String::as_str).unwrap_or("(unnamed)")
    }
    /// `labels.severity`, lower-cased; `none` when absent.
    pub fn severity(&self) -> String {
        self.labels.get("severity").map(|s| s.to_lowercase()).unwrap_or_else(|| "none".into())
    }
}

/// Alert state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AlertStatus {
    /// `active`, `suppressed`, `unprocessed`.
    pub state: String,
    /// Silences that suppress it.
    #[serde(rename = "silencedBy", default)]
    pub silenced_by: Vec<String>,
    /// Alerts that inhibit it.
    #[serde(rename = "inhibitedBy", default)]
    pub inhibited_by: Vec<String>,
}

/// One label matcher of a silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Value or regex.
    pub value: String,
    /// Regex match.
    #[serde(rename = "isRegex")]
    pub is_regex: bool,
    /// `=` (true) or `!=` (false).
    #[serde(rename = "isEqual", default = "yes")]
    pub is_equal: bool,
}

impl Matcher {
    /// Parses one matcher as AlertManager and amtool write it: `name="value"`, with `=`,
    /// `!=`, `=~` or `!~`; the value may be quoted (with `\"` inside) or bare.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || format!("`{text}` is not a matcher: write name=\"value\" (or !=, =~, !~)");
        let at = text.find(['=', '!']).ok_or_else(bad)?;
        let (name, rest) = text.split_at(at);
        let name = name.trim();
        let (is_equal, is_regex, value) = if let Some(v) = rest.strip_prefix("=~") {
            (true, true, v)
        } else if let Some(v) = rest.strip_prefix("!~") {
            (false, true, v)
        } else if let Some(v) = rest.strip_prefix("!=") {
            (false, false, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (true, false, v)
        } else {
            return Err(bad());
        };
        let valid_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name {
            return Err(format!("`{text}`: `{name}` is not a label name"));
        }
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(v) => v.strip_suffix('"').ok_or_else(bad)?.replace("\\\"", "\"").replace("\\\\", "\\"),
            None => value.to_string(),
        };
        Ok(Self { name: name.to_string(), value, is_regex, is_equal })
    }
}

fn yes() -> bool {
    true
}

/// A silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Silence {
    /// Id.
    pub id: String,
    /// What it matches.
    pub matchers: Vec<Matcher>,
    /// Start.
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    /// End.
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    /// Who.
    #[serde(rename = "createdBy")]
    pub created_by: String,
    /// Why.
    pub comment: String,
    /// `active`, `pending`, `expired`.
    pub status: SilenceState,
}

/// Silence state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SilenceState {
    /// `active`, `pending`, `expired`.
    pub state: String,
}

/// What to silence, for how long, and why.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct NewSilence {
    /// Matchers.
    pub matchers: Vec<Matcher>,
    /// Start (RFC 3339).
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    /// End (RFC 3339).
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    /// Who.
    #[serde(rename = "createdBy")]
    pub created_by: String,
    /// Why.
    pub comment: String,
}

impl NewSilence {
    /// A silence matching exactly `alert`'s labels from `now` for `duration`.
    pub fn for_alert(
        alert: &Alert,
        now: DateTime<Utc>,
        duration: chrono::Duration,
        created_by: &str,
        comment: &str,
    ) -> Self {
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            matchers: alert
                .labels
                .iter()
                .map(|(k, v)| Matcher { name: k.clone(), value: v.clone(), is_regex: false, is_equal: true })
                .collect(),
            starts_at: fmt(now),
            ends_at: fmt(now + duration),
            created_by: created_by.into(),
            comment: comment.into(),
        }
    }
}

/// An AlertManager server.
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    ep: Endpoint,
}

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

impl AlertmanagerClient {
    /// A client for the server at `base`.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, MonitorError> {
        Ok(Self { ep: Endpoint::new("AlertManager", base, timeout)? })
    }

    /// Messages name the server `shown` (the configured `k8s-service://…`) instead of its base.
    pub fn shown_as(mut self, shown: &str) -> Self {
        self.ep.shown = Some(shown.to_string());
        self
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, MonitorError> {
        let url = self.ep.url(path);
        let (status, body, _) = self.ep.send(&url, self.ep.http()?.get(url.clone()).query(query)).await?;
        if status >= 400 {
            return Err(self.ep.http_error(&url, status, &body));
        }
        self.ep.decode(&url, &body)
    }

    /// Alerts that are firing, silenced ones included (their status says so).
    pub async fn alerts(&self) -> Result<Vec<Alert>, MonitorError> {
        self.get_json("api/v2/alerts", &[("active", "true"), ("silenced", "true"), ("inhibited", "true")]).await
    }

    /// All silences the server knows (active, pending and recently expired).
    pub async fn silences(&self) -> Result<Vec<Silence>, MonitorError> {
        self.get_json("api/v2/silences", &[]).await
    }

    /// Creates a silence and returns its id.
    pub async fn create_silence(&self, s: &NewSilence) -> Result<String, MonitorError> {
        let url = self.ep.url("api/v2/silences");
        let (status, body, _) = self.ep.send(&url, self.ep.http()?.post(url.clone()).json(s)).await?;
        if status >= 400 {
            return Err(MonitorError::Api {
                service: "AlertManager",
                message: format!("silence refused (HTTP {status}): {}", body.trim()),
            });
        }
        Ok(self.ep.decode::<Created>(&url, &body)?.silence_id)
    }

    /// Expires (ends) a silence now.
    pub async fn expire_silence(&self, id: &str) -> Result<(), MonitorError> {
        let url = self.ep.url(&format!("api/v2/silence/{id}"));
        let (status, body, _) = self.ep.send(&url, self.ep.http()?.delete(url.clone())).await?;
        if status >= 400 {
            return Err(self.ep.http_error(&url, status, &body));
        }
        Ok(())
    }
}

#[cfg(test)]
mod matcher_tests {
    use super::Matcher;

    #[test]
    fn matchers_parse_as_amtool_writes_them() {
        let m = |name: &str, value: &str, is_regex, is_equal| Matcher {
            name: name.into(),
            value: value.into(),
            is_regex,
            is_equal,
        };
        assert_eq!(Matcher::parse(r#"monitor="hsof-monitor""#), Ok(m("monitor", "hsof-monitor", false, true)));
        assert_eq!(Matcher::parse(r#" team != "ml" "#), Ok(m("team", "ml", false, false)));
        assert_eq!(Matcher::parse(r#"alertname=~"HSOF.*|GPU.*""#), Ok(m("alertname", "HSOF.*|GPU.*", true, true)));
        assert_eq!(Matcher::parse("severity!~info"), Ok(m("severity", "info", true, false)));
        assert_eq!(Matcher::parse(r#"summary="say \"hi\"""#), Ok(m("summary", "say \"hi\"", false, true)));
        for bad in ["", "monitor", "=x", "9lives=\"x\"", "a-b=\"x\"", "a=\"unterminated", "a<b"] {
            assert!(Matcher::parse(bad).is_err(), "{bad}");
        }
    }
}
