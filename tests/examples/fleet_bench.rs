//! The fleet with N clusters (default 5): N fake API servers, each with its HSOF exporter,
//! listed as [[clusters]]; the time of a fleet read (cold: connections made; warm: a
//! refresh, median of 7) beside what a user would otherwise run — kubectl for each
//! cluster's objects and nodes, and curl for its health, one cluster after the other —
//! in the same run; and the memory each extra cluster costs the app (RSS after a fleet
//! read with 1 cluster and with N).
//!
//!   cargo run -p hsof-tests --example fleet_bench [-- N]

use std::process::Command;
use std::time::Instant;

use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_tests::exporter::{Exporter, Script};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

struct Region {
    _kube: FakeKube,
    kubeconfig: std::path::PathBuf,
    exporter: Exporter,
}

fn config(dir: &std::path::Path, regions: &[Region]) -> std::path::PathBuf {
    let mut text = String::from("[endpoints]\nrequest_timeout_secs = 2\n\n");
    for (i, r) in regions.iter().enumerate() {
        text.push_str(&format!(
            "[[clusters]]\nname = \"c{i}\"\nrole = \"{}\"\nkubeconfig = \"{}\"\ncontext = \"c{i}\"\nhsof_health_url = \"{}\"\nprometheus_url = \"http://127.0.0.1:9\"\nalertmanager_url = \"http://127.0.0.1:9\"\n\n",
            if i == 0 { "primary" } else { "staging" },
            r.kubeconfig.display(),
            r.exporter.url()
        ));
    }
    let path = dir.join(format!("config-{}.toml", regions.len()));
    std::fs::write(&path, text).expect("config");
    path
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5).max(2);
    let dir = tempfile::tempdir().expect("tempdir");
    let regions: Vec<Region> = (0..n)
        .map(|i| {
            let mut store = Store::default();
            seed_hsof(&mut store, 3, 0);
            let kube = FakeKube::start(store);
            let kubeconfig = dir.path().join(format!("kubeconfig-{i}"));
            std::fs::write(&kubeconfig, kube.kubeconfig_named(&format!("c{i}"), "admin", "hsof")).expect("kubeconfig");
            Region { _kube: kube, kubeconfig, exporter: Exporter::start(Script::default()) }
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    let open = |clusters: usize| {
        let cfg = config(dir.path(), &regions[..clusters]);
        hsof_core::AppContext::open(&hsof_core::Options {
            config: Some(cfg),
            data_dir: Some(dir.path().join(format!("data-{clusters}"))),
            secrets: hsof_core::BackendChoice::File,
        })
    };
    // Memory: the same process, one cluster read, then N.
    let rss_start = rss_mib();
    let one = open(1);
    rt.block_on(one.fleet(chrono::Utc::now())).expect("fleet of 1");
    let rss_one = rss_mib();
    let all = open(n);
    let t = Instant::now();
    let view = rt.block_on(all.fleet(chrono::Utc::now())).expect("fleet");
    let cold = t.elapsed().as_secs_f64() * 1000.0;
    let rss_all = rss_mib();
    assert!(view.rows.iter().all(|r| r.reachable), "every cluster read");
    let warm: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            rt.block_on(all.fleet(chrono::Utc::now())).expect("fleet");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();

    // What a user would otherwise run, cluster after cluster.
    let baseline: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            for r in &regions {
                for args in [
                    &["get", "deployment,configmap,service,hpa,pdb,networkpolicy,cronjob", "-o", "json"][..],
                    &["get", "nodes", "-o", "json"][..],
                    &["get", "pods", "-o", "json"][..],
                ] {
                    let out = Command::new("kubectl")
                        .arg("--kubeconfig")
                        .arg(&r.kubeconfig)
                        .args(["-n", "hsof"])
                        .args(args)
                        .output()
                        .expect("kubectl");
                    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                }
                for path in ["/health", "/health/gpu", "/health/pipeline", "/health/model"] {
                    let out = Command::new("curl")
                        .args(["-fsS", &format!("{}{path}", r.exporter.url())])
                        .output()
                        .expect("curl");
                    assert!(out.status.success());
                }
            }
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();

    println!("fleet of {n} clusters (fake API servers and HSOF exporters on loopback)");
    println!("  app: first fleet read (connections made)      {cold:>8.0} ms");
    println!("  app: fleet refresh, median of 7               {:>8.0} ms", median(warm));
    println!("  kubectl ×3 + curl ×4 per cluster, in turn, median of 3  {:>8.0} ms", median(baseline));
    println!(
        "  RSS: start {rss_start:.1} MiB, after 1 cluster {rss_one:.1} MiB, after {n} {rss_all:.1} MiB: {:.1} MiB per extra cluster",
        (rss_all - rss_one) / (n as f64 - 1.0)
    );
}
