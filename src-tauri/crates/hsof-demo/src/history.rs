//! Prometheus histories written as OpenMetrics text and backfilled with `promtool tsdb
//! create-blocks-from openmetrics`: the builder the cost suite writes its known-answer
//! worlds with, and the demo's past weeks (cost, datasets, requests, latency, GPUs, the
//! HPA, the containers' use) so cost and capacity have something to show from the start.

use std::fmt::Write;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{Datelike, TimeZone, Timelike, Utc};

/// OpenMetrics text, one series at a time (a series' samples together, in time order).
#[derive(Debug, Default)]
pub struct OpenMetrics {
    text: String,
}

fn labels(l: &[(&str, &str)]) -> String {
    if l.is_empty() {
        return String::new();
    }
    let l: Vec<String> = l.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", l.join(","))
}

impl OpenMetrics {
    /// A gauge sampled every `step` seconds from `start` to `end` (unix s, inclusive);
    /// `None`: no sample.
    pub fn gauge(
        &mut self,
        step: i64,
        name: &str,
        l: &[(&str, &str)],
        start: i64,
        end: i64,
        f: impl Fn(i64) -> Option<f64>,
    ) {
        let l = labels(l);
        let mut t = start;
        while t <= end {
            if let Some(v) = f(t) {
                let _ = writeln!(self.text, "{name}{l} {v} {t}");
            }
            t += step.max(1);
        }
    }

    /// A counter growing at `per_hour(t)` over each `step` ending at `t` (`None`: no sample
    /// and no growth); it restarts from zero at `reset` when given.
    #[allow(clippy::too_many_arguments)]
    pub fn counter(
        &mut self,
        step: i64,
        name: &str,
        l: &[(&str, &str)],
        start: i64,
        end: i64,
        reset: Option<i64>,
        per_hour: impl Fn(i64) -> Option<f64>,
    ) {
        let l = labels(l);
        let (mut t, mut v) = (start, 1000.0);
        let step = step.max(1);
        while t <= end {
            let grow = per_hour(t);
            if t > start {
                v += grow.unwrap_or(0.0) * step as f64 / 3600.0;
            }
            if reset == Some(t) {
                v = grow.unwrap_or(0.0) * step as f64 / 3600.0;
            }
            if grow.is_some() {
                let _ = writeln!(self.text, "{name}{l} {v} {t}");
            }
            t += step;
        }
    }

    /// The text, `# EOF` last.
    pub fn finish(mut self) -> String {
        self.text.push_str("# EOF\n");
        self.text
    }
}

/// Writes `openmetrics` as TSDB blocks into `dir` (promtool, from Debian's prometheus).
pub fn create_blocks(openmetrics: &str, dir: &Path) -> Result<(), String> {
    create_blocks_unless(openmetrics, dir, &AtomicBool::new(false))
}

/// The history split by UTC day, each part valid OpenMetrics (a series' samples stay
/// together and in order). promtool (2.42) reads its whole input once for every 2-hour
/// block it writes, so one file of weeks costs blocks × samples; a day's file is read 12
/// times.
fn split_by_day(openmetrics: &str) -> Vec<String> {
    let mut days: std::collections::BTreeMap<i64, String> = std::collections::BTreeMap::new();
    for line in openmetrics.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let ts = line.rsplit(' ').next().and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0);
        let part = days.entry((ts as i64).div_euclid(86_400)).or_default();
        part.push_str(line);
        part.push('\n');
    }
    days.into_values()
        .map(|mut d| {
            d.push_str("# EOF\n");
            d
        })
        .collect()
}

