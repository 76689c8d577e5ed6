//! Resources left over in the namespace: Jobs finished more than N days ago, ReplicaSets
//! scaled to zero beyond their Deployment's `revisionHistoryLimit` (or whose Deployment is
//! gone), ConfigMaps and Secrets no pod, Job, CronJob or Deployment references, and claims
//! nothing mounts — each with why, and the bytes and money a claim holds where known.
//! What looks unused but is kept says why (a ServiceAccount's token, Helm's release
//! record, Kubernetes' own `kube-root-ca.crt`, the ConfigMap the app patches, a name only
//! an annotation mentions).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, PodSpec, Secret};
use serde::{Deserialize, Serialize};

use crate::Read;

/// Everything the leftovers check reads.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Pods.
    pub pods: Read<Vec<Pod>>,
    /// Deployments.
    pub deployments: Read<Vec<Deployment>>,
    /// ReplicaSets.
    pub replicasets: Read<Vec<ReplicaSet>>,
    /// Jobs.
    pub jobs: Read<Vec<Job>>,
    /// CronJobs.
    pub cronjobs: Read<Vec<CronJob>>,
    /// ConfigMaps.
    pub configmaps: Read<Vec<ConfigMap>>,
    /// Secrets (only their names, types and owners are used).
    pub secrets: Read<Vec<Secret>>,
    /// Claims.
    pub claims: Read<Vec<PersistentVolumeClaim>>,
    /// A finished Job is a leftover after this many days.
    pub finished_job_days: u32,
    /// The ConfigMap the app patches (never a leftover).
    pub hsof_configmap: String,
    /// Storage price per GiB-month, 0 when unknown.
    pub price_per_gib_month: f64,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Something that can go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Leftover {
    /// `job`, `replicaset`, `configmap`, `secret` or `persistentvolumeclaim`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Why it is a leftover.
    pub why: String,
    /// Bytes it holds (a claim's capacity), when known.
    #[specta(type = Option<f64>)]
    pub bytes: Option<u64>,
    /// What it costs a month at `price_per_gib_month`, when known.
    pub monthly_cost: Option<f64>,
}

/// Something that looks unused but stays, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Kept {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Why it stays.
    pub why: String,
}

/// The leftovers review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct LeftoverReport {
    /// What can go.
    pub leftovers: Vec<Leftover>,
    /// What looks unused and stays.
    pub kept: Vec<Kept>,
    /// What could not be read (and so was not judged).
    pub unread: Vec<String>,
}

/// `200Gi` → bytes.
pub fn bytes_of(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    Some((n * mult) as u64)
}

#[derive(Default)]
struct Refs {
    configmaps: BTreeSet<String>,
    secrets: BTreeSet<String>,
    claims: BTreeSet<String>,
    annotations: Vec<(String, String)>,
}

impl Refs {
    fn spec(&mut self, spec: Option<&PodSpec>) {
        let Some(s) = spec else { return };
        for v in s.volumes.iter().flatten() {
            if let Some(c) = &v.config_map {
                self.configmaps.insert(c.name.clone());
            }
            if let Some(x) = v.secret.as_ref().and_then(|x| x.secret_name.clone()) {
                self.secrets.insert(x);
            }
            if let Some(c) = &v.persistent_volume_claim {
                self.claims.insert(c.claim_name.clone());
            }
            for src in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
                if let Some(c) = &src.config_map {
                    self.configmaps.insert(c.name.clone());
                }
                if let Some(x) = &src.secret {
                    self.secrets.insert(x.name.clone());
                }
            }
        }
        for p in s.image_pull_secrets.iter().flatten() {
            self.secrets.insert(p.name.clone());
        }
        for c in s.containers.iter().chain(s.init_containers.iter().flatten()) {
            for e in c.env.iter().flatten() {
                if let Some(f) = &e.value_from {
                    if let Some(r) = &f.config_map_key_ref {
                        self.configmaps.insert(r.name.clone());
                    }
                    if let Some(r) = &f.secret_key_ref {
                        self.secrets.insert(r.name.clone());
                    }
                }
            }
            for f in c.env_from.iter().flatten() {
                if let Some(r) = &f.config_map_ref {
                    self.configmaps.insert(r.name.clone());
                }
                if let Some(r) = &f.secret_ref {
                    self.secrets.insert(r.name.clone());
                }
            }
        }
    }

    fn annotations(&mut self, owner: String, a: Option<&BTreeMap<String, String>>) {
        for (k, v) in a.into_iter().flatten() {
            self.annotations.push((format!("{owner} annotation {k}"), v.clone()));
        }
    }

    /// The annotation that mentions `name` as a whole word, if one does.
    fn mentioned(&self, name: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(_, v)| v.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')).any(|w| w == name))
            .map(|(k, _)| k.as_str())
    }
}

