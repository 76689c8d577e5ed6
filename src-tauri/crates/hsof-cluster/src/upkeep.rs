//! What the Friday maintenance and the monthly technology updates read (hsof-upkeep's
//! inputs): the API server's version, every node's kubelet version, the namespace's objects
//! with the API versions they were written at, the team store's definitions, and the
//! leftovers check's objects; and the one write cleanup needs, deleting an object (server
//! side dry run first, as every change).

use chrono::{DateTime, Utc};
use hsof_upkeep::apis::Written;
use hsof_upkeep::leftovers::Inputs as LeftoverInputs;
use hsof_upkeep::Read;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Node, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams};
use serde_json::{json, Value};

use crate::{ChangeOutcome, Cluster, ClusterError};

/// The kinds cleanup may delete (its `kind` words).
pub const DELETABLE: [&str; 5] = ["job", "replicaset", "configmap", "secret", "persistentvolumeclaim"];

async fn list<K>(api: Api<K>, what: &str) -> Read<Vec<K>>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.list(&ListParams::default()).await.map(|l| l.items).map_err(|e| ClusterError::from_kube(e, what).to_string())
}

fn values<K: serde::Serialize>(kind: &str, items: Vec<K>) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .map(|mut v| {
            v["kind"] = json!(kind);
            v
        })
        .collect()
}

impl Cluster {
    /// The API server's version (`v1.30.4`).
    pub async fn server_version(&self) -> Result<String, ClusterError> {
        self.client
            .apiserver_version()
            .await
            .map(|i| i.git_version)
            .map_err(|e| ClusterError::from_kube(e, "get /version"))
    }

    /// Every node's kubelet version (empty when a node reports none).
    pub async fn kubelet_versions(&self) -> Result<Vec<(String, String)>, ClusterError> {
        let nodes = Api::<Node>::all(self.client.clone())
            .list(&ListParams::default())
            .await
            .map_err(|e| ClusterError::from_kube(e, "list nodes"))?;
        Ok(nodes
            .items
            .into_iter()
            .map(|n| {
                let v = n.status.and_then(|s| s.node_info).map(|i| i.kubelet_version).unwrap_or_default();
                (n.metadata.name.unwrap_or_default(), v)
            })
            .collect())
    }

    /// The namespace's objects and the team store's definitions with every API version they
    /// were written at; the kinds that could not be read, with why.
    pub async fn written_objects(&self) -> (Vec<Written>, Vec<String>) {
        let ns = self.namespace.as_str();
        let c = || self.client.clone();
        let (deps, crons, hpas, pdbs, nps, svcs, cms, crds) = futures_util::join!(
            list(Api::<Deployment>::namespaced(c(), ns), "list deployments"),
            list(Api::<CronJob>::namespaced(c(), ns), "list cronjobs"),
            list(Api::<HorizontalPodAutoscaler>::namespaced(c(), ns), "list horizontalpodautoscalers"),
            list(Api::<PodDisruptionBudget>::namespaced(c(), ns), "list poddisruptionbudgets"),
            list(Api::<NetworkPolicy>::namespaced(c(), ns), "list networkpolicies"),
            list(Api::<Service>::namespaced(c(), ns), "list services"),
            list(Api::<ConfigMap>::namespaced(c(), ns), "list configmaps"),
            list(Api::<CustomResourceDefinition>::all(c()), "list customresourcedefinitions"),
        );
        let mut objects = Vec::new();
        let mut unread = Vec::new();
        let mut take = |kind: &str, r: Read<Vec<Value>>| match r {
            Ok(v) => objects.extend(v.iter().map(hsof_upkeep::apis::written)),
            Err(why) => unread.push(format!("{kind}: {why}")),
        };
        take("Deployment", deps.map(|v| values("Deployment", v)));
        take("CronJob", crons.map(|v| values("CronJob", v)));
        take("HorizontalPodAutoscaler", hpas.map(|v| values("HorizontalPodAutoscaler", v)));
        take("PodDisruptionBudget", pdbs.map(|v| values("PodDisruptionBudget", v)));
        take("NetworkPolicy", nps.map(|v| values("NetworkPolicy", v)));
        take("Service", svcs.map(|v| values("Service", v)));
        take("ConfigMap", cms.map(|v| values("ConfigMap", v)));
        // The team store's definitions only (group ops.hsof.io).
        take(
            "CustomResourceDefinition",
            crds.map(|v| {
                values("CustomResourceDefinition", v)
                    .into_iter()
                    .filter(|c| c["spec"]["group"] == "ops.hsof.io")
                    .collect()
            }),
        );
        (objects, unread)
    }

