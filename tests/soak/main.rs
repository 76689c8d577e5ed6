//! The soak: the core services driven the way the app's pollers drive them, against the
//! fake API server, a real Prometheus and AlertManager, the test exporter and a Slack
//! receiver, for `HSOF_SOAK_SECS` (default 600) with faults injected on a schedule: API
//! errors, slow answers, dropped watches, Prometheus restarted, the webhook down.
//!
//! Asserted: after each fault clears, the view it broke shows fresh data within 5 s; no
//! call hangs; every incident declared during the run is stored once and its Slack
//! message delivered exactly once; resident memory after warm-up grows less than
//! [`RSS_GROWTH_BOUND_MIB`]. The figures go to `test-output/soak.json`. `make soak`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hsof_core::incidents::IncidentFilter;
use hsof_core::{AppContext, BackendChoice, Options, SecretValue};
use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_ops::incidents::{NewIncident, Severity};
use hsof_tests::exporter::{Exporter, Script};
use hsof_tests::servers;
use hsof_tests::webhook::{Answer, Webhook};
use serde_json::json;

/// Resident memory may grow this much from the end of warm-up to the end of the run.
const RSS_GROWTH_BOUND_MIB: f64 = 64.0;
/// A view must show fresh data this soon after its fault clears.
const RECOVERY: Duration = Duration::from_secs(5);
/// How long each fault lasts.
const FAULT: Duration = Duration::from_secs(8);
/// A call that takes longer than this counts as hung.
const HANG: Duration = Duration::from_secs(15);

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    ApiErrors,
    SlowApi,
    DroppedWatches,
    PrometheusRestart,
    WebhookDown,
}

