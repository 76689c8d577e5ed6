//! HSOF's objects in one namespace as flat facts a fleet compares (hsof-fleet's
//! [`Objects`]): the main Deployment (images, replicas, resources, env, node selector,
//! tolerations), its ConfigMap key by key, Services, HorizontalPodAutoscalers,
//! PodDisruptionBudgets, NetworkPolicies and the backup CronJob. An area that cannot be
//! read says why; an object that is not there is `Missing`, never an empty area.

use std::collections::BTreeMap;

use hsof_fleet::{Area, Objects};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ListParams};

use crate::{Cluster, ClusterError};

/// What the fleet reads: the names of HSOF's objects (`[cluster]`).
#[derive(Debug, Clone)]
pub struct HsofNames<'a> {
    /// The main Deployment.
    pub deployment: &'a str,
    /// Its ConfigMap.
    pub configmap: &'a str,
    /// The backup CronJob.
    pub backup_cronjob: &'a str,
}

fn why(e: kube::Error, what: &str) -> String {
    ClusterError::from_kube(e, what).to_string()
}

fn quantity_map(
    m: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Vec<(String, String)> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()).unwrap_or_default()
}

fn container_facts(c: &Container, out: &mut BTreeMap<String, String>) {
    let n = &c.name;
    out.insert(format!("image[{n}]"), c.image.clone().unwrap_or_default());
    if let Some(r) = &c.resources {
        for (k, v) in quantity_map(r.requests.as_ref()) {
            out.insert(format!("resources[{n}].requests.{k}"), v);
        }
        for (k, v) in quantity_map(r.limits.as_ref()) {
            out.insert(format!("resources[{n}].limits.{k}"), v);
        }
    }
    for e in c.env.iter().flatten() {
        // A value from a Secret or ConfigMap is named by its source, never read.
        let value = match (&e.value, &e.value_from) {
            (Some(v), _) => v.clone(),
            (None, Some(from)) => match (&from.secret_key_ref, &from.config_map_key_ref, &from.field_ref) {
                (Some(s), _, _) => format!("(secret {}/{})", s.name, s.key),
                (_, Some(c), _) => format!("(configmap {}/{})", c.name, c.key),
                (_, _, Some(f)) => format!("(field {})", f.field_path),
                _ => "(from elsewhere)".into(),
            },
            (None, None) => String::new(),
        };
        out.insert(format!("env[{n}].{}", e.name), value);
    }
}

/// The Deployment's facts: replicas (desired, ready), each container's image, resources
/// and env, the node selector and tolerations.
pub fn deployment_facts(d: &Deployment) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let spec = d.spec.as_ref();
    out.insert("replicas".into(), spec.and_then(|s| s.replicas).unwrap_or(1).to_string());
    let ready = d.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0);
    out.insert("ready".into(), ready.to_string());
    let pod = spec.and_then(|s| s.template.spec.as_ref());
    for c in pod.map(|p| p.containers.as_slice()).unwrap_or_default() {
        container_facts(c, &mut out);
    }
    for (k, v) in pod.and_then(|p| p.node_selector.as_ref()).into_iter().flatten() {
        out.insert(format!("nodeSelector.{k}"), v.clone());
    }
    let tolerations: Vec<String> = pod
        .and_then(|p| p.tolerations.as_ref())
        .into_iter()
        .flatten()
        .map(|t| {
            let key = t.key.clone().unwrap_or_default();
            let value = t.value.as_deref().map(|v| format!("={v}")).unwrap_or_default();
            format!("{key}{value}:{}", t.effect.clone().unwrap_or_default())
        })
        .collect();
    if !tolerations.is_empty() {
        out.insert("tolerations".into(), tolerations.join(", "));
    }
    out
}

fn service_facts(s: &Service, out: &mut BTreeMap<String, String>) {
    let name = s.metadata.name.clone().unwrap_or_default();
    let spec = s.spec.clone().unwrap_or_default();
    out.insert(format!("service[{name}].type"), spec.type_.unwrap_or_else(|| "ClusterIP".into()));
    let ports: Vec<String> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| {
            format!(
                "{}{}/{}",
                p.name.as_deref().map(|n| format!("{n}=")).unwrap_or_default(),
                p.port,
                p.protocol.as_deref().unwrap_or("TCP")
            )
        })
        .collect();
    out.insert(format!("service[{name}].ports"), ports.join(","));
}

fn hpa_facts(h: &HorizontalPodAutoscaler, out: &mut BTreeMap<String, String>) {
    let name = h.metadata.name.clone().unwrap_or_default();
    let Some(spec) = &h.spec else { return };
    out.insert(format!("hpa[{name}].target"), format!("{}/{}", spec.scale_target_ref.kind, spec.scale_target_ref.name));
    out.insert(format!("hpa[{name}].min"), spec.min_replicas.unwrap_or(1).to_string());
    out.insert(format!("hpa[{name}].max"), spec.max_replicas.to_string());
    let metrics: Vec<String> = spec.metrics.iter().flatten().map(crate::hpa_metric_text).collect();
    out.insert(format!("hpa[{name}].metrics"), metrics.join(", "));
}

