//! Kubernetes for HSOF Control Center, on kube-rs: connect through a kubeconfig context,
//! read pods, deployments, nodes and rollout history in the HSOF namespace, and make the
//! runbook's changes (rollout restart, scale, undo) with server-side dry run first.
//! No Tauri here; every change returns what it did so the caller can audit it.

mod batch;
mod capacity;
mod changes;
mod config_changes;
mod error;
mod exec_path;
mod follow;
mod forward;
mod jobs;
mod live;
mod objects;
mod permissions;
pub mod proxy;
mod read;
mod rollout;
mod rows;
mod security;
mod selector;
mod services;
mod storage;
mod top;
mod upkeep;
mod workload;

use std::path::Path;
use std::time::Duration;

pub use batch::{is_quantity, job_state, parse_selector, parse_toleration, EngineSpec, JobState, WORK_DIR};
pub use capacity::{hpa_metric_text, CapacityObjects, HpaSpec, TemplateContainer};
pub use changes::{ChangeOutcome, RESTARTED_AT};
pub use config_changes::Resources;
pub use error::ClusterError;
pub use exec_path::{exec_path_pending, set_exec_path};
pub use follow::{split_timestamped, FollowEvent, LogCursor, LogLine};
pub use forward::{ProxyTarget, ServiceProxy};
pub use jobs::{job_from_manifest, JobOutcome, JobTemplate};
pub use live::{Live, WatchState};
pub use objects::{deployment_facts, HsofNames};
pub use permissions::{PermissionCache, PermissionScope};
pub use read::{age, ContainerRow, DeploymentRow, NodeRow, PodRow, Revision};
pub use rollout::RolloutStatus;
pub use rows::{RowCache, RowDelta};
pub use security::{ReviewNames, FIELD_MANAGER, TRIVY_GROUP};
pub use selector::{Requirement, Selection, SelectorOp};
pub use services::{classify, judge, Candidate, Discovery, Probe, ServiceRef, SourceRole, SERVICE_SCHEME};
pub use storage::{parse_df, DfReport, DfRow};
pub use top::{cpu_millicores, memory_bytes, TopRow};
pub use upkeep::{RunningImage, DELETABLE};
pub use workload::{BackupStatus, EventRow, ImageUse};

/// How to reach the API server.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectOptions {
    /// Connect, read and write timeout of each request.
    pub timeout: Duration,
    /// `http://`, `https://` or `socks5://` proxy; `None` means the kubeconfig's
    /// `proxy-url`, else `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` minus `NO_PROXY`.
    pub proxy_url: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(10), proxy_url: None }
    }
}

/// A connection to one cluster context and namespace.
#[derive(Clone)]
pub struct Cluster {
    pub(crate) client: kube::Client,
    /// Namespace HSOF runs in.
    pub namespace: String,
    /// Context name.
    pub context: String,
    /// API server URL.
    pub server: String,
    /// Who the connection authenticates as: the kubeconfig user's name and a digest of its
    /// credentials (`alice#3f9c…`), never a secret. Keys permission answers.
    pub identity: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .field("identity", &self.identity)
            .finish()
    }
}

