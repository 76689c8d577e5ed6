//! The cluster layer against the fake API server, and the fake against the real kubectl:
//! the app's undo / scale / restart must leave the same objects kubectl's do.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use hsof_cluster::{Cluster, ClusterError, ConnectOptions};
use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use serde_json::Value;

mod cost;
mod dr;
mod experiments;
mod fleet;
mod followthrough;
mod live;
mod regions;
mod registry;
mod security;
mod services;
mod team;
mod team_sync;
mod upkeep;

struct Fake {
    server: FakeKube,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

fn fake() -> Fake {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 0);
    let server = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).expect("kubeconfig");
    Fake { server, kubeconfig, _dir: dir }
}

fn opts(secs: u64) -> ConnectOptions {
    ConnectOptions { timeout: Duration::from_secs(secs), proxy_url: None }
}

async fn connect(f: &Fake) -> Cluster {
    Cluster::connect(Some(&f.kubeconfig), None, "hsof", &opts(5)).await.expect("connect")
}

/// The real kubectl with `kubeconfig`, in namespace hsof; its output whether it succeeded or not.
fn kubectl_output_at(kubeconfig: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["-n", "hsof"])
        .args(args)
        .output()
        .expect("kubectl: `make test` installs Debian's kubernetes-client when no kubectl is present")
}

