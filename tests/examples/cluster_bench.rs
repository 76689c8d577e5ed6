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
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS")).map(str::to_string))
        .unwrap_or_default();
    println!("this process (fake server + client, 5,000 pods held twice): {rss}");
}
