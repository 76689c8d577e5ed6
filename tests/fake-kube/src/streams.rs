//! Long-lived answers: watch streams (resumable from a resourceVersion, `410 Gone` when
//! too old) and pod log follows (with `sinceTime`, `tailLines`, `timestamps`).

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::resources::Resource;
use crate::selector::Selectors;
use crate::store::{Change, LogLine, Signal, Store};

/// Which changes a watch wants.
struct WatchFilter {
    plural: String,
    ns: Option<String>,
    sel: Selectors,
}

impl WatchFilter {
    fn matches(&self, c: &Change) -> bool {
        c.plural == self.plural
            && self.ns.as_deref().is_none_or(|ns| c.ns.is_empty() || c.ns == ns)
            && self.sel.matches(&c.object)
    }
}

fn event_line(kind: &str, object: &serde_json::Value) -> String {
    format!("{}\n", json!({"type": kind, "object": object}))
}

/// What a watch request asked for besides its selectors.
#[derive(Debug, Default)]
pub struct WatchOptions {
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `timeoutSeconds`.
    pub timeout_secs: Option<u64>,
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// `sendInitialEvents=true`: the current objects, then a bookmark marking their end.
    pub initial_events: bool,
}

/// A watch: without a resourceVersion (or with "0", or with `sendInitialEvents`) the
/// current objects as `ADDED`, else the remembered changes after it; then live changes
/// until `timeoutSeconds` (at most 600, default 300), a dropped-streams signal or the
/// `drop_watch_after` fault (bookmarks do not count). With `allowWatchBookmarks`, a
/// `BOOKMARK` with the current resourceVersion after the initial events and then every
/// `bookmark_interval_ms`; with `sendInitialEvents`, the first one carries the
/// `k8s.io/initial-events-end` annotation, as the API server's does.
pub fn watch(store: &mut Store, res: &Resource, ns: Option<&str>, sel: Selectors, opts: &WatchOptions) -> Response {
    let filter = WatchFilter {
        plural: res.plural.to_string(),
        ns: if res.namespaced { ns.map(str::to_string) } else { None },
        sel,
    };
    let mut initial = Vec::new();
    let mut last_rv = store.rv;
    let resource_version = opts.resource_version.as_deref();
    let from = if opts.initial_events { None } else { resource_version.filter(|v| *v != "0") };
    match from.map(str::parse::<u64>) {
        None => {
            for o in store.select(res, ns, &filter.sel) {
                initial.push(event_line("ADDED", &o));
            }
        }
        Some(Ok(rv)) if rv >= store.oldest_resumable() => {
            initial.extend(
                store.changes.iter().filter(|c| c.rv > rv && filter.matches(c)).map(|c| event_line(c.kind, &c.object)),
            );
        }
        Some(Ok(rv)) => {
            let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("too old resource version: {rv} ({})", store.oldest_resumable()),
                "reason": "Expired", "code": 410});
            initial.push(event_line("ERROR", &status));
            last_rv = u64::MAX;
        }
        Some(Err(_)) => {
            return (StatusCode::BAD_REQUEST, format!("invalid resourceVersion {resource_version:?}")).into_response();
        }
    }
    let bookmark = opts.bookmarks.then(|| (res.kind.to_string(), res.api_version()));
    let initial_end = opts.initial_events;
    let every = Duration::from_millis(if store.bookmark_interval_ms == 0 { 5_000 } else { store.bookmark_interval_ms });
    let limit = store.faults.drop_watch_after;
    let hold = Duration::from_secs(opts.timeout_secs.unwrap_or(300).min(600));
    let mut bus = store.bus.0.subscribe();
    let (tx, rx) = mpsc::channel::<Result<String, std::io::Error>>(256);
    tokio::spawn(async move {
        let bookmark_line = |rv: u64, first: bool| {
            bookmark.as_ref().map(|(kind, api_version)| {
                let mut meta = json!({"resourceVersion": rv.to_string()});
                if first && initial_end {
                    meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
                }
                event_line("BOOKMARK", &json!({"kind": kind, "apiVersion": api_version, "metadata": meta}))
            })
        };
        let mut sent = 0usize;
        let deadline = tokio::time::sleep(hold);
        tokio::pin!(deadline);
        for line in initial {
            if limit.is_some_and(|l| sent >= l) || tx.send(Ok(line)).await.is_err() {
                return;
            }
            sent += 1;
        }
        if last_rv == u64::MAX {
            return;
        }
        // Every change up to here has been sent (or filtered out).
        let mut seen_rv = last_rv;
        if let Some(line) = bookmark_line(seen_rv, true) {
            if tx.send(Ok(line)).await.is_err() {
                return;
            }
        }
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            if limit.is_some_and(|l| sent >= l) {
                return;
            }
            tokio::select! {
                () = &mut deadline => return,
                () = tx.closed() => return,
                _ = ticks.tick(), if bookmark.is_some() => {
                    if let Some(line) = bookmark_line(seen_rv, false) {
                        if tx.send(Ok(line)).await.is_err() {
                            return;
                        }
                    }
                }
                msg = bus.recv() => match msg {
                    Ok(Signal::Change(c)) if c.rv > last_rv => {
                        seen_rv = seen_rv.max(c.rv);
                        if filter.matches(&c) {
                            if tx.send(Ok(event_line(c.kind, &c.object))).await.is_err() {
                                return;
                            }
                            sent += 1;
                        }
                    }
                    Ok(Signal::DropStreams) | Err(RecvError::Closed | RecvError::Lagged(_)) => return,
                    Ok(_) => {}
                },
            }
        }
    });
    stream_response("application/json", rx)
}

