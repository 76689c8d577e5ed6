//! Monitoring against real servers: Debian's Prometheus and AlertManager on loopback,
//! scraping the test HSOF exporter and evaluating the project's own runbook rules.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use hsof_core::monitoring::CheckOutcome;
use hsof_core::{AppContext, BackendChoice, Options};
use hsof_monitor::prom::PromClient;
use hsof_monitor::Level;
use hsof_tests::exporter::{Exporter, Script};
use hsof_tests::servers::{self, Server};

struct Env {
    exporter: Exporter,
    prom: Server,
    am: Server,
    ctx: AppContext,
    _dir: tempfile::TempDir,
}

fn rules() -> PathBuf {
    hsof_tests::workspace_root().join("monitoring/hsof-runbook-rules.yml")
}

fn env(script: Script) -> Env {
    env_with(script, |_| {})
}

fn env_with(script: Script, tweak: impl FnOnce(&mut hsof_core::config::Config)) -> Env {
    let exporter = Exporter::start(script);
    let am = servers::alertmanager();
    let prom = servers::prometheus(&format!("127.0.0.1:{}", exporter.port), &[rules()], Some(&am));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = hsof_core::config::Config::default();
    cfg.endpoints.hsof_health_url = exporter.url();
    cfg.endpoints.prometheus_url = prom.url.clone();
    cfg.endpoints.alertmanager_url = am.url.clone();
    cfg.endpoints.request_timeout_secs = 3;
    cfg.endpoints.poll_interval_secs = 5;
    cfg.thresholds.critical.system_down_secs = 2;
    tweak(&mut cfg);
    let cfg_path = dir.path().join("config.toml");
    hsof_core::config::save(&cfg_path, &cfg).expect("config");
    let ctx = AppContext::open(&Options {
        config: Some(cfg_path),
        data_dir: Some(dir.path().join("data")),
        secrets: BackendChoice::File,
    });
    Env { exporter, prom, am, ctx, _dir: dir }
}

