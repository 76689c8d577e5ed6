//! One connection per configuration: the client (and the credentials an exec plugin
//! handed it) is reused until the kubeconfig file, context, namespace, timeout or proxy
//! changes; the live watches follow the same key; permission answers are cached.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hsof_cluster::{Cluster, ConnectOptions, Live};

use crate::{AppContext, Error};

/// How long a SelfSubjectAccessReview answer is trusted before the API is asked again.
pub const PERMISSION_TTL: Duration = hsof_cluster::PermissionCache::DEFAULT_TTL;

/// Everything that decides which cluster a request goes to.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    kubeconfig: Option<PathBuf>,
    /// Modification time of the kubeconfig: an edited file (fresh credentials, a new
    /// context) means a new client.
    modified: Option<SystemTime>,
    context: Option<String>,
    namespace: String,
    options: ConnectOptions,
}

/// The cached connection, live watches and permission answers.
#[derive(Default)]
pub struct ClusterState {
    connection: Mutex<Option<(Key, Cluster)>>,
    live: Mutex<Option<(Key, Arc<Live>)>>,
    /// Answers per server, context, namespace and identity (hsof-cluster's cache).
    permissions: hsof_cluster::PermissionCache,
    /// The loopback forwarder `k8s-service://` endpoints are reached through.
    pub(crate) proxies: super::ProxyState,
}

impl std::fmt::Debug for ClusterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterState").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AppContext {
    fn cluster_key(&self) -> Key {
        let cfg = self.config().config;
        let t = super::target_of(&cfg, None);
        // The file kube will read, for its modification time.
        let file = t.kubeconfig.clone().or_else(|| {
            std::env::var_os("KUBECONFIG")
                .and_then(|v| std::env::split_paths(&v).next())
                .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().join(".kube").join("config")))
        });
        Key {
            modified: file.and_then(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok()),
            kubeconfig: t.kubeconfig,
            context: t.context,
            namespace: cfg.cluster.namespace.clone(),
            options: t.options,
        }
    }

    /// The connection to the configured context and namespace (reused while the settings
    /// and the kubeconfig file are unchanged).
    pub async fn cluster(&self) -> Result<Cluster, Error> {
        let key = self.cluster_key();
        if let Some((k, c)) = lock(&self.cluster_state().connection).as_ref() {
            if *k == key {
                return Ok(c.clone());
            }
        }
        let cluster =
            Cluster::connect(key.kubeconfig.as_deref(), key.context.as_deref(), &key.namespace, &key.options).await?;
        // Another context or other credentials: answers given to the last identity go.
        self.cluster_state().permissions.follow(&cluster.permission_scope());
        *lock(&self.cluster_state().connection) = Some((key, cluster.clone()));
        Ok(cluster)
    }

    /// The live watches for the current connection, started on first use (inside the
    /// caller's tokio runtime). The flag is true when they were started by this call.
    pub async fn live(&self) -> Result<(Arc<Live>, bool), Error> {
        let key = self.cluster_key();
        if let Some((k, l)) = lock(&self.cluster_state().live).as_ref() {
            if *k == key {
                return Ok((l.clone(), false));
            }
        }
        let cluster = self.cluster().await?;
        let live = Arc::new(Live::start(&cluster));
        *lock(&self.cluster_state().live) = Some((key, live.clone()));
        Ok((live, true))
    }

    /// Stops this cluster's live watches (the window switched to another cluster); the next
    /// Cluster screen on it starts them again.
    pub fn stop_live(&self) {
        *lock(&self.cluster_state().live) = None;
    }

    /// The live watches if they run for the current settings.
    pub fn live_if_running(&self) -> Option<Arc<Live>> {
        let key = self.cluster_key();
        lock(&self.cluster_state().live).as_ref().filter(|(k, _)| *k == key).map(|(_, l)| l.clone())
    }

    /// SelfSubjectAccessReview through the cache: an answer younger than
    /// [`PERMISSION_TTL`] for the same server, context, namespace, identity and attributes
    /// is reused.
    pub async fn can_i(
        &self,
        cluster: &Cluster,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
    ) -> Result<(bool, String), Error> {
        Ok(self.cluster_state().permissions.can_i(cluster, verb, group, resource, subresource).await?)
    }

    /// Forgets cached permission answers (after a role change, say).
    pub fn forget_permissions(&self) {
        self.cluster_state().permissions.forget();
    }
}
