//! The cluster path's overhead and the sharded stage 1's time, on the fake API server in
//! kubelet mode (the Job's container is the same `hsofctl` binary, run here): in one run,
//! the same data through `hsofctl select` locally, through `--cluster` with its upload,
//! again with the file already on the claim, and with `--shards 2` and `--shards 4`.
//!
//!   cargo build --release -p hsofctl
//!   cargo run -p hsof-tests --example experiment_cluster_bench [-- ROWS COLS]
//!
//! The engine is target/release/hsofctl when built (else the debug one); this process only
//! hosts the fake API server, so it need not be a release build. Prints a Markdown table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use hsof_fake_kube::{seed_hsof, FakeKube, Kubelet, Store};

fn dataset(dir: &Path, rows: usize, cols: usize) -> PathBuf {
    let mut next = hsof_tests::uniform(0x2545_f491_4f6c_dd1d);
    let mut text = String::from("id,y");
    for j in 0..cols {
        text.push_str(&format!(",x{j}"));
    }
    text.push('\n');
    for i in 0..rows {
        let x: Vec<f64> = (0..cols).map(|_| next()).collect();
        let y = u8::from(x[0] + 0.8 * x[cols / 2] - 0.6 * x[cols - 1] + 0.2 * next() > 0.0);
        text.push_str(&format!("{i},{y}"));
        for v in x {
            text.push_str(&format!(",{v:.5}"));
        }
        text.push('\n');
    }
    let p = dir.join("bench.csv");
    std::fs::write(&p, text).expect("csv");
    p
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(4000);
    let cols: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(400);
    let root = hsof_tests::workspace_root();
    let release = root.join("target/release/hsofctl");
    let bin = if release.is_file() { release } else { hsof_tests::hsofctl() };
    let dir = tempfile::tempdir().expect("tempdir");
    let claim = dir.path().join("claim");
    let mut store = Store::default();
    seed_hsof(&mut store, 1, 0);
    let mut k = Kubelet::from_pairs(&[], &[format!("hsof-data-storage={}", claim.display())]).expect("kubelet");
    k.images.insert("hsof/hsof-engine:0.1.0".into(), bin.clone());
    store.kubelet = Some(k);
    let server = FakeKube::start(store);
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).expect("kubeconfig");
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = kubeconfig.display().to_string();
    cfg.experiments.cluster.gpus = 0;
    hsof_core::config::save(&dir.path().join("config.toml"), &cfg).expect("config");
    let input = dataset(dir.path(), rows, cols);
    let size = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
    let common = ["--target", "y", "--id-cols", "id", "--k1", "100", "--k2", "20", "--k3", "5", "--seed", "7"];
    let common = [&common[..], &["--outer", "holdout:0.25", "--search-seconds", "300", "--backend", "cpu"]].concat();
    let run = |extra: &[&str]| -> (f64, Vec<String>) {
        let t = Instant::now();
        let out = Command::new(&bin)
            .args(["--json", "select", "--input"])
            .arg(&input)
            .args(&common)
            .args(extra)
            .env("HSOF_CONTROL_CONFIG", dir.path().join("config.toml"))
            .env("HSOF_CONTROL_DATA_DIR", dir.path().join("data"))
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .output()
            .expect("hsofctl");
        let secs = t.elapsed().as_secs_f64();
        assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let names = v["report"]["final_results"]["selected_features"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["name"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        (secs, names)
    };
    println!("data: {rows} rows × {cols} columns, {:.1} MiB CSV; engine {}", size as f64 / 1048576.0, bin.display());
    let (local, want) = run(&[]);
    println!("| run | wall time | vs local | same features |\n|---|---|---|---|");
    println!("| local `hsofctl select` | {local:.2} s | 1.00 | — |");
    for (label, extra) in [
        ("`--cluster`, upload included", vec!["--cluster"]),
        ("`--cluster`, file already on the claim", vec!["--cluster"]),
        ("`--cluster --shards 2`", vec!["--cluster", "--shards", "2"]),
        ("`--cluster --shards 4`", vec!["--cluster", "--shards", "4"]),
    ] {
        let (secs, got) = run(&extra);
        println!("| {label} | {secs:.2} s | {:.2} | {} |", secs / local, if got == want { "yes" } else { "NO" });
    }
}
