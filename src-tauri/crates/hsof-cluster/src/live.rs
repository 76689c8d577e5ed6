//! Live views: kube-runtime watchers over pods, deployments, events (namespace-scoped)
//! and nodes, reconnecting with a short capped backoff ([`WatchBackoff`]). Each event is
//! turned into its table row as it arrives and only the rows are kept ([`RowCache`]: at
//! 50,000 pods the objects themselves would hold hundreds of MiB). Readers get the rows,
//! what changed since their last read, the state of each watch (synced, reconnecting and
//! why), and a generation counter that moves on every change so a screen knows when to
//! redraw.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, ResourceExt};
use serde::Serialize;

use crate::read::{deployment_row, node_row, pod_row};
use crate::rows::{RowCache, RowDelta};
use crate::workload::event_row;
use crate::{Cluster, DeploymentRow, EventRow, NodeRow, PodRow};

/// The state of one watch.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct WatchState {
    /// `pods`, `deployments`, `events`, `nodes`.
    pub resource: String,
    /// The initial list has arrived: the cache is complete.
    pub synced: bool,
    /// The last error, while the watch is reconnecting (cleared by the next good event).
    pub error: Option<String>,
    /// Times the watch had to reconnect after an error.
    pub reconnects: u32,
    /// When the last event arrived (RFC 3339).
    pub last_event: Option<String>,
}

type Shared<R> = Arc<Mutex<RowCache<R>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Watches of the namespace, running on the current tokio runtime until dropped.
pub struct Live {
    pods: Shared<PodRow>,
    deployments: Shared<DeploymentRow>,
    events: Shared<EventRow>,
    nodes: Shared<NodeRow>,
    states: Arc<Mutex<BTreeMap<&'static str, WatchState>>>,
    generation: tokio::sync::watch::Sender<u64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Context the watches run in.
    pub context: String,
    /// Namespace they watch.
    pub namespace: String,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("context", &self.context).field("namespace", &self.namespace).finish()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Live {
    /// Starts the watches (must be called inside a tokio runtime).
    pub fn start(cluster: &Cluster) -> Self {
        let states = Arc::new(Mutex::new(BTreeMap::new()));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let mut tasks = Vec::new();
        let c = cluster.client.clone();
        let ns = cluster.namespace.as_str();
        let mut watch = Spawner { states: &states, generation: &generation, tasks: &mut tasks };
        let pods = watch.rows(Api::<Pod>::namespaced(c.clone(), ns), "pods", |p| (p.name_any(), pod_row(p)));
        let deployments = watch
            .rows(Api::<Deployment>::namespaced(c.clone(), ns), "deployments", |d| (d.name_any(), deployment_row(d)));
        let events = watch.rows(Api::<Event>::namespaced(c.clone(), ns), "events", |e| (e.name_any(), event_row(e)));
        let nodes = watch.rows(Api::<Node>::all(c), "nodes", |n| (n.name_any(), node_row(n)));
        Self {
            pods,
            deployments,
            events,
            nodes,
            states,
            generation,
            tasks,
            context: cluster.context.clone(),
            namespace: cluster.namespace.clone(),
        }
    }

    /// Pods, sorted by name; `None` until the first list has arrived.
    pub fn pods(&self) -> Option<Vec<PodRow>> {
        self.synced("pods").then(|| lock(&self.pods).rows())
    }

    /// The pods that changed after `since` (a `seq` an earlier call returned), or all of
    /// them for `None` or a reader too far behind; `None` until synced. This is what a
    /// redraw needs: at 50,000 pods a handful of rows instead of the whole table.
    pub fn pods_since(&self, since: Option<u64>) -> Option<RowDelta<PodRow>> {
        self.synced("pods").then(|| lock(&self.pods).since(since))
    }

    /// Deployments, sorted by name; `None` until synced.
    pub fn deployments(&self) -> Option<Vec<DeploymentRow>> {
        self.synced("deployments").then(|| lock(&self.deployments).rows())
    }

    /// Nodes, sorted by name; `None` until synced (or when nodes may not be watched).
    pub fn nodes(&self) -> Option<Vec<NodeRow>> {
        self.synced("nodes").then(|| lock(&self.nodes).rows())
    }

    /// Events, newest first; `None` until synced.
    pub fn events(&self) -> Option<Vec<EventRow>> {
        self.synced("events").then(|| {
            let mut rows = lock(&self.events).rows();
            rows.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
            rows
        })
    }

