//! Cost and capacity against a real Prometheus holding a backfilled history whose every
//! answer is known by construction (`promtool tsdb create-blocks-from openmetrics`), and
//! the fake API server for the Deployments, the HPA and the nodes' GPU models, read
//! through the real `hsofctl cost` and `hsofctl capacity`. One world per cost source: HSOF's
//! own counter, OpenCost (one node priced, one not), the local price table (a GPU model
//! missing from it), and none at all.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;
use hsof_demo::history::OpenMetrics;
use hsof_fake_kube::{seed_hsof, Store};
use serde_json::{json, Value};

/// Sample spacing: 5 minutes where a query takes a 5-minute rate (cAdvisor's CPU), else
/// 30 minutes (an hour's window still holds three samples, so increases are exact). The
/// history's length, not its samples, is what costs: promtool writes one block per 2 hours.
const STEP: i64 = 300;
const COARSE: i64 = 1800;
const TZ: Tz = chrono_tz::Europe::Berlin;

fn weekend(t: i64) -> bool {
    let d = Utc.timestamp_opt(t, 0).single().expect("time").with_timezone(&TZ).weekday();
    d.number_from_monday() >= 6
}

/// The world's end: now, on a 5-minute boundary; `days` of history before it.
fn span(days: i64) -> (i64, i64) {
    let end = Utc::now().timestamp() / COARSE * COARSE;
    (end - days * 86_400, end)
}

struct World {
    prom: hsof_tests::servers::Server,
    cluster: hsof_tests::FakeCluster,
}

impl World {
    fn json(&self, args: &[&str]) -> (i32, Value) {
        crate::hsofctl_json(self.cluster.dir.path(), args)
    }
}

fn world(history: String, cost_config: &str) -> World {
    let prom = hsof_tests::servers::prometheus_backfilled(&history);
    let mut store = Store::default();
    seed_hsof(&mut store, 2, 0);
    store.put(
        json!({"kind": "Node", "metadata": {"name": "gpu-node-3", "labels": {"nvidia.com/gpu.product": "Tesla-T4"}},
        "status": {"capacity": {"nvidia.com/gpu": "1"}, "allocatable": {"nvidia.com/gpu": "1"}}}),
    );
    let cluster = hsof_tests::FakeCluster::start(store);
    cluster.write_config(&format!(
        "[cluster]\nkubeconfig = \"{}\"\nnamespace = \"hsof\"\ndeployment = \"hsof-main\"\nconfigmap = \"hsof-config\"\n\n[endpoints]\nrequest_timeout_secs = 20\nprometheus_url = \"{}\"\nalertmanager_url = \"http://127.0.0.1:9\"\nhsof_health_url = \"http://127.0.0.1:9\"\n\n[team]\ntimezone = \"Europe/Berlin\"\n\n[cost]\n{cost_config}\n",
        cluster.kubeconfig.display(),
        prom.url
    ));
    World { prom, cluster }
}

/// The pods of hsof-main as the series name them, with their nodes.
const PODS: [(&str, &str); 2] = [("hsof-main-7d9f8-abcde", "gpu-node-1"), ("hsof-main-7d9f8-fghij", "gpu-node-2")];

/// kube-state-metrics' requests, cAdvisor's use, HSOF's GPU utilisation and the HPA.
/// Every 5 minutes (the queries take 5-minute rates and subqueries), over the last 8 days
/// only: right-sizing, idle GPUs and the HPA look back 7.
fn cluster_series(h: &mut OpenMetrics, start: i64, end: i64, gpus: [f64; 2], gpu_node_2: &str) {
    let start = start.max(end - 8 * 86_400);
    for (i, (pod, node)) in PODS.iter().enumerate() {
        let node = if i == 1 { gpu_node_2 } else { node };
        let l = |r: &'static str| {
            vec![("namespace", "hsof"), ("pod", *pod), ("container", "hsof"), ("node", node), ("resource", r)]
        };
        h.gauge(STEP, "kube_pod_container_resource_requests", &l("cpu"), start, end, |_| {
            Some(if i == 0 { 4.0 } else { 2.0 })
        });
        h.gauge(STEP, "kube_pod_container_resource_requests", &l("memory"), start, end, |_| {
            Some(if i == 0 { 16.0 } else { 1.0 } * 1_073_741_824.0)
        });
        h.gauge(STEP, "kube_pod_container_resource_requests", &l("nvidia_com_gpu"), start, end, |_| Some(gpus[i]));
        let c = [("namespace", "hsof"), ("pod", *pod), ("container", "hsof")];
        // pod 0 uses 1 core and 4 GiB (below its requests), pod 1 3 cores and 0.5 GiB.
        let cores = if i == 0 { 1.0 } else { 3.0 };
        h.counter(STEP, "container_cpu_usage_seconds_total", &c, start, end, None, |_| Some(cores * 3600.0));
        h.gauge(STEP, "container_memory_working_set_bytes", &c, start, end, |_| {
            Some(if i == 0 { 4.0 } else { 0.5 } * 1_073_741_824.0)
        });
        let util = if i == 0 { 25.0 } else { 90.0 };
        h.gauge(STEP, "hsof_gpu_utilization_percent", &[("gpu_id", "0"), ("node", node)], start, end, |_| Some(util));
    }
    let hpa = [("namespace", "hsof"), ("horizontalpodautoscaler", "hsof-hpa")];
    h.gauge(STEP, "kube_horizontalpodautoscaler_status_desired_replicas", &hpa, start, end, |_| Some(3.0));
    h.gauge(STEP, "kube_horizontalpodautoscaler_status_current_replicas", &hpa, start, end, |_| Some(3.0));
}