fn finished_at(j: &Job) -> Option<(DateTime<Utc>, bool)> {
    let st = j.status.as_ref()?;
    if let Some(t) = &st.completion_time {
        return DateTime::parse_from_rfc3339(&t.0.to_string()).ok().map(|t| (t.with_timezone(&Utc), true));
    }
    let failed = st.conditions.iter().flatten().find(|c| c.type_ == "Failed" && c.status == "True")?;
    let t = failed.last_transition_time.as_ref()?;
    DateTime::parse_from_rfc3339(&t.0.to_string()).ok().map(|t| (t.with_timezone(&Utc), false))
}

/// Finds the leftovers.
pub fn review(i: &Inputs) -> LeftoverReport {
    let mut out = LeftoverReport { leftovers: Vec::new(), kept: Vec::new(), unread: Vec::new() };
    let mut refs = Refs::default();
    let mut all_refs_read = true;
    let miss = |what: &str, why: &String, out: &mut LeftoverReport| out.unread.push(format!("{what}: {why}"));
    match &i.pods {
        Ok(v) => v.iter().for_each(|p| {
            refs.spec(p.spec.as_ref());
            refs.annotations(
                format!("pod {}", p.metadata.name.clone().unwrap_or_default()),
                p.metadata.annotations.as_ref(),
            );
        }),
        Err(why) => {
            all_refs_read = false;
            miss("pods", why, &mut out);
        }
    }
    match &i.deployments {
        Ok(v) => v.iter().for_each(|d| {
            refs.spec(d.spec.as_ref().and_then(|s| s.template.spec.as_ref()));
            refs.annotations(
                format!("deployment {}", d.metadata.name.clone().unwrap_or_default()),
                d.metadata.annotations.as_ref(),
            );
        }),
        Err(why) => {
            all_refs_read = false;
            miss("deployments", why, &mut out);
        }
    }
    match &i.cronjobs {
        Ok(v) => v.iter().for_each(|c| {
            refs.spec(
                c.spec.as_ref().and_then(|s| s.job_template.spec.as_ref()).and_then(|j| j.template.spec.as_ref()),
            );
            refs.annotations(
                format!("cronjob {}", c.metadata.name.clone().unwrap_or_default()),
                c.metadata.annotations.as_ref(),
            );
        }),
        Err(why) => {
            all_refs_read = false;
            miss("cronjobs", why, &mut out);
        }
    }
    match &i.jobs {
        Ok(v) => {
            for j in v {
                refs.spec(j.spec.as_ref().map(|s| &s.template).and_then(|t| t.spec.as_ref()));
                let name = j.metadata.name.clone().unwrap_or_default();
                if let Some((at, ok)) = finished_at(j) {
                    let days = (i.now - at).num_hours() as f64 / 24.0;
                    if days > f64::from(i.finished_job_days) {
                        out.leftovers.push(Leftover {
                            kind: "job".into(),
                            why: format!(
                                "{} {days:.0} days ago (older than {} days)",
                                if ok { "finished" } else { "failed" },
                                i.finished_job_days
                            ),
                            name,
                            bytes: None,
                            monthly_cost: None,
                        });
                    }
                }
            }
        }
        Err(why) => {
            all_refs_read = false;
            miss("jobs", why, &mut out);
        }
    }
    replicasets(i, &mut out);
    if !all_refs_read {
        out.unread.push(
            "ConfigMaps, Secrets and claims were not judged: not every workload that may use them could be read".into(),
        );
        return out;
    }
    configmaps(i, &refs, &mut out);
    secrets(i, &refs, &mut out);
    claims(i, &refs, &mut out);
    out
}