/// What a log request asked for.
pub struct LogQuery {
    /// `follow=true`.
    pub follow: bool,
    /// `timestamps=true`.
    pub timestamps: bool,
    /// `tailLines`.
    pub tail: Option<usize>,
    /// `sinceTime` (RFC 3339).
    pub since: Option<DateTime<Utc>>,
}

fn log_text(line: &LogLine, timestamps: bool) -> String {
    if timestamps {
        format!("{} {}\n", line.at.to_rfc3339_opts(SecondsFormat::Nanos, true), line.text)
    } else {
        format!("{}\n", line.text)
    }
}

/// A pod's log; with `follow`, new lines as the pod writes them until the pod is deleted,
/// the client goes away, streams are dropped or the `drop_watch_after` fault.
pub fn logs(store: &mut Store, ns: &str, pod: &str, q: &LogQuery) -> Response {
    let mut lines: Vec<&LogLine> = store
        .logs
        .get(&(ns.to_string(), pod.to_string()))
        .map(|l| l.iter().filter(|l| q.since.is_none_or(|s| l.at >= s)).collect())
        .unwrap_or_default();
    if let Some(t) = q.tail {
        lines.drain(..lines.len().saturating_sub(t));
    }
    let text: Vec<String> = lines.iter().map(|l| log_text(l, q.timestamps)).collect();
    if !q.follow {
        return (StatusCode::OK, [("content-type", "text/plain")], text.concat()).into_response();
    }
    let limit = store.faults.drop_watch_after;
    let timestamps = q.timestamps;
    let (ns, pod) = (ns.to_string(), pod.to_string());
    let mut bus = store.bus.0.subscribe();
    let (tx, rx) = mpsc::channel::<Result<String, std::io::Error>>(256);
    tokio::spawn(async move {
        let mut sent = 0usize;
        for line in text {
            if limit.is_some_and(|l| sent >= l) || tx.send(Ok(line)).await.is_err() {
                return;
            }
            sent += 1;
        }
        loop {
            if limit.is_some_and(|l| sent >= l) {
                return;
            }
            tokio::select! {
                () = tx.closed() => return,
                msg = bus.recv() => match msg {
                    Ok(Signal::Log(l)) if l.0 == ns && l.1 == pod => {
                        if tx.send(Ok(log_text(&l.2, timestamps))).await.is_err() {
                            return;
                        }
                        sent += 1;
                    }
                    Ok(Signal::Change(c)) if c.kind == "DELETED" && c.plural == "pods" && c.ns == ns
                        && c.object["metadata"]["name"].as_str() == Some(pod.as_str()) => return,
                    Ok(Signal::DropStreams) | Err(RecvError::Closed | RecvError::Lagged(_)) => return,
                    Ok(_) => {}
                },
            }
        }
    });
    stream_response("text/plain", rx)
}

fn stream_response(content_type: &'static str, mut rx: mpsc::Receiver<Result<String, std::io::Error>>) -> Response {
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    (StatusCode::OK, [("content-type", content_type)], axum::body::Body::from_stream(stream)).into_response()
}