/// The real kubectl with `kubeconfig`, in namespace hsof; panics when it fails.
fn kubectl_at(kubeconfig: &std::path::Path, args: &[&str]) -> String {
    let out = kubectl_output_at(kubeconfig, args);
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The real `hsofctl` on the profile in `dir` (`config.toml`, `data/`, file secrets):
/// exit code, stdout, stderr.
pub(crate) fn hsofctl_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = hsof_tests::hsofctl_on(dir).args(args).output().expect("hsofctl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`hsofctl_in`] with `--json`, its stdout parsed (a panic naming the command otherwise).
pub(crate) fn hsofctl_json(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let (code, out, err) = hsofctl_in(dir, &[&["--json"], args].concat());
    (code, serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out} {err}")))
}

/// The real kubectl against the fake, in namespace hsof; its output whether it succeeded or not.
fn kubectl_output(f: &Fake, args: &[&str]) -> std::process::Output {
    kubectl_output_at(&f.kubeconfig, args)
}

fn kubectl(f: &Fake, args: &[&str]) -> String {
    kubectl_at(&f.kubeconfig, args)
}

/// The deployment with server-assigned and time-dependent fields removed.
fn deployment_shape(f: &Fake) -> Value {
    let mut d: Value =
        serde_json::from_str(&kubectl(f, &["get", "deployment", "hsof-main", "-o", "json"])).expect("json");
    for k in ["resourceVersion", "uid", "creationTimestamp", "managedFields"] {
        d["metadata"].as_object_mut().map(|m| m.remove(k));
    }
    if let Some(a) = d["spec"]["template"]["metadata"]["annotations"].as_object_mut() {
        a.remove("kubectl.kubernetes.io/restartedAt");
    }
    d
}

fn revisions(f: &Fake) -> Vec<(String, String)> {
    let rs: Value = serde_json::from_str(&kubectl(f, &["get", "replicasets", "-o", "json"])).expect("json");
    let mut v: Vec<(String, String)> = rs["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        i["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_agree_with_kubectl() {
    let f = fake();
    let c = connect(&f).await;
    let pods: Value = serde_json::from_str(&kubectl(&f, &["get", "pods", "-o", "json"])).expect("json");
    let mut kubectl_names: Vec<String> = pods["items"]
        .as_array()
        .map(|i| i.iter().map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default();
    let mut ours: Vec<String> = c.pods().await.expect("pods").into_iter().map(|p| p.name).collect();
    kubectl_names.sort();
    ours.sort();
    assert_eq!(ours, kubectl_names);
    assert_eq!(ours.len(), 3);
    let row = c.pods().await.expect("pods").remove(0);
    assert_eq!((row.phase.as_str(), row.ready.as_str(), row.gpus), ("Running", "1/1", 1));
    assert_eq!(row.images, vec!["hsof/hsof:1.5.0"]);

    let history = c.history("hsof-main").await.expect("history");
    let text = kubectl(&f, &["rollout", "history", "deployment/hsof-main"]);
    for r in &history {
        let cause = r.change_cause.clone().unwrap_or_default();
        assert!(text.contains(&format!("{}         {cause}", r.revision)), "kubectl shows {text}; we have {r:?}");
    }
    assert_eq!(history.iter().map(|r| (r.revision, r.current)).collect::<Vec<_>>(), vec![(2, true), (1, false)]);
    let deps = c.deployments().await.expect("deployments");
    assert_eq!((deps[0].replicas, deps[0].ready, deps[0].revision), (3, 3, 2));
    let nodes = c.nodes().await.expect("nodes");
    assert_eq!(nodes.iter().map(|n| n.gpu_allocatable).sum::<u32>(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn undo_leaves_the_same_objects_as_kubectl() {
    let (theirs, ours) = (fake(), fake());
    kubectl(&theirs, &["rollout", "undo", "deployment/hsof-main"]);
    let out = connect(&ours).await.undo("hsof-main", None, false).await.expect("undo");
    assert!(!out.dry_run && out.message.contains("to the template of revision 1"), "{out:?}");
    assert_eq!(deployment_shape(&ours), deployment_shape(&theirs));
    assert_eq!(revisions(&ours), revisions(&theirs));
    assert_eq!(revisions(&ours), vec![("2".into(), "hsof/hsof:1.5.0".into()), ("3".into(), "hsof/hsof:1.4.0".into())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn scale_and_restart_leave_the_same_objects_as_kubectl() {
    let (theirs, ours) = (fake(), fake());
    kubectl(&theirs, &["scale", "deployment", "hsof-main", "--replicas=5"]);
    let c = connect(&ours).await;
    c.scale("hsof-main", 5, false).await.expect("scale");
    assert_eq!(deployment_shape(&ours), deployment_shape(&theirs));
    assert_eq!(c.pods().await.expect("pods").len(), 5);

    kubectl(&theirs, &["rollout", "restart", "deployment/hsof-main"]);
    let out = c.restart("hsof-main", chrono::Utc::now(), false).await.expect("restart");
    assert!(out.after.contains("restartedAt"), "{out:?}");
    assert_eq!(deployment_shape(&ours), deployment_shape(&theirs));
    assert_eq!(revisions(&ours).len(), revisions(&theirs).len());
    // kubectl reads the app's rollout as complete.
    assert!(kubectl(&ours, &["rollout", "status", "deployment/hsof-main", "--timeout=10s"])
        .contains("successfully rolled out"));
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_changes_nothing() {
    let f = fake();
    let before = deployment_shape(&f);
    let c = connect(&f).await;
    let s = c.scale("hsof-main", 7, true).await.expect("dry scale");
    assert!(s.dry_run && s.message.starts_with("dry run:"));
    c.undo("hsof-main", Some(1), true).await.expect("dry undo");
    c.restart("hsof-main", chrono::Utc::now(), true).await.expect("dry restart");
    assert_eq!(deployment_shape(&f), before);
    assert!(f.server.with(|s| s.requests.iter().any(|r| r.contains("dryRun=All"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_and_faults_get_distinct_clear_errors() {
    let f = fake();
    let c = connect(&f).await;
    for bad in [-1, 51, 10_000] {
        let e = c.scale("hsof-main", bad, false).await.expect_err("bounded");
        assert!(matches!(e, ClusterError::Invalid(_)) && e.to_string().contains("between 0 and 50"), "{e}");
    }
    let e = c.undo("hsof-main", Some(99), false).await.expect_err("no such revision");
    assert!(matches!(e, ClusterError::NotFound(_)) && e.to_string().contains("revision 99"), "{e}");
    let e = c.undo("hsof-main", Some(2), false).await.expect_err("current");
    assert!(e.to_string().contains("already runs revision 2"), "{e}");
    let e = c.scale("no-such-deployment", 2, false).await.expect_err("404");
    assert!(matches!(e, ClusterError::NotFound(_)), "{e}");

    f.server.with(|s| s.denied.push(("patch".into(), "deployments".into(), "scale".into())));
    let (allowed, reason) = c.can_i("patch", "apps", "deployments", "scale").await.expect("ssar");
    assert!(!allowed && reason.contains("cannot patch deployments"), "{reason}");
    assert!(c.can_i("patch", "apps", "deployments", "").await.expect("ssar").0);

    f.server.with(|s| s.faults.status = Some(403));
    assert!(matches!(c.pods().await.expect_err("403"), ClusterError::Forbidden(_)));
    f.server.with(|s| s.faults.status = Some(401));
    let e = c.pods().await.expect_err("401");
    assert!(matches!(e, ClusterError::Unauthorized(_)) && e.to_string().contains("log in again"), "{e}");
    f.server.with(|s| s.faults.status = Some(500));
    assert!(matches!(c.pods().await.expect_err("500"), ClusterError::Api { code: 500, .. }));
    f.server.with(|s| s.faults = Default::default());

    let e = Cluster::connect(Some(&f.kubeconfig), Some("prod"), "hsof", &opts(2)).await.expect_err("no context");
    assert!(e.to_string().contains("context `prod` is not in the kubeconfig (contexts: fake)"), "{e}");
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("kubeconfig");
    std::fs::write(&broken, "apiVersion: v1\nclusters: [ {name: x").expect("write");
    assert!(matches!(
        Cluster::connect(Some(&broken), None, "hsof", &opts(2)).await.expect_err("parse"),
        ClusterError::Kubeconfig(_)
    ));
    drop(f);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gone_server_is_unreachable_not_a_hang() {
    let f = fake();
    let c = connect(&f).await;
    let kubeconfig = f.kubeconfig.clone();
    let _keep = f._dir;
    drop(f.server);
    let start = std::time::Instant::now();
    let e = c.pods().await.expect_err("gone");
    assert!(matches!(e, ClusterError::Unreachable(_)), "{e}");
    assert!(start.elapsed() < Duration::from_secs(6));
    assert!(kubeconfig.exists());
}

fn cli(f: &Fake, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(hsof_tests::hsofctl())
        .args(args)
        .env("HSOF_CONTROL_CONFIG", dir.join("config.toml"))
        .env("HSOF_CONTROL_DATA_DIR", dir.join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .env("KUBECONFIG", &f.kubeconfig)
        .output()
        .expect("hsofctl")
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_previews_without_yes_audits_with_it_and_respects_read_only_and_rbac() {
    let f = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let before = deployment_shape(&f);
    let out = cli(&f, dir.path(), &["change", "scale", "5"]);
    assert_eq!(out.status.code(), Some(10), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Re-run with --yes"));
    assert_eq!(deployment_shape(&f), before, "a preview changes nothing");

    let out = cli(&f, dir.path(), &["change", "scale", "5", "--yes"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(deployment_shape(&f)["spec"]["replicas"], 5);
    let out = cli(&f, dir.path(), &["change", "undo", "--yes", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["action"], "rollout.undo");
    let audit: Value =
        serde_json::from_slice(&cli(&f, dir.path(), &["audit", "list", "--json"]).stdout).expect("audit");
    let actions: Vec<&str> =
        audit.as_array().map(|a| a.iter().filter_map(|r| r["action"].as_str()).collect()).unwrap_or_default();
    // Each change is two rows: its intent, written before it was applied, and its outcome.
    assert_eq!(actions, ["rollout.undo", "rollout.undo", "scale", "scale"]);
    assert_eq!(audit[1]["result"], hsof_core::cluster::INTENT_RESULT);
    assert!(audit[0]["result"].as_str().unwrap_or("").starts_with("ok (intent #"), "{audit}");
    assert!(audit[0]["actor"].as_str().unwrap_or("").contains("(context fake)"));
    assert!(cli(&f, dir.path(), &["audit", "verify"]).status.success());

    let out = cli(&f, dir.path(), &["change", "scale", "-1", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 50"));

    f.server.with(|s| s.denied.push(("patch".into(), "deployments".into(), String::new())));
    let out = cli(&f, dir.path(), &["change", "restart", "--yes"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("may not patch deployments in namespace hsof"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut cfg = hsof_core::config::load_or_create(&dir.path().join("config.toml")).config;
    cfg.cluster.read_only = true;
    hsof_core::config::save(&dir.path().join("config.toml"), &cfg).expect("save");
    let out = cli(&f, dir.path(), &["change", "scale", "2", "--yes"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only mode"));
    let pods = cli(&f, dir.path(), &["cluster", "pods", "--json"]);
    assert!(pods.status.success(), "reads still work in read-only mode");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_backup_images_and_logs_agree_with_kubectl() {
    let f = fake();
    let c = connect(&f).await;
    let ev: Value = serde_json::from_str(&kubectl(&f, &["get", "events", "-o", "json"])).expect("json");
    let ours = c.events().await.expect("events");
    assert_eq!(ours.len(), ev["items"].as_array().map(Vec::len).unwrap_or(0));
    assert_eq!(ours[0].reason, "ScalingReplicaSet", "newest first");
    assert!(ours.iter().any(|e| e.kind == "Warning" && e.object == "Job/hsof-backup-29400000"));

    let b = c.backup("hsof-backup").await.expect("backup");
    assert_eq!((b.schedule.as_str(), b.last_run_failed), ("0 2 * * *", false));
    let cron: Value =
        serde_json::from_str(&kubectl(&f, &["get", "cronjob", "hsof-backup", "-o", "json"])).expect("json");
    assert_eq!(b.last_success.as_deref(), cron["status"]["lastSuccessfulTime"].as_str());
    assert!(b.last_success.is_some());
    assert!(matches!(c.backup("nope").await.expect_err("404"), ClusterError::NotFound(_)));

    let images = c.images().await.expect("images");
    assert_eq!(images.iter().map(|i| (i.image.as_str(), i.pods)).collect::<Vec<_>>(), vec![("hsof/hsof:1.5.0", 3)]);

    let pod = c.pods().await.expect("pods").remove(0).name;
    let theirs = kubectl(&f, &["logs", &pod, "--tail=5"]);
    let mine = c.logs(&pod, 5).await.expect("logs");
    assert_eq!(mine, theirs);
    assert_eq!(mine.lines().count(), 5);
}

fn configmap(f: &Fake) -> Value {
    let c: Value = serde_json::from_str(&kubectl(f, &["get", "configmap", "hsof-config", "-o", "json"])).expect("json");
    c["data"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn config_and_resource_patches_leave_the_same_objects_as_kubectl() {
    let (theirs, ours) = (fake(), fake());
    kubectl(
        &theirs,
        &[
            "patch",
            "configmap",
            "hsof-config",
            "--type=merge",
            "-p",
            r#"{"data":{"log_level":"debug","stage2_keep":"60"}}"#,
        ],
    );
    let c = connect(&ours).await;
    let set =
        [("log_level", "debug"), ("stage2_keep", "60")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let preview = c.patch_config("hsof-config", &set, true).await.expect("dry");
    assert!(preview.message.contains("2 key(s) changed (log_level, stage2_keep)"), "{preview:?}");
    assert_eq!(configmap(&ours)["log_level"], "info", "a dry run changes nothing");
    c.patch_config("hsof-config", &set, false).await.expect("patch");
    assert_eq!(configmap(&ours), configmap(&theirs));
    assert_eq!(configmap(&ours)["stage1_keep"], "500", "other keys kept");

    kubectl(
        &theirs,
        &[
            "patch",
            "deployment",
            "hsof-main",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"hsof","resources":{"requests":{"cpu":"6","nvidia.com/gpu":"2"},"limits":{"nvidia.com/gpu":"2"}}}]}}}}"#,
        ],
    );
    let r = hsof_cluster::Resources { cpu_request: Some("6".into()), gpus: Some(2), ..Default::default() };
    c.set_resources("hsof-main", "hsof", &r, false).await.expect("resources");
    assert_eq!(deployment_shape(&ours)["spec"], deployment_shape(&theirs)["spec"]);
    assert_eq!(
        deployment_shape(&ours)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "32Gi",
        "untouched values kept"
    );

    let bad = hsof_cluster::Resources { memory_request: Some("16GB".into()), ..Default::default() };
    assert!(c
        .set_resources("hsof-main", "hsof", &bad, false)
        .await
        .expect_err("bad")
        .to_string()
        .contains("16Gi or 512Mi"));
    assert!(matches!(
        c.set_resources("hsof-main", "sidecar", &r, false).await.expect_err("no container"),
        ClusterError::NotFound(_)
    ));
    let empty = std::collections::BTreeMap::new();
    assert!(c.patch_config("hsof-config", &empty, false).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn top_agrees_with_kubectl_and_says_when_metrics_server_is_missing() {
    let f = fake();
    let c = connect(&f).await;
    let pods = c.top_pods().await.expect("top pods");
    let text = kubectl(&f, &["top", "pods"]);
    for p in &pods {
        let line = text.lines().find(|l| l.starts_with(&p.name)).expect("kubectl lists the pod");
        assert!(
            line.contains(&format!("{:.0}m", p.cpu_millicores))
                && line.contains(&format!("{:.0}Mi", p.memory_bytes / 1_048_576.0)),
            "{line} vs {p:?}"
        );
    }
    let nodes = c.top_nodes().await.expect("top nodes");
    let text = kubectl(&f, &["top", "nodes"]);
    for n in &nodes {
        let line = text.lines().find(|l| l.starts_with(&n.name)).expect("kubectl lists the node");
        assert!(line.contains(&format!("{:.0}%", n.cpu_pct.unwrap_or(-1.0))), "{line} vs {n:?}");
    }
    f.server.with(|s| s.metrics_server = false);
    let e = c.top_pods().await.expect_err("absent");
    assert!(e.to_string().contains("metrics-server is not installed"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rollout_status_follows_to_complete_or_times_out() {
    let f = fake();
    let c = connect(&f).await;
    c.scale("hsof-main", 4, false).await.expect("scale");
    let mut seen = Vec::new();
    let s = c
        .rollout_status("hsof-main", Duration::from_secs(5), Duration::from_millis(100), |s| seen.push(s.state.clone()))
        .await
        .expect("status");
    assert_eq!(s.state, "complete");
    assert!(kubectl(&f, &["rollout", "status", "deployment/hsof-main"]).contains(&s.message), "{}", s.message);
    // A rollout stuck half way: 2 of 4 replicas updated.
    f.server.with(|st| {
        let key = ("deployments".to_string(), "hsof".to_string(), "hsof-main".to_string());
        if let Some(d) = st.objects.get_mut(&key) {
            d["status"]["updatedReplicas"] = serde_json::json!(2);
        }
    });
    let s = c
        .rollout_status("hsof-main", Duration::from_millis(500), Duration::from_millis(100), |_| {})
        .await
        .expect("status");
    assert_eq!(s.state, "timed_out");
    assert!(s.message.contains("2 out of 4 new replicas have been updated"), "{}", s.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn runbook_jobs_run_from_templates_and_report_their_logs() {
    let f = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cli(&f, dir.path(), &["change", "run-job", "vulnerability-scan", "--yes"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("succeeded") && text.contains("Total: 0 (HIGH: 0, CRITICAL: 0)"), "{text}");
    // kubectl sees the Job the app created, with the configured image.
    let jobs: Value = serde_json::from_str(&kubectl(&f, &["get", "jobs", "-o", "json"])).expect("json");
    let job = &jobs["items"][0];
    assert!(job["metadata"]["name"].as_str().unwrap_or("").starts_with("vulnerability-scan-"));
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["image"], "aquasec/trivy:0.56.2");
    let audit: Value =
        serde_json::from_slice(&cli(&f, dir.path(), &["audit", "list", "--json"]).stdout).expect("audit");
    assert_eq!(audit[0]["action"], "job.run");

    f.server.with(|s| s.failing_jobs.push("backup-restore-test".into()));
    let out = cli(&f, dir.path(), &["change", "run-job", "backup-restore-test", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "a failed Job fails the command");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ERROR: 2 checks failed"));

    let out = cli(&f, dir.path(), &["change", "run-job", "load-tests"]);
    assert_eq!(out.status.code(), Some(10), "previewed without --yes");
    assert_eq!(
        f.server.with(|s| s.objects.keys().filter(|(p, _, _)| p == "jobs").count()),
        2,
        "the preview created nothing"
    );
}

/// Config and data of one profile whose cluster is `f`, for the CLI and an in-process context.
fn profile_for(f: &Fake, dir: &std::path::Path) -> std::path::PathBuf {
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = f.kubeconfig.display().to_string();
    let path = dir.join("config.toml");
    hsof_core::config::save(&path, &cfg).expect("config");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_whose_audit_intent_cannot_be_written_is_refused_and_changes_nothing() {
    let f = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    profile_for(&f, dir.path());
    assert!(cli(&f, dir.path(), &["audit", "list"]).status.success(), "the store exists");
    let before = deployment_shape(&f);
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let out = if root {
        // As root, file modes do not stop writes: run as another uid, as a user whose
        // store belongs to someone else would.
        use std::os::unix::fs::PermissionsExt as _;
        let open = |p: &std::path::Path, mode: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        };
        for d in [dir.path(), &dir.path().join("data"), f.kubeconfig.parent().expect("dir")] {
            open(d, 0o755);
        }
        for entry in std::fs::read_dir(dir.path().join("data")).expect("data") {
            open(&entry.expect("entry").path(), 0o644);
        }
        open(&dir.path().join("config.toml"), 0o644);
        open(&f.kubeconfig, 0o644);
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(hsof_tests::hsofctl())
            .args(["change", "scale", "4", "--yes"])
            .env("HOME", dir.path())
            .env("HSOF_CONTROL_CONFIG", dir.path().join("config.toml"))
            .env("HSOF_CONTROL_DATA_DIR", dir.path().join("data"))
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .env("KUBECONFIG", &f.kubeconfig)
            .output()
            .expect("setpriv (util-linux)")
    } else {
        use std::os::unix::fs::PermissionsExt as _;
        for entry in std::fs::read_dir(dir.path().join("data")).expect("data") {
            let p = entry.expect("entry").path();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        }
        std::fs::set_permissions(dir.path().join("data"), std::fs::Permissions::from_mode(0o555)).expect("chmod");
        cli(&f, dir.path(), &["change", "scale", "4", "--yes"])
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("the change was not made"), "{stderr}");
    assert_eq!(deployment_shape(&f), before, "not scaled");
    assert_eq!(before["spec"]["replicas"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_killed_mid_change_leaves_an_intent_the_next_start_checks() {
    let f = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = profile_for(&f, dir.path());
    // The cluster answers slowly; hsofctl is killed -9 once its real PATCH is in flight,
    // after the intent was written and before any outcome could be.
    f.server.with(|s| s.faults.delay_ms = 1_500);
    let mut child = Command::new(hsof_tests::hsofctl())
        .args(["change", "scale", "6", "--yes"])
        .env("HSOF_CONTROL_CONFIG", &config)
        .env("HSOF_CONTROL_DATA_DIR", dir.path().join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("hsofctl");
    let start = std::time::Instant::now();
    let in_flight = |s: &Store| {
        s.requests
            .iter()
            .any(|r| r.starts_with("PATCH ") && r.contains("deployments/hsof-main") && !r.contains("dryRun"))
    };
    while !f.server.with(|s| in_flight(s)) {
        assert!(start.elapsed() < Duration::from_secs(30), "the change was never sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    f.server.with(|s| s.faults.delay_ms = 0);
    let ctx = hsof_core::AppContext::open(&hsof_core::Options {
        config: Some(config.clone()),
        data_dir: Some(dir.path().join("data")),
        secrets: hsof_core::BackendChoice::File,
    });
    let pending = ctx.store().expect("store").pending_intents().expect("pending");
    assert_eq!(pending.len(), 1, "the intent is there, without an outcome");
    assert_eq!(pending[0].entry.result, hsof_core::cluster::INTENT_RESULT);
    // The server got the PATCH before the kill: whatever it did is what the check finds.
    let applied = deployment_shape(&f)["spec"]["replicas"] == 6;
    assert_eq!(ctx.reconcile_changes(chrono::Utc::now()).await.expect("reconcile"), 1);
    let first = ctx.audit_list(1).expect("audit").remove(0);
    let verdict = if applied { "applied" } else { "not applied" };
    assert!(first.result.starts_with(&format!("outcome checked at restart: {verdict} (intent #")), "{first:?}");
    assert!(first.actor.contains("restart check"));

    // Two more intents as a killed process leaves them: one whose change reached the
    // cluster (killed right after the answer), one never sent. The check tells them apart.
    let store = ctx.store().expect("store");
    let intent = |n: i32, p: &hsof_cluster::ChangeOutcome| {
        let request = hsof_core::cluster::ChangeRequest::Scale { replicas: n };
        store
            .append_intent(
                &hsof_store::NewAuditEntry {
                    actor: "ana (context fake)",
                    action: "scale",
                    target: "deployment/hsof-main in hsof",
                    before: Some(&p.before),
                    after: Some(&p.after),
                    result: hsof_core::cluster::INTENT_RESULT,
                },
                &serde_json::to_string(&request).expect("json"),
                chrono::Utc::now(),
            )
            .expect("intent")
    };
    let preview = |n: i32| {
        let ctx = &ctx;
        async move {
            let request = hsof_core::cluster::ChangeRequest::Scale { replicas: n };
            ctx.change(&request, true, "ana", chrono::Utc::now()).await.expect("preview")
        }
    };
    let seven = preview(7).await;
    intent(7, &seven);
    kubectl(&f, &["scale", "deployment", "hsof-main", "--replicas=7"]);
    let nine = preview(9).await;
    intent(9, &nine);
    assert_eq!(ctx.reconcile_changes(chrono::Utc::now()).await.expect("reconcile"), 2);
    assert!(ctx.store().expect("store").pending_intents().expect("pending").is_empty());
    let audit = ctx.audit_list(2).expect("audit");
    assert!(audit[0].result.starts_with("outcome checked at restart: not applied"), "{audit:?}");
    assert!(audit[1].result.starts_with("outcome checked at restart: applied"), "{audit:?}");
    assert!(ctx.audit_verify().expect("verify").intact);
    assert_eq!(ctx.reconcile_changes(chrono::Utc::now()).await.expect("again"), 0, "settled once");
}