/// Cost per hour over the step ending at `t`: 12 on weekdays, 3 on weekends (Berlin);
/// datasets 30 and 7.5: 0.4 each.
fn cost_rate(t: i64) -> f64 {
    if weekend(t - 1) {
        3.0
    } else {
        12.0
    }
}

fn month_start(now: DateTime<Utc>) -> i64 {
    let l = now.with_timezone(&TZ);
    TZ.with_ymd_and_hms(l.year(), l.month(), 1, 0, 0, 0).earliest().expect("month start").timestamp()
}

fn next_month_start(now: DateTime<Utc>) -> i64 {
    let l = now.with_timezone(&TZ);
    let (y, m) = if l.month() == 12 { (l.year() + 1, 1) } else { (l.year(), l.month() + 1) };
    TZ.with_ymd_and_hms(y, m, 1, 0, 0, 0).earliest().expect("month start").timestamp()
}

/// A period that has ended with data in every hour.
fn complete(p: &Value) -> bool {
    p["coverage"].as_f64() == Some(1.0) && p["note"].is_null()
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol * want.abs().max(1e-9), "{what}: got {got}, want {want} (±{:.1} %)", tol * 100.0);
}

#[test]
fn hsofs_own_cost_counter_per_dataset_budget_projection_idle_gpus_and_right_sizing() {
    let (start, end) = span(36);
    // A gap of 5 hours two days ago, from an hour boundary: no samples of cost or datasets,
    // so the hours ending at G+1h … G+5h have no value.
    let g = (end - 2 * 86_400) / 3600 * 3600;
    let gap = move |t: i64| t > g && t <= g + 5 * 3600;
    let mut h = OpenMetrics::default();
    h.counter(COARSE, "hsof_compute_cost_dollars_total", &[], start, end, None, |t| (!gap(t)).then(|| cost_rate(t)));
    // The datasets counter restarts (a pod restart) ten days ago.
    let reset = end - 10 * 86_400 + COARSE;
    h.counter(COARSE, "hsof_datasets_processed_total", &[], start, end, Some(reset), |t| {
        (!gap(t)).then(|| cost_rate(t) * 2.5)
    });
    cluster_series(&mut h, start, end, [2.0, 1.0], "gpu-node-2");
    let w =
        world(h.finish(), "currency = \"EUR\"\nmonthly_budget = 100000\ngpu_hour = [\"NVIDIA-A100-SXM4-80GB=3\"]\n");

    let (code, v) = w.json(&["cost"]);
    assert!(code <= 1, "{v}");
    assert_eq!(v["source"]["kind"], "hsof", "{}", v["source"]);
    assert_eq!(v["currency"], "EUR");
    // Every complete day costs 0.4 per dataset, the reset notwithstanding.
    let days = v["days"].as_array().expect("days");
    assert!(days.len() >= 10, "{v}");
    for d in days.iter().filter(|d| complete(d)) {
        close(d["per_dataset"].as_f64().expect("per dataset"), 0.4, 0.01, &format!("day {}", d["label"]));
    }
    // The day with the gap says how many of its hours have data.
    let gap_day = Utc.timestamp_opt(g + 3600, 0).single().expect("t").with_timezone(&TZ).format("%Y-%m-%d").to_string();
    let d = days.iter().find(|d| d["label"] == gap_day.as_str()).unwrap_or_else(|| panic!("no day {gap_day}: {v}"));
    assert!(d["coverage"].as_f64().expect("coverage") < 1.0, "{d}");
    assert!(d["note"].as_str().unwrap_or("").contains("hours have data"), "{d}");
    // The projection: what was recorded this month plus the weekday pattern to its end.
    let now = Utc.timestamp_opt(end, 0).single().expect("now");
    let (m0, m1) = (month_start(now), next_month_start(now));
    let hour_end = end / 3600 * 3600;
    let mut want = 0.0;
    let mut e = m0 + 3600;
    while e <= m1 {
        let lost = e > g && e <= g + 5 * 3600 && e <= hour_end;
        if !lost {
            want += cost_rate(e);
        }
        e += 3600;
    }
    let b = &v["budget"];
    close(b["projected"].as_f64().expect("projected"), want, 0.02, "projected month end");
    assert_eq!(b["status"], "ok", "{b}");
    assert!(b["method"].as_str().unwrap_or("").contains("weekday"), "{b}");
    // Idle GPUs over 7 days: 2 GPUs at 25 % and 1 at 90 %, A100 at 3 EUR an hour.
    let i = &v["idle"];
    close(i["total_idle_gpu_hours"].as_f64().expect("idle"), 168.0 * (2.0 * 0.75 + 0.1), 0.02, "idle GPU-hours");
    close(i["total_idle_money"].as_f64().expect("money"), 168.0 * (2.0 * 0.75 + 0.1) * 3.0, 0.02, "idle money");

    // Right-sizing against the 7-day 95th percentile of the busiest pod, 15 % headroom, for
    // the Deployment's requests (4 cores, 16Gi): CPU 3 cores → 3450m (within 20 % of the
    // request: right), memory 4 GiB → 4.6 GiB rounded up to 16 MiB → 4720Mi (over).
    let (code, c) = w.json(&["capacity"]);
    assert!(code <= 2, "{c}");
    let rows = c["rightsizing"].as_array().expect("rightsizing");
    let row = |res: &str| {
        rows.iter()
            .find(|r| r["workload"] == "hsof-main" && r["container"] == "hsof" && r["resource"] == res)
            .unwrap_or_else(|| panic!("no {res} row: {c}"))
    };
    assert_eq!(row("memory")["recommended_text"], "4720Mi", "{}", row("memory"));
    assert_eq!(row("memory")["verdict"], "over", "{}", row("memory"));
    assert_eq!(row("cpu")["recommended_text"], "3450m", "{}", row("cpu"));
    // The HPA sat at its maximum all week.
    let hpa = c["autoscaling"].as_array().and_then(|a| a.first()).expect("hpa");
    assert_eq!(hpa["name"], "hsof-hpa");
    assert_eq!(hpa["verdict"], "pinned_at_max", "{hpa}");
    // What the verdict was judged on: a week of desired replicas at 3, the HPA's max.
    let r = &c["replicas"][0];
    assert_eq!((r["name"].as_str(), r["max"].as_f64()), (Some("hsof-hpa"), Some(3.0)), "{r}");
    let desired = r["desired"].as_array().expect("desired");
    assert!(desired.len() > 1000 && desired.iter().all(|p| p[1] == 3.0), "{} points", desired.len());

    // The budget threshold, as the app's poller judges it: a budget the projection passes
    // is critical.
    let config = w.cluster.dir.path().join("config.toml");
    let text =
        std::fs::read_to_string(&config).expect("config").replace("monthly_budget = 100000", "monthly_budget = 1000");
    std::fs::write(&config, text).expect("config");
    let (_, t) = w.json(&["thresholds"]);
    let rule = |id: &str| {
        t["states"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["rule"]["id"] == id).cloned())
            .unwrap_or_else(|| panic!("{id}: {t}"))
    };
    assert_eq!(rule("budget_projection_critical")["active"], true, "{t}");
    assert_eq!(rule("budget_projection_warning")["active"], true, "{t}");
    drop(w.prom);
}