impl Cluster {
    /// The kube client this connection uses (for callers that need an API this crate does
    /// not wrap, such as a benchmark's baseline).
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Connects with `kubeconfig` (or `$KUBECONFIG` / `~/.kube/config` when `None`), using
    /// `context` (or the current context) and `namespace`, with `options` (timeout, proxy).
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        namespace: &str,
        options: &ConnectOptions,
    ) -> Result<Self, ClusterError> {
        let mut kc = read_kubeconfig(kubeconfig)?;
        exec_path::apply(&mut kc).await;
        let context_name = context.map(str::to_string).or_else(|| kc.current_context.clone()).unwrap_or_default();
        if !kc.contexts.iter().any(|c| c.name == context_name) {
            let known: Vec<String> = kc.contexts.iter().map(|c| c.name.clone()).collect();
            return Err(ClusterError::NoContext { context: context_name, known });
        }
        let user = kc
            .contexts
            .iter()
            .find(|c| c.name == context_name)
            .and_then(|c| c.context.as_ref())
            .and_then(|c| c.user.clone());
        let opts = kube::config::KubeConfigOptions { context: Some(context_name.clone()), cluster: None, user: None };
        let mut config =
            kube::Config::from_custom_kubeconfig(kc, &opts).await.map_err(|e| ClusterError::Kubeconfig(chain(&e)))?;
        if config.root_cert.as_ref().is_some_and(Vec::is_empty) {
            // kube keeps going with no trusted certificate, and the first request fails on TLS
            // with a message that does not point here; kubectl refuses the file, as do we.
            return Err(ClusterError::Kubeconfig(format!(
                "context `{context_name}`: the cluster's certificate authority holds no PEM certificate \
                 (-----BEGIN CERTIFICATE-----)"
            )));
        }
        config.connect_timeout = Some(options.timeout);
        config.read_timeout = Some(options.timeout);
        config.write_timeout = Some(options.timeout);
        // kube retries 429/503/504 up to 15 times with backoff growing towards minutes: an
        // operator's click must not hang that long. Watches and follows retry on their own.
        config.default_retry = false;
        let server = config.cluster_url.to_string();
        let identity = permissions::identity_of(user.as_deref(), &config.auth_info);
        // The explicit setting wins, then the kubeconfig's `proxy-url`, then the environment
        // the way kubectl (Go's ProxyFromEnvironment) reads it.
        let proxy = match options.proxy_url.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => Some(p.to_string()),
            None if config.proxy_url.is_some() => None,
            None => proxy::from_env(&server, |k| std::env::var(k).ok()),
        };
        if let Some(p) = proxy {
            config.proxy_url = Some(proxy::parse(&p)?);
        }
        let client = kube::Client::try_from(config).map_err(|e| ClusterError::Kubeconfig(chain(&e)))?;
        Ok(Self { client, namespace: namespace.to_string(), context: context_name, server, identity })
    }

    /// Asks the API whether the current identity may `verb` the `resource` (with optional
    /// `subresource`) in the namespace: a SelfSubjectAccessReview. Returns the reason when not.
    /// Uncached: [`PermissionCache::can_i`] reuses answers per identity.
    pub async fn can_i(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
    ) -> Result<(bool, String), ClusterError> {
        use k8s_openapi::api::authorization::v1::{
            ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
        };
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(self.namespace.clone()),
                    verb: Some(verb.into()),
                    group: Some(group.into()),
                    resource: Some(resource.into()),
                    subresource: (!subresource.is_empty()).then(|| subresource.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: kube::Api<SelfSubjectAccessReview> = kube::Api::all(self.client.clone());
        let answer = api
            .create(&kube::api::PostParams::default(), &review)
            .await
            .map_err(|e| ClusterError::from_kube(e, "create selfsubjectaccessreviews"))?;
        let status = answer.status.unwrap_or_default();
        Ok((status.allowed, status.reason.unwrap_or_default()))
    }
}

/// Reads `path` (or `$KUBECONFIG` / `~/.kube/config` when `None`) as kube does, but never panics:
/// kube's reader indexes past the end of a UTF-16 file with an odd number of bytes (a truncated
/// file), so that is refused first, and any other panic inside the reader or its YAML parser is an
/// error too.
pub fn read_kubeconfig(path: Option<&Path>) -> Result<kube::config::Kubeconfig, ClusterError> {
    // An unreadable file is left to kube, whose error names it.
    if let Some((p, bytes)) = path.and_then(|p| std::fs::read(p).ok().map(|b| (p, b))) {
        if matches!(bytes.as_slice(), [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]) && bytes.len() % 2 == 1 {
            return Err(ClusterError::Kubeconfig(format!(
                "{}: a UTF-16 file must have an even number of bytes; it has {} (truncated?)",
                p.display(),
                bytes.len()
            )));
        }
    }
    let read = || match path {
        Some(p) => kube::config::Kubeconfig::read_from(p),
        None => kube::config::Kubeconfig::read(),
    };
    match std::panic::catch_unwind(read) {
        Ok(kc) => kc.map_err(|e| ClusterError::Kubeconfig(chain(&e))),
        Err(_) => Err(ClusterError::Kubeconfig(format!(
            "{}: the file could not be read (it is damaged or not a kubeconfig)",
            path.map(|p| p.display().to_string()).unwrap_or_else(|| "the default kubeconfig".into())
        ))),
    }
}

pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = inner.source();
    }
    s
}