    /// What the leftovers check reads. Secrets are listed for their names, types and
    /// owners; their data is dropped as it arrives.
    pub async fn leftover_inputs(
        &self,
        hsof_configmap: &str,
        finished_job_days: u32,
        price: f64,
        now: DateTime<Utc>,
    ) -> LeftoverInputs {
        let ns = self.namespace.as_str();
        let c = || self.client.clone();
        let (pods, deployments, replicasets, jobs, cronjobs, configmaps, secrets, claims) = futures_util::join!(
            list(Api::<Pod>::namespaced(c(), ns), "list pods"),
            list(Api::<Deployment>::namespaced(c(), ns), "list deployments"),
            list(Api::<ReplicaSet>::namespaced(c(), ns), "list replicasets"),
            list(Api::<Job>::namespaced(c(), ns), "list jobs"),
            list(Api::<CronJob>::namespaced(c(), ns), "list cronjobs"),
            list(Api::<ConfigMap>::namespaced(c(), ns), "list configmaps"),
            list(Api::<Secret>::namespaced(c(), ns), "list secrets"),
            list(Api::<PersistentVolumeClaim>::namespaced(c(), ns), "list persistentvolumeclaims"),
        );
        let secrets = secrets.map(|v| {
            v.into_iter()
                .map(|mut s| {
                    s.data = None;
                    s.string_data = None;
                    s
                })
                .collect()
        });
        LeftoverInputs {
            pods,
            deployments,
            replicasets,
            jobs,
            cronjobs,
            configmaps,
            secrets,
            claims,
            finished_job_days,
            hsof_configmap: hsof_configmap.to_string(),
            price_per_gib_month: price,
            now,
        }
    }

    /// Deletes `kind`/`name` (one of [`DELETABLE`]) in the namespace, as a server-side dry
    /// run or for real. An object already gone answers `(absent)` before and after, so a
    /// change recorded before a crash is settled as applied.
    pub async fn delete_object(&self, kind: &str, name: &str, dry_run: bool) -> Result<ChangeOutcome, ClusterError> {
        let ns = &self.namespace;
        let dp = DeleteParams {
            dry_run,
            propagation_policy: Some(kube::api::PropagationPolicy::Background),
            ..Default::default()
        };
        let what = format!("delete {kind} {name}");
        async fn go<K>(api: Api<K>, name: &str, dp: &DeleteParams, what: &str) -> Result<Option<String>, ClusterError>
        where
            K: Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
        {
            let Some(obj) = api.get_opt(name).await.map_err(|e| ClusterError::from_kube(e, what))? else {
                return Ok(None);
            };
            let v = serde_json::to_value(&obj).unwrap_or_default();
            let before = json!({"name": v["metadata"]["name"], "created": v["metadata"]["creationTimestamp"], "resourceVersion": v["metadata"]["resourceVersion"]}).to_string();
            api.delete(name, dp).await.map_err(|e| ClusterError::from_kube(e, what))?;
            Ok(Some(before))
        }
        let c = self.client.clone();
        let before = match kind {
            "job" => go(Api::<Job>::namespaced(c, ns), name, &dp, &what).await?,
            "replicaset" => go(Api::<ReplicaSet>::namespaced(c, ns), name, &dp, &what).await?,
            "configmap" => go(Api::<ConfigMap>::namespaced(c, ns), name, &dp, &what).await?,
            "secret" => go(Api::<Secret>::namespaced(c, ns), name, &dp, &what).await?,
            "persistentvolumeclaim" => go(Api::<PersistentVolumeClaim>::namespaced(c, ns), name, &dp, &what).await?,
            other => {
                return Err(ClusterError::Invalid(format!(
                    "cleanup does not delete `{other}`; it deletes {}",
                    DELETABLE.join(", ")
                )))
            }
        };
        let absent = "(absent)".to_string();
        let message = match (&before, dry_run) {
            (None, _) => format!("{kind}/{name} is already gone"),
            (Some(_), true) => format!("{kind}/{name} would be deleted"),
            (Some(_), false) => format!("{kind}/{name} deleted"),
        };
        Ok(ChangeOutcome {
            action: "delete".into(),
            target: format!("{kind}/{name}"),
            dry_run,
            before: before.unwrap_or_else(|| absent.clone()),
            after: absent,
            message,
        })
    }
}

/// One image the namespace runs: the reference, the digest the runtime reports it pulled,
/// and the pull secrets of the pods running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningImage {
    /// As the pod spec names it.
    pub image: String,
    /// `sha256:…` the kubelet reports (`imageID`), when it does.
    pub digest: Option<String>,
    /// When the oldest pod running it started (RFC 3339).
    pub since: Option<String>,
    /// Pull secrets of the pods running it (and of their service accounts).
    pub pull_secrets: Vec<String>,
    /// Containers running it (a pod with two containers of it counts twice).
    pub containers: u32,
}

