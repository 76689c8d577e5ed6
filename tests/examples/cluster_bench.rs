//! N pods (default 5,000): the app's backend time from request to ready rows, against
//! `kubectl get pods -o json` on the same fake API server in the same run; then the same
//! pods watched: first sync, memory held, and what a redraw costs, beside the baseline of
//! kube-runtime's reflector holding the pod objects (what the app held before).
//!
//!   cargo run --release -p hsof-tests --example cluster_bench [-- PODS]

use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hsof_fake_kube::{seed_hsof, sim, FakeKube, Store};
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::{reflector, watcher, WatchStreamExt};

// The one unsafe block in the workspace's tests: a counting wrapper around the system
// allocator, which `GlobalAlloc` can only be implemented as.
#[allow(unsafe_code)]
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicIsize, Ordering};

    /// Bytes allocated and not yet freed, by this whole process: the exact heap a cache holds,
    /// where RSS also counts what the allocator keeps after transient peaks.
    struct Counting;
    static HEAP: AtomicIsize = AtomicIsize::new(0);

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            HEAP.fetch_add(l.size() as isize, Ordering::Relaxed);
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            HEAP.fetch_sub(l.size() as isize, Ordering::Relaxed);
            unsafe { System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            HEAP.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
            unsafe { System.realloc(p, l, new) }
        }
    }

    #[global_allocator]
    static ALLOC: Counting = Counting;

    /// The heap in use now, MiB.
    pub fn heap_mib() -> f64 {
        HEAP.load(Ordering::Relaxed) as f64 / 1_048_576.0
    }
}
use counting::heap_mib;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let pods: usize = match std::env::args().nth(1) {
        None => 5_000,
        Some(a) => match a.replace(['_', ','], "").parse() {
            Ok(n) if n >= 3 => n,
            _ => {
                eprintln!("usage: cluster_bench [PODS]  (a pod count of at least 3, e.g. 50000; got {a:?})");
                std::process::exit(2);
            }
        },
    };
    let mut store = Store::default();
    seed_hsof(&mut store, 3, pods - 3);
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
        assert_eq!(rows.len(), pods);
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
        "{pods} pods, median of {runs}: app pods() {a:.0} ms, kubectl get pods -o json {k:.0} ms, ratio {:.2}",
        a / k
    );
    println!("this process (fake server + client, {pods} pods held twice): {:.0} MiB", rss_mib());

    // Watched, as the app holds them while the Cluster screen is open: rows only. Memory
    // is the growth from before the watches start to after they have synced (the fake
    // server's share is already in the baseline).
    let (heap0, rss0) = (heap_mib(), rss_mib());
    let t = Instant::now();
    let live = rt.block_on(async {
        let live = hsof_cluster::Live::start(&cluster);
        assert!(live.wait_synced(Duration::from_secs(600)).await, "watches synced");
        live
    });
    let sync_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (heap1, rss1) = (heap_mib(), rss_mib());
    let mut full = Vec::new();
    let mut full_json = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let d = live.pods_since(None).expect("synced");
        full.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(d.rows.len(), pods);
        let t = Instant::now();
        let bytes = serde_json::to_vec(&d).expect("json").len();
        full_json.push((t.elapsed().as_secs_f64() * 1000.0, bytes));
    }
    // A redraw after 100 pods changed: the delta the screen asks for, and its JSON.
    let changed = 100.min(pods - 3);
    let mut delta = Vec::new();
    let mut delta_json = Vec::new();
    for round in 0..runs {
        let since = live.pods_since(None).expect("synced").seq;
        server.with(|s| {
            for i in 0..changed {
                assert!(sim::bump_restarts(
                    s,
                    "hsof",
                    &format!("hsof-worker-{:05}", (round * changed + i) % (pods - 3))
                ));
            }
        });
        let start = Instant::now();
        while live.pods_since(Some(since)).expect("synced").rows.len() < changed {
            assert!(start.elapsed() < Duration::from_secs(60), "the changes reach the watch");
            std::thread::sleep(Duration::from_millis(5));
        }
        // The call alone, repeated (one call is below the clock's resolution).
        let t = Instant::now();
        for _ in 0..19 {
            std::hint::black_box(live.pods_since(Some(since)));
        }
        let d = live.pods_since(Some(since)).expect("synced");
        delta.push(t.elapsed().as_secs_f64() * 1000.0 / 20.0);
        assert!(!d.full && d.rows.len() == changed, "{} rows", d.rows.len());
        let t = Instant::now();
        let bytes = serde_json::to_vec(&d).expect("json").len();
        delta_json.push((t.elapsed().as_secs_f64() * 1000.0, bytes));
    }
    let mid = |v: &[(f64, usize)]| (median(v.iter().map(|x| x.0).collect()), v[0].1 as f64 / 1_048_576.0);
    let (fj, fb) = mid(&full_json);
    let (dj, db) = mid(&delta_json);
    println!(
        "watched rows ({pods} pods): first sync {sync_ms:.0} ms; held: heap {:.1} MiB, RSS growth {:+.0} MiB",
        heap1 - heap0,
        rss1 - rss0
    );
    println!("  whole table from the cache {:.1} ms + JSON {fj:.1} ms ({fb:.1} MiB) (medians of {runs})", median(full));
    println!(
        "  redraw after {changed} pods changed: delta {:.2} ms + JSON {dj:.2} ms ({db:.3} MiB) (medians of {runs})",
        median(delta)
    );

    // Baseline: kube-runtime's reflector holding the Pod objects, rows rebuilt from it on
    // each redraw (how the app held pods before). Measured with the rows still held, so
    // each figure is fresh growth.
    let (heap0, rss0) = (heap_mib(), rss_mib());
    let t = Instant::now();
    let (reader, task) = rt.block_on(async {
        let (reader, writer) = reflector::store::<Pod>();
        let api = kube::Api::<Pod>::namespaced(cluster.client().clone(), "hsof");
        let task = tokio::spawn(watcher(api, watcher::Config::default()).reflect(writer).for_each(|_| async {}));
        reader.wait_until_ready().await.expect("reflector ready");
        (reader, task)
    });
    let sync_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (heap1, rss1) = (heap_mib(), rss_mib());
    let mut rebuild = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut rows: Vec<hsof_cluster::PodRow> =
            reader.state().iter().map(|p| hsof_cluster::PodRow::from(&**p)).collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rebuild.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(rows.len(), pods);
    }
    task.abort();
    println!("baseline, reflector of Pod objects: first sync {sync_ms:.0} ms; held: heap {:.1} MiB, RSS growth {:+.0} MiB; rows rebuilt per redraw {:.1} ms (median of {runs})", heap1 - heap0, rss1 - rss0, median(rebuild));
    drop(live);
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .map_or(0.0, |kib: f64| kib / 1024.0)
}