fn pdb_facts(p: &PodDisruptionBudget, out: &mut BTreeMap<String, String>) {
    let name = p.metadata.name.clone().unwrap_or_default();
    let spec = p.spec.clone().unwrap_or_default();
    let v = |x: Option<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>| match x {
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i)) => i.to_string(),
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s)) => s,
        None => "-".into(),
    };
    out.insert(format!("pdb[{name}].minAvailable"), v(spec.min_available));
    out.insert(format!("pdb[{name}].maxUnavailable"), v(spec.max_unavailable));
}

fn netpol_facts(n: &NetworkPolicy, out: &mut BTreeMap<String, String>) {
    let name = n.metadata.name.clone().unwrap_or_default();
    let spec = n.spec.clone().unwrap_or_default();
    let selector = spec
        .pod_selector
        .as_ref()
        .and_then(|s| s.match_labels.as_ref())
        .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    out.insert(
        format!("networkpolicy[{name}].podSelector"),
        if selector.is_empty() { "(all pods)".into() } else { selector },
    );
    out.insert(format!("networkpolicy[{name}].policyTypes"), spec.policy_types.unwrap_or_default().join(","));
    out.insert(
        format!("networkpolicy[{name}].rules"),
        format!("{} ingress, {} egress", spec.ingress.map_or(0, |r| r.len()), spec.egress.map_or(0, |r| r.len())),
    );
}

impl Cluster {
    /// HSOF's objects in the namespace as the fleet compares them.
    pub async fn hsof_objects(&self, names: &HsofNames<'_>) -> Objects {
        let ns = &self.namespace;
        let c = self.client.clone();
        let deployments: Api<Deployment> = Api::namespaced(c.clone(), ns);
        let configmaps: Api<ConfigMap> = Api::namespaced(c.clone(), ns);
        let services: Api<Service> = Api::namespaced(c.clone(), ns);
        let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(c.clone(), ns);
        let pdbs: Api<PodDisruptionBudget> = Api::namespaced(c.clone(), ns);
        let netpols: Api<NetworkPolicy> = Api::namespaced(c.clone(), ns);
        let cronjobs: Api<CronJob> = Api::namespaced(c, ns);
        let lp = ListParams::default();
        let (d, cm, svc, hpa, pdb, np, cj) = futures_util::join!(
            deployments.get_opt(names.deployment),
            configmaps.get_opt(names.configmap),
            services.list(&lp),
            hpas.list(&lp),
            pdbs.list(&lp),
            netpols.list(&lp),
            cronjobs.get_opt(names.backup_cronjob),
        );
        let one = |r: Result<Option<BTreeMap<String, String>>, String>| match r {
            Ok(Some(values)) => Area::Read { values },
            Ok(None) => Area::Missing,
            Err(why) => Area::Unreadable { why },
        };
        let list = |r: Result<BTreeMap<String, String>, String>| match r {
            Ok(values) => Area::Read { values },
            Err(why) => Area::Unreadable { why },
        };
        let gather = |items: &dyn Fn(&mut BTreeMap<String, String>)| {
            let mut out = BTreeMap::new();
            items(&mut out);
            out
        };
        Objects::default()
            .with(
                "deployment",
                one(d
                    .map(|d| d.as_ref().map(deployment_facts))
                    .map_err(|e| why(e, &format!("get deployment {}", names.deployment)))),
            )
            .with(
                "configmap",
                one(cm
                    .map(|c| c.map(|c| c.data.unwrap_or_default()))
                    .map_err(|e| why(e, &format!("get configmap {}", names.configmap)))),
            )
            .with(
                "services",
                list(
                    svc.map(|l| gather(&|o| l.items.iter().for_each(|s| service_facts(s, o))))
                        .map_err(|e| why(e, "list services")),
                ),
            )
            .with(
                "hpa",
                list(
                    hpa.map(|l| gather(&|o| l.items.iter().for_each(|h| hpa_facts(h, o))))
                        .map_err(|e| why(e, "list horizontalpodautoscalers")),
                ),
            )
            .with(
                "pdb",
                list(
                    pdb.map(|l| gather(&|o| l.items.iter().for_each(|p| pdb_facts(p, o))))
                        .map_err(|e| why(e, "list poddisruptionbudgets")),
                ),
            )
            .with(
                "networkpolicies",
                list(
                    np.map(|l| gather(&|o| l.items.iter().for_each(|n| netpol_facts(n, o))))
                        .map_err(|e| why(e, "list networkpolicies")),
                ),
            )
            .with(
                "backup",
                one(cj
                    .map(|c| {
                        c.map(|c| {
                            let st = c.status.unwrap_or_default();
                            let mut out = BTreeMap::new();
                            out.insert("schedule".into(), c.spec.map(|s| s.schedule).unwrap_or_default());
                            if let Some(t) = st.last_successful_time {
                                out.insert("lastSuccessful".into(), t.0.to_string());
                            }
                            out
                        })
                    })
                    .map_err(|e| why(e, &format!("get cronjob {}", names.backup_cronjob)))),
            )
    }
}
