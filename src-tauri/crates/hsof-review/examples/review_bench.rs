//! The review of a large namespace: N pods (default 2,000) in 100 workloads, 300 bindings
//! (RoleBindings and ClusterRoleBindings to 60 roles, users, groups and service
//! accounts), 200 NetworkPolicies; the time of one review (median of 5) and the peak
//! memory, besides the size of its JSON record.
//!
//!   cargo run --release -p hsof-review --example review_bench [-- PODS BINDINGS POLICIES]

use std::time::Instant;

use chrono::Utc;
use hsof_review::{review, Inputs, Scanner};
use serde_json::{json, Value};

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a valid object")
}

fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (pods, bindings, policies) = (
        args.first().copied().unwrap_or(2000),
        args.get(1).copied().unwrap_or(300),
        args.get(2).copied().unwrap_or(200),
    );
    let ns = "hsof";
    let workloads = 100;
    let verbs = [json!(["get", "list"]), json!(["*"]), json!(["create", "patch"]), json!(["delete"])];
    let resources = [
        json!(["pods", "pods/exec"]),
        json!(["secrets"]),
        json!(["deployments"]),
        json!(["*"]),
        json!(["configmaps", "jobs"]),
    ];
    let roles: Vec<_> = (0..40)
        .map(|i| obj(json!({"metadata": {"name": format!("role-{i}"), "namespace": ns}, "rules": [{"verbs": verbs[i % 4], "apiGroups": ["", "apps", "batch"], "resources": resources[i % 5]}]})))
        .collect();
    let cluster_roles: Vec<_> = (0..20)
        .map(|i| obj(json!({"metadata": {"name": format!("cr-{i}"), "labels": {"agg": if i % 3 == 0 { "yes" } else { "no" }}}, "rules": [{"verbs": verbs[(i + 1) % 4], "apiGroups": ["*"], "resources": resources[(i + 2) % 5]}]})))
        .chain(std::iter::once(obj(json!({"metadata": {"name": "aggregated"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "yes"}}]}}))))
        .collect();
    let subject = |i: usize| match i % 3 {
        0 => json!({"kind": "ServiceAccount", "name": format!("sa-{}", i % 80), "namespace": ns}),
        1 => json!({"kind": "User", "name": format!("user-{}", i % 50)}),
        _ => json!({"kind": "Group", "name": format!("group-{}", i % 20)}),
    };
    let role_bindings: Vec<_> = (0..bindings * 2 / 3)
        .map(|i| {
            let role = if i % 2 == 0 { json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("role-{}", i % 40)}) } else { json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("cr-{}", i % 20)}) };
            obj(json!({"metadata": {"name": format!("rb-{i}"), "namespace": ns}, "roleRef": role, "subjects": [subject(i), subject(i + 7)]}))
        })
        .collect();
    let cluster_role_bindings: Vec<_> = (0..bindings / 3)
        .map(|i| obj(json!({"metadata": {"name": format!("crb-{i}")}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": if i % 10 == 0 { "aggregated".to_string() } else { format!("cr-{}", i % 20) }}, "subjects": [subject(i + 3)]})))
        .collect();
    let service_accounts =
        (0..80).map(|i| obj(json!({"metadata": {"name": format!("sa-{i}"), "namespace": ns}}))).collect();
    let pod_list = (0..pods)
        .map(|i| {
            let w = i % workloads;
            let tier = ["api", "worker", "batch"][w % 3];
            obj(json!({"metadata": {"name": format!("w{w}-abc-{i}"), "namespace": ns, "labels": {"app": format!("w{w}"), "tier": tier},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("w{w}-abc"), "uid": "u", "controller": true}]},
                "spec": {"serviceAccountName": format!("sa-{}", w % 80), "containers": [{"name": "c", "image": "hsof:1", "ports": [{"name": "http", "containerPort": 8080}]}]}}))
        })
        .collect();
    let policy_list = (0..policies)
        .map(|i| {
            obj(json!({"metadata": {"name": format!("np-{i}"), "namespace": ns}, "spec": {
                "podSelector": {"matchLabels": {"app": format!("w{}", i % workloads)}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "worker"]}]}}, {"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}], "ports": [{"port": 8080}, {"port": "http"}]}],
                "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}], "ports": [{"port": 443}]}, {"to": [{"podSelector": {"matchLabels": {"tier": "batch"}}}]}]}}))
        })
        .collect();
    let inputs = Inputs {
        namespace: ns.into(),
        roles: Ok(roles),
        cluster_roles: Ok(cluster_roles),
        role_bindings: Ok(role_bindings),
        cluster_role_bindings: Ok(cluster_role_bindings),
        service_accounts: Ok(service_accounts),
        pods: Ok(pod_list),
        deployments: Ok(vec![]),
        cronjobs: Ok(vec![]),
        jobs: Ok(vec![]),
        network_policies: Ok(policy_list),
        namespaces: Ok((0..30).map(|i| obj(json!({"metadata": {"name": format!("ns-{i}"), "labels": {"name": if i == 0 { "monitoring".to_string() } else { format!("ns-{i}") }}}}))).collect()),
        claims: Ok(vec![]),
        storage_classes: Ok(vec![]),
        configmap: Ok(None),
        scanner: Scanner::NotInstalled,
        deployment: "hsof".into(),
        backup_cronjob: "hsof-backup".into(),
        retention_target_days: 30,
        now: Utc::now(),
    };
    let before = peak_mib();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        last = Some(review(&inputs));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let r = last.expect("ran");
    let json = serde_json::to_string(&r).expect("encodes");
    println!(
        "review of {pods} pods, {bindings} bindings, {policies} policies: median {:.0} ms (min {:.0}, max {:.0}); {} subjects, {} findings, {} picture edges; peak memory {:.0} MiB ({:.0} MiB before the reviews); record {:.1} MiB JSON",
        times[2], times[0], times[4], r.access.subjects.len(), r.findings.len(), r.network.reach.len(), peak_mib(), before, json.len() as f64 / 1_048_576.0
    );
}