/// [`create_blocks`], a day at a time, two promtools at once at low priority, all killed
/// as soon as `cancel` is set.
fn create_blocks_unless(openmetrics: &str, dir: &Path, cancel: &AtomicBool) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let input = dir.with_file_name(format!(
        "{}-input",
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    std::fs::create_dir_all(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    let result = run_promtools(&split_by_day(openmetrics), &input, dir, cancel);
    let _ = std::fs::remove_dir_all(&input);
    result
}

fn run_promtools(days: &[String], input: &Path, dir: &Path, cancel: &AtomicBool) -> Result<(), String> {
    let promtool = crate::servers::promtool()?;
    let mut files = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let f = input.join(format!("{i:05}.om"));
        std::fs::write(&f, day).map_err(|e| format!("write {}: {e}", f.display()))?;
        files.push(f);
    }
    let mut running: Vec<std::process::Child> = Vec::new();
    let mut next = files.iter();
    loop {
        if cancel.load(Ordering::Relaxed) {
            for mut c in running {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err("stopped".into());
        }
        let mut still = Vec::new();
        for mut c in running {
            match c.try_wait() {
                Ok(Some(status)) if status.success() => {}
                Ok(Some(_)) => {
                    let mut err = String::new();
                    if let Some(mut e) = c.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    return Err(format!("promtool could not backfill the history: {err}"));
                }
                Ok(None) => still.push(c),
                Err(e) => return Err(format!("promtool: {e}")),
            }
        }
        running = still;
        while running.len() < 2 {
            let Some(f) = next.next() else { break };
            running.push(
                Command::new("nice")
                    .arg("-n10")
                    .arg(&promtool)
                    .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
                    .arg(f)
                    .arg(dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("{}: {e}", promtool.display()))?,
            );
        }
        if running.is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Backfills `openmetrics` into a running Prometheus's `storage`
/// ([`crate::servers::Server::storage`]): the blocks are written beside it and moved in;
/// Prometheus loads them at its next block reload (within a minute). `cancel` stops it
/// (promtool killed, nothing moved).
pub fn backfill(storage: &Path, openmetrics: &str, cancel: &AtomicBool) -> Result<usize, String> {
    let data = storage.to_path_buf();
    let staging = data.with_file_name("backfill");
    let made = create_blocks_unless(openmetrics, &staging, cancel);
    let mut moved = 0;
    if made.is_ok() {
        for e in std::fs::read_dir(&staging).map_err(|e| format!("{}: {e}", staging.display()))?.flatten() {
            if e.path().join("meta.json").is_file() {
                std::fs::rename(e.path(), data.join(e.file_name())).map_err(|err| format!("move a block: {err}"))?;
                moved += 1;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&staging);
    made.map(|()| moved)
}

/// The demo's HSOF pods and their nodes, as the series name them.
pub const DEMO_PODS: [(&str, &str); 3] = [
    ("hsof-main-5c9d7-q2x7k", "gpu-node-1"),
    ("hsof-main-5c9d7-m8r4t", "gpu-node-1"),
    ("hsof-main-5c9d7-z6w2p", "gpu-node-2"),
];

const HALF_HOUR: i64 = 1800;
const FIVE_MIN: i64 = 300;

/// `weeks` of the demo's HSOF before `end` (unix s; the demo backfills 16): datasets and requests growing
/// about 2 % a week with busier weekday office hours, its own cost counter, the latency
/// histogram (a little slower these last weeks), three GPUs on two nodes, their
/// utilisation, the HPA moving between 2 and 3 replicas, and the last 8 days of the
/// containers' requests and use (over-asked memory for right-sizing to find).
pub fn demo(end: i64, weeks: i64) -> String {
    let end = end / HALF_HOUR * HALF_HOUR;
    let start = end - weeks * 7 * 86_400;
    let berlin = chrono_tz::Europe::Berlin;
    let local = move |t: i64| Utc.timestamp_opt(t - 1, 0).single().unwrap_or_default().with_timezone(&berlin);
    let busy = move |t: i64| {
        let l = local(t);
        let weekday = l.weekday().number_from_monday() <= 5;
        match (weekday, l.hour()) {
            (true, 8..=18) => 1.4,
            (true, _) => 0.8,
            _ => 0.5,
        }
    };
    let growth = move |t: i64| 1.02f64.powf((t - start) as f64 / (7.0 * 86_400.0));
    let mut h = OpenMetrics::default();
    let datasets = move |t: i64| 150.0 * busy(t) * growth(t);
    h.counter(HALF_HOUR, "hsof_datasets_processed_total", &[], start, end, None, |t| Some(datasets(t)));
    // Compute: the three GPUs around the clock, a share of the work on top.
    h.counter(HALF_HOUR, "hsof_compute_cost_dollars_total", &[], start, end, None, |t| {
        Some(3.0 * 2.93 + 0.004 * datasets(t))
    });
    let requests = move |t: i64| 120_000.0 * busy(t) * growth(t);
    h.counter(HALF_HOUR, "hsof_requests_total", &[("status", "200")], start, end, None, |t| Some(requests(t)));
    h.counter(HALF_HOUR, "hsof_requests_total", &[("status", "500")], start, end, None, |t| Some(requests(t) * 0.0004));
    // Latency: the share under 10 s slips from 90 % to 85 % five weeks ago.
    let slower = end - 5 * 7 * 86_400;
    for (le, share) in [("1.0", 0.45), ("10.0", 0.9), ("30.0", 0.99), ("60.0", 1.0), ("+Inf", 1.0)] {
        h.counter(HALF_HOUR, "hsof_request_duration_seconds_bucket", &[("le", le)], start, end, None, |t| {
            let s = if le == "10.0" && t >= slower { 0.85 } else { share };
            Some(requests(t) * s)
        });
    }
    h.gauge(HALF_HOUR, "hsof_selection_quality_score", &[], start, end, |t| {
        Some(0.86 - 0.01 * (local(t).day() % 3) as f64)
    });
    for (i, (pod, node)) in DEMO_PODS.iter().enumerate() {
        let gpu = [
            ("namespace", "hsof"),
            ("pod", *pod),
            ("container", "hsof"),
            ("node", *node),
            ("resource", "nvidia_com_gpu"),
        ];
        h.gauge(HALF_HOUR, "kube_pod_container_resource_requests", &gpu, start, end, |_| Some(1.0));
        let util = 45.0 + 10.0 * i as f64;
        h.gauge(
            HALF_HOUR,
            "hsof_gpu_utilization_percent",
            &[("gpu_id", "0"), ("node", node), ("pod", pod)],
            start,
            end,
            |t| Some((util * busy(t)).min(98.0)),
        );
    }
    let hpa = [("namespace", "hsof"), ("horizontalpodautoscaler", "hsof-hpa")];
    let recent = end - 8 * 86_400;
    let replicas = move |t: i64| if busy(t) > 1.0 { 3.0 } else { 2.0 };
    for m in
        ["kube_horizontalpodautoscaler_status_desired_replicas", "kube_horizontalpodautoscaler_status_current_replicas"]
    {
        h.gauge(FIVE_MIN, m, &hpa, recent, end, |t| Some(replicas(t)));
    }
    for (i, (pod, node)) in DEMO_PODS.iter().enumerate() {
        let l = |r: &'static str| {
            [("namespace", "hsof"), ("pod", *pod), ("container", "hsof"), ("node", *node), ("resource", r)]
        };
        h.gauge(FIVE_MIN, "kube_pod_container_resource_requests", &l("cpu"), recent, end, |_| Some(4.0));
        h.gauge(FIVE_MIN, "kube_pod_container_resource_requests", &l("memory"), recent, end, |_| {
            Some(16.0 * 1_073_741_824.0)
        });
        let c = [("namespace", "hsof"), ("pod", *pod), ("container", "hsof")];
        let cores = 2.2 + 0.3 * i as f64;
        h.counter(FIVE_MIN, "container_cpu_usage_seconds_total", &c, recent, end, None, |t| {
            Some(cores * busy(t) * 3600.0)
        });
        h.gauge(FIVE_MIN, "container_memory_working_set_bytes", &c, recent, end, |t| {
            Some((5.5 + 0.5 * busy(t)) * 1_073_741_824.0)
        });
    }
    h.finish()
}