impl Cluster {
    /// The images the namespace's pods run, each once.
    pub async fn running_images(&self) -> Result<Vec<RunningImage>, ClusterError> {
        let pods = Api::<Pod>::namespaced(self.client.clone(), &self.namespace)
            .list(&ListParams::default())
            .await
            .map_err(|e| ClusterError::from_kube(e, "list pods"))?;
        let accounts =
            Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(self.client.clone(), &self.namespace)
                .list(&ListParams::default())
                .await
                .map(|l| l.items)
                .unwrap_or_default();
        let mut out: Vec<RunningImage> = Vec::new();
        for p in pods.items {
            let spec = p.spec.clone().unwrap_or_default();
            let sa = spec.service_account_name.clone().unwrap_or_else(|| "default".into());
            let mut secrets: Vec<String> = spec.image_pull_secrets.iter().flatten().map(|s| s.name.clone()).collect();
            if let Some(a) = accounts.iter().find(|a| a.metadata.name.as_deref() == Some(sa.as_str())) {
                secrets.extend(a.image_pull_secrets.iter().flatten().map(|s| s.name.clone()));
            }
            let started = p.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0.to_string());
            for c in &spec.containers {
                let Some(image) = c.image.clone() else { continue };
                let digest = p
                    .status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .and_then(|cs| cs.iter().find(|s| s.name == c.name))
                    .and_then(|s| s.image_id.split_once("@").map(|(_, d)| d.to_string()));
                match out.iter_mut().find(|r| r.image == image) {
                    Some(r) => {
                        r.containers += 1;
                        for s in &secrets {
                            if !r.pull_secrets.contains(s) {
                                r.pull_secrets.push(s.clone());
                            }
                        }
                        if r.digest.is_none() {
                            r.digest = digest;
                        }
                        if started.is_some() && (r.since.is_none() || started < r.since) {
                            r.since = started.clone();
                        }
                    }
                    None => out.push(RunningImage {
                        image,
                        digest,
                        since: started.clone(),
                        pull_secrets: secrets.clone(),
                        containers: 1,
                    }),
                }
            }
        }
        Ok(out)
    }

    /// Registry credentials (host → user, password) from the named pull secrets
    /// (`kubernetes.io/dockerconfigjson` or `.dockercfg`), read now and kept by the caller in
    /// memory only. A secret that cannot be read or does not parse is named in the second list.
    pub async fn registry_credentials(
        &self,
        names: &[String],
    ) -> (std::collections::BTreeMap<String, hsof_registry::Credentials>, Vec<String>) {
        use base64::Engine;
        let api = Api::<Secret>::namespaced(self.client.clone(), &self.namespace);
        let mut creds = std::collections::BTreeMap::new();
        let mut problems = Vec::new();
        for name in names {
            let secret = match api.get_opt(name).await {
                Ok(Some(s)) => s,
                Ok(None) => {
                    problems.push(format!("pull secret {name} does not exist"));
                    continue;
                }
                Err(e) => {
                    problems.push(ClusterError::from_kube(e, &format!("get secret {name}")).to_string());
                    continue;
                }
            };
            let data = secret.data.unwrap_or_default();
            let raw = data.get(".dockerconfigjson").or_else(|| data.get(".dockercfg")).map(|b| b.0.clone());
            let Some(doc) = raw.and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else {
                problems.push(format!("pull secret {name} holds no readable .dockerconfigjson"));
                continue;
            };
            let auths = doc.get("auths").unwrap_or(&doc);
            for (host, a) in auths.as_object().into_iter().flatten() {
                let host = host
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let (user, pass) = match (a["username"].as_str(), a["password"].as_str(), a["auth"].as_str()) {
                    (Some(u), Some(p), _) => (u.to_string(), p.to_string()),
                    (_, _, Some(auth)) => {
                        let decoded = base64::engine::general_purpose::STANDARD
                            .decode(auth)
                            .ok()
                            .and_then(|b| String::from_utf8(b).ok())
                            .unwrap_or_default();
                        match decoded.split_once(':') {
                            Some((u, p)) => (u.to_string(), p.to_string()),
                            None => {
                                problems.push(format!("pull secret {name}: the entry for {host} does not read"));
                                continue;
                            }
                        }
                    }
                    _ => continue,
                };
                let host = if host == "index.docker.io" || host == "docker.io" {
                    "registry-1.docker.io".to_string()
                } else {
                    host
                };
                creds.insert(host, hsof_registry::Credentials { username: user, password: pass });
            }
        }
        (creds, problems)
    }
}
