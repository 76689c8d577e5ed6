//! A simulated HSOF exporter: the four health endpoints and `/metrics`, with values a
//! test or a demo scenario scripts over time. Counters advance in real time from configured rates, so
//! Prometheus's `rate()` and `increase()` see realistic series.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What the exporter reports; tests change it while it runs.
#[derive(Debug, Clone)]
pub struct Script {
    /// Successful requests per second.
    pub ok_per_sec: f64,
    /// Failed (HTTP 500) requests per second.
    pub err_per_sec: f64,
    /// Share of requests under 30 s (the rest land in the 60 s bucket).
    pub fast_share: f64,
    /// Datasets per second.
    pub datasets_per_sec: f64,
    /// Selection quality gauge.
    pub quality: f64,
    /// GPU utilisation, %.
    pub gpu_util: f64,
    /// GPU temperature, °C.
    pub gpu_temp: f64,
    /// GPU memory use, %.
    pub gpu_mem_pct: f64,
    /// Failed backups so far.
    pub backup_failures: f64,
    /// Unix time of the last good backup.
    pub last_backup: f64,
    /// Overall status word on `/health`.
    pub overall: String,
    /// Replace `/health/model`'s body with this text (to test malformed JSON).
    pub model_body: Option<String>,
    /// Answer HTTP 500 with a non-JSON body on every path when false (a broken service).
    pub serving: bool,
    /// `kube_deployment_status_observed_generation` of `hsof-main` (kube-state-metrics).
    pub generation: f64,
    /// `kube_deployment_spec_replicas` of `hsof-main`.
    pub replicas: f64,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            ok_per_sec: 50.0,
            err_per_sec: 0.0,
            fast_share: 0.99,
            datasets_per_sec: 0.05,
            quality: 0.86,
            gpu_util: 72.0,
            gpu_temp: 66.0,
            gpu_mem_pct: 55.0,
            backup_failures: 0.0,
            // The nightly backup finished three hours ago.
            last_backup: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
                - 3.0 * 3600.0,
            overall: "HEALTHY".into(),
            model_body: None,
            serving: true,
            generation: 2.0,
            replicas: 3.0,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    ok: f64,
    err: f64,
    fast: f64,
    slow: f64,
    datasets: f64,
    cost: f64,
}

/// A running exporter on a free loopback port.
#[derive(Debug)]
pub struct Exporter {
    /// The port.
    pub port: u16,
    script: Arc<Mutex<Script>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Exporter {
    /// Starts serving `script`; panics when no loopback port can be bound (tests).
    pub fn start(script: Script) -> Self {
        Self::try_start(script).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts serving `script` on a free loopback port.
    pub fn try_start(script: Script) -> Result<Self, String> {
        let server =
            tiny_http::Server::http("127.0.0.1:0").map_err(|e| format!("the exporter cannot bind a port: {e}"))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| "the exporter's listener has no IP address".to_string())?;
        let script = Arc::new(Mutex::new(script));
        let counters = Arc::new(Mutex::new(Counters::default()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            // Advance counters every 100 ms from the scripted rates.
            let (script, counters, stop) = (script.clone(), counters.clone(), stop.clone());
            thread::spawn(move || {
                let mut last = Instant::now();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    thread::sleep(Duration::from_millis(100));
                    let dt = last.elapsed().as_secs_f64();
                    last = Instant::now();
                    let s = script.lock().map(|s| s.clone()).unwrap_or_default();
                    if let Ok(mut c) = counters.lock() {
                        let total = (s.ok_per_sec + s.err_per_sec) * dt;
                        c.ok += s.ok_per_sec * dt;
                        c.err += s.err_per_sec * dt;
                        c.fast += total * s.fast_share;
                        c.slow += total * (1.0 - s.fast_share);
                        c.datasets += s.datasets_per_sec * dt;
                        // Three A100s at 2.93 an hour, and a little per dataset on top.
                        c.cost += (3.0 * 2.93 / 3600.0 + 0.004 * s.datasets_per_sec) * dt;
                    }
                }
            });
        }
        {
            let (script, stop) = (script.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok(Some(req)) = server.recv_timeout(Duration::from_millis(100)) else {
                        continue;
                    };
                    let s = script.lock().map(|s| s.clone()).unwrap_or_default();
                    if !s.serving {
                        let _ = req
                            .respond(tiny_http::Response::from_string("upstream connect error").with_status_code(500));
                        continue;
                    }
                    let c = counters.lock().map(|c| *c).unwrap_or_default();
                    let (status, body, ctype) = respond(req.url(), &s, &c);
                    let header = tiny_http::Header::from_bytes("Content-Type", ctype).expect("header");
                    let _ = req
                        .respond(tiny_http::Response::from_string(body).with_status_code(status).with_header(header));
                }
            });
        }
        Ok(Self { port, script, stop })
    }

    /// Base URL, e.g. `http://127.0.0.1:40000`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The script now.
    pub fn script(&self) -> Script {
        self.script.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Changes the script.
    pub fn set(&self, f: impl FnOnce(&mut Script)) {
        if let Ok(mut s) = self.script.lock() {
            f(&mut s);
        }
    }
}

