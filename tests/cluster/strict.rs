//! The fake's API-server rules, checked against the real kubectl and against our client:
//! set-based and field selectors, paged lists (5,000 pods), optimistic concurrency, the
//! status subresource, RBAC (`kubectl auth can-i`, 403s) and watch bookmarks.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use hsof_cluster::{Cluster, ClusterError, ConnectOptions, Live};
use hsof_fake_kube::{seed_hsof, FakeKube, Rule, Store};
use serde_json::Value;

struct Fake {
    server: FakeKube,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

fn fake(extra_pods: usize) -> Fake {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, extra_pods);
    let server = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).expect("kubeconfig");
    Fake { server, kubeconfig, dir }
}

/// A kubeconfig for the same server with another bearer token.
/// A kubeconfig authenticating with `token`. kubectl sends no bearer token over plain
/// http, so it also impersonates the token's user (`as:`), which the fake honours.
fn kubeconfig_with_token(f: &Fake, token: &str) -> PathBuf {
    let path = f.dir.path().join(format!("kubeconfig-{token}"));
    let user = f.server.with(|s| s.tokens.get(token).cloned()).expect("a token the fake knows");
    std::fs::write(
        &path,
        f.server.kubeconfig().replace("token: fake-token", &format!("token: {token}\n    as: {user}")),
    )
    .expect("write");
    path
}

fn run(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["-n", "hsof"])
        .args(args)
        .output()
        .expect("kubectl: `make test` installs Debian's kubernetes-client when no kubectl is present")
}