#[test]
fn opencost_prices_the_nodes_it_knows_and_names_the_one_it_does_not() {
    let (start, end) = span(8);
    let mut h = OpenMetrics::default();
    h.counter(COARSE, "hsof_datasets_processed_total", &[], start, end, None, |_| Some(10.0));
    for (pod, node) in PODS {
        let l = [("namespace", "hsof"), ("pod", pod), ("container", "hsof"), ("node", node)];
        h.gauge(COARSE, "container_cpu_allocation", &l, start, end, |_| Some(4.0));
        h.gauge(COARSE, "container_gpu_allocation", &l, start, end, |_| {
            Some(if node == "gpu-node-1" { 2.0 } else { 1.0 })
        });
        h.gauge(COARSE, "container_memory_allocation_bytes", &l, start, end, |_| Some(16.0 * 1_073_741_824.0));
    }
    // OpenCost prices gpu-node-1 only.
    let n = [("node", "gpu-node-1"), ("instance_type", "p4d")];
    h.gauge(COARSE, "node_cpu_hourly_cost", &n, start, end, |_| Some(0.05));
    h.gauge(COARSE, "node_gpu_hourly_cost", &n, start, end, |_| Some(2.5));
    h.gauge(COARSE, "node_ram_hourly_cost", &n, start, end, |_| Some(0.005));
    let w = world(h.finish(), "");
    let (_, v) = w.json(&["cost"]);
    assert_eq!(v["source"]["kind"], "opencost", "{}", v["source"]);
    let per_hour = 4.0 * 0.05 + 2.0 * 2.5 + 16.0 * 0.005;
    for d in v["days"].as_array().expect("days").iter().filter(|d| complete(d)) {
        close(d["per_dataset"].as_f64().expect("per dataset"), per_hour / 10.0, 0.01, "per dataset");
    }
    let gaps = v["source"]["gaps"].to_string();
    assert!(gaps.contains("gpu-node-2"), "{gaps}");
    assert!(v["source"]["prices"].to_string().contains("gpu-node-1"), "{}", v["source"]);
    assert_eq!(v["budget"]["status"], "unknown", "no budget configured: {}", v["budget"]);
    assert!(v["budget"]["note"].as_str().unwrap_or("").contains("monthly_budget"), "{}", v["budget"]);
}

