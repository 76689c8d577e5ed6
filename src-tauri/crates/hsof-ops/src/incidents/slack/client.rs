//! A Slack incoming-webhook client. The webhook URL is a secret (its path is the token), so
//! neither `Debug` nor any error shows more than its scheme and host.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::SlackMessage;

/// Why a post to Slack failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    /// The webhook URL is not https (http is accepted only for loopback test receivers).
    #[error("the Slack webhook URL must use https (got {0})")]
    NotHttps(String),
    /// The webhook URL cannot be used.
    #[error("the Slack webhook URL is not valid: {0}")]
    BadUrl(String),
    /// Slack refused the message (4xx other than 429): retrying will not help.
    #[error("Slack rejected the message (HTTP {status}): {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Slack's answer, e.g. `invalid_payload`, `channel_is_archived`.
        body: String,
    },
    /// Slack is failing or rate-limiting (5xx, 429): retry later.
    #[error("Slack is unavailable (HTTP {status}): {body}")]
    Unavailable {
        /// HTTP status.
        status: u16,
        /// Slack's answer.
        body: String,
        /// How long Slack asked us to wait (`Retry-After`, seconds or an HTTP date), if it did.
        retry_after: Option<Duration>,
    },
    /// No answer within the client's timeout.
    #[error("Slack did not answer in time")]
    Timeout,
    /// No connection (DNS, refused, TLS).
    #[error("Slack is unreachable: {0}")]
    Unreachable(String),
}

impl SlackError {
    /// True for transient failures worth retrying (see [`retry_after`]).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Timeout | Self::Unreachable(_))
    }

    /// The wait Slack asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for a 429: the webhook is rate-limited, so later messages must wait too.
    pub fn is_rate_limit(&self) -> bool {
        matches!(self, Self::Unavailable { status: 429, .. })
    }
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3), relative
/// to `now`. A date in the past is no wait; anything unreadable is `None`.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&chrono::Utc) - now).to_std().unwrap_or(Duration::ZERO))
}

/// Backoff before retry `attempt` (1-based): 10 s doubling, capped at 15 min.
pub fn retry_after(attempt: u32) -> Duration {
    const CAP: u64 = 15 * 60;
    let doublings = attempt.saturating_sub(1).min(16);
    Duration::from_secs((10u64 << doublings).min(CAP))
}

/// Posts [`SlackMessage`]s to one incoming webhook.
#[derive(Clone)]
pub struct SlackClient {
    url: reqwest::Url,
    http: reqwest::Client,
}

impl fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackClient").field("url", &origin(&self.url)).finish_non_exhaustive()
    }
}

impl SlackClient {
    /// `url` must be https; http is allowed only for loopback hosts (127.0.0.1, ::1, localhost) — for tests.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, SlackError> {
        let url = reqwest::Url::parse(url.trim()).map_err(|e| SlackError::BadUrl(e.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            _ => return Err(SlackError::NotHttps(origin(&url))),
        }
        if url.host_str().is_none() {
            return Err(SlackError::BadUrl("it has no host".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could lead off Slack or down to http; a webhook never needs one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hsof-control-center/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SlackError::BadUrl(e.to_string()))?;
        Ok(Self { url, http })
    }

    /// Posts `m`. Slack answers 200 `ok`; anything else is an error.
    pub async fn post(&self, m: &SlackMessage) -> Result<(), SlackError> {
        let resp = self.http.post(self.url.clone()).json(m).send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let body = resp.text().await.map_err(transport)?;
        let body = body.trim();
        let short: String = body.chars().take(300).collect();
        match status {
            200 if body == "ok" => Ok(()),
            429 | 500..=599 => Err(SlackError::Unavailable { status, body: short, retry_after }),
            // 200 with another answer is not Slack (a proxy page, a wrong URL): not transient.
            _ => {
                tracing::debug!(status, body = %short, "Slack webhook refused a message");
                Err(SlackError::Rejected { status, body: short })
            }
        }
    }
}

/// `scheme://host[:port]`, never the secret path.
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

fn transport(e: reqwest::Error) -> SlackError {
    if e.is_timeout() {
        return SlackError::Timeout;
    }
    // The innermost cause says what happened; reqwest's own text would repeat the secret URL.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        message = s.to_string();
        src = s.source();
    }
    SlackError::Unreachable(message)
}
