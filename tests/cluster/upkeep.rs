//! Friday maintenance and the technology updates against the fake API server, through the
//! real `hsofctl`, judged by the real kubectl: nodes at skewed versions and one reporting
//! none, an object written at a removed API version, leftovers of each kind and things
//! kept for a reason; cleanup previewed (nothing deleted), then applied with one deletion
//! refused by RBAC — exactly the previewed objects gone, the refused one named, audited.

use hsof_fake_kube::{seed_hsof, FakeKube, Rule, Store, DEFAULT_USER};
use serde_json::{json, Value};

struct Setup {
    kube: FakeKube,
    kubeconfig: std::path::PathBuf,
    dir: tempfile::TempDir,
}

fn ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn start() -> Setup {
    let mut store = Store::default();
    seed_hsof(&mut store, 2, 0);
    store.put(json!({"kind": "Node", "metadata": {"name": "old-node"}, "status": {"nodeInfo": {"kubeletVersion": "v1.26.5"}}}));
    store.put(json!({"kind": "Node", "metadata": {"name": "mute-node"}, "status": {}}));
    // The HPA was last written by Helm at autoscaling/v2beta2 (removed in 1.26).
    let key = store
        .objects
        .keys()
        .find(|(p, _, n)| p == "horizontalpodautoscalers" && n == "hsof-hpa")
        .cloned()
        .expect("hpa");
    if let Some(h) = store.objects.get_mut(&key) {
        h["metadata"]["managedFields"] =
            json!([{"manager": "helm", "operation": "Update", "apiVersion": "autoscaling/v2beta2", "time": ago(300)}]);
    }
    let job = |name: &str, done: i64| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "hsof"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}},
        "status": {"succeeded": 1, "completionTime": ago(done)}})
    };
    store.put(job("old-job", 20));
    store.put(job("recent-job", 1));
    store.put(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "old-api-5f9", "namespace": "hsof",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "old-api", "uid": "gone"}]},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "old-api"}}, "template": {"metadata": {"labels": {"app": "old-api"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}));
    for (name, ty) in [("old-creds", "Opaque"), ("ci-token", "kubernetes.io/service-account-token")] {
        store.put(json!({"kind": "Secret", "metadata": {"name": name, "namespace": "hsof"}, "type": ty, "data": {"k": "c2VjcmV0"}}));
    }
    for name in ["stale-cm", "notes-cm"] {
        store.put(json!({"kind": "ConfigMap", "metadata": {"name": name, "namespace": "hsof"}, "data": {"a": "b"}}));
    }
    store.put(json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "scratch", "namespace": "hsof"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}}, "status": {"phase": "Bound", "capacity": {"storage": "50Gi"}}}));
    // notes-cm is named only in an annotation: kept, and said why.
    let key =
        store.objects.keys().find(|(p, _, n)| p == "deployments" && n == "hsof-main").cloned().expect("deployment");
    if let Some(d) = store.objects.get_mut(&key) {
        d["metadata"]["annotations"]["hsof.example/runbook-notes"] = json!("see configmap notes-cm");
    }
    let kube = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
    let config = format!(
        "[cluster]\nkubeconfig = \"{}\"\nnamespace = \"hsof\"\ndeployment = \"hsof-main\"\nconfigmap = \"hsof-config\"\n\n[endpoints]\nrequest_timeout_secs = 2\n\n[upkeep]\nstorage_price_per_gib_month = 0.1\n",
        kubeconfig.display()
    );
    std::fs::write(dir.path().join("config.toml"), config).expect("config");
    Setup { kube, kubeconfig, dir }
}

impl Setup {
    fn json(&self, args: &[&str]) -> (i32, Value) {
        crate::hsofctl_json(self.dir.path(), args)
    }

    fn names(&self, kind: &str) -> Vec<String> {
        let out = crate::kubectl_at(&self.kubeconfig, &["get", kind, "-o", "jsonpath={.items[*].metadata.name}"]);
        out.split_whitespace().map(str::to_string).collect()
    }
}

