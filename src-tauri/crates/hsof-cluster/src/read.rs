//! Read views: pods, deployments, nodes, rollout history.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use serde::Serialize;

use crate::{Cluster, ClusterError, Selection};

/// A pod as the Cluster table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct PodRow {
    /// Name.
    pub name: String,
    /// Phase.
    pub phase: String,
    /// `ready/total` containers.
    pub ready: String,
    /// Restarts over all containers.
    pub restarts: u32,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// Node.
    pub node: String,
    /// Container images.
    pub images: Vec<String>,
    /// `nvidia.com/gpu` requested over all containers.
    pub gpus: u32,
    /// Its containers.
    pub containers: Vec<ContainerRow>,
}

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ContainerRow {
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
    /// Ready.
    pub ready: bool,
    /// Restarts.
    pub restarts: u32,
    /// `Running`, `Waiting: CrashLoopBackOff`, `Terminated: Error (exit 1)`.
    pub state: String,
}

/// A deployment with its rollout state.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct DeploymentRow {
    /// Name.
    pub name: String,
    /// Desired replicas.
    pub replicas: u32,
    /// Ready replicas.
    pub ready: u32,
    /// Up-to-date replicas.
    pub updated: u32,
    /// Current revision.
    pub revision: u32,
    /// Images of the pod template.
    pub images: Vec<String>,
}

/// A node with GPU capacity.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct NodeRow {
    /// Name.
    pub name: String,
    /// Ready condition.
    pub ready: bool,
    /// `nvidia.com/gpu` capacity.
    pub gpu_capacity: u32,
    /// `nvidia.com/gpu` allocatable.
    pub gpu_allocatable: u32,
    /// CPU allocatable.
    pub cpu: String,
    /// Memory allocatable.
    pub memory: String,
}

/// One revision of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Revision {
    /// Revision number.
    pub revision: u32,
    /// ReplicaSet holding it.
    pub replica_set: String,
    /// `kubernetes.io/change-cause`.
    pub change_cause: Option<String>,
    /// Images.
    pub images: Vec<String>,
    /// True for the revision running now.
    pub current: bool,
    /// When its ReplicaSet was created (the rollout started), RFC 3339.
    pub created: Option<String>,
}

fn ts(t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<String> {
    t.map(|t| t.0.to_string())
}

fn images(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> Vec<String> {
    spec.map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect()).unwrap_or_default()
}

pub(crate) fn revision_of(annotations: Option<&std::collections::BTreeMap<String, String>>) -> u32 {
    annotations.and_then(|a| a.get("deployment.kubernetes.io/revision")).and_then(|r| r.parse().ok()).unwrap_or(0)
}

impl Cluster {
    /// Pods in the namespace.
    pub async fn pods(&self) -> Result<Vec<PodRow>, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let list = api.list(&ListParams::default()).await.map_err(|e| ClusterError::from_kube(e, "list pods"))?;
        Ok(list.items.iter().map(pod_row).collect())
    }

    /// Deployments in the namespace.
    pub async fn deployments(&self) -> Result<Vec<DeploymentRow>, ClusterError> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &self.namespace);
        let list =
            api.list(&ListParams::default()).await.map_err(|e| ClusterError::from_kube(e, "list deployments"))?;
        Ok(list.items.iter().map(deployment_row).collect())
    }

    /// Nodes with their GPU capacity.
    pub async fn nodes(&self) -> Result<Vec<NodeRow>, ClusterError> {
        let api: Api<Node> = Api::all(self.client.clone());
        let list = api.list(&ListParams::default()).await.map_err(|e| ClusterError::from_kube(e, "list nodes"))?;
        Ok(list.items.iter().map(node_row).collect())
    }

    /// Rollout history of `deployment`, newest first (its ReplicaSets and their revisions).
    pub async fn history(&self, deployment: &str) -> Result<Vec<Revision>, ClusterError> {
        let (dep, sets) = self.deployment_and_sets(deployment).await?;
        let current = revision_of(dep.metadata.annotations.as_ref());
        let mut out: Vec<Revision> = sets
            .iter()
            .map(|rs| {
                let rev = revision_of(rs.metadata.annotations.as_ref());
                Revision {
                    revision: rev,
                    replica_set: rs.metadata.name.clone().unwrap_or_default(),
                    change_cause: rs
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get("kubernetes.io/change-cause").cloned()),
                    images: images(rs.spec.as_ref().and_then(|s| s.template.as_ref()).and_then(|t| t.spec.as_ref())),
                    current: rev == current,
                    created: rs.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
                }
            })
            .filter(|r| r.revision > 0)
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.revision));
        Ok(out)
    }

    /// The deployment and the ReplicaSets it owns.
    pub(crate) async fn deployment_and_sets(
        &self,
        deployment: &str,
    ) -> Result<(Deployment, Vec<ReplicaSet>), ClusterError> {
        let deps: Api<Deployment> = Api::namespaced(self.client.clone(), &self.namespace);
        let dep = deps
            .get(deployment)
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("get deployment {deployment}")))?;
        let sets: Vec<ReplicaSet> = self.list_selected(&Selection::of_deployment(&dep)?, "list replicasets").await?;
        let uid = dep.metadata.uid.clone();
        let owned = sets
            .into_iter()
            .filter(|rs| {
                rs.metadata.owner_references.as_ref().is_some_and(|o| {
                    o.iter()
                        .any(|r| r.uid == uid.clone().unwrap_or_default() || Some(r.name.clone()) == dep.metadata.name)
                })
            })
            .collect();
        Ok((dep, owned))
    }
}

