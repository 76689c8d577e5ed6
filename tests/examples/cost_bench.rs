//! The cost and capacity queries on a Prometheus holding D days (default 30) of S-second
//! samples (default 15) for P pods (default 50) of HSOF's namespace: cAdvisor's CPU and
//! memory, kube-state-metrics' requests, HSOF's GPU utilisation, its cost and datasets
//! counters, the HPA. Backfilled with promtool, then `hsofctl cost` and `hsofctl capacity`
//! timed (cold, then the median of 5), beside the PromQL a user would otherwise type into
//! Prometheus for the same answers (cost per dataset over the days, the 7-day p95 of CPU
//! per pod) in the same run.
//!
//!   cargo run -p hsof-tests --example cost_bench [-- PODS DAYS STEP_SECS]

use std::process::Command;
use std::time::Instant;

use hsof_demo::history::OpenMetrics;
use hsof_fake_kube::{seed_hsof, Store};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<i64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (pods, days, step) =
        (args.first().copied().unwrap_or(50), args.get(1).copied().unwrap_or(30), args.get(2).copied().unwrap_or(15));
    let end = chrono::Utc::now().timestamp() / 1800 * 1800;
    let start = end - days * 86_400;
    let t0 = Instant::now();
    let mut h = OpenMetrics::default();
    h.counter(step, "hsof_compute_cost_dollars_total", &[], start, end, None, |_| Some(9.0));
    h.counter(step, "hsof_datasets_processed_total", &[], start, end, None, |_| Some(150.0));
    let names: Vec<(String, String)> =
        (0..pods).map(|i| (format!("hsof-main-5c9d7-p{i:04}"), format!("gpu-node-{}", i % 5 + 1))).collect();
    for (pod, node) in &names {
        let c = [("namespace", "hsof"), ("pod", pod.as_str()), ("container", "hsof")];
        let r = |res: &'static str| {
            [
                ("namespace", "hsof"),
                ("pod", pod.as_str()),
                ("container", "hsof"),
                ("node", node.as_str()),
                ("resource", res),
            ]
        };
        h.counter(step, "container_cpu_usage_seconds_total", &c, start, end, None, |t| {
            Some(3600.0 * (1.0 + (t % 7) as f64 / 10.0))
        });
        h.gauge(step, "container_memory_working_set_bytes", &c, start, end, |t| Some(4e9 + (t % 11) as f64 * 1e7));
        h.gauge(step, "kube_pod_container_resource_requests", &r("cpu"), start, end, |_| Some(4.0));
        h.gauge(step, "kube_pod_container_resource_requests", &r("memory"), start, end, |_| {
            Some(16.0 * 1_073_741_824.0)
        });
        h.gauge(step, "kube_pod_container_resource_requests", &r("nvidia_com_gpu"), start, end, |_| Some(1.0));
        h.gauge(
            step,
            "hsof_gpu_utilization_percent",
            &[("gpu_id", "0"), ("node", node.as_str()), ("pod", pod.as_str())],
            start,
            end,
            |t| Some(40.0 + (t % 13) as f64),
        );
    }
    let hpa = [("namespace", "hsof"), ("horizontalpodautoscaler", "hsof-hpa")];
    h.gauge(step, "kube_horizontalpodautoscaler_status_desired_replicas", &hpa, start, end, |_| Some(3.0));
    h.gauge(step, "kube_horizontalpodautoscaler_status_current_replicas", &hpa, start, end, |_| Some(3.0));
    let text = h.finish();
    let samples = text.lines().count() - 1;
    let generated = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let prom = hsof_tests::servers::prometheus_backfilled(&text);
    drop(text);
    let backfilled = t1.elapsed().as_secs_f64();
    println!("history: {pods} pods, {days} days of {step}-second samples = {samples} samples; written in {generated:.1} s, backfilled and Prometheus ready in {backfilled:.1} s");

    let mut store = Store::default();
    seed_hsof(&mut store, 3, 0);
    let cluster = hsof_tests::FakeCluster::start(store);
    cluster.write_config(&format!(
        "[cluster]\nkubeconfig = \"{}\"\nnamespace = \"hsof\"\ndeployment = \"hsof-main\"\n\n[endpoints]\nrequest_timeout_secs = 120\nprometheus_url = \"{}\"\n\n[cost]\nmonthly_budget = 9000\ngpu_hour = [\"NVIDIA-A100-SXM4-80GB=2.93\"]\n",
        cluster.kubeconfig.display(),
        prom.url
    ));
    let run = |args: &[&str]| {
        let t = Instant::now();
        let out = hsof_tests::hsofctl_on(cluster.dir.path()).args(args).output().expect("hsofctl");
        assert!(out.status.code().is_some_and(|c| c <= 2), "{}", String::from_utf8_lossy(&out.stderr));
        t.elapsed().as_secs_f64()
    };
    for cmd in ["cost", "capacity"] {
        let cold = run(&["--json", cmd]);
        let warm = median((0..5).map(|_| run(&["--json", cmd])).collect());
        println!("hsofctl {cmd}: {cold:.2} s cold, {warm:.2} s median of 5");
    }
    // What a user would otherwise ask Prometheus directly (curl, one query each).
    let curl = |q: &str, range: bool| {
        let t = Instant::now();
        let mut c = Command::new("curl");
        c.args(["-sf", "-o", "/dev/null", "--data-urlencode", &format!("query={q}")]);
        if range {
            c.args([
                "--data-urlencode",
                &format!("start={}", end - days * 86_400),
                "--data-urlencode",
                &format!("end={end}"),
                "--data-urlencode",
                "step=3600",
            ]);
            c.arg(format!("{}/api/v1/query_range", prom.url));
        } else {
            c.arg(format!("{}/api/v1/query", prom.url));
        }
        assert!(c.status().expect("curl").success(), "{q}");
        t.elapsed().as_secs_f64()
    };
    let per_dataset =
        "sum(increase(hsof_compute_cost_dollars_total[1h])) / sum(increase(hsof_datasets_processed_total[1h]))";
    println!(
        "curl, hourly cost per dataset over {days} days: {:.2} s",
        median((0..5).map(|_| curl(per_dataset, true)).collect())
    );
    let p95 = "quantile_over_time(0.95, sum by (pod) (rate(container_cpu_usage_seconds_total{namespace=\"hsof\"}[5m]))[7d:5m])";
    println!("curl, 7-day p95 of CPU for every pod: {:.2} s", median((0..5).map(|_| curl(p95, false)).collect()));
    drop(cluster);
}
