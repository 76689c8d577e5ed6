//! A cluster that misbehaves on purpose, for the demo's scenarios and for tests: a node
//! that stops answering, a rollout whose new pods cannot pull their image, a backup Job
//! that fails, pods that come and go, and the events a real control plane records for
//! each. Every change goes through [`Store::put`] / [`Store::delete`], so watches see it.

use serde_json::{json, Value};

use crate::controller::{reconcile, template_hash};
use crate::resources::find;
use crate::store::Store;

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Records an event about `object` (kind, name) in `ns`, as `component` would.
pub fn event(
    store: &mut Store,
    ns: &str,
    warning: bool,
    reason: &str,
    object: (&str, &str),
    message: &str,
    component: &str,
) {
    let at = now();
    let name = format!("{}.{:x}", object.1, store.rv + 1);
    store.put(json!({"kind": "Event", "metadata": {"name": name, "namespace": ns},
        "type": if warning { "Warning" } else { "Normal" }, "reason": reason,
        "involvedObject": {"kind": object.0, "name": object.1, "namespace": ns}, "message": message, "count": 1,
        "firstTimestamp": at, "lastTimestamp": at, "source": {"component": component}}));
}

/// Node `node` stops posting status (`ready == false`: Ready turns Unknown, the
/// unreachable taint is set, its pods turn unready) or comes back.
pub fn set_node_ready(store: &mut Store, node: &str, ready: bool) {
    let (Some(nodes), Some(pods)) = (find("", "v1", "nodes"), find("", "v1", "pods")) else { return };
    let Some(mut n) = store.get(nodes, "", node).cloned() else { return };
    let at = now();
    n["status"]["conditions"] = if ready {
        json!([{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastTransitionTime": at}])
    } else {
        json!([{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status.", "lastTransitionTime": at}])
    };
    n["spec"]["taints"] = if ready {
        json!([])
    } else {
        json!([{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": at}])
    };
    store.put(n);
    event(
        store,
        "default",
        !ready,
        if ready { "NodeReady" } else { "NodeNotReady" },
        ("Node", node),
        &format!("Node {node} status is now: {}", if ready { "NodeReady" } else { "NodeNotReady" }),
        "node-controller",
    );
    for mut p in store.list(pods, None, None) {
        if p["spec"]["nodeName"].as_str() != Some(node) {
            continue;
        }
        let status = if ready { "True" } else { "False" };
        p["status"]["conditions"] = json!([{"type": "Ready", "status": status, "lastTransitionTime": at}]);
        if let Some(cs) = p["status"]["containerStatuses"].as_array_mut() {
            cs.iter_mut().for_each(|c| c["ready"] = json!(ready));
        }
        let (ns, name) = (
            p["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
            p["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        );
        store.put(p);
        if !ready {
            event(store, &ns, true, "NodeNotReady", ("Pod", &name), "Node is not ready", "node-controller");
        }
    }
}

/// Deployment `ns/name` starts rolling to `image`, whose first new pod cannot pull it:
/// a new ReplicaSet with one pod in `ImagePullBackOff`, the old pods still serving, and
/// `Progressing=False` with `ProgressDeadlineExceeded`, as a real rollout that is stuck.
pub fn stuck_rollout(store: &mut Store, ns: &str, name: &str, image: &str) {
    let (Some(deps), Some(rss)) = (find("apps", "v1", "deployments"), find("apps", "v1", "replicasets")) else {
        return;
    };
    let Some(mut dep) = store.get(deps, ns, name).cloned() else { return };
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
    dep["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!(format!("upgrade to {image}"));
    let generation = dep["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
    dep["metadata"]["generation"] = json!(generation);
    let template = dep["spec"]["template"].clone();
    let replicas = dep["spec"]["replicas"].as_i64().unwrap_or(1);
    let hash = template_hash(&template);
    let rs_name = format!("{name}-{hash}");
    let rev = store
        .list(rss, Some(ns), None)
        .iter()
        .filter(|rs| rs["metadata"]["ownerReferences"][0]["name"].as_str() == Some(name))
        .filter_map(|rs| {
            rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"].as_str()?.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0)
        + 1;
    let mut labels = template["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    let mut rs_template = template.clone();
    rs_template["metadata"]["labels"] = labels.clone();
    store.put(json!({
        "kind": "ReplicaSet",
        "metadata": {"name": rs_name, "namespace": ns, "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": rev.to_string(), "kubernetes.io/change-cause": format!("upgrade to {image}")},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": dep["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": rs_template},
        "status": {"replicas": 1, "readyReplicas": 0, "availableReplicas": 0, "fullyLabeledReplicas": 1, "observedGeneration": 1}
    }));
    let pod = format!("{rs_name}-00000");
    let waiting = json!({"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")});
    store.put(json!({
        "kind": "Pod",
        "metadata": {"name": pod, "namespace": ns, "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "controller": true}]},
        "spec": {"nodeName": "gpu-node-1", "containers": template["spec"]["containers"]},
        "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
            "containerStatuses": [{"name": template["spec"]["containers"][0]["name"], "image": image, "ready": false, "restartCount": 0, "started": false, "state": {"waiting": waiting}}]}
    }));
    dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!(rev.to_string());
    dep["status"] = json!({
        "observedGeneration": generation, "replicas": replicas + 1, "updatedReplicas": 1,
        "readyReplicas": replicas, "availableReplicas": replicas, "unavailableReplicas": 1,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": format!("ReplicaSet \"{rs_name}\" has timed out progressing.")}
        ]
    });
    store.put(dep);
    event(
        store,
        ns,
        false,
        "ScalingReplicaSet",
        ("Deployment", name),
        &format!("Scaled up replica set {rs_name} to 1"),
        "deployment-controller",
    );
    event(store, ns, true, "Failed", ("Pod", &pod), &format!("Failed to pull image \"{image}\": not found"), "kubelet");
    event(store, ns, true, "BackOff", ("Pod", &pod), &format!("Back-off pulling image \"{image}\""), "kubelet");
}

/// Deployment `ns/name` rolled to `image` and complete (as after an undo or a fix).
pub fn complete_rollout(store: &mut Store, ns: &str, name: &str, image: &str) {
    let Some(deps) = find("apps", "v1", "deployments") else { return };
    let Some(mut dep) = store.get(deps, ns, name).cloned() else { return };
    if dep["spec"]["template"]["spec"]["containers"][0]["image"].as_str() != Some(image) {
        dep["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
        dep["metadata"]["generation"] = json!(dep["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
        store.put(dep);
    }
    reconcile(store, ns, name);
}

/// The image deployment `ns/name` runs now.
pub fn deployment_image(store: &Store, ns: &str, name: &str) -> Option<String> {
    let deps = find("apps", "v1", "deployments")?;
    store.get(deps, ns, name)?["spec"]["template"]["spec"]["containers"][0]["image"].as_str().map(str::to_string)
}

/// CronJob `ns/name` runs now: a Job and its pod that fail (`failed`) or succeed, the
/// CronJob's `lastScheduleTime` (and `lastSuccessfulTime` on success), and the events.
pub fn backup_run(store: &mut Store, ns: &str, name: &str, failed: bool) {
    let Some(cjs) = find("batch", "v1", "cronjobs") else { return };
    let Some(mut cj) = store.get(cjs, ns, name).cloned() else { return };
    let at = now();
    let job = format!("{name}-{}", chrono::Utc::now().timestamp() / 60);
    let container = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0].clone();
    store.put(json!({
        "kind": "Job",
        "metadata": {"name": job, "namespace": ns, "labels": {"job-name": job},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": name, "controller": true}]},
        "spec": {"backoffLimit": 0, "template": cj["spec"]["jobTemplate"]["spec"]["template"]},
        "status": if failed {
            json!({"failed": 1, "startTime": at, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]})
        } else {
            json!({"succeeded": 1, "startTime": at, "completionTime": at, "conditions": [{"type": "Complete", "status": "True"}]})
        }
    }));
    let pod = format!("{job}-b4k9x");
    store.put(json!({
        "kind": "Pod",
        "metadata": {"name": pod, "namespace": ns, "labels": {"job-name": job},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job, "controller": true}]},
        "spec": {"restartPolicy": "Never", "nodeName": "gpu-node-1", "containers": [container.clone()]},
        "status": {"phase": if failed { "Failed" } else { "Succeeded" },
            "containerStatuses": [{"name": container["name"], "image": container["image"], "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": i32::from(failed), "reason": if failed { "Error" } else { "Completed" }}}}]}
    }));
    store.append_log(ns, &pod, "snapshotting /data and /models to the backup bucket");
    if failed {
        store.append_log(ns, &pod, "ERROR: upload to s3://hsof-backups failed: 403 AccessDenied (credentials expired)");
    } else {
        store.append_log(ns, &pod, "backup complete, 1,204 objects");
    }
    cj["status"]["lastScheduleTime"] = json!(at);
    if !failed {
        cj["status"]["lastSuccessfulTime"] = json!(at);
    }
    store.put(cj);
    event(store, ns, false, "SuccessfulCreate", ("CronJob", name), &format!("Created job {job}"), "cronjob-controller");
    if failed {
        event(
            store,
            ns,
            true,
            "BackoffLimitExceeded",
            ("Job", &job),
            "Job has reached the specified backoff limit",
            "job-controller",
        );
    } else {
        event(store, ns, false, "Completed", ("Job", &job), "Job completed", "job-controller");
    }
}

/// A short-lived worker pod appears (`up`) or the oldest one goes, with its events: the
/// pods that come and go in a living namespace.
pub fn churn_worker(store: &mut Store, ns: &str, seq: u64, up: bool) {
    let Some(pods) = find("", "v1", "pods") else { return };
    if up {
        let name = format!("hsof-batch-{seq:05}");
        store.put(json!({"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": "hsof-batch"}},
            "spec": {"nodeName": format!("gpu-node-{}", seq % 2 + 1), "containers": [{"name": "batch", "image": "hsof/hsof:1.5.0"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "batch", "image": "hsof/hsof:1.5.0", "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": now()}}}]}}));
        event(
            store,
            ns,
            false,
            "Scheduled",
            ("Pod", &name),
            &format!("Successfully assigned {ns}/{name} to gpu-node-{}", seq % 2 + 1),
            "default-scheduler",
        );
        store.append_log(ns, &name, &format!("{} INFO batch {seq}: stage1 started", now()));
    } else {
        let mut batch: Vec<String> = store
            .list(pods, Some(ns), Some("app.kubernetes.io/name=hsof-batch"))
            .iter()
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        batch.sort();
        if let Some(oldest) = batch.first() {
            store.delete(pods, ns, oldest);
            event(store, ns, false, "Killing", ("Pod", oldest), "Stopping container batch", "kubelet");
        }
    }
}

/// Adds one to the restart count of the first container of each pod of deployment
/// `name` in `ns` (a crash loop under an error burst), with a BackOff event.
pub fn restart_pods(store: &mut Store, ns: &str, name: &str) {
    let Some(pods) = find("", "v1", "pods") else { return };
    for mut p in store.list(pods, Some(ns), None) {
        let owner = p["metadata"]["ownerReferences"][0]["name"].as_str().unwrap_or_default();
        if !owner.starts_with(&format!("{name}-")) || p["status"]["phase"].as_str() != Some("Running") {
            continue;
        }
        let n = p["status"]["containerStatuses"][0]["restartCount"].as_i64().unwrap_or(0) + 1;
        p["status"]["containerStatuses"][0]["restartCount"] = json!(n);
        p["status"]["containerStatuses"][0]["lastState"] =
            json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": now()}});
        let pod = p["metadata"]["name"].as_str().unwrap_or_default().to_string();
        store.put(p);
        event(store, ns, true, "BackOff", ("Pod", &pod), "Back-off restarting failed container hsof", "kubelet");
        break;
    }
}

/// Adds one to the restart count of pod `name`'s first container (a status update, as the
/// kubelet makes them); false when there is no such pod.
pub fn bump_restarts(store: &mut Store, ns: &str, name: &str) -> bool {
    let Some(pods) = find("", "v1", "pods") else { return false };
    let Some(mut p) = store.get(pods, ns, name).cloned() else { return false };
    let n = p["status"]["containerStatuses"][0]["restartCount"].as_i64().unwrap_or(0) + 1;
    p["status"]["containerStatuses"][0]["restartCount"] = json!(n);
    store.put(p);
    true
}

/// Deletes pod `name` (as its node or a user would); false when there is no such pod.
pub fn delete_pod(store: &mut Store, ns: &str, name: &str) -> bool {
    find("", "v1", "pods").is_some_and(|pods| store.delete(pods, ns, name).is_some())
}

/// The JSON of every pod of `ns`, for assertions.
pub fn pods(store: &Store, ns: &str) -> Vec<Value> {
    find("", "v1", "pods").map(|p| store.list(p, Some(ns), None)).unwrap_or_default()
}

/// A Service `name` in `ns` (and the namespace, when it is new) with `labels` and `ports`
/// (`name`, `port`, loopback `targetPort`): the service proxy reaches `127.0.0.1:targetPort`
/// behind each port, so a test or the demo can put a real server behind a real-looking Service.
pub fn service(store: &mut Store, ns: &str, name: &str, labels: &[(&str, &str)], ports: &[(&str, u16, u16)]) {
    if find("", "v1", "namespaces").is_some_and(|r| store.get(r, "", ns).is_none()) {
        store.put(json!({"kind": "Namespace", "metadata": {"name": ns}}));
    }
    let labels: serde_json::Map<String, Value> = labels.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect();
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, port, target)| json!({"name": n, "port": port, "targetPort": target, "protocol": "TCP"}))
        .collect();
    store.put(json!({"kind": "Service", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"type": "ClusterIP", "clusterIP": format!("10.96.0.{}", 10 + store.rv % 200), "selector": labels, "ports": ports}}));
}