impl Cluster {
    /// Objects of kind `K` in the namespace that `selection` selects: listed with its query
    /// (nothing is listed for a nil selector) and checked against it here as well, so a
    /// server that ignores set-based terms (`in`, `notin`, `key`, `!key`) cannot hand back
    /// another workload's objects.
    pub(crate) async fn list_selected<K>(&self, selection: &Selection, what: &str) -> Result<Vec<K>, ClusterError>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let Some(query) = selection.query() else { return Ok(Vec::new()) };
        let api: Api<K> = Api::namespaced(self.client.clone(), &self.namespace);
        let list =
            api.list(&ListParams::default().labels(&query)).await.map_err(|e| ClusterError::from_kube(e, what))?;
        Ok(list.items.into_iter().filter(|o| selection.matches(o.meta().labels.as_ref())).collect())
    }
}

/// The table row of a deployment.
pub(crate) fn deployment_row(d: &Deployment) -> DeploymentRow {
    let st = d.status.clone().unwrap_or_default();
    let as_u = |v: Option<i32>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
    DeploymentRow {
        name: d.metadata.name.clone().unwrap_or_default(),
        replicas: as_u(d.spec.as_ref().and_then(|s| s.replicas)),
        ready: as_u(st.ready_replicas),
        updated: as_u(st.updated_replicas),
        revision: revision_of(d.metadata.annotations.as_ref()),
        images: images(d.spec.as_ref().and_then(|s| s.template.spec.as_ref())),
    }
}

/// The table row of a node, with its GPU capacity.
pub(crate) fn node_row(n: &Node) -> NodeRow {
    let st = n.status.clone().unwrap_or_default();
    let q =
        |m: &Option<std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
         k: &str| { m.as_ref().and_then(|m| m.get(k)).map(|q| q.0.clone()).unwrap_or_default() };
    NodeRow {
        name: n.metadata.name.clone().unwrap_or_default(),
        ready: st.conditions.unwrap_or_default().iter().any(|c| c.type_ == "Ready" && c.status == "True"),
        gpu_capacity: q(&st.capacity, "nvidia.com/gpu").parse().unwrap_or(0),
        gpu_allocatable: q(&st.allocatable, "nvidia.com/gpu").parse().unwrap_or(0),
        cpu: q(&st.allocatable, "cpu"),
        memory: q(&st.allocatable, "memory"),
    }
}

/// The table row of a pod.
impl From<&Pod> for PodRow {
    fn from(p: &Pod) -> Self {
        pod_row(p)
    }
}

pub(crate) fn pod_row(p: &Pod) -> PodRow {
    let st = p.status.clone().unwrap_or_default();
    let cs = st.container_statuses.unwrap_or_default();
    let total = p.spec.as_ref().map(|s| s.containers.len()).unwrap_or(cs.len());
    let gpus = p
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.resources.as_ref()?.requests.as_ref()?.get("nvidia.com/gpu")?.0.parse::<u32>().ok())
                .sum()
        })
        .unwrap_or(0);
    PodRow {
        name: p.metadata.name.clone().unwrap_or_default(),
        phase: st.phase.unwrap_or_else(|| "Unknown".into()),
        ready: format!("{}/{total}", cs.iter().filter(|c| c.ready).count()),
        restarts: cs.iter().map(|c| u32::try_from(c.restart_count).unwrap_or(0)).sum(),
        created: ts(p.metadata.creation_timestamp.as_ref()),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default(),
        images: images(p.spec.as_ref()),
        gpus,
        containers: p
            .spec
            .as_ref()
            .map(|spec| {
                spec.containers
                    .iter()
                    .map(|c| {
                        let status = cs.iter().find(|s| s.name == c.name);
                        let state = status.and_then(|s| s.state.as_ref()).map_or_else(
                            || "Unknown".to_string(),
                            |st| {
                                if let Some(w) = &st.waiting {
                                    format!("Waiting: {}", w.reason.as_deref().unwrap_or("?"))
                                } else if let Some(t) = &st.terminated {
                                    format!("Terminated: {} (exit {})", t.reason.as_deref().unwrap_or("?"), t.exit_code)
                                } else {
                                    "Running".to_string()
                                }
                            },
                        );
                        ContainerRow {
                            name: c.name.clone(),
                            image: c.image.clone().unwrap_or_default(),
                            ready: status.is_some_and(|s| s.ready),
                            restarts: status.map_or(0, |s| u32::try_from(s.restart_count).unwrap_or(0)),
                            state,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Age of `created` at `now`, as kubectl prints it (`5m`, `3h`, `2d`).
pub fn age(created: Option<&str>, now: DateTime<Utc>) -> String {
    let Some(t) = created.and_then(|c| DateTime::parse_from_rfc3339(c).ok()) else { return "?".into() };
    let s = (now - t.with_timezone(&Utc)).num_seconds().max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}