async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn health_components_faults_and_downtime() {
    let e = env(Script::default());
    let h = e.ctx.health_check(Utc::now).await.expect("health");
    assert!(h.report.reachable);
    assert_eq!(h.report.overall, Level::Healthy, "{:?}", h.report.components);
    // Polls are stored with one-second resolution; let this one stand for a while.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    e.exporter.set(|s| s.gpu_temp = 93.0);
    let h = e.ctx.health_check(Utc::now).await.expect("health");
    let gpu = h.report.components.iter().find(|c| c.name == "gpu").expect("gpu");
    assert_eq!((gpu.level, gpu.reason.as_str()), (Level::Critical, "GPU 0 at 93 °C"));

    e.exporter.set(|s| {
        s.gpu_temp = 60.0;
        s.model_body = Some("{\"metamodel_loaded\": tru".into());
    });
    let h = e.ctx.health_check(Utc::now).await.expect("health");
    let model = h.report.components.iter().find(|c| c.name == "model").expect("model");
    assert_eq!(model.level, Level::Unknown);
    assert!(model.reason.contains("malformed JSON from health/model"), "{}", model.reason);

    // A broken service: HTTP 500 with no health document counts as down.
    e.exporter.set(|s| {
        s.model_body = None;
        s.serving = false;
    });
    let broken = e.ctx.health_check(Utc::now).await.expect("health");
    assert!(!broken.report.reachable);
    assert!(broken.report.components[0].reason.contains("HTTP 500"), "{:?}", broken.report.components[0]);
    // Then gone altogether: connection refused.
    e.exporter.shutdown();
    let first = e.ctx.health_check(Utc::now).await.expect("health");
    assert!(!first.report.reachable);
    assert_eq!(first.report.overall, Level::Critical);
    let why = &first.report.components[0].reason;
    assert!(why.contains("unreachable") || why.contains("did not answer"), "{why}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = e.ctx.health_check(Utc::now).await.expect("health");
    assert!(later.system_down, "down for {:?} s", later.down_for_secs);
    let up = later.uptime_24h.expect("uptime");
    assert!(up > 0.0 && up < 1.0, "{up}");
    drop(e.prom);
    drop(e.am);
}

#[tokio::test(flavor = "multi_thread")]
async fn key_metrics_from_prometheus_then_stale_from_cache() {
    let mut e = env(Script { err_per_sec: 0.02, ..Script::default() });
    let view = eventually("error rate in Prometheus", async || {
        let v = e.ctx.key_metrics(Utc::now()).await.ok()?;
        let er = v.metrics.iter().find(|m| m.id == "error_rate_pct")?.value?;
        (er > 0.0).then_some(v)
    })
    .await;
    assert!(!view.freshness.stale);
    let get = |id: &str| view.metrics.iter().find(|m| m.id == id).expect(id).clone();
    assert!((get("error_rate_pct").value.unwrap_or(0.0) - 0.04).abs() < 0.02, "{:?}", get("error_rate_pct"));
    assert_eq!(get("gpu_temperature_c").value, Some(66.0));
    assert_eq!(get("memory_pct").value, Some(60.0));
    assert_eq!(get("storage_pct").value, Some(40.0));
    assert_eq!(get("selection_quality").level, Level::Healthy);

    let fresh_slo = e.ctx.slo_report(Utc::now()).await.expect("slo");
    assert!(!fresh_slo.freshness.stale && fresh_slo.slos.len() == 4);
    e.prom.kill();
    let stale_slo = e.ctx.slo_report(Utc::now()).await.expect("stale slo");
    assert!(stale_slo.freshness.stale && stale_slo.slos.len() == 4, "{:?}", stale_slo.freshness);
    assert_eq!(stale_slo.freshness.fetched_at, fresh_slo.freshness.fetched_at);
    let stale = e.ctx.key_metrics(Utc::now()).await.expect("stale view");
    assert!(stale.freshness.stale);
    assert!(stale.freshness.error.as_deref().unwrap_or_default().contains("unreachable"), "{:?}", stale.freshness);
    assert_eq!(stale.freshness.fetched_at, view.freshness.fetched_at, "the last known values, with their time");
    assert_eq!(stale.metrics.iter().find(|m| m.id == "gpu_temperature_c").and_then(|m| m.value), Some(66.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn slo_figures_match_promql_in_the_same_prometheus() {
    let e = env(Script { err_per_sec: 0.5, fast_share: 0.9, ..Script::default() });
    let prom = PromClient::new(&e.prom.url, Duration::from_secs(3)).expect("client");
    // Wait for enough scrapes that rate() and increase() have data.
    eventually("requests in Prometheus", async || {
        prom.scalar("sum(increase(hsof_requests_total[5m]))", None).await.ok()?.filter(|v| *v > 100.0)
    })
    .await;
    let at = Utc::now();
    let report = e.ctx.slo_report(at).await.expect("slo");
    let avail = report.slos.iter().find(|s| s.id == "availability").expect("availability");
    let lat = report.slos.iter().find(|s| s.id == "latency").expect("latency");

    let promql = |q: String| {
        let prom = prom.clone();
        async move { prom.scalar(&q, Some(at)).await.expect("promql").expect("a value") }
    };
    let burn_5m = promql("(sum(increase(hsof_requests_total{status=~\"5..\"}[5m])) / sum(increase(hsof_requests_total[5m]))) / (1 - 0.999)".into()).await;
    let budget = promql("1 - (sum(increase(hsof_requests_total{status=~\"5..\"}[30d])) / sum(increase(hsof_requests_total[30d]))) / (1 - 0.999)".into()).await;
    let lat_burn = promql("(1 - sum(increase(hsof_request_duration_seconds_bucket{le=\"30.0\"}[1h])) / sum(increase(hsof_request_duration_seconds_count[1h]))) / (1 - 0.95)".into()).await;
    let app_burn_5m = avail.burn_rates.iter().find(|r| r.window == "5m").and_then(|r| r.rate).expect("5m");
    let app_lat_1h = lat.burn_rates.iter().find(|r| r.window == "1h").and_then(|r| r.rate).expect("1h");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    assert!(close(app_burn_5m, burn_5m), "availability burn 5m: app {app_burn_5m} vs PromQL {burn_5m}");
    assert!(
        close(avail.budget_remaining.expect("budget"), budget),
        "budget: app {:?} vs PromQL {budget}",
        avail.budget_remaining
    );
    assert!(close(app_lat_1h, lat_burn), "latency burn 1h: app {app_lat_1h} vs PromQL {lat_burn}");
    // ~1 % errors against a 0.1 % budget: ~10× burn, so the 6× page condition fires on
    // the windows that exist and the budget is overspent.
    assert!(app_burn_5m > 6.0, "{app_burn_5m}");
    assert_eq!(avail.level, Level::Critical);
    assert!(avail.budget_remaining.unwrap_or(1.0) < 0.0);
    assert_eq!(avail.exhaustion_secs, Some(0.0));
    assert!(report.broken_rules.is_empty(), "{:?}", report.broken_rules);
    // Quality is a time-slice SLO on 1-minute slices aligned to the minute: wait for one.
    let q = eventually("a quality slice", async || {
        let r = e.ctx.slo_report(Utc::now()).await.ok()?;
        r.slos.into_iter().find(|s| s.id == "quality").filter(|s| s.sli.is_some())
    })
    .await;
    assert_eq!(q.sli, Some(1.0), "quality 0.86 ≥ 0.8 in every slice");
    assert_eq!(q.level, Level::Healthy);
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_fired_by_prometheus_is_silenced_from_the_app() {
    let e = env(Script { err_per_sec: 5.0, ..Script::default() });
    let alert = eventually("HSOFErrorRateCritical in AlertManager", async || {
        let v = e.ctx.alerts(Utc::now()).await.ok()?;
        v.groups
            .iter()
            .find(|g| g.severity == "critical")?
            .alerts
            .iter()
            .find(|a| a.name() == "HSOFErrorRateCritical")
            .cloned()
    })
    .await;
    assert!(alert.annotations.get("runbook_url").is_some_and(|u| u.contains("alerting-thresholds")));
    assert_eq!(alert.status.state, "active");

    let id = e
        .ctx
        .ack_alert(&alert.fingerprint, chrono::Duration::hours(2), "investigating the 500s", "alice", Utc::now())
        .await
        .expect("ack");
    // AlertManager's own API shows the silence with our matchers, author and comment.
    let raw: serde_json::Value =
        reqwest::get(format!("{}/api/v2/silence/{id}", e.am.url)).await.expect("get").json().await.expect("json");
    assert_eq!(raw["createdBy"], "alice");
    assert_eq!(raw["comment"], "investigating the 500s");
    assert_eq!(raw["status"]["state"], "active");
    assert!(raw["matchers"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x["name"] == "alertname" && x["value"] == "HSOFErrorRateCritical")));
    let suppressed = eventually("the alert to be suppressed", async || {
        let v = e.ctx.alerts(Utc::now()).await.ok()?;
        let a = v.groups.iter().flat_map(|g| &g.alerts).find(|a| a.fingerprint == alert.fingerprint)?.clone();
        (a.status.state == "suppressed").then_some(a)
    })
    .await;
    assert!(suppressed.status.silenced_by.contains(&id));
    let audit = e.ctx.audit_list(5).expect("audit");
    assert_eq!(audit[0].action, "alert.silence");
    assert!(audit[0].result.contains(&id));

    e.ctx.expire_silence(&id, "alice", Utc::now()).await.expect("expire");
    let raw: serde_json::Value =
        reqwest::get(format!("{}/api/v2/silence/{id}", e.am.url)).await.expect("get").json().await.expect("json");
    assert_eq!(raw["status"]["state"], "expired");

    let err = e.ctx.ack_alert("nope", chrono::Duration::hours(1), "x", "alice", Utc::now()).await.expect_err("unknown");
    assert_eq!(err.code(), hsof_core::ErrorCode::NotFound);
    let link = e.ctx.link_alert(&alert.fingerprint, "alice", Utc::now()).await.expect("link");
    assert!(link > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn morning_check_tells_the_same_story_and_flags_critical() {
    let e = env(Script { err_per_sec: 5.0, backup_failures: 1.0, ..Script::default() });
    let check = eventually("a morning check with the critical alert", async || {
        let c = e.ctx.check_morning(Utc::now).await.ok()?;
        c.items.iter().any(|i| i.title.contains("Overnight alerts") && i.outcome == CheckOutcome::Fail).then_some(c)
    })
    .await;
    assert!(check.critical_failed);
    let health = check.items.iter().find(|i| i.title.contains("health endpoint")).expect("health item");
    assert_eq!(health.outcome, CheckOutcome::Pass, "{}", health.evidence);
    // No kubeconfig in this environment: the pods step says so instead of guessing.
    let pods = check.items.iter().find(|i| i.title.contains("pods")).expect("pods item");
    assert_eq!(pods.outcome, CheckOutcome::Unknown, "{}", pods.evidence);
    assert!(pods.evidence.contains("kubeconfig"), "{}", pods.evidence);
    let thresholds = e.ctx.evaluate_thresholds(Utc::now()).expect("thresholds");
    assert!(
        thresholds.states.iter().any(|s| s.rule.id == "error_rate_critical" && s.active),
        "{:?}",
        thresholds.states
    );
    assert_eq!(thresholds.worst, Level::Critical);
    assert!(thresholds.notify.iter().any(|n| n.rule_id == "error_rate_critical"));
    // Notified once: the next evaluation is quiet for that rule.
    let again = e.ctx.evaluate_thresholds(Utc::now()).expect("thresholds");
    assert!(!again.notify.iter().any(|n| n.rule_id == "error_rate_critical"));
}

/// `thresholds.critical.backup_failure` decides whether a failed backup pages: on (the
/// default) the backup step fails critically and the rule is critical; off, both warn.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_backup_pages_only_when_the_threshold_says_so() {
    for pages in [true, false] {
        let e = env_with(Script::default(), |c| c.thresholds.critical.backup_failure = pages);
        // The counter has to move for `increase(...[1d])` to see a failure.
        eventually("a first scrape", async || {
            let v = e.ctx.key_metrics(Utc::now()).await.ok()?;
            v.metrics.iter().any(|m| m.id == "backup_failures_1d" && m.value.is_some()).then_some(())
        })
        .await;
        e.exporter.set(|s| s.backup_failures = 1.0);
        let want = if pages { Level::Critical } else { Level::Warning };
        let check = eventually("the failed backup", async || {
            let c = e.ctx.check_morning(Utc::now).await.ok()?;
            let item = c.items.iter().find(|i| i.title.contains("Backup completion"))?.clone();
            (item.outcome != CheckOutcome::Pass).then_some((c, item))
        })
        .await;
        let (_, item) = check;
        let outcome = if pages { CheckOutcome::Fail } else { CheckOutcome::Warn };
        assert_eq!(item.outcome, outcome, "pages={pages}: {}", item.evidence);
        assert_eq!(item.critical, pages, "pages={pages}");
        let metric = e.ctx.key_metrics(Utc::now()).await.expect("metrics");
        let m = metric.metrics.iter().find(|m| m.id == "backup_failures_1d").expect("metric");
        assert_eq!(m.level, want, "{m:?}");
        let rules = e.ctx.evaluate_thresholds(Utc::now()).expect("thresholds");
        let rule = rules.states.iter().find(|s| s.rule.id == "backup_failure").expect("rule");
        assert_eq!(rule.rule.level, want);
    }
}

#[test]
fn project_rules_pass_promtool() {
    let out = std::process::Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(rules())
        .output()
        .expect("promtool (package prometheus)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SUCCESS: 12 rules found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_morning_check_exits_1_on_a_critical_failure_and_prints_evidence() {
    let e = env(Script { err_per_sec: 5.0, ..Script::default() });
    eventually("the critical alert", async || {
        let v = e.ctx.alerts(Utc::now()).await.ok()?;
        (v.active_count("critical") > 0).then_some(())
    })
    .await;
    let cfg = e.ctx.paths().config_file.clone();
    let data = e.ctx.paths().data_dir.clone();
    let run = |args: &[&str]| {
        std::process::Command::new(hsof_tests::hsofctl())
            .args(args)
            .env("HSOF_CONTROL_CONFIG", &cfg)
            .env("HSOF_CONTROL_DATA_DIR", &data)
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .output()
            .expect("hsofctl")
    };
    let out = run(&["check", "morning", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["critical_failed"], true);
    let alerts = v["items"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["title"].as_str().unwrap_or("").contains("Overnight alerts")).cloned())
        .expect("alerts item");
    assert_eq!(alerts["outcome"], "fail");
    assert!(alerts["evidence"].as_str().unwrap_or("").contains("HSOFErrorRateCritical"));

    let out = run(&["check", "morning"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL! 2. Overnight alerts") && text.contains("A critical check failed."), "{text}");
    println!("{text}");
    let out = run(&["slo"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("Availability") && text.contains("burn 5m"), "{text}");
    println!("{text}");
    let out = run(&["metrics"]);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    let out = run(&["alerts"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CRITICAL") && text.contains("runbook https://internal-docs"), "{text}");
    println!("{text}");
}