fn replicasets(i: &Inputs, out: &mut LeftoverReport) {
    let (Ok(sets), Ok(deps)) = (&i.replicasets, &i.deployments) else {
        if let Err(why) = &i.replicasets {
            out.unread.push(format!("replicasets: {why}"));
        }
        return;
    };
    let revision = |rs: &ReplicaSet| {
        rs.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let mut by_owner: BTreeMap<String, Vec<&ReplicaSet>> = BTreeMap::new();
    for rs in sets {
        let owner =
            rs.metadata.owner_references.iter().flatten().find(|o| o.kind == "Deployment").map(|o| o.name.clone());
        let zero = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1) == 0;
        match owner {
            Some(d) if zero => by_owner.entry(d).or_default().push(rs),
            _ => {}
        }
    }
    for (dep, mut list) in by_owner {
        let name = |rs: &ReplicaSet| rs.metadata.name.clone().unwrap_or_default();
        let Some(d) = deps.iter().find(|d| d.metadata.name.as_deref() == Some(dep.as_str())) else {
            for rs in list {
                out.leftovers.push(Leftover {
                    kind: "replicaset".into(),
                    name: name(rs),
                    why: format!("scaled to zero and its Deployment {dep} no longer exists"),
                    bytes: None,
                    monthly_cost: None,
                });
            }
            continue;
        };
        let limit = d.spec.as_ref().and_then(|s| s.revision_history_limit).unwrap_or(10).max(0) as usize;
        list.sort_by_key(|rs| std::cmp::Reverse(revision(rs)));
        for rs in list.into_iter().skip(limit) {
            out.leftovers.push(Leftover {
                kind: "replicaset".into(),
                name: name(rs),
                why: format!(
                    "revision {} of {dep}, scaled to zero, beyond its revisionHistoryLimit of {limit}",
                    revision(rs)
                ),
                bytes: None,
                monthly_cost: None,
            });
        }
    }
}

fn configmaps(i: &Inputs, refs: &Refs, out: &mut LeftoverReport) {
    let list = match &i.configmaps {
        Ok(l) => l,
        Err(why) => return out.unread.push(format!("configmaps: {why}")),
    };
    for cm in list {
        let name = cm.metadata.name.clone().unwrap_or_default();
        let keep = |why: String, out: &mut LeftoverReport| {
            out.kept.push(Kept { kind: "configmap".into(), name: name.clone(), why })
        };
        if refs.configmaps.contains(&name) {
            continue;
        }
        if name == "kube-root-ca.crt" {
            keep("published by Kubernetes into every namespace".into(), out);
        } else if name == i.hsof_configmap {
            keep("HSOF's ConfigMap, which the app's configuration changes patch".into(), out);
        } else if cm.metadata.owner_references.as_ref().is_some_and(|o| !o.is_empty()) {
            keep("owned by another object, which removes it".into(), out);
        } else if let Some(a) = refs.mentioned(&name) {
            keep(format!("referenced only by {a}: not a mount or env, so left for a person to judge"), out);
        } else {
            out.leftovers.push(Leftover {
                kind: "configmap".into(),
                name,
                why: "no pod, Job, CronJob or Deployment uses it".into(),
                bytes: None,
                monthly_cost: None,
            });
        }
    }
}

