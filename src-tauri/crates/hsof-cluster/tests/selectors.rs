//! Deployments select their pods and ReplicaSets by their whole label selector
//! (`matchLabels` and `matchExpressions`), against the fake API server.

use std::path::PathBuf;
use std::time::Duration;

use hsof_cluster::{Cluster, ClusterError, ConnectOptions, Selection};
use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use serde_json::{json, Value};

struct Fake {
    server: FakeKube,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

/// The seeded HSOF namespace plus deployment `batch`, selecting with expressions only
/// (`app.kubernetes.io/name in (batch), track notin (canary)`), and pods that sort before
/// its own: a canary of it, a stranger, both running and ready.
fn fake() -> Fake {
    let mut store = Store::default();
    seed_hsof(&mut store, 2, 0);
    let selector = json!({"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["batch"]},
        {"key": "track", "operator": "NotIn", "values": ["canary"]}
    ]});
    put_deployment(&mut store, "batch", selector);
    let uid = store.objects.values().find(|o| o["metadata"]["name"] == "batch").map(|d| d["metadata"]["uid"].clone());
    let labels = json!({"app.kubernetes.io/name": "batch", "track": "stable", "pod-template-hash": "7d9"});
    store.put(json!({
        "kind": "ReplicaSet",
        "metadata": {"name": "batch-7d9", "namespace": "hsof", "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "batch", "uid": uid, "controller": true}]},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "batch", "image": "hsof/batch:1"}]}}},
        "status": {"replicas": 1, "readyReplicas": 1}
    }));
    put_pod(&mut store, "aaa-batch-canary", json!({"app.kubernetes.io/name": "batch", "track": "canary"}));
    put_pod(&mut store, "aab-stranger", json!({"app.kubernetes.io/name": "stranger"}));
    put_pod(&mut store, "batch-7d9-x1", labels);
    let server = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).expect("kubeconfig");
    Fake { server, kubeconfig, _dir: dir }
}

fn put_deployment(store: &mut Store, name: &str, selector: Value) {
    store.put(json!({
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "hsof", "generation": 1, "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {"replicas": 1, "selector": selector,
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": name}}, "spec": {"containers": [{"name": name, "image": "hsof/batch:1"}]}}},
        "status": {"replicas": 1, "readyReplicas": 1, "updatedReplicas": 1}
    }));
}

fn put_pod(store: &mut Store, name: &str, labels: Value) {
    store.put(json!({
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "hsof", "labels": labels},
        "spec": {"nodeName": "gpu-node-1", "containers": [{"name": "main", "image": "hsof/batch:1"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0, "image": "hsof/batch:1"}]}
    }));
}

async fn connect(f: &Fake) -> Cluster {
    let opts = ConnectOptions { timeout: Duration::from_secs(5), proxy_url: None };
    Cluster::connect(Some(&f.kubeconfig), None, "hsof", &opts).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_with_match_expressions_selects_only_its_pods() {
    let f = fake();
    let c = connect(&f).await;
    assert_eq!(c.running_pod_of("batch").await.expect("pod of batch"), "batch-7d9-x1");
    let df = c.df("batch").await.expect("df in batch's pod");
    assert_eq!(df.pod, "batch-7d9-x1", "df runs in the deployment's own pod");
    let history = c.history("batch").await.expect("history");
    assert_eq!(history.iter().map(|r| r.replica_set.as_str()).collect::<Vec<_>>(), ["batch-7d9"]);
    // The query sent is the set-based one, not an empty "everything".
    let decode = |r: &String| {
        [("%2F", "/"), ("%28", "("), ("%29", ")"), ("%2C", ","), ("+", " "), ("%20", " ")]
            .iter()
            .fold(r.clone(), |r, (from, to)| r.replace(from, to))
    };
    let sent = f.server.with(|s| s.requests.iter().filter(|r| r.contains("/pods?")).map(decode).collect::<Vec<_>>());
    let query = "labelSelector=app.kubernetes.io/name in (batch),track notin (canary)";
    assert!(sent.iter().any(|r| r.contains(query)), "{sent:?}");
    // matchLabels deployments still work as before.
    assert!(c.running_pod_of("hsof-main").await.expect("pod of hsof-main").starts_with("hsof-main-"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_with_an_empty_or_invalid_selector_is_an_error_not_every_pod() {
    let f = fake();
    f.server.with(|s| {
        put_deployment(s, "empty", json!({}));
        put_deployment(
            s,
            "odd",
            json!({"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "Matches", "values": ["x"]}]}),
        );
    });
    let c = connect(&f).await;
    let e = c.running_pod_of("empty").await.expect_err("empty selector");
    assert!(matches!(e, ClusterError::Invalid(_)) && e.to_string().contains("empty selector"), "{e}");
    let e = c.df("odd").await.expect_err("bad operator");
    assert!(e.to_string().contains("\"Matches\" is not a valid label selector operator"), "{e}");
    let e = c.history("empty").await.expect_err("history with an empty selector");
    assert!(matches!(e, ClusterError::Invalid(_)), "{e}");
}

/// The fake filters lists by the API server's whole selector grammar (`in`, `notin`, `key`,
/// `!key`, commas inside `in (x,y)` belonging to the set), so the server side of the
/// selection is checked too, not only the app's own label check.
#[tokio::test(flavor = "multi_thread")]
async fn the_fake_filters_lists_by_set_based_selectors() {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, ListParams};
    let f = fake();
    let kc = kube::config::Kubeconfig::read_from(&f.kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.expect("config");
    let client = kube::Client::try_from(config).expect("client");
    let pods: Api<Pod> = Api::namespaced(client, "hsof");
    let names = |q: &str| {
        let pods = pods.clone();
        let q = q.to_string();
        async move {
            let list = pods.list(&ListParams::default().labels(&q)).await.expect("list");
            list.items.into_iter().filter_map(|p| p.metadata.name).collect::<Vec<_>>()
        }
    };
    let selector = serde_json::from_value(json!({"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["batch", "x"]},
        {"key": "track", "operator": "NotIn", "values": ["canary"]}
    ]}))
    .expect("selector");
    let query = Selection::from_label_selector(Some(&selector)).ok().and_then(|s| s.query()).unwrap_or_default();
    assert_eq!(names(&query).await, ["batch-7d9-x1"]);
    assert_eq!(names("track").await, ["aaa-batch-canary", "batch-7d9-x1"]);
    assert!(!names("!track").await.iter().any(|n| n.starts_with("batch") || n.starts_with("aaa")));
}
