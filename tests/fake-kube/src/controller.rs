//! A minimal deployment controller: a pod-template change makes (or revives) a ReplicaSet
//! with the next `deployment.kubernetes.io/revision`, scales pods to the new one, and
//! reports the rollout complete, so `kubectl rollout history / undo / status` behave as
//! against a real cluster.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::resources::find;
use crate::store::Store;

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

pub(crate) fn template_hash(template: &Value) -> String {
    let mut t = template.clone();
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
    }
    hex::encode(&Sha256::digest(canonical(&t).as_bytes())[..5])
}

/// JSON with object keys sorted and empty values (`null`, `{}`, `[]`) left out, so equal
/// templates hash equally whatever key order and zero values the client sent (kubectl's
/// Go structs send `"creationTimestamp": null`, for one).
fn canonical(v: &Value) -> String {
    let empty = |v: &Value| {
        v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) || v.as_array().is_some_and(|a| a.is_empty())
    };
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().filter(|k| !empty(&m[*k]) && canonical(&m[*k]) != "{}").collect();
            keys.sort();
            let inner: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[*k]))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

fn revision(v: &Value) -> u64 {
    v["metadata"]["annotations"][REVISION].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Brings ReplicaSets, pods and status in line with deployment `ns/name`.
pub fn reconcile(store: &mut Store, ns: &str, name: &str) {
    let (Some(deploy_res), Some(rs_res), Some(pod_res)) =
        (find("apps", "v1", "deployments"), find("apps", "v1", "replicasets"), find("", "v1", "pods"))
    else {
        return;
    };
    let Some(mut dep) = store.get(deploy_res, ns, name).cloned() else { return };
    let template = dep["spec"]["template"].clone();
    let replicas = dep["spec"]["replicas"].as_i64().unwrap_or(1);
    let hash = template_hash(&template);
    let rs_name = format!("{name}-{hash}");
    let owned: Vec<Value> = store
        .list(rs_res, Some(ns), None)
        .into_iter()
        .filter(|rs| rs["metadata"]["ownerReferences"][0]["name"].as_str() == Some(name))
        .collect();
    let max_rev = owned.iter().map(revision).max().unwrap_or(0);
    let mut current = owned.iter().find(|rs| rs["metadata"]["name"].as_str() == Some(&rs_name)).cloned();
    let rev = match &current {
        Some(rs) if revision(rs) == max_rev => max_rev,
        _ => max_rev + 1,
    };
    let mut labels = template["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    let mut rs_template = template.clone();
    rs_template["metadata"]["labels"] = labels.clone();
    let mut annotations = current.as_ref().map(|rs| rs["metadata"]["annotations"].clone()).unwrap_or_else(|| json!({}));
    annotations[REVISION] = json!(rev.to_string());
    if let Some(cause) = dep["metadata"]["annotations"][CHANGE_CAUSE].as_str() {
        annotations[CHANGE_CAUSE] = json!(cause);
    }
    let rs = json!({
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs_name, "namespace": ns, "labels": labels, "annotations": annotations,
            "creationTimestamp": current.as_ref().map(|c| c["metadata"]["creationTimestamp"].clone()).unwrap_or(Value::Null),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": dep["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": rs_template},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "fullyLabeledReplicas": replicas, "observedGeneration": 1}
    });
    current = Some(store.put(rs));
    // Older ReplicaSets scale to zero.
    for mut old in owned.into_iter().filter(|rs| rs["metadata"]["name"].as_str() != Some(&rs_name)) {
        if old["spec"]["replicas"].as_i64() != Some(0) {
            old["spec"]["replicas"] = json!(0);
            old["status"] = json!({"replicas": 0, "observedGeneration": 1});
            store.put(old);
        }
    }
    // Pods: exactly `replicas` of the current ReplicaSet.
    let pods = store.list(pod_res, Some(ns), None);
    for p in &pods {
        let owner = p["metadata"]["ownerReferences"][0]["name"].as_str().unwrap_or_default();
        let ours = owned_by_deployment(p, name);
        let index = p["metadata"]["name"]
            .as_str()
            .and_then(|n| n.rsplit('-').next())
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(i64::MAX);
        if ours && (owner != rs_name || index >= replicas) {
            store.delete(pod_res, ns, p["metadata"]["name"].as_str().unwrap_or_default());
        }
    }
    for i in 0..replicas {
        let pod_name = format!("{rs_name}-{i:05}");
        if store.get(pod_res, ns, &pod_name).is_some() {
            continue;
        }
        let containers = template["spec"]["containers"].clone();
        let statuses: Vec<Value> = containers
            .as_array()
            .map(|cs| cs.iter().map(|c| json!({"name": c["name"], "image": c["image"], "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}}})).collect())
            .unwrap_or_default();
        let pod = json!({
            "kind": "Pod",
            "metadata": {"name": pod_name, "namespace": ns, "labels": current.as_ref().map(|c| c["spec"]["template"]["metadata"]["labels"].clone()).unwrap_or_default(),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "controller": true}]},
            "spec": {"nodeName": format!("gpu-node-{}", i % 2 + 1), "containers": containers},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": statuses, "podIP": format!("10.0.0.{}", i + 10)}
        });
        store.put(pod);
    }
    let generation = dep["metadata"]["generation"].as_i64().unwrap_or(1);
    dep["metadata"]["annotations"][REVISION] = json!(rev.to_string());
    dep["status"] = json!({
        "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": replicas, "availableReplicas": replicas,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed.")}
        ]
    });
    store.put(dep);
}

fn owned_by_deployment(pod: &Value, deployment: &str) -> bool {
    pod["metadata"]["ownerReferences"][0]["name"].as_str().is_some_and(|o| o.starts_with(&format!("{deployment}-")))
}

/// A Job runs at once: one pod that has finished, with a log, and the Job's status.
pub fn run_job(store: &mut Store, ns: &str, name: &str) {
    let (Some(job_res), Some(_)) = (find("batch", "v1", "jobs"), find("", "v1", "pods")) else { return };
    let Some(mut job) = store.get(job_res, ns, name).cloned() else { return };
    if store.held_jobs.iter().any(|p| name.starts_with(p.as_str())) {
        return;
    }
    let fail = store.failing_jobs.iter().any(|p| name.starts_with(p.as_str()));
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let pod_name = format!("{name}-x7k2p");
    let container = job["spec"]["template"]["spec"]["containers"][0].clone();
    store.put(json!({
        "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": ns, "labels": {"job-name": name},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name, "controller": true}]},
        "spec": {"restartPolicy": "Never", "containers": [container.clone()], "nodeName": "gpu-node-1"},
        "status": {"phase": if fail { "Failed" } else { "Succeeded" }, "containerStatuses": [{"name": container["name"], "ready": false, "restartCount": 0, "image": container["image"]}]}
    }));
    let command =
        container["command"].as_array().and_then(|c| c.last()).and_then(|c| c.as_str()).unwrap_or_default().to_string();
    let mut lines = vec![format!("$ {command}")];
    lines.extend(match name.split('-').take(2).collect::<Vec<_>>().join("-").as_str() {
        "vulnerability-scan" => {
            vec!["Scanning hsof/hsof:1.5.0".to_string(), "Total: 0 (HIGH: 0, CRITICAL: 0)".to_string()]
        }
        "backup-restore" => vec![
            "restoring backup 2026-11-27T02:00:00Z into a scratch volume".into(),
            "verified 1,204 objects, checksums match".into(),
        ],
        _ => vec!["running".into(), "all checks passed".into()],
    });
    if fail {
        lines.push("ERROR: 2 checks failed".into());
    }
    for line in lines {
        store.append_log(ns, &pod_name, &line);
    }
    job["status"] = if fail {
        json!({"failed": 1, "startTime": now, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]})
    } else {
        json!({"succeeded": 1, "startTime": now, "completionTime": now, "conditions": [{"type": "Complete", "status": "True"}]})
    };
    store.put(job);
}
