//! The HSOF deployment as the reference manifests describe it, at two revisions.

use serde_json::json;

use crate::controller::reconcile;
use crate::store::{ExecAnswer, LogLine, Store};

/// Namespace `hsof`, two GPU nodes, ConfigMap `hsof-config`, CronJob `hsof-backup`, and
/// Deployment `hsof-main` with `replicas` pods, rolled from image 1.4.0 (revision 1) to
/// 1.5.0 (revision 2) with change-causes; plus `extra_pods` unowned pods (for scale tests).
///
/// Every timestamp is relative to the moment of seeding (the last nightly backup, an event
/// an hour ago), so a fixture never turns "old" as the calendar moves on.
pub fn seed_hsof(store: &mut Store, replicas: i64, extra_pods: usize) {
    let now = chrono::Utc::now();
    let backup = backup_times(now);
    let ago = |d: chrono::Duration| (now - d).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    store.metrics_server = true;
    store.put(json!({"kind": "Namespace", "metadata": {"name": "hsof"}}));
    for n in 1..=2 {
        store.put(json!({
            "kind": "Node",
            "metadata": {"name": format!("gpu-node-{n}"), "labels": {"nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": "4", "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}},
            "status": {
                "capacity": {"cpu": "32", "memory": "256Gi", "nvidia.com/gpu": "4"},
                "allocatable": {"cpu": "31", "memory": "250Gi", "nvidia.com/gpu": "4"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "nodeInfo": {"kubeletVersion": "v1.30.2", "kubeProxyVersion": "v1.30.2", "containerRuntimeVersion": "containerd://1.7.20", "osImage": "Ubuntu 22.04.4 LTS"}
            }
        }));
    }
    // The deployment's shared data volume (k8s/persistentvolume.yaml).
    store.put(json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "hsof-data-storage", "namespace": "hsof", "labels": {"app.kubernetes.io/name": "hsof"}},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "200Gi"}}, "storageClassName": "nfs-client", "volumeMode": "Filesystem"},
        "status": {"phase": "Bound", "accessModes": ["ReadWriteMany"], "capacity": {"storage": "200Gi"}}}));
    store.put(json!({"kind": "ConfigMap", "metadata": {"name": "hsof-config", "namespace": "hsof"},
        "data": {"log_level": "info", "stage1_keep": "500", "stage2_keep": "50", "stage3_keep": "15"}}));
    store.put(json!({"kind": "CronJob", "metadata": {"name": "hsof-backup", "namespace": "hsof"},
        "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "backup", "image": "hsof/backup:1.0"}], "restartPolicy": "OnFailure"}}}}},
        "status": {"lastScheduleTime": backup.0, "lastSuccessfulTime": backup.1}}));
    // Autoscaling, disruption budget and network policy as the deployment contract has them.
    store.put(json!({"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v2",
        "metadata": {"name": "hsof-hpa", "namespace": "hsof", "labels": {"app.kubernetes.io/name": "hsof"}},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hsof-main"}, "minReplicas": 1, "maxReplicas": 3,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}}]}}));
    store.put(json!({"kind": "PodDisruptionBudget", "apiVersion": "policy/v1",
        "metadata": {"name": "hsof-pdb", "namespace": "hsof", "labels": {"app.kubernetes.io/name": "hsof"}},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "hsof", "app.kubernetes.io/component": "main-application"}}}}));
    store.put(json!({"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": "hsof-network-policy", "namespace": "hsof"},
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "hsof"}}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}], "ports": [{"protocol": "TCP", "port": 9090}]}],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"name": "database"}}}]}]}}));
    let labels = json!({"app.kubernetes.io/name": "hsof", "app.kubernetes.io/component": "main-application"});
    let deployment = |image: &str, cause: &str| {
        json!({
            "kind": "Deployment",
            "metadata": {"name": "hsof-main", "namespace": "hsof", "labels": labels, "generation": 1, "annotations": {"kubernetes.io/change-cause": cause}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "strategy": {"type": "RollingUpdate"},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "hsof", "image": image,
                        "resources": {"requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}, "limits": {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "1"}}}]}
                }
            }
        })
    };
    store.put(deployment("hsof/hsof:1.4.0", "initial release 1.4.0"));
    reconcile(store, "hsof", "hsof-main");
    let mut d = deployment("hsof/hsof:1.5.0", "upgrade to 1.5.0 (faster stage 2)");
    d["metadata"]["generation"] = json!(2);
    store.put(d);
    reconcile(store, "hsof", "hsof-main");
    for i in 0..extra_pods {
        store.put(json!({"kind": "Pod", "metadata": {"name": format!("hsof-worker-{i:05}"), "namespace": "hsof", "labels": {"app.kubernetes.io/name": "hsof-worker"}},
            "spec": {"nodeName": format!("gpu-node-{}", i % 2 + 1), "containers": [{"name": "worker", "image": "hsof/worker:1.5.0"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "worker", "ready": true, "restartCount": (i % 3) as i64, "image": "hsof/worker:1.5.0"}]}}));
    }
    let event = |name: &str, kind: &str, reason: &str, object: (&str, &str), message: &str, at: &str| {
        json!({"kind": "Event", "metadata": {"name": name, "namespace": "hsof"}, "type": kind, "reason": reason,
            "involvedObject": {"kind": object.0, "name": object.1, "namespace": "hsof"}, "message": message, "count": 1,
            "firstTimestamp": at, "lastTimestamp": at, "source": {"component": "deployment-controller"}})
    };
    store.put(event(
        "hsof-main.scaled",
        "Normal",
        "ScalingReplicaSet",
        ("Deployment", "hsof-main"),
        "Scaled up replica set to 3",
        &ago(chrono::Duration::hours(1)),
    ));
    store.put(event(
        "hsof-backup.failed",
        "Warning",
        "BackoffLimitExceeded",
        ("Job", "hsof-backup-29400000"),
        "Job has reached the specified backoff limit",
        &ago(chrono::Duration::hours(31)),
    ));
    let pods: Vec<String> = store
        .objects
        .keys()
        .filter(|(p, n, _)| p == "pods" && n == "hsof")
        .map(|(_, _, name)| name.clone())
        .take(3)
        .collect();
    for p in pods {
        let start = chrono::Utc::now() - chrono::Duration::seconds(60);
        store.logs.insert(
            ("hsof".into(), p),
            (1..=20)
                .map(|i| LogLine {
                    at: start + chrono::Duration::seconds(i),
                    text: format!(
                        "{} INFO stage1 processed batch {i}",
                        (start + chrono::Duration::seconds(i)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                })
                .collect(),
        );
    }
    store.exec.insert("df -h".into(), ExecAnswer { exit: 0, stdout: DF_H.into(), stderr: String::new() });
    crate::managed::seeded(store);
}

/// `hsof-backup`'s `lastScheduleTime` and `lastSuccessfulTime` as seeded at `now`: the
/// most recent 02:00 UTC run that has had time to finish (10 minutes), done 4 min 10 s later.
fn backup_times(now: chrono::DateTime<chrono::Utc>) -> (String, String) {
    let settled = now - chrono::Duration::minutes(10);
    let mut run = settled.date_naive().and_hms_opt(2, 0, 0).expect("02:00 exists in UTC").and_utc();
    if run > settled {
        run -= chrono::Duration::days(1);
    }
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    (fmt(run), fmt(run + chrono::Duration::seconds(250)))
}

/// What `df -h` prints in an HSOF pod: the container's overlay, the model and data
/// volumes, and the usual tmpfs mounts.
pub const DF_H: &str = "Filesystem      Size  Used Avail Use% Mounted on
overlay          97G   41G   56G  43% /
tmpfs            64M     0   64M   0% /dev
/dev/nvme1n1    492G  391G  101G  80% /models
/dev/nvme2n1    984G  612G  372G  63% /data
shm              16G  1.2G   15G   8% /dev/shm
tmpfs            63G   12K   63G   1% /run/secrets/kubernetes.io/serviceaccount
";
