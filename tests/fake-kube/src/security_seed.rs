//! A realistic HSOF namespace for the security review, with a few problems to find: an
//! over-broad Role (every verb on every core resource) bound to a person, an account no
//! workload uses, a binding to an account and a role that no longer exist, a Role no one
//! binds, a debug pod no NetworkPolicy covers, the backup's retention below target on an
//! unencrypted StorageClass with its bucket credentials readable by a group, and the HSOF
//! image with a fixable critical vulnerability (the Trivy Operator installed). Used by the
//! demo and the security suite; on top of [`crate::seed_hsof`].

use serde_json::{json, Value};

use crate::store::Store;
use crate::trivy::{trivy_crd, vulnerability_report};

fn binding(kind: &str, name: &str, role_kind: &str, role: &str, subjects: Value) -> Value {
    let mut b = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}, "subjects": subjects});
    if kind == "RoleBinding" {
        b["metadata"]["namespace"] = json!("hsof");
    }
    b
}

fn role(name: &str, rules: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name, "namespace": "hsof"}, "rules": rules})
}

/// Seeds the security review's objects into `store` (after [`crate::seed_hsof`]).
pub fn seed_security(store: &mut Store, now: chrono::DateTime<chrono::Utc>) {
    let ts = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (ns, label) in [("monitoring", "monitoring"), ("database", "database"), ("ingress-nginx", "ingress-nginx")] {
        store.put(json!({"kind": "Namespace", "metadata": {"name": ns, "labels": {"name": label, "kubernetes.io/metadata.name": ns}}}));
    }
    for sa in ["default", "hsof-service-account", "hsof-backup", "legacy-ci"] {
        store.put(json!({"kind": "ServiceAccount", "metadata": {"name": sa, "namespace": "hsof"}}));
    }
    store.put(json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "nfs-client"},
        "provisioner": "nfs.csi.k8s.io", "parameters": {"server": "nfs.internal", "share": "/exports"}}));
    store.put(json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast-ssd"},
        "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3", "encrypted": "true"}}));
    store.put(json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "hsof-backup-storage", "namespace": "hsof"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "500Gi"}}, "storageClassName": "nfs-client"},
        "status": {"phase": "Bound"}}));
    // The backup: its own account, a claim on an unencrypted class, bucket credentials.
    store.put(json!({"kind": "CronJob", "metadata": {"name": "hsof-backup", "namespace": "hsof"},
        "spec": {"schedule": "0 2 * * *", "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
            "jobTemplate": {"spec": {"template": {"spec": {"serviceAccountName": "hsof-backup", "restartPolicy": "OnFailure",
                "containers": [{"name": "backup", "image": "hsof/backup:1.0",
                    "env": [{"name": "BACKUP_RETENTION_DAYS", "value": "14"}, {"name": "S3_BUCKET", "value": "s3://hsof-backups"}],
                    "envFrom": [{"secretRef": {"name": "backup-s3-credentials"}}],
                    "volumeMounts": [{"name": "backup", "mountPath": "/backup"}]}],
                "volumes": [{"name": "backup", "persistentVolumeClaim": {"claimName": "hsof-backup-storage"}}]}}}}},
        "status": {"lastScheduleTime": ts(8), "lastSuccessfulTime": ts(8)}}));
    store.put(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "backup-restore-test-20261109", "namespace": "hsof",
            "labels": {"hsof.runbook/job": "backup-restore-test"}, "creationTimestamp": ts(24 * 28 + 1)},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "restore", "image": "hsof/backup:1.0"}]}}},
        "status": {"succeeded": 1, "completionTime": ts(24 * 28)}}));
    // A debug pod someone left: no policy selects it, it runs as default.
    store.put(json!({"kind": "Pod", "metadata": {"name": "debug-shell", "namespace": "hsof", "labels": {"app": "debug"}},
        "spec": {"nodeName": "gpu-node-1", "containers": [{"name": "sh", "image": "busybox:1.36"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "sh", "ready": true, "restartCount": 0, "image": "busybox:1.36"}]}}));

    store.put(role("hsof-debug", json!([{"verbs": ["*"], "apiGroups": [""], "resources": ["*"]}])));
    store.put(role("hsof-reader", json!([{"verbs": ["get", "list", "watch"], "apiGroups": ["", "apps"], "resources": ["pods", "pods/log", "deployments", "configmaps"]}])));
    store.put(role("secret-reader", json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["backup-s3-credentials"]}])));
    store.put(role("unused-role", json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["services"]}])));
    store.put(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "hsof-operator-exec", "labels": {"hsof.io/aggregate-to-operator": "true"}},
        "rules": [{"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]}]}));
    store.put(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "hsof-operator-deploy", "labels": {"hsof.io/aggregate-to-operator": "true"}},
        "rules": [{"verbs": ["get", "list", "patch", "update"], "apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"]},
                  {"verbs": ["patch"], "apiGroups": [""], "resources": ["configmaps"]}, {"verbs": ["create"], "apiGroups": ["batch"], "resources": ["jobs"]}]}));
    store.put(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "hsof-operator"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"hsof.io/aggregate-to-operator": "true"}}]}, "rules": []}));
    store.put(binding(
        "RoleBinding",
        "hsof-debug-alice",
        "Role",
        "hsof-debug",
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@example.com"}]),
    ));
    store.put(binding(
        "RoleBinding",
        "hsof-oncall-read",
        "Role",
        "hsof-reader",
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "hsof-oncall"}]),
    ));
    store.put(binding("RoleBinding", "backup-secret", "Role", "secret-reader", json!([{"kind": "ServiceAccount", "name": "hsof-backup", "namespace": "hsof"}, {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "hsof-oncall"}])));
    store.put(binding(
        "RoleBinding",
        "hsof-app",
        "Role",
        "hsof-reader",
        json!([{"kind": "ServiceAccount", "name": "hsof-service-account", "namespace": "hsof"}]),
    ));
    store.put(binding(
        "RoleBinding",
        "old-deployer",
        "ClusterRole",
        "deployer-v1",
        json!([{"kind": "ServiceAccount", "name": "old-deployer", "namespace": "hsof"}]),
    ));
    store.put(binding(
        "ClusterRoleBinding",
        "hsof-operators",
        "ClusterRole",
        "hsof-operator",
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "platform-oncall"}]),
    ));

    // The Trivy Operator, with a report on the running HSOF image and one on busybox.
    store.install_crd(trivy_crd()).expect("the Trivy CRD is valid");
    store.put(vulnerability_report(
        "hsof",
        "replicaset-hsof-main-hsof",
        "ReplicaSet",
        "hsof-main",
        "hsof",
        "index.docker.io",
        "hsof/hsof",
        "1.5.0",
        "sha256:5e1f",
        &[
            ("CVE-2024-5535", "libssl3", "CRITICAL", "3.0.13-0ubuntu3", "3.0.13-0ubuntu3.2"),
            ("CVE-2024-6119", "libssl3", "HIGH", "3.0.13-0ubuntu3", "3.0.13-0ubuntu3.4"),
            ("CVE-2023-45853", "zlib1g", "HIGH", "1:1.3", ""),
        ],
        &ts(20),
    ));
    store.put(vulnerability_report(
        "hsof",
        "pod-debug-shell-sh",
        "Pod",
        "debug-shell",
        "sh",
        "index.docker.io",
        "library/busybox",
        "1.36",
        "sha256:9ae9",
        &[],
        &ts(20),
    ));
    crate::managed::seeded(store);
}