#[test]
fn the_price_table_bills_the_larger_of_request_and_use_and_names_an_unpriced_gpu_model() {
    let (start, end) = span(8);
    let mut h = OpenMetrics::default();
    h.counter(COARSE, "hsof_datasets_processed_total", &[], start, end, None, |_| Some(20.0));
    cluster_series(&mut h, start, end, [2.0, 1.0], "gpu-node-3");
    let w = world(
        h.finish(),
        "vcpu_hour = 0.04\ngib_hour = 0.004\ngpu_hour = [\"NVIDIA-A100-SXM4-80GB=3\"]\nmonthly_budget = 0\n",
    );
    let (code, v) = w.json(&["cost"]);
    assert_eq!(v["source"]["kind"], "price_table", "{}", v["source"]);
    // pod 0: request 4 cores > use 1, 16 GiB > 4; pod 1: use 3 cores > request 2, request
    // 1 GiB > 0.5. GPUs: pod 0's two A100s; pod 1's T4 is not in the table.
    let per_hour = (4.0 + 3.0) * 0.04 + (16.0 + 1.0) * 0.004 + 2.0 * 3.0;
    let full: Vec<&Value> = v["days"].as_array().expect("days").iter().filter(|d| complete(d)).collect();
    assert!(!full.is_empty(), "{v}");
    for d in full {
        close(d["cost"].as_f64().expect("cost"), 24.0 * per_hour, 0.01, "a day's cost");
    }
    assert!(v["source"]["gaps"].to_string().contains("Tesla-T4"), "{}", v["source"]);
    // A budget of zero is named, not divided by.
    assert_eq!(v["budget"]["status"], "unknown", "{}", v["budget"]);
    assert!(v["budget"]["note"].as_str().unwrap_or("").contains('0'), "{}", v["budget"]);
    assert_eq!(code, 1, "a gap and an unknown budget are warnings");
}

