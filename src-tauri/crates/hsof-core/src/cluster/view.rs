//! The Cluster screen's data in one answer: from the live watches when their caches are
//! complete, else read with plain lists; with where it came from and when.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_cluster::{DeploymentRow, EventRow, NodeRow, PodRow, WatchState};
use serde::Serialize;

use crate::{AppContext, Error};

/// Pods, deployments, nodes and events of the namespace.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ClusterView {
    /// Context.
    pub context: String,
    /// Namespace.
    pub namespace: String,
    /// `watch` (the live caches) or `list` (read now, the watches not synced yet).
    pub source: String,
    /// When this view was assembled (RFC 3339).
    pub read_at: String,
    /// Pods, by name: all of them when `pods_full`, else only those added or changed
    /// since the `pods_since` the caller passed.
    pub pods: Vec<PodRow>,
    /// True when `pods` is the whole table.
    pub pods_full: bool,
    /// Pods gone since `pods_since` (empty when `pods_full`).
    pub pods_removed: Vec<String>,
    /// Pass this as the next call's `pods_since` to get only what changed; absent when
    /// the pods were listed (the watch not synced yet).
    #[specta(type = Option<f64>)]
    pub pods_seq: Option<u64>,
    /// Deployments, by name.
    pub deployments: Vec<DeploymentRow>,
    /// Nodes, by name (empty when nodes may not be read).
    pub nodes: Vec<NodeRow>,
    /// Why nodes are missing, when they are.
    pub nodes_error: Option<String>,
    /// Events, newest first.
    pub events: Vec<EventRow>,
    /// Each watch: synced, reconnecting and why.
    pub watches: Vec<WatchState>,
    /// Moves on every change the watches see.
    #[specta(type = f64)]
    pub generation: u64,
}

impl AppContext {
    /// Starts the watches if needed (waiting up to `first_sync` for their first lists) and
    /// assembles the view; what is not synced yet is read with a list. With `pods_since`
    /// (the `pods_seq` of an earlier view) the pods are only those that changed since. The
    /// flag is true when the watches were started by this call (the caller forwards their
    /// changes).
    pub async fn cluster_view(
        &self,
        first_sync: Duration,
        now: DateTime<Utc>,
        pods_since: Option<u64>,
    ) -> Result<(ClusterView, Option<tokio::sync::watch::Receiver<u64>>), Error> {
        let (live, started) = self.live().await?;
        if started {
            live.wait_synced(first_sync).await;
        }
        let cluster = self.cluster().await?;
        let generation = *live.subscribe().borrow();
        let mut source = "watch";
        let (pods, pods_seq) = match live.pods_since(pods_since) {
            Some(d) => {
                let seq = d.seq;
                (d, Some(seq))
            }
            None => {
                source = "list";
                (hsof_cluster::RowDelta { seq: 0, full: true, rows: cluster.pods().await?, removed: vec![] }, None)
            }
        };
        let deployments = match live.deployments() {
            Some(d) => d,
            None => {
                source = "list";
                cluster.deployments().await?
            }
        };
        // Nodes are cluster-scoped: a namespaced role may not read them, which must not
        // hide the rest of the view.
        let (nodes, nodes_error) = match live.nodes() {
            Some(n) => (n, None),
            None => match cluster.nodes().await {
                Ok(n) => (n, None),
                Err(e) => (vec![], Some(e.to_string())),
            },
        };
        let events = match live.events() {
            Some(e) => e,
            None => cluster.events().await.unwrap_or_default(),
        };
        let view = ClusterView {
            context: cluster.context.clone(),
            namespace: cluster.namespace.clone(),
            source: source.into(),
            read_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            pods_full: pods.full,
            pods_removed: pods.removed,
            pods_seq,
            pods: pods.rows,
            deployments,
            nodes,
            nodes_error,
            events,
            watches: live.states(),
            generation,
        };
        Ok((view, started.then(|| live.subscribe())))
    }
}