fn kubectl(f: &Fake, args: &[&str]) -> String {
    let out = run(&f.kubeconfig, args);
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn kubectl_err(kubeconfig: &Path, args: &[&str]) -> String {
    let out = run(kubeconfig, args);
    assert!(!out.status.success(), "kubectl {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn names(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim_start_matches("pod/").to_string()).collect()
}

async fn connect(kubeconfig: &Path) -> Cluster {
    let opts = ConnectOptions { timeout: Duration::from_secs(30), proxy_url: None };
    Cluster::connect(Some(kubeconfig), None, "hsof", &opts).await.expect("connect")
}

#[test]
fn kubectl_selects_by_set_based_labels_and_fields() {
    let f = fake(2);
    let workers = ["hsof-worker-00000", "hsof-worker-00001"];
    assert_eq!(
        names(&kubectl(&f, &["get", "pods", "-l", "app.kubernetes.io/name in (hsof-worker,x)", "-o", "name"])),
        workers
    );
    assert_eq!(
        names(&kubectl(&f, &["get", "pods", "-l", "app.kubernetes.io/name notin (hsof)", "-o", "name"])),
        workers
    );
    assert_eq!(names(&kubectl(&f, &["get", "pods", "-l", "!pod-template-hash", "-o", "name"])), workers);
    assert_eq!(kubectl(&f, &["get", "pods", "-l", "pod-template-hash", "-o", "name"]).lines().count(), 3);
    let one = kubectl(&f, &["get", "pods", "--field-selector", "metadata.name=hsof-worker-00001", "-o", "name"]);
    assert_eq!(names(&one), ["hsof-worker-00001"]);
    let running =
        kubectl(&f, &["get", "pods", "--field-selector", "status.phase=Running,spec.nodeName!=nowhere", "-o", "name"]);
    assert_eq!(running.lines().count(), 5);
    let e = kubectl_err(&f.kubeconfig, &["get", "pods", "--field-selector", "spec.foo=x"]);
    assert!(e.contains("field label not supported: spec.foo"), "{e}");
    // kubectl parses -l itself first; a raw request shows the server's own 400.
    let e = kubectl_err(&f.kubeconfig, &["get", "--raw", "/api/v1/namespaces/hsof/pods?labelSelector=a+in+b"]);
    assert!(e.contains("BadRequest") || e.contains("unable to parse requirement"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn paged_lists_work_for_kubectl_our_client_and_the_reflectors_with_5000_pods() {
    let small = fake(5);
    let paged = kubectl(&small, &["get", "pods", "--chunk-size=2", "-o", "name"]);
    let all = kubectl(&small, &["get", "pods", "--chunk-size=0", "-o", "name"]);
    assert_eq!(paged, all);
    assert_eq!(paged.lines().count(), 8);
    assert!(small.server.with(|s| s.requests.iter().filter(|r| r.contains("limit=2")).count()) >= 4, "it paged");

    let f = fake(4_997);
    let text = kubectl(&f, &["get", "pods", "-o", "name"]);
    assert_eq!(text.lines().count(), 5_000);
    let sent = f.server.with(|s| s.requests.iter().filter(|r| r.contains("/pods?") && r.contains("limit=500")).count());
    assert!(sent >= 10, "kubectl pages by 500: {sent}");
    let c = connect(&f.kubeconfig).await;
    assert_eq!(c.pods().await.expect("pods").len(), 5_000);
    let live = Live::start(&c);
    assert!(live.wait_synced(Duration::from_secs(60)).await, "{:?}", live.states());
    assert_eq!(live.pods().expect("pods").len(), 5_000);
}

#[test]
fn stale_updates_conflict_for_kubectl() {
    let f = fake(0);
    let before = kubectl(&f, &["get", "deployment", "hsof-main", "-o", "json"]);
    let file = f.dir.path().join("d.json");
    let mut d: Value = serde_json::from_str(&before).expect("json");
    d["metadata"]["labels"]["edited"] = "1".into();
    std::fs::write(&file, d.to_string()).expect("write");
    kubectl(&f, &["replace", "--validate=false", "-f", file.to_str().expect("path")]);
    // The same file again: its resourceVersion is stale now.
    let e = kubectl_err(&f.kubeconfig, &["replace", "--validate=false", "-f", file.to_str().expect("path")]);
    assert!(
        e.contains("Operation cannot be fulfilled on deployments.apps \"hsof-main\": the object has been modified; please apply your changes to the latest version and try again"),
        "{e}"
    );
    d["metadata"].as_object_mut().map(|m| m.remove("resourceVersion"));
    std::fs::write(&file, d.to_string()).expect("write");
    kubectl(&f, &["replace", "--validate=false", "-f", file.to_str().expect("path")]);
    let e = kubectl_err(&f.kubeconfig, &["scale", "deployment/hsof-main", "--replicas=2", "--resource-version=1"]);
    // kubectl checks this precondition itself, before it patches.
    assert!(e.contains("the object has been modified") || e.contains("Expected resource version to be 1"), "{e}");
}

#[test]
fn kubectl_reads_the_status_subresource() {
    let f = fake(0);
    let out = run(&f.kubeconfig, &["get", "deployment", "hsof-main", "--subresource=status", "-o", "json"]);
    if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unknown flag") {
        return; // kubectl before 1.27 has no --subresource.
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(d["status"]["readyReplicas"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn rbac_rules_hold_for_kubectl_auth_can_i_and_for_requests() {
    let f = fake(0);
    f.server.with(|s| {
        s.tokens.insert("token-viewer".into(), "viewer".into());
        s.policy.insert(
            "viewer".into(),
            vec![
                Rule::new(&["get", "list", "watch"], &[""], &["pods", "pods/log", "events"]).in_namespaces(&["hsof"]),
                Rule::new(&["get", "list", "watch"], &["apps"], &["deployments", "replicasets"])
                    .in_namespaces(&["hsof"]),
                Rule::new(&["get", "patch"], &["apps"], &["deployments/scale"]).in_namespaces(&["hsof"]),
            ],
        );
    });
    let viewer = kubeconfig_with_token(&f, "token-viewer");
    let can_i = |args: &[&str]| {
        let out = run(&viewer, &[&["auth", "can-i"], args].concat());
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(can_i(&["list", "pods"]), "yes");
    assert_eq!(can_i(&["get", "pods", "--subresource=log"]), "yes");
    assert_eq!(can_i(&["delete", "pods"]), "no");
    assert_eq!(can_i(&["create", "pods", "--subresource=exec"]), "no");
    assert_eq!(can_i(&["list", "pods", "-n", "kube-system"]), "no");
    assert_eq!(can_i(&["patch", "deployments.apps", "--subresource=scale"]), "yes");
    assert_eq!(can_i(&["patch", "deployments.apps"]), "no");
    let out = run(&f.kubeconfig, &["auth", "can-i", "delete", "pods"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "yes", "the seeded user keeps full access");

    // Denied for real, not only in the review.
    let pod = names(&kubectl(&f, &["get", "pods", "-o", "name"]))[0].clone();
    let e = kubectl_err(&viewer, &["delete", "pod", &pod]);
    assert!(
        e.contains(&format!("pods \"{pod}\" is forbidden: User \"viewer\" cannot delete resource \"pods\" in API group \"\" in the namespace \"hsof\"")),
        "{e}"
    );
    let e = kubectl_err(&viewer, &["get", "nodes"]);
    assert!(e.contains("cannot list resource \"nodes\" in API group \"\" at the cluster scope"), "{e}");
    assert!(run(&viewer, &["get", "pods"]).status.success());

    // Our client, as the viewer.
    let c = connect(&viewer).await;
    assert_eq!(c.pods().await.expect("pods").len(), 3);
    let (allowed, reason) = c.can_i("patch", "apps", "deployments", "").await.expect("ssar");
    assert!(!allowed && reason.is_empty(), "denied with no reason, as RBAC answers: {reason}");
    assert!(c.can_i("patch", "apps", "deployments", "scale").await.expect("ssar").0);
    let e = c.nodes().await.expect_err("nodes are forbidden");
    assert!(matches!(e, ClusterError::Forbidden(_)), "{e}");
    let e = c.restart("hsof-main", chrono::Utc::now(), false).await.expect_err("restart is a patch");
    assert!(matches!(e, ClusterError::Forbidden(_)), "{e}");
    c.scale("hsof-main", 2, false).await.expect("scale is allowed");
    let users = f.server.with(|s| s.request_users.clone());
    // The seeded kubectl sends no token over plain http: the fake saw it as anonymous.
    assert!(users.iter().any(|u| u == "viewer") && users.iter().any(|u| u != "viewer"), "{users:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reflectors_stay_synced_across_bookmarks() {
    let f = fake(0);
    f.server.with(|s| s.bookmark_interval_ms = 100);
    let c = connect(&f.kubeconfig).await;
    let live = Live::start(&c);
    assert!(live.wait_synced(Duration::from_secs(20)).await, "{:?}", live.states());
    tokio::time::sleep(Duration::from_millis(500)).await;
    kubectl(&f, &["scale", "deployment/hsof-main", "--replicas=4"]);
    let mut pods = 0;
    for _ in 0..100 {
        pods = live.pods().map_or(0, |p| p.len());
        if pods == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pods, 4, "{:?}", live.states());
    assert!(f.server.with(|s| s.requests.iter().any(|r| r.contains("allowWatchBookmarks=true"))));
}