impl Exporter {
    /// Stops listening: connections are refused from now on.
    pub fn shutdown(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // The accept loop notices within 100 ms and drops the listener.
        std::thread::sleep(Duration::from_millis(300));
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A timestamp `ago` before now: the exporter reports the time it answers at, so its
/// readings are as fresh on any date as a live deployment's.
fn stamp(ago: chrono::Duration) -> String {
    (chrono::Utc::now() - ago).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn respond(url: &str, s: &Script, c: &Counters) -> (u16, String, &'static str) {
    let json = "application/json";
    match url {
        "/health" => {
            let body = serde_json::json!({
                "overall_status": s.overall,
                "components": {
                    "gpu": {"status": if s.gpu_temp > 90.0 { "CRITICAL" } else { "HEALTHY" }, "message": format!("{} °C", s.gpu_temp), "details": {}},
                    "model": {"status": "HEALTHY", "message": "loaded", "details": {}},
                    "pipeline": {"status": "HEALTHY", "message": "ok", "details": {}}
                },
                "timestamp": stamp(chrono::Duration::zero())
            });
            (if s.overall == "CRITICAL" { 503 } else { 200 }, body.to_string(), json)
        }
        "/health/gpu" => (
            200,
            serde_json::json!({"gpu_count": 1, "gpus": [{"device_id": 0, "available": true, "memory_used_gb": 80.0 * s.gpu_mem_pct / 100.0,
                "memory_total_gb": 80.0, "memory_percentage": s.gpu_mem_pct, "temperature_celsius": s.gpu_temp,
                "utilization_percent": s.gpu_util, "power_watts": 310.0}]})
            .to_string(),
            json,
        ),
        "/health/model" => match &s.model_body {
            Some(b) => (200, b.clone(), json),
            None => (
                200,
                serde_json::json!({"metamodel_loaded": true, "metamodel_version": "v3.2", "inference_ready": true,
                    "last_inference_time": stamp(chrono::Duration::seconds(2)), "average_inference_ms": 42.0, "error_rate": 0.01})
                .to_string(),
                json,
            ),
        },
        "/health/pipeline" => (
            200,
            serde_json::json!({"stage1_operational": true, "stage2_operational": true, "stage3_operational": true,
                "database_connected": true, "redis_connected": true, "filesystem_accessible": true})
            .to_string(),
            json,
        ),
        "/metrics" => (200, metrics(s, c), "text/plain; version=0.0.4"),
        _ => (404, "not found".into(), "text/plain"),
    }
}

fn metrics(s: &Script, c: &Counters) -> String {
    let total = c.ok + c.err;
    let mut m = String::new();
    m += "# TYPE hsof_requests_total counter\n";
    m += &format!("hsof_requests_total{{status=\"200\"}} {}\n", c.ok);
    m += &format!("hsof_requests_total{{status=\"500\"}} {}\n", c.err);
    m += "# TYPE hsof_request_duration_seconds histogram\n";
    for (le, v) in [("1.0", c.fast * 0.5), ("10.0", c.fast * 0.9), ("30.0", c.fast), ("60.0", total), ("+Inf", total)] {
        m += &format!("hsof_request_duration_seconds_bucket{{le=\"{le}\"}} {v}\n");
    }
    m += &format!("hsof_request_duration_seconds_sum {}\n", c.fast * 5.0 + c.slow * 45.0);
    m += &format!("hsof_request_duration_seconds_count {total}\n");
    m += &format!("# TYPE hsof_datasets_processed_total counter\nhsof_datasets_processed_total {}\n", c.datasets);
    m += &format!("# TYPE hsof_compute_cost_dollars_total counter\nhsof_compute_cost_dollars_total {}\n", c.cost);
    m += &format!("# TYPE hsof_selection_quality_score gauge\nhsof_selection_quality_score {}\n", s.quality);
    m += &format!(
        "# TYPE hsof_gpu_utilization_percent gauge\nhsof_gpu_utilization_percent{{gpu_id=\"0\"}} {}\n",
        s.gpu_util
    );
    m += &format!(
        "# TYPE hsof_gpu_temperature_celsius gauge\nhsof_gpu_temperature_celsius{{gpu_id=\"0\"}} {}\n",
        s.gpu_temp
    );
    m += &format!("# TYPE hsof_backup_failed_total counter\nhsof_backup_failed_total {}\n", s.backup_failures);
    m += &format!(
        "# TYPE hsof_last_successful_backup_timestamp gauge\nhsof_last_successful_backup_timestamp {}\n",
        s.last_backup
    );
    m += "# TYPE container_memory_working_set_bytes gauge\ncontainer_memory_working_set_bytes{namespace=\"hsof\",container=\"hsof\"} 6.0e9\n";
    m += "# TYPE kube_pod_container_resource_limits gauge\n";
    m += "kube_pod_container_resource_limits{namespace=\"hsof\",resource=\"memory\"} 1.0e10\n";
    m += "kube_pod_container_resource_limits{namespace=\"hsof\",resource=\"cpu\"} 4\n";
    m += "# TYPE container_cpu_usage_seconds_total counter\n";
    m +=
        &format!("container_cpu_usage_seconds_total{{namespace=\"hsof\",container=\"hsof\"}} {}\n", total / 50.0 * 1.2);
    m += &format!("# TYPE kube_deployment_status_observed_generation gauge\nkube_deployment_status_observed_generation{{namespace=\"hsof\",deployment=\"hsof-main\"}} {}\n", s.generation);
    m += &format!("# TYPE kube_deployment_spec_replicas gauge\nkube_deployment_spec_replicas{{namespace=\"hsof\",deployment=\"hsof-main\"}} {}\n", s.replicas);
    m += "# TYPE kubelet_volume_stats_used_bytes gauge\nkubelet_volume_stats_used_bytes{namespace=\"hsof\"} 4.0e10\n";
    m += "# TYPE kubelet_volume_stats_capacity_bytes gauge\nkubelet_volume_stats_capacity_bytes{namespace=\"hsof\"} 1.0e11\n";
    m
}