fn secrets(i: &Inputs, refs: &Refs, out: &mut LeftoverReport) {
    let list = match &i.secrets {
        Ok(l) => l,
        Err(why) => return out.unread.push(format!("secrets: {why}")),
    };
    for s in list {
        let name = s.metadata.name.clone().unwrap_or_default();
        if refs.secrets.contains(&name) {
            continue;
        }
        let kind = s.type_.clone().unwrap_or_default();
        let why = match kind.as_str() {
            "kubernetes.io/service-account-token" => Some("a ServiceAccount's token".to_string()),
            t if t.starts_with("helm.sh/release") => Some("Helm's release record".into()),
            _ if s.metadata.owner_references.as_ref().is_some_and(|o| !o.is_empty()) => {
                Some("owned by another object, which removes it".into())
            }
            _ => refs
                .mentioned(&name)
                .map(|a| format!("referenced only by {a}: not a mount or env, so left for a person to judge")),
        };
        match why {
            Some(why) => out.kept.push(Kept { kind: "secret".into(), name, why }),
            None => out.leftovers.push(Leftover {
                kind: "secret".into(),
                name,
                why: "no pod, Job, CronJob or Deployment uses it".into(),
                bytes: None,
                monthly_cost: None,
            }),
        }
    }
}

fn claims(i: &Inputs, refs: &Refs, out: &mut LeftoverReport) {
    let list = match &i.claims {
        Ok(l) => l,
        Err(why) => return out.unread.push(format!("persistentvolumeclaims: {why}")),
    };
    for c in list {
        let name = c.metadata.name.clone().unwrap_or_default();
        if refs.claims.contains(&name) {
            continue;
        }
        if let Some(a) = refs.mentioned(&name) {
            out.kept.push(Kept {
                kind: "persistentvolumeclaim".into(),
                name,
                why: format!("referenced only by {a}: not a mount, so left for a person to judge"),
            });
            continue;
        }
        let q = c
            .status
            .as_ref()
            .and_then(|s| s.capacity.as_ref())
            .and_then(|m| m.get("storage"))
            .map(|q| q.0.clone())
            .or_else(|| {
                c.spec
                    .as_ref()
                    .and_then(|s| s.resources.as_ref())
                    .and_then(|r| r.requests.as_ref())
                    .and_then(|m| m.get("storage"))
                    .map(|q| q.0.clone())
            });
        let bytes = q.as_deref().and_then(bytes_of);
        let monthly_cost =
            bytes.filter(|_| i.price_per_gib_month > 0.0).map(|b| b as f64 / 1024f64.powi(3) * i.price_per_gib_month);
        out.leftovers.push(Leftover {
            kind: "persistentvolumeclaim".into(),
            name,
            why: "no pod or workload mounts it".into(),
            bytes,
            monthly_cost,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("a valid object")
    }

    fn inputs() -> Inputs {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").expect("t").with_timezone(&Utc);
        Inputs {
            pods: Ok(vec![obj(json!({"metadata": {"name": "p", "annotations": {"backup.example/extra": "notes-cm"}},
                "spec": {"containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "env-cm"}}], "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]}],
                    "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}))]),
            deployments: Ok(vec![obj(
                json!({"metadata": {"name": "hsof"}, "spec": {"revisionHistoryLimit": 1, "selector": {}, "template": {"spec": {"containers": [{"name": "c"}], "imagePullSecrets": [{"name": "pull"}]}}}}),
            )]),
            replicasets: Ok(vec![
                obj(
                    json!({"metadata": {"name": "hsof-1", "annotations": {"deployment.kubernetes.io/revision": "1"}, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "hsof", "uid": "u"}]}, "spec": {"replicas": 0, "selector": {}}}),
                ),
                obj(
                    json!({"metadata": {"name": "hsof-2", "annotations": {"deployment.kubernetes.io/revision": "2"}, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "hsof", "uid": "u"}]}, "spec": {"replicas": 0, "selector": {}}}),
                ),
                obj(
                    json!({"metadata": {"name": "hsof-3", "annotations": {"deployment.kubernetes.io/revision": "3"}, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "hsof", "uid": "u"}]}, "spec": {"replicas": 2, "selector": {}}}),
                ),
                obj(
                    json!({"metadata": {"name": "gone-1", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "gone", "uid": "v"}]}, "spec": {"replicas": 0, "selector": {}}}),
                ),
            ]),
            jobs: Ok(vec![
                obj(
                    json!({"metadata": {"name": "old"}, "spec": {"template": {"spec": {"containers": []}}}, "status": {"completionTime": "2026-11-20T00:00:00Z", "succeeded": 1}}),
                ),
                obj(
                    json!({"metadata": {"name": "recent"}, "spec": {"template": {"spec": {"containers": []}}}, "status": {"completionTime": "2026-12-06T00:00:00Z", "succeeded": 1}}),
                ),
                obj(
                    json!({"metadata": {"name": "failed"}, "spec": {"template": {"spec": {"containers": []}}}, "status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "lastTransitionTime": "2026-11-01T00:00:00Z"}]}}),
                ),
                obj(
                    json!({"metadata": {"name": "running"}, "spec": {"template": {"spec": {"containers": []}}}, "status": {"active": 1}}),
                ),
            ]),
            cronjobs: Ok(vec![]),
            configmaps: Ok(["env-cm", "kube-root-ca.crt", "hsof-config", "notes-cm", "stale-cm"]
                .iter()
                .map(|n| obj(json!({"metadata": {"name": n}})))
                .collect()),
            secrets: Ok(vec![
                obj(json!({"metadata": {"name": "db"}})),
                obj(json!({"metadata": {"name": "pull"}, "type": "kubernetes.io/dockerconfigjson"})),
                obj(json!({"metadata": {"name": "sa-token"}, "type": "kubernetes.io/service-account-token"})),
                obj(json!({"metadata": {"name": "sh.helm.release.v1.hsof.v3"}, "type": "helm.sh/release.v1"})),
                obj(json!({"metadata": {"name": "old-creds"}, "type": "Opaque"})),
            ]),
            claims: Ok(vec![
                obj(json!({"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "10Gi"}}}})),
                obj(
                    json!({"metadata": {"name": "scratch"}, "spec": {"resources": {"requests": {"storage": "100Gi"}}}, "status": {"capacity": {"storage": "200Gi"}}}),
                ),
            ]),
            finished_job_days: 7,
            hsof_configmap: "hsof-config".into(),
            price_per_gib_month: 0.1,
            now,
        }
    }

    fn names(r: &LeftoverReport) -> Vec<String> {
        r.leftovers.iter().map(|l| format!("{}/{}", l.kind, l.name)).collect()
    }

    #[test]
    fn every_kind_of_leftover_and_every_reason_to_keep() {
        let r = review(&inputs());
        assert_eq!(
            names(&r),
            vec![
                "job/old",
                "job/failed",
                "replicaset/gone-1",
                "replicaset/hsof-1",
                "configmap/stale-cm",
                "secret/old-creds",
                "persistentvolumeclaim/scratch"
            ]
        );
        let scratch = r.leftovers.last().expect("claim");
        assert_eq!(scratch.bytes, Some(200 * 1024u64.pow(3)), "capacity, not the request");
        assert!(scratch.monthly_cost.is_some_and(|c| (c - 20.0).abs() < 1e-9));
        let kept: Vec<String> = r.kept.iter().map(|k| format!("{}/{}", k.kind, k.name)).collect();
        assert_eq!(
            kept,
            vec![
                "configmap/kube-root-ca.crt",
                "configmap/hsof-config",
                "configmap/notes-cm",
                "secret/sa-token",
                "secret/sh.helm.release.v1.hsof.v3"
            ]
        );
        assert!(r.kept[2].why.contains("pod p annotation backup.example/extra"), "{:?}", r.kept[2]);
    }

    #[test]
    fn unread_workloads_judge_no_configmap_secret_or_claim() {
        let mut i = inputs();
        i.cronjobs = Err("cronjobs.batch is forbidden".into());
        let r = review(&i);
        assert!(names(&r).iter().all(|n| n.starts_with("job/") || n.starts_with("replicaset/")), "{:?}", names(&r));
        assert!(
            r.unread.iter().any(|u| u.contains("forbidden")) && r.unread.iter().any(|u| u.contains("were not judged"))
        );
    }

    #[test]
    fn quantities() {
        assert_eq!(bytes_of("1Ki"), Some(1024));
        assert_eq!(bytes_of("1.5Gi"), Some(1_610_612_736));
        assert_eq!(bytes_of("2G"), Some(2_000_000_000));
        assert_eq!(bytes_of("12Zi"), None);
    }
}