/// The app's background work, once a second: health, key metrics, alerts, thresholds, the
/// cluster view (its watches) and the Slack outbox.
async fn poll_forever(ctx: Arc<AppContext>, stop: Arc<AtomicBool>, rounds: Arc<AtomicU64>, hung: Arc<AtomicU64>) {
    while !stop.load(Ordering::SeqCst) {
        let now = Utc::now();
        let calls = async {
            let _ = ctx.health_check(Utc::now).await;
            let _ = ctx.key_metrics(now).await;
            let _ = ctx.alerts(now).await;
            let _ = ctx.evaluate_thresholds(now);
            let _ = ctx.cluster_view(Duration::from_secs(2), now, None).await;
            let _ = ctx.flush_slack(now).await;
        };
        if tokio::time::timeout(HANG, calls).await.is_err() {
            hung.fetch_add(1, Ordering::SeqCst);
        }
        rounds.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until `f` says the view is fresh again; returns how long it took (or the timeout).
async fn recovered(mut f: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < RECOVERY * 4 {
        if f().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    start.elapsed()
}

fn pod(name: &str) -> serde_json::Value {
    json!({"kind": "Pod", "metadata": {"name": name, "namespace": "hsof", "labels": {"app.kubernetes.io/name": "hsof-soak"}},
        "spec": {"nodeName": "gpu-node-1", "containers": [{"name": "w", "image": "hsof/worker:1.5.0"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "w", "ready": true, "restartCount": 0, "image": "hsof/worker:1.5.0"}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs for ten minutes: make soak"]
async fn core_services_survive_scheduled_faults() {
    let secs: u64 = std::env::var("HSOF_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    let exporter = Exporter::start(Script::default());
    let am = servers::alertmanager();
    let rules = hsof_tests::workspace_root().join("monitoring/hsof-runbook-rules.yml");
    let mut prom = servers::prometheus(&format!("127.0.0.1:{}", exporter.port), &[rules], Some(&am));
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 40);
    let kube = FakeKube::start(store);
    let hook = Webhook::start(Answer::Ok);

    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
    let mut cfg = hsof_core::config::Config::default();
    cfg.endpoints.hsof_health_url = exporter.url();
    cfg.endpoints.prometheus_url = prom.url.clone();
    cfg.endpoints.alertmanager_url = am.url.clone();
    cfg.endpoints.request_timeout_secs = 2;
    cfg.cluster.kubeconfig = kubeconfig.display().to_string();
    let cfg_path = dir.path().join("config.toml");
    hsof_core::config::save(&cfg_path, &cfg).expect("config");
    let ctx = Arc::new(AppContext::open(&Options {
        config: Some(cfg_path),
        data_dir: Some(dir.path().join("data")),
        secrets: BackendChoice::File,
    }));
    ctx.secrets().set("slack-webhook", &SecretValue::new(&hook.url)).expect("secret");

    let (stop, rounds, hung) =
        (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let poller = tokio::spawn(poll_forever(ctx.clone(), stop.clone(), rounds.clone(), hung.clone()));

    // Warm-up: caches filled, watches synced, allocator settled.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let rss_start = rss_mib();
    let mut rss_max = rss_start;
    let started = Instant::now();
    let schedule =
        [Fault::ApiErrors, Fault::SlowApi, Fault::DroppedWatches, Fault::PrometheusRestart, Fault::WebhookDown];
    let mut recoveries: Vec<(Fault, Duration)> = Vec::new();
    let mut declared = Vec::new();
    let mut n = 0usize;
    while started.elapsed() < Duration::from_secs(secs) {
        let fault = schedule[n % schedule.len()];
        n += 1;
        match fault {
            Fault::ApiErrors => kube.with(|s| s.faults.status = Some(500)),
            Fault::SlowApi => kube.with(|s| s.faults.delay_ms = 3000),
            Fault::DroppedWatches => kube.with(|s| {
                s.faults.drop_watch_after = Some(1);
                s.drop_streams();
            }),
            Fault::PrometheusRestart => prom.kill(),
            Fault::WebhookDown => hook.answer(Answer::Status(503, "service_unavailable".into())),
        }
        // Work goes on during the fault: an incident declared, pods changing.
        let title = format!("soak incident {n} during {fault:?}");
        let new = NewIncident {
            title: title.clone(),
            severity: Severity::P1,
            components: vec!["stage2".into()],
            description: "declared by the soak".into(),
            source_alert: None,
            drill: None,
        };
        ctx.incident_declare(&new, "soak", Utc::now()).expect("declare: the store is local and must work");
        declared.push(title);
        let fault_end = Instant::now() + FAULT;
        let mut k = 0;
        while Instant::now() < fault_end {
            kube.with(|s| s.put(pod(&format!("soak-churn-{}", k % 5))));
            k += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        // Clear, then measure how long the broken view takes to show fresh data.
        let took = match fault {
            Fault::ApiErrors | Fault::SlowApi | Fault::DroppedWatches => {
                kube.with(|s| s.faults = Default::default());
                let marker = format!("soak-after-{n}");
                kube.with(|s| s.put(pod(&marker)));
                recovered(async || {
                    let call = ctx.cluster_view(Duration::from_secs(2), Utc::now(), None);
                    match tokio::time::timeout(Duration::from_secs(2), call).await {
                        Ok(Ok((v, _))) => v.pods.iter().any(|p| p.name == marker),
                        _ => false,
                    }
                })
                .await
            }
            Fault::PrometheusRestart => {
                prom.restart().expect("restart Prometheus");
                recovered(async || {
                    let call = ctx.key_metrics(Utc::now());
                    match tokio::time::timeout(Duration::from_secs(2), call).await {
                        Ok(Ok(v)) => !v.freshness.stale && v.metrics.iter().any(|m| m.value.is_some()),
                        _ => false,
                    }
                })
                .await
            }
            Fault::WebhookDown => {
                hook.answer(Answer::Ok);
                // Messages back off by design; with the clock past the backoff, the
                // outbox drains at once.
                recovered(async || {
                    let later = Utc::now() + chrono::Duration::hours(1);
                    let _ = ctx.flush_slack(later).await;
                    ctx.store()
                        .and_then(|st| Ok(st.slack_outbox(None)?))
                        .is_ok_and(|m| m.iter().all(|p| p.posted_at.is_some()))
                })
                .await
            }
        };
        recoveries.push((fault, took));
        rss_max = rss_max.max(rss_mib());
        // Let the system run clean before the next fault.
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let _ = poller.await;
    let rss_end = rss_mib();

    // Nothing lost: every incident once, every declaration in Slack once.
    ctx.flush_slack(Utc::now() + chrono::Duration::hours(2)).await.expect("final flush");
    let incidents = ctx.incidents(&IncidentFilter::default(), Utc::now()).expect("incidents");
    let bodies = hook.bodies();
    let mut missing = Vec::new();
    for t in &declared {
        let stored = incidents.iter().filter(|i| &i.incident.title == t).count();
        let posted = bodies.iter().filter(|b| b["text"].as_str().unwrap_or_default().contains(t.as_str())).count();
        if stored != 1 || posted != 1 {
            missing.push(format!("{t}: stored {stored}, posted {posted}"));
        }
    }

    let worst = recoveries.iter().map(|(_, d)| *d).max().unwrap_or_default();
    let figures = json!({
        "seconds": started.elapsed().as_secs(),
        "faults": recoveries.len(),
        "poll_rounds": rounds.load(Ordering::SeqCst),
        "hung_rounds": hung.load(Ordering::SeqCst),
        "rss_mib": {"after_warmup": rss_start, "max": rss_max, "end": rss_end, "bound_growth": RSS_GROWTH_BOUND_MIB},
        "recovery_ms": recoveries.iter().map(|(f, d)| json!({"fault": format!("{f:?}"), "ms": d.as_millis()})).collect::<Vec<_>>(),
        "worst_recovery_ms": worst.as_millis(),
        "incidents_declared": declared.len(),
        "slack_bodies": bodies.len(),
    });
    let out = hsof_tests::output_dir().join("soak.json");
    std::fs::write(&out, serde_json::to_string_pretty(&figures).unwrap_or_default()).expect("write figures");
    println!("soak figures ({}):\n{}", out.display(), serde_json::to_string_pretty(&figures).unwrap_or_default());

    assert!(missing.is_empty(), "records lost or duplicated: {missing:?}");
    assert_eq!(hung.load(Ordering::SeqCst), 0, "a poll round hung for more than {HANG:?}");
    let slow: Vec<_> = recoveries.iter().filter(|(_, d)| *d > RECOVERY).collect();
    assert!(slow.is_empty(), "views slower than {RECOVERY:?} to recover: {slow:?}");
    assert!(
        rss_end - rss_start < RSS_GROWTH_BOUND_MIB,
        "resident memory grew {:.1} MiB (from {rss_start:.1} to {rss_end:.1})",
        rss_end - rss_start
    );
}
