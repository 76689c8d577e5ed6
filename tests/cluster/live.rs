//! Live watches, log follow, exec, proxies, credentials and the permission cache, against
//! the fake API server (and, for exec, checked against the real `kubectl exec`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hsof_cluster::{parse_df, Cluster, ClusterError, ConnectOptions, FollowEvent, Live};
use hsof_core::{AppContext, BackendChoice, Options};
use tokio_util::sync::CancellationToken;

use crate::{cli, connect, fake, kubectl, opts};

/// Waits until `f` holds, up to 20 s.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pod_count(live: &Live) -> Option<usize> {
    live.pods().map(|p| p.iter().filter(|p| p.name.starts_with("hsof-main-")).count())
}

/// A screen's copy of the pods, kept only from what changed since its last read (as the
/// Cluster screen keeps it): after each read it must equal the whole table.
#[derive(Default)]
struct Mirror {
    rows: std::collections::BTreeMap<String, hsof_cluster::PodRow>,
    seq: Option<u64>,
}

impl Mirror {
    /// Reads what changed; returns whether the answer was the whole table.
    fn follow(&mut self, live: &Live) -> bool {
        let d = live.pods_since(self.seq).expect("synced");
        if d.full {
            self.rows.clear();
        }
        for name in &d.removed {
            assert!(self.rows.remove(name).is_some(), "{name} removed but never seen");
        }
        for r in d.rows {
            self.rows.insert(r.name.clone(), r);
        }
        self.seq = Some(d.seq);
        assert_eq!(self.rows.values().cloned().collect::<Vec<_>>(), live.pods().expect("synced"));
        d.full
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watches_follow_changes_and_survive_dropped_streams_errors_and_compaction() {
    let f = fake();
    let live = Live::start(&connect(&f).await);
    assert!(live.wait_synced(Duration::from_secs(10)).await, "watches synced: {:?}", live.states());
    assert_eq!(pod_count(&live), Some(3));
    assert_eq!(live.nodes().map(|n| n.len()), Some(2));
    let mut screen = Mirror::default();
    assert!(screen.follow(&live), "the first read is the whole table");
    assert!(!screen.follow(&live));

    kubectl(&f, &["scale", "deployment/hsof-main", "--replicas=5"]);
    until("5 pods seen by the watch", || pod_count(&live) == Some(5)).await;
    let before = screen.seq;
    assert!(!screen.follow(&live), "a redraw gets only what changed");
    let d = live.pods_since(before).expect("synced");
    assert!(d.rows.len() >= 2 && d.rows.len() < 5 && d.removed.is_empty(), "{} rows", d.rows.len());

    // A dropped stream: the watcher resumes from its resourceVersion and misses nothing.
    f.server.with(|s| s.drop_streams());
    kubectl(&f, &["scale", "deployment/hsof-main", "--replicas=2"]);
    until("2 pods after a dropped watch", || pod_count(&live) == Some(2)).await;
    assert!(!screen.follow(&live), "removals arrive as such");

    // The server fails for a while: the state says so, the cache is still served.
    f.server.with(|s| {
        s.faults.status = Some(500);
        s.drop_streams();
    });
    until("a watch reports the error", || live.states().iter().any(|s| s.error.is_some())).await;
    assert_eq!(pod_count(&live), Some(2), "the last known pods stay visible while reconnecting");
    // Changes made during the outage, and history compacted (the resume gets 410 Gone):
    // the watcher lists again and converges.
    f.server.with(|s| {
        s.faults.status = None;
        s.changes.clear();
    });
    kubectl(&f, &["scale", "deployment/hsof-main", "--replicas=4"]);
    until("recovered with 4 pods", || {
        pod_count(&live) == Some(4) && live.states().iter().all(|s| s.error.is_none() && s.synced)
    })
    .await;
    assert!(live.states().iter().any(|s| s.reconnects > 0));
    // The re-list after the compaction is compared with what was held: the screen's copy
    // still converges from the changes alone.
    assert!(!screen.follow(&live));
}

#[tokio::test(flavor = "multi_thread")]
async fn log_follow_resumes_after_a_drop_without_duplicates_or_gaps() {
    let f = fake();
    let c = connect(&f).await;
    let pod = c.pods().await.expect("pods")[0].name.clone();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let reconnects = Arc::new(Mutex::new(0u32));
    let cancel = CancellationToken::new();
    let task = {
        let (lines, reconnects, cancel, pod) = (lines.clone(), reconnects.clone(), cancel.clone(), pod.clone());
        tokio::spawn(async move {
            c.follow_logs(&pod, None, 5, &cancel, |ev| match ev {
                FollowEvent::Line(l) => lines.lock().unwrap_or_else(|p| p.into_inner()).push(l.text),
                FollowEvent::Reconnecting { .. } => *reconnects.lock().unwrap_or_else(|p| p.into_inner()) += 1,
                FollowEvent::Connected => {}
            })
            .await
        })
    };
    let count = || lines.lock().unwrap_or_else(|p| p.into_inner()).len();
    until("the tail", || count() == 5).await;
    f.server.with(|s| (1..=3).for_each(|i| s.append_log("hsof", &pod, &format!("live {i}"))));
    until("three live lines", || count() == 8).await;
    // Drop the stream and make it fail for a moment, while the pod keeps writing.
    f.server.with(|s| {
        s.faults.status = Some(503);
        s.drop_streams();
    });
    until("a reconnect", || *reconnects.lock().unwrap_or_else(|p| p.into_inner()) > 0).await;
    f.server.with(|s| {
        (4..=6).for_each(|i| s.append_log("hsof", &pod, &format!("live {i}")));
        s.faults.status = None;
    });
    until("all six live lines", || count() >= 11).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel.cancel();
    task.await.expect("join").expect("follow ends cleanly when cancelled");
    let got = lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let live: Vec<&str> = got.iter().skip(5).map(String::as_str).collect();
    assert_eq!(live, ["live 1", "live 2", "live 3", "live 4", "live 5", "live 6"], "all: {got:?}");
    assert!(got[..5].iter().all(|l| l.contains("processed batch")), "tail: {got:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn df_runs_in_the_pod_through_exec_and_matches_kubectl_exec() {
    let f = fake();
    let report = connect(&f).await.df("hsof-main").await.expect("df");
    assert!(report.pod.starts_with("hsof-main-"));
    let theirs = parse_df(&kubectl(&f, &["exec", &report.pod, "--", "df", "-h"])).expect("kubectl df");
    assert_eq!(report.rows, theirs);
    let models = report.rows.iter().find(|r| r.mounted_on == "/models").expect("/models");
    assert_eq!(models.use_percent, 80);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cli(&f, dir.path(), &["cluster", "df", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(report.rows.len()));
    // A command the container lacks fails clearly instead of showing an empty table.
    f.server.with(|s| s.exec.clear());
    let e = connect(&f).await.df("hsof-main").await.expect_err("no df");
    assert!(e.to_string().contains("exit"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn http_and_socks5_proxies_carry_the_traffic() {
    let f = fake();
    for scheme in ["http", "socks5"] {
        let proxy = hsof_tests::proxy::Proxy::start().await;
        let options =
            ConnectOptions { timeout: Duration::from_secs(5), proxy_url: Some(format!("{scheme}://{}", proxy.addr)) };
        let c = Cluster::connect(Some(&f.kubeconfig), None, "hsof", &options).await.expect("connect");
        assert_eq!(c.pods().await.expect("pods through the proxy").len(), 3);
        assert!(proxy.tunnels() > 0, "{scheme}: no tunnel opened");
    }
    let bad = ConnectOptions { timeout: Duration::from_secs(2), proxy_url: Some("ftp://nope".into()) };
    assert!(matches!(
        Cluster::connect(Some(&f.kubeconfig), None, "hsof", &bad).await,
        Err(ClusterError::Kubeconfig(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_and_exec_plugin_credentials_reach_the_server_and_expired_ones_say_so() {
    let f = fake();
    // An OIDC id-token (a JWT that expires in 2099) as kubectl's oidc auth-provider keeps it.
    let jwt = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiZXhwIjo0MDcwOTA4ODAwfQ.";
    f.server.with(|s| s.faults.require_token = Some(jwt.into()));
    let dir = tempfile::tempdir().expect("tempdir");
    let oidc = f.server.kubeconfig().replace(
        "    token: fake-token\n",
        &format!("    auth-provider:\n      name: oidc\n      config:\n        client-id: hsof\n        idp-issuer-url: https://issuer.example\n        id-token: {jwt}\n"),
    );
    let path = dir.path().join("oidc");
    std::fs::write(&path, oidc).expect("write");
    let c = Cluster::connect(Some(&path), None, "hsof", &opts(5)).await.expect("connect oidc");
    assert_eq!(c.pods().await.expect("pods with the OIDC token").len(), 3);

    // An exec plugin named without a path, found on the PATH handed over for plugins (the
    // login shell's, which the app asks for at start-up) and not on the process's own.
    let plugin = dir.path().join("hsof-test-credential");
    std::fs::write(&plugin, format!("#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{jwt}\"}}}}'\n")).expect("plugin");
    std::process::Command::new("chmod").arg("+x").arg(&plugin).status().expect("chmod");
    let exec = f.server.kubeconfig().replace(
        "    token: fake-token\n",
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: hsof-test-credential\n      interactiveMode: Never\n",
    );
    hsof_cluster::exec_path_pending();
    let login_path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        hsof_cluster::set_exec_path(Some(login_path));
    });
    let path = dir.path().join("exec");
    std::fs::write(&path, exec).expect("write");
    let c = Cluster::connect(Some(&path), None, "hsof", &opts(5)).await.expect("connect exec");
    assert_eq!(c.pods().await.expect("pods with the plugin's token").len(), 3);

    // The old static token is refused: a distinct "log in again" error, not "unreachable".
    let e = connect(&f).await.pods().await.expect_err("expired");
    assert!(matches!(e, ClusterError::Unauthorized(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn permission_answers_are_cached_and_the_connection_reused() {
    let f = fake();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = f.kubeconfig.display().to_string();
    let cfg_path = dir.path().join("config.toml");
    hsof_core::config::save(&cfg_path, &cfg).expect("config");
    let ctx = AppContext::open(&Options {
        config: Some(cfg_path),
        data_dir: Some(dir.path().join("data")),
        secrets: BackendChoice::File,
    });
    let reviews = || f.server.with(|s| s.requests.iter().filter(|r| r.contains("selfsubjectaccessreviews")).count());
    let req = hsof_core::cluster::ChangeRequest::Restart;
    for _ in 0..3 {
        let c = ctx.cluster().await.expect("cluster");
        ctx.change_allowed(&c, &req).await.expect("allowed");
    }
    assert_eq!(reviews(), 1, "the answer is reused within its lifetime");
    ctx.forget_permissions();
    f.server.with(|s| s.denied.push(("patch".into(), "deployments".into(), String::new())));
    let c = ctx.cluster().await.expect("cluster");
    let e = ctx.change_allowed(&c, &req).await.expect_err("denied after the role changed");
    assert!(e.to_string().contains("may not patch deployments"), "{e}");
    assert_eq!(reviews(), 2);

    // The live view comes from the watches once they have synced.
    let (view, started) = ctx.cluster_view(Duration::from_secs(10), chrono::Utc::now(), None).await.expect("view");
    assert!(started.is_some());
    assert_eq!(view.source, "watch");
    assert_eq!(view.pods.len(), 3);
    assert_eq!(view.deployments.len(), 1);
}