#[test]
fn no_cost_source_says_what_to_configure_and_computes_no_cost() {
    let (start, end) = span(3);
    let mut h = OpenMetrics::default();
    h.counter(COARSE, "hsof_datasets_processed_total", &[], start, end, None, |_| Some(20.0));
    let w = world(h.finish(), "");
    let (code, v) = w.json(&["cost"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["source"]["kind"], "none");
    assert!(v["source"]["gaps"].to_string().contains("gpu_hour"), "{}", v["source"]);
    assert!(v["days"].as_array().expect("days").iter().all(|d| d["per_dataset"].is_null()), "{v}");
}

#[test]
fn growth_recovers_a_planted_trend_and_a_regression_is_found_where_noise_is_not() {
    // 9 weeks: datasets per week 1000 + 50·k (k = local week), a planted busy week (+600)
    // in the middle, 3 GPUs throughout. The latency P95 steps from 1.75 s to 1.875 s four
    // weeks ago; throughput only wobbles.
    let (start, end) = span(9 * 7);
    // Weeks as the team counts them: local Monday to Monday.
    let monday = |t: i64| {
        let d = Utc.timestamp_opt(t - 1, 0).single().expect("t").with_timezone(&TZ).date_naive();
        d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))
    };
    let first = monday(start);
    let week_of = move |t: i64| (monday(t) - first).num_days() / 7;
    let busy = 4;
    let mut h = OpenMetrics::default();
    h.counter(COARSE, "hsof_datasets_processed_total", &[], start, end, None, |t| {
        let k = week_of(t);
        Some((1000.0 + 50.0 * k as f64 + if k == busy { 600.0 } else { 0.0 }) / 168.0)
    });
    h.counter(COARSE, "hsof_requests_total", &[("status", "200")], start, end, None, |t| {
        Some(100.0 + 2.0 * (week_of(t) % 3) as f64)
    });
    let step_at = end - 4 * 7 * 86_400;
    // Requests per hour in each latency bucket: a share f under 1 s, the rest in (1, 2].
    let wobble = |t: i64| 0.005 * ((week_of(t) * 7) % 3) as f64;
    let share = move |t: i64| if t < step_at { 0.8 + wobble(t) } else { 0.6 + wobble(t) };
    for (le, f) in [("1", 0usize), ("2", 1), ("+Inf", 1)] {
        h.counter(COARSE, "hsof_request_duration_seconds_bucket", &[("le", le)], start, end, None, move |t| {
            Some(100.0 * if f == 0 { share(t) } else { 1.0 })
        });
    }
    for (pod, node) in PODS {
        let l = [
            ("namespace", "hsof"),
            ("pod", pod),
            ("container", "hsof"),
            ("node", node),
            ("resource", "nvidia_com_gpu"),
        ];
        h.gauge(COARSE, "kube_pod_container_resource_requests", &l, start, end, |_| {
            Some(if node == "gpu-node-1" { 2.0 } else { 1.0 })
        });
    }
    let w = world(h.finish(), "");
    let fmt = |t: i64| Utc.timestamp_opt(t, 0).single().expect("t").to_rfc3339();
    let period = format!("{}..{}", fmt(step_at), fmt(end));
    let baseline = format!("{}..{}", fmt(step_at - 4 * 7 * 86_400), fmt(step_at));
    let (code, c) = w.json(&["capacity", "--period", &period, "--baseline", &baseline]);
    let g = &c["datasets_growth"];
    // The trend is the least-squares line through the complete weeks as built (the busy
    // week pulls it a little): computed here from the construction.
    let used: Vec<(f64, f64)> = g["weeks"]
        .as_array()
        .expect("weeks")
        .iter()
        .filter(|w| w["coverage"].as_f64().unwrap_or(0.0) >= 0.9)
        .map(|w| {
            let t = DateTime::parse_from_rfc3339(w["start"].as_str().expect("start")).expect("t").timestamp();
            let k = week_of(t + 3600);
            (k as f64, 1000.0 + 50.0 * k as f64 + if k == busy { 600.0 } else { 0.0 })
        })
        .collect();
    assert!(used.len() >= 6, "{g}");
    let n = used.len() as f64;
    let (mx, my) = (used.iter().map(|p| p.0).sum::<f64>() / n, used.iter().map(|p| p.1).sum::<f64>() / n);
    let sxy: f64 = used.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = used.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let slope = g["slope_per_week"].as_f64().unwrap_or_else(|| panic!("no trend: {g}"));
    // (3 %: a week with a clock change has 167 or 169 hours, which the construction ignores.)
    close(slope, sxy / sxx, 0.03, "slope per week");
    close(slope, 50.0, 0.25, "slope against the planted 50 a week");
    assert!(g["method"].as_str().unwrap_or("").contains("least squares"), "{g}");
    // The busy week is today's GPUs' best: the trend reaches it weeks from now, not now.
    let cap = g["capacity"].as_f64().expect("capacity");
    assert!(cap >= 1000.0 + 50.0 * busy as f64 + 600.0 - 60.0, "{g}");
    let reaches = g["reaches_capacity"].as_str().unwrap_or_else(|| panic!("no date: {g}"));
    let reaches = DateTime::parse_from_rfc3339(reaches).expect("date").with_timezone(&Utc);
    let weeks = (reaches.timestamp() - end) as f64 / (7.0 * 86_400.0);
    assert!((1.0..=12.0).contains(&weeks), "capacity reached in {weeks:.1} weeks: {g}");
    // Latency regressed beyond the noise; throughput did not.
    let rows = c["regressions"].as_array().expect("regressions");
    let row = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id}: {c}"));
    assert_eq!(row("latency_p95")["regression"], true, "{}", row("latency_p95"));
    assert_eq!(row("throughput")["regression"], false, "{}", row("throughput"));
    assert_eq!(code, 2, "a regression exits 2");
}