#[test]
fn versions_skew_and_removed_apis() {
    let s = start();
    let (code, v) = s.json(&["updates"]);
    assert_eq!(code, 2, "a node outside the skew policy: {v}");
    let verdict = |name: &str| {
        v["versions"]["components"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == name)
            .map(|c| c["verdict"].clone())
    };
    assert_eq!(verdict("gpu-node-1"), Some(json!("ok")));
    assert_eq!(verdict("old-node"), Some(json!("fail")), "1.26 under 1.30 is four minor versions behind");
    assert_eq!(verdict("mute-node"), Some(json!("unknown")));
    let removed = v["removed_apis"].as_array().expect("list");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["object"], "HorizontalPodAutoscaler hsof-hpa");
    assert_eq!(removed[0]["by"], "helm");
    assert_eq!(removed[0]["already_removed"], true);
    assert!(v["images"].as_array().is_some_and(|i| i.iter().any(|x| x[0] == "hsof/hsof:1.5.0")), "{}", v["images"]);
}

#[test]
fn cleanup_is_previewed_then_deletes_exactly_what_it_showed_and_names_what_it_could_not() {
    let s = start();
    let (code, preview) = s.json(&["cleanup"]);
    assert_eq!(code, 0, "{preview}");
    assert_eq!(preview["dry_run"], true);
    let shown: Vec<String> = preview["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["target"].as_str().map(str::to_string))
        .collect();
    for want in [
        "job/old-job",
        "replicaset/old-api-5f9",
        "configmap/stale-cm",
        "secret/old-creds",
        "persistentvolumeclaim/scratch",
    ] {
        assert!(shown.contains(&want.to_string()), "{want} not in {shown:?}");
    }
    assert!(
        !shown.iter().any(|x| x.contains("recent-job")
            || x.contains("notes-cm")
            || x.contains("ci-token")
            || x.contains("hsof-config")),
        "{shown:?}"
    );
    let kept = preview["report"]["kept"].to_string();
    assert!(kept.contains("notes-cm") && kept.contains("annotation hsof.example/runbook-notes"), "{kept}");
    let scratch = preview["report"]["leftovers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["name"] == "scratch")
        .expect("scratch");
    assert!((scratch["monthly_cost"].as_f64().unwrap_or(0.0) - 5.0).abs() < 1e-6, "{scratch}");
    // The dry run deleted nothing.
    assert!(
        s.names("jobs").contains(&"old-job".to_string()) && s.names("configmaps").contains(&"stale-cm".to_string())
    );

    // This identity may delete everything but ConfigMaps.
    s.kube.with(|st| {
        st.policy.insert(
            DEFAULT_USER.into(),
            vec![
                Rule::new(&["get", "list", "watch", "create", "update", "patch"], &["*"], &["*"]),
                Rule::new(
                    &["delete"],
                    &["", "batch", "apps"],
                    &["jobs", "replicasets", "secrets", "persistentvolumeclaims"],
                ),
            ],
        );
    });
    let (code, done) = s.json(&["cleanup", "--yes"]);
    assert_eq!(code, 1, "one deletion was refused: {done}");
    let steps = done["steps"].as_array().expect("steps");
    let refused: Vec<&Value> = steps.iter().filter(|x| x["ok"] == false).collect();
    assert_eq!(refused.len(), 1, "{steps:?}");
    assert_eq!(refused[0]["target"], "configmap/stale-cm");
    assert!(refused[0]["outcome"].as_str().is_some_and(|o| o.contains("may not delete configmaps")), "{}", refused[0]);
    let deleted: Vec<String> =
        steps.iter().filter(|x| x["ok"] == true).filter_map(|x| x["target"].as_str().map(str::to_string)).collect();
    let mut expected: Vec<String> = shown.iter().filter(|x| *x != "configmap/stale-cm").cloned().collect();
    expected.sort();
    let mut got = deleted.clone();
    got.sort();
    assert_eq!(got, expected, "exactly what the preview showed, less the refused one");
    // kubectl agrees: gone exactly those, the rest still there.
    assert!(!s.names("jobs").contains(&"old-job".to_string()) && s.names("jobs").contains(&"recent-job".to_string()));
    assert!(
        !s.names("secrets").contains(&"old-creds".to_string()) && s.names("secrets").contains(&"ci-token".to_string())
    );
    assert!(!s.names("persistentvolumeclaims").contains(&"scratch".to_string()));
    assert!(
        s.names("configmaps").contains(&"stale-cm".to_string())
            && s.names("configmaps").contains(&"notes-cm".to_string())
    );
    assert!(!s.names("replicasets").contains(&"old-api-5f9".to_string()));
    // Each deletion is in the audit log.
    let (_, audit) = s.json(&["audit", "list", "--limit", "50"]);
    let text = audit.to_string();
    for d in &deleted {
        assert!(text.contains(d.as_str()), "{d} not audited: {text}");
    }
}
