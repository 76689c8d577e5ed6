//! `kubectl logs -f` that survives a dropped connection: lines carry the container's
//! timestamps, a reconnect resumes with `sinceTime` at the last second seen, and a
//! [`LogCursor`] drops the lines already delivered, so nothing is shown twice or lost.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::{Cluster, ClusterError};

/// One line of a followed log.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct LogLine {
    /// When the container wrote it (RFC 3339 with nanoseconds).
    pub at: String,
    /// The text.
    pub text: String,
}

/// What a follow reports as it goes.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FollowEvent {
    /// A new line.
    Line(LogLine),
    /// The stream broke; the follow reconnects after `retry_ms`.
    Reconnecting {
        /// Why.
        error: String,
        /// Consecutive attempts so far.
        attempt: u32,
        /// Wait before the next one.
        retry_ms: u32,
    },
    /// Connected (again) and streaming.
    Connected,
}

/// Remembers the newest line delivered so a resumed stream (which starts at a whole
/// second, the API's `sinceTime` resolution) does not deliver it again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogCursor {
    last: Option<DateTime<Utc>>,
    /// Lines delivered that carry exactly `last` (timestamps can repeat).
    at_last: usize,
    /// Lines with timestamp `last` seen so far in the current stream.
    seen_in_stream: usize,
}

impl LogCursor {
    /// Starts counting a new stream.
    pub fn restart(&mut self) {
        self.seen_in_stream = 0;
    }

    /// Whether a line stamped `at` is new; records it when it is.
    pub fn accept(&mut self, at: DateTime<Utc>) -> bool {
        match self.last {
            Some(last) if at < last => false,
            Some(last) if at == last => {
                self.seen_in_stream += 1;
                if self.seen_in_stream > self.at_last {
                    self.at_last += 1;
                    true
                } else {
                    false
                }
            }
            _ => {
                self.last = Some(at);
                self.at_last = 1;
                self.seen_in_stream = 1;
                true
            }
        }
    }

    /// Where to resume: the last second seen, truncated (so no line of it is skipped).
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.last.and_then(|t| DateTime::from_timestamp(t.timestamp(), 0))
    }
}

/// Splits `2026-11-27T09:00:01.123456789Z text` into its time and text.
pub fn split_timestamped(line: &str) -> Option<(DateTime<Utc>, &str)> {
    let (ts, text) = line.split_once(' ').unwrap_or((line, ""));
    Some((DateTime::parse_from_rfc3339(ts).ok()?.with_timezone(&Utc), text))
}

const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Cluster {
    /// Follows `pod`'s log (optionally one `container`), starting with its last `tail`
    /// lines, until `cancel` fires or the pod is gone; reconnects with backoff (0.5 s
    /// doubling to 10 s, reset by a good line) and resumes without duplicates.
    pub async fn follow_logs(
        &self,
        pod: &str,
        container: Option<&str>,
        tail: i64,
        cancel: &CancellationToken,
        mut on: impl FnMut(FollowEvent) + Send,
    ) -> Result<(), ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut cursor = LogCursor::default();
        let mut attempt = 0u32;
        loop {
            let params = LogParams {
                container: container.map(str::to_string),
                follow: true,
                timestamps: true,
                tail_lines: if cursor.since().is_none() { Some(tail.clamp(0, 10_000)) } else { None },
                since_time: cursor.since().and_then(|t| k8s_openapi::jiff::Timestamp::from_second(t.timestamp()).ok()),
                ..Default::default()
            };
            cursor.restart();
            let error = match api.log_stream(pod, &params).await {
                Err(e) => {
                    let e = ClusterError::from_kube(e, &format!("logs of pod {pod}"));
                    // A missing pod or a refusal will not heal by retrying.
                    if matches!(e, ClusterError::NotFound(_) | ClusterError::Forbidden(_) | ClusterError::Invalid(_)) {
                        return Err(e);
                    }
                    e.to_string()
                }
                Ok(stream) => {
                    on(FollowEvent::Connected);
                    let mut lines = stream.lines();
                    loop {
                        let next = tokio::select! {
                            () = cancel.cancelled() => return Ok(()),
                            n = lines.try_next() => n,
                        };
                        match next {
                            Ok(Some(raw)) => {
                                attempt = 0;
                                let (at, text) = match split_timestamped(&raw) {
                                    Some((at, text)) => (Some(at), text.to_string()),
                                    None => (None, raw),
                                };
                                if at.is_none_or(|at| cursor.accept(at)) {
                                    let at = at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
                                    on(FollowEvent::Line(LogLine { at: at.unwrap_or_default(), text }));
                                }
                            }
                            Ok(None) => break "the log stream closed".to_string(),
                            Err(e) => break format!("the log stream broke: {e}"),
                        }
                    }
                }
            };
            // The stream ends for good when the pod is gone.
            if let Ok(None) = api.get_opt(pod).await {
                return Ok(());
            }
            attempt += 1;
            let wait =
                Duration::from_millis(500u64.saturating_mul(1 << attempt.min(5).saturating_sub(1))).min(MAX_BACKOFF);
            on(FollowEvent::Reconnecting {
                error,
                attempt,
                retry_ms: u32::try_from(wait.as_millis()).unwrap_or(u32::MAX),
            });
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn a_resumed_stream_skips_what_was_delivered_and_keeps_what_was_not() {
        let mut c = LogCursor::default();
        c.restart();
        assert!(c.accept(t("2026-11-27T09:00:01.100Z")));
        assert!(c.accept(t("2026-11-27T09:00:01.700Z")));
        assert!(c.accept(t("2026-11-27T09:00:01.700Z")), "two lines may share a stamp");
        assert_eq!(c.since(), Some(t("2026-11-27T09:00:01Z")));
        // Reconnected from 09:00:01: the server repeats the whole second.
        c.restart();
        assert!(!c.accept(t("2026-11-27T09:00:01.100Z")));
        assert!(!c.accept(t("2026-11-27T09:00:01.700Z")));
        assert!(!c.accept(t("2026-11-27T09:00:01.700Z")));
        assert!(c.accept(t("2026-11-27T09:00:01.700Z")), "a third line with the stamp was never delivered");
        assert!(c.accept(t("2026-11-27T09:00:02.000Z")));
    }

    #[test]
    fn timestamped_lines_split_and_plain_ones_do_not() {
        let (at, text) = split_timestamped("2026-11-27T09:00:01.123456789Z INFO ready").unwrap_or_default();
        assert_eq!(at, t("2026-11-27T09:00:01.123456789Z"));
        assert_eq!(text, "INFO ready");
        assert!(split_timestamped("INFO no stamp").is_none());
    }
}
