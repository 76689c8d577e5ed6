//! What cost and capacity need from the API server: each Deployment's containers with
//! their requests and limits (right-sizing), the HorizontalPodAutoscalers' specs (the
//! autoscaling review) and each node's GPU model (the local price table).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use serde::Serialize;

use crate::{Cluster, ClusterError};

/// One container of a Deployment's pod template, quantities as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateContainer {
    /// The Deployment.
    pub workload: String,
    /// The container.
    pub container: String,
    /// The Deployment's desired replicas.
    pub replicas: u32,
    /// Requests by resource name (`cpu`, `memory`, `nvidia.com/gpu`).
    pub requests: BTreeMap<String, String>,
    /// Limits by resource name.
    pub limits: BTreeMap<String, String>,
}

/// A HorizontalPodAutoscaler's spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HpaSpec {
    /// Name.
    pub name: String,
    /// `Deployment/hsof-main`.
    pub target: String,
    /// Minimum replicas.
    pub min: u32,
    /// Maximum replicas.
    pub max: u32,
    /// Each metric and its target: `cpu 70%`, `memory 80%`, `Pods hsof_queue_depth 10`.
    pub metrics: Vec<String>,
    /// Current and desired replicas as the status says now.
    pub current: Option<u32>,
    /// Desired replicas now.
    pub desired: Option<u32>,
}

/// What [`Cluster::capacity_objects`] read; each list that could not be read says why.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityObjects {
    /// Containers of every Deployment in the namespace.
    pub containers: Result<Vec<TemplateContainer>, String>,
    /// HorizontalPodAutoscalers in the namespace.
    pub hpas: Result<Vec<HpaSpec>, String>,
    /// Node → GPU model (from the label named by `model_label`); nodes without it left out.
    pub node_models: Result<BTreeMap<String, String>, String>,
}

fn u32_of(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn template_containers(d: &Deployment) -> Vec<TemplateContainer> {
    let workload = d.metadata.name.clone().unwrap_or_default();
    let spec = d.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas).map_or(1, u32_of);
    let quantities = |m: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>| {
        m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()).unwrap_or_default()
    };
    spec.and_then(|s| s.template.spec.as_ref())
        .map(|p| {
            p.containers
                .iter()
                .map(|c| TemplateContainer {
                    workload: workload.clone(),
                    container: c.name.clone(),
                    replicas,
                    requests: quantities(c.resources.as_ref().and_then(|r| r.requests.as_ref())),
                    limits: quantities(c.resources.as_ref().and_then(|r| r.limits.as_ref())),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `cpu 70%`, `memory 2Gi`, `Pods hsof_queue_depth 10`: a metric and its target in words.
pub fn hpa_metric_text(m: &k8s_openapi::api::autoscaling::v2::MetricSpec) -> String {
    let target = |t: &k8s_openapi::api::autoscaling::v2::MetricTarget| {
        t.average_utilization
            .map(|u| format!("{u}%"))
            .or_else(|| t.average_value.as_ref().map(|q| q.0.clone()))
            .or_else(|| t.value.as_ref().map(|q| q.0.clone()))
            .unwrap_or_else(|| t.type_.clone())
    };
    if let Some(r) = &m.resource {
        return format!("{} {}", r.name, target(&r.target));
    }
    if let Some(p) = &m.pods {
        return format!("Pods {} {}", p.metric.name, target(&p.target));
    }
    if let Some(o) = &m.object {
        return format!("Object {} {}", o.metric.name, target(&o.target));
    }
    if let Some(e) = &m.external {
        return format!("External {} {}", e.metric.name, target(&e.target));
    }
    m.type_.clone()
}

fn hpa_spec(h: &HorizontalPodAutoscaler) -> Option<HpaSpec> {
    let spec = h.spec.as_ref()?;
    let status = h.status.as_ref();
    Some(HpaSpec {
        name: h.metadata.name.clone().unwrap_or_default(),
        target: format!("{}/{}", spec.scale_target_ref.kind, spec.scale_target_ref.name),
        min: spec.min_replicas.map_or(1, u32_of),
        max: u32_of(spec.max_replicas),
        metrics: spec.metrics.iter().flatten().map(hpa_metric_text).collect(),
        current: status.and_then(|s| s.current_replicas).map(u32_of),
        desired: status.map(|s| u32_of(s.desired_replicas)),
    })
}

fn node_models(nodes: &[Node], model_label: &str) -> BTreeMap<String, String> {
    nodes
        .iter()
        .filter_map(|n| {
            let model = n.metadata.labels.as_ref()?.get(model_label)?.clone();
            Some((n.metadata.name.clone()?, model))
        })
        .collect()
}

fn why(e: kube::Error, what: &str) -> String {
    ClusterError::from_kube(e, what).to_string()
}

impl Cluster {
    /// Deployments' containers, HPAs and node GPU models, read side by side.
    pub async fn capacity_objects(&self, model_label: &str) -> CapacityObjects {
        let c = self.client.clone();
        let deployments: Api<Deployment> = Api::namespaced(c.clone(), &self.namespace);
        let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(c, &self.namespace);
        let lp = ListParams::default();
        let (d, h, n) = futures_util::join!(deployments.list(&lp), hpas.list(&lp), self.node_gpu_models(model_label));
        CapacityObjects {
            containers: d
                .map(|l| l.items.iter().flat_map(template_containers).collect())
                .map_err(|e| why(e, "list deployments")),
            hpas: h
                .map(|l| l.items.iter().filter_map(hpa_spec).collect())
                .map_err(|e| why(e, "list horizontalpodautoscalers")),
            node_models: n,
        }
    }

    /// Node → GPU model, from the label `model_label`; nodes without it left out.
    pub async fn node_gpu_models(&self, model_label: &str) -> Result<BTreeMap<String, String>, String> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        nodes
            .list(&ListParams::default())
            .await
            .map(|l| node_models(&l.items, model_label))
            .map_err(|e| why(e, "list nodes"))
    }
}