    /// Each watch's state, by resource name.
    pub fn states(&self) -> Vec<WatchState> {
        self.states.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Whether `resource`'s cache is complete and its watch is not failing.
    pub fn synced(&self, resource: &str) -> bool {
        self.states.lock().unwrap_or_else(|p| p.into_inner()).get(resource).is_some_and(|s| s.synced)
    }

    /// A receiver whose value moves on every change to any watched object or state.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Waits until every watch has synced or `timeout` passes; true when all synced.
    pub async fn wait_synced(&self, timeout: std::time::Duration) -> bool {
        let mut rx = self.subscribe();
        let all = |s: &Self| ["pods", "deployments", "events", "nodes"].iter().all(|r| s.synced(r));
        tokio::time::timeout(timeout, async {
            while !all(self) {
                if rx.changed().await.is_err() {
                    return false;
                }
            }
            true
        })
        .await
        .unwrap_or(false)
    }
}

/// How long a watch waits after an error before it tries again: 250 ms, doubling, at most
/// [`WatchBackoff::CAP`], back to the start after any good event. kube's default (up to
/// 30 s, with jitter) suits controllers sharing an API server; a desktop holds four watches
/// and must show fresh data within seconds of the server answering again (the soak test
/// found a 20 s gap after 8 s of 500s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchBackoff {
    next: std::time::Duration,
}

impl WatchBackoff {
    /// First wait.
    pub const FIRST: std::time::Duration = std::time::Duration::from_millis(250);
    /// Longest wait.
    pub const CAP: std::time::Duration = std::time::Duration::from_secs(2);
}

impl Default for WatchBackoff {
    fn default() -> Self {
        Self { next: Self::FIRST }
    }
}

impl Iterator for WatchBackoff {
    type Item = std::time::Duration;
    fn next(&mut self) -> Option<Self::Item> {
        let now = self.next;
        self.next = (now * 2).min(Self::CAP);
        Some(now)
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

struct Spawner<'a> {
    states: &'a Arc<Mutex<BTreeMap<&'static str, WatchState>>>,
    generation: &'a tokio::sync::watch::Sender<u64>,
    tasks: &'a mut Vec<tokio::task::JoinHandle<()>>,
}

impl Spawner<'_> {
    /// Starts a watch whose objects are kept only as the rows `row` makes of them.
    fn rows<K, R>(&mut self, api: Api<K>, resource: &'static str, row: fn(&K) -> (String, R)) -> Shared<R>
    where
        K: kube::Resource<DynamicType = ()> + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
        R: Clone + PartialEq + Send + Sync + 'static,
    {
        let cache: Shared<R> = Arc::default();
        lock(self.states).insert(
            resource,
            WatchState { resource: resource.into(), synced: false, error: None, reconnects: 0, last_event: None },
        );
        let states = self.states.clone();
        let generation = self.generation.clone();
        let rows = cache.clone();
        self.tasks.push(tokio::spawn(async move {
            // After each error the watcher waits (doubling, capped, reset by any good event)
            // before it lists or watches again; errors still reach us to show.
            let mut stream = watcher(api, watcher::Config::default()).backoff(WatchBackoff::default()).boxed();
            while let Some(item) = stream.next().await {
                let changed = {
                    let mut all = lock(&states);
                    let Some(st) = all.get_mut(resource) else { return };
                    match item {
                        Ok(ev) => {
                            // Synced from the end of the first list on; a re-list after a
                            // gap keeps the last known rows until it completes.
                            let done = matches!(ev, watcher::Event::InitDone);
                            let changed = lock(&rows).apply(ev, row);
                            let recovered = st.error.take().is_some();
                            st.synced |= done;
                            st.last_event = Some(Utc::now().to_rfc3339());
                            changed || done || recovered
                        }
                        Err(e) => {
                            st.error = Some(crate::chain(&e));
                            st.reconnects += 1;
                            true
                        }
                    }
                };
                // Rows fed from a re-list in progress are not visible yet: no redraw.
                if changed {
                    generation.send_modify(|g| *g += 1);
                }
            }
        }));
        cache
    }
}

#[cfg(test)]
mod tests {
    use super::WatchBackoff;
    use kube::runtime::utils::Backoff;
    use std::time::Duration;

    #[test]
    fn the_watch_backoff_doubles_to_its_cap_and_never_gives_up() {
        let mut b = WatchBackoff::default();
        let waits: Vec<Duration> = b.by_ref().take(8).collect();
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [250, 500, 1000, 2000, 2000, 2000, 2000, 2000]);
        b.reset();
        assert_eq!(b.next(), Some(WatchBackoff::FIRST));
    }
}
