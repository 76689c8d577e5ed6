//! 5,000 pods: the app's backend time from request to ready rows, against
//! `kubectl get pods -o json` on the same fake API server in the same run.
//!
//!   cargo run --release -p hsof-tests --example cluster_bench

use std::process::Command;
use std::time::{Duration, Instant};

use hsof_fake_kube::{seed_hsof, FakeKube, Store};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 4_997);
    let server = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).expect("kubeconfig");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = rt
        .block_on(hsof_cluster::Cluster::connect(
            Some(&kubeconfig),
            None,
            "hsof",
            &hsof_cluster::ConnectOptions { timeout: Duration::from_secs(30), proxy_url: None },
        ))
        .expect("connect");
    let runs = 7;
    let mut app = Vec::new();
    let mut kubectl = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let rows = rt.block_on(cluster.pods()).expect("pods");
        app.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(rows.len(), 5_000);
        let t = Instant::now();
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["get", "pods", "-n", "hsof", "-o", "json"])
            .output()
            .expect("kubectl");
        kubectl.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(out.status.success());
    }
    let (a, k) = (median(app), median(kubectl));
    println!(
        "5,000 pods, median of {runs}: app pods() {a:.0} ms, kubectl get pods -o json {k:.0} ms, ratio {:.2}",
        a / k
    );
    println!("this process (fake server + client, 5,000 pods held twice): {} MiB", rss_mib());

    // Watched: the reflectors' caches, as the app holds them while the Cluster screen is
    // open. Memory is the growth of this process from before the watches start to after
    // they have synced (the fake server's share is already in the baseline).
    let before = rss_mib();
    let t = Instant::now();
    let live = rt.block_on(async {
        let live = hsof_cluster::Live::start(&cluster);
        assert!(live.wait_synced(Duration::from_secs(60)).await, "watches synced");
        live
    });
    let sync_ms = t.elapsed().as_secs_f64() * 1000.0;
    let after = rss_mib();
    let mut view = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let rows = live.pods().expect("synced");
        view.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(rows.len(), 5_000);
    }
    println!(
        "watched: first sync {sync_ms:.0} ms; rows from the watch cache {:.1} ms (median of {runs}); memory of the 5,000 watched pods {:.0} MiB",
        median(view),
        after - before
    );
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .map_or(0.0, |kib: f64| kib / 1024.0)
}
