//! End-to-end specs: the real app binary under Xvfb, driven through tauri-driver and
//! WebKitWebDriver. Run with `make e2e` (after `make` builds the app).

use fantoccini::Locator;
use hsof_fake_kube::{seed_hsof, sim, FakeKube, Store};
use hsof_tests::exporter::{Exporter, Script};
use hsof_tests::{servers, Driver, Profile};

mod calendar;
mod connect;
mod cost;
mod demo_offer;
mod experiments_cluster;
mod fleet;
mod gpu;
mod incidents;
mod maintenance;
mod oncall;
mod security;
mod team;

const SECTIONS: &[&str] = &[
    "overview",
    "fleet",
    "cluster",
    "slos",
    "calendar",
    "incidents",
    "oncall",
    "changes",
    "gpu",
    "experiments",
    "reports",
    "settings",
];

#[tokio::test(flavor = "multi_thread")]
async fn window_opens_with_title_and_status() {
    let profile = Profile::new();
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    assert_eq!(app.client.title().await.expect("title"), "HSOF Control Center");
    app.wait_css("[data-testid=status-pill]").await;
    // No HSOF is reachable from a fresh profile: the morning check says so, it does not hang.
    let morning = app.wait_text("[data-testid=panel-morning]", "HSOF health endpoint").await;
    assert!(morning.contains("a critical check failed"), "{morning}");
    app.screenshot("window-opens").await;
    app.close().await;
    driver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_section_renders_without_console_errors() {
    let profile = Profile::new();
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    for id in SECTIONS {
        app.open(id).await;
        let h1 = app.wait_css(&format!("[data-testid=screen-{id}] h1")).await.text().await.expect("heading");
        assert!(!h1.is_empty(), "{id} has no heading");
        app.screenshot(&format!("section-{id}")).await;
    }
    // Empty states say what to do next, with no fake data.
    app.open("reports").await;
    app.wait_text("[data-testid=report-list]", "No reports yet").await;
    app.open("incidents").await;
    app.wait_text("[data-testid=incident-list]", "No incidents yet").await;
    // No kubeconfig in a fresh profile: the Cluster screen says what is wrong.
    app.open("cluster").await;
    app.wait_text("[data-testid=error-box]", "kubeconfig").await;
    // Keyboard: Alt+0 opens Settings, Alt+1 Overview.
    let body = app.wait_css("body").await;
    body.send_keys("\u{E00A}0").await.expect("alt+0");
    app.wait_css("[data-testid=screen-settings]").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn overview_shows_this_machines_facts() {
    let profile = Profile::new();
    profile.open_to_others();
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("overview").await;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let host = app.wait_text("[data-testid=panel-host]", "logical").await;
    assert!(host.contains(&format!("{cores} logical")), "host panel: {host}");
    let app_panel = app.wait_text("[data-testid=panel-app]", "HSOF Control Center 0.1.0").await;
    assert!(app_panel.contains(&profile.config_file().display().to_string()), "{app_panel}");
    assert!(app_panel.contains(&profile.data_dir().display().to_string()), "{app_panel}");
    assert!(app_panel.contains("private — folders 0700, files 0600"), "{app_panel}");
    app.wait_text("[data-testid=panel-store]", "open").await;
    // No GPU on CI: NVML's absence is stated, not hidden.
    let gpu = app.wait_text("[data-testid=panel-gpu]", "NVML").await;
    assert!(gpu.contains("no NVIDIA driver") || gpu.contains("Driver"), "{gpu}");
    let kube = app.wait_text("[data-testid=panel-kube]", "").await;
    assert!(kube.contains("None found") || kube.contains("Context"), "{kube}");
    app.screenshot("overview").await;
    app.close().await;
    driver.stop().await;
    // A fresh start leaves the data folder, the store and the logs to this user alone.
    let data = profile.data_dir();
    hsof_tests::assert_private_to_user(&[&data, &data.join("logs")], &[&data.join("hsof-control-center.sqlite3")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_change_survives_restart_and_is_audited() {
    let profile = Profile::new();
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("settings").await;
    let field = app.wait_css("input[data-key='cluster.namespace']").await;
    field.clear().await.expect("clear");
    // An invalid value is flagged on the field and blocks saving.
    field.send_keys("Not Valid").await.expect("type");
    app.wait_text("[data-testid=field-problem]", "Kubernetes name").await;
    field.clear().await.expect("clear");
    field.send_keys("hsof-e2e").await.expect("type");
    let save = app.wait_css("[data-testid=save]").await;
    let start = std::time::Instant::now();
    while !save.is_enabled().await.unwrap_or(false) {
        assert!(start.elapsed() < hsof_tests::DEADLINE, "save never enabled");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    save.click().await.expect("save");
    app.wait_css("[data-testid=saved]").await;
    app.screenshot("settings-saved").await;
    app.close().await;

    let text = std::fs::read_to_string(profile.config_file()).expect("config written");
    assert!(text.contains("namespace = \"hsof-e2e\""), "{text}");

    let app = driver.launch().await;
    app.open("settings").await;
    let value = app.wait_css("input[data-key='cluster.namespace']").await.prop("value").await.expect("value");
    assert_eq!(value.as_deref(), Some("hsof-e2e"));
    app.open("changes").await;
    let table = app.wait_text("[data-testid=audit-table]", "config.save").await;
    assert!(table.contains("ok"), "{table}");
    assert!(!table.contains("unknown"), "the actor is the OS user: {table}");
    app.wait_text("[data-testid=audit-pill]", "audit chain intact").await;
    assert!(app.client.find(Locator::Css("[data-testid=error-box]")).await.is_err());
    app.screenshot("changes-after-restart").await;
    app.close().await;
    driver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_config_starts_on_defaults_and_shows_the_problem() {
    let profile = Profile::new();
    std::fs::create_dir_all(profile.config_file().parent().expect("parent")).expect("mkdir");
    std::fs::write(profile.config_file(), "[thresholds]\ncpu_utilization_max_pct = \"high\"\n").expect("write");
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.wait_text("[data-testid=status-pill]", "Degraded").await;
    app.open("settings").await;
    let problem = app.wait_text("[data-testid=config-problem]", "line 2").await;
    assert!(problem.contains("thresholds.cpu_utilization_max_pct"), "{problem}");
    app.screenshot("settings-broken-config").await;
    app.close().await;
    assert_eq!(
        std::fs::read_to_string(profile.config_file()).expect("read"),
        "[thresholds]\ncpu_utilization_max_pct = \"high\"\n",
        "the user's file is left as written"
    );
    driver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn overview_and_slo_screens_with_live_data_and_an_alert_silenced_from_the_ui() {
    let exporter = Exporter::start(Script { err_per_sec: 1.0, ..Script::default() });
    let am = servers::alertmanager();
    let rules = hsof_tests::workspace_root().join("monitoring/hsof-runbook-rules.yml");
    let mut prom = servers::prometheus(&format!("127.0.0.1:{}", exporter.port), &[rules], Some(&am));
    let profile = Profile::new();
    let mut cfg = hsof_core::config::Config::default();
    cfg.endpoints.hsof_health_url = exporter.url();
    cfg.endpoints.prometheus_url = prom.url.clone();
    cfg.endpoints.alertmanager_url = am.url.clone();
    cfg.endpoints.poll_interval_secs = 5;
    profile.write_config(&cfg);
    // Let Prometheus fire the error-rate alert before the app looks.
    let start = std::time::Instant::now();
    loop {
        let body =
            reqwest::get(format!("{}/api/v2/alerts", am.url)).await.expect("am").text().await.unwrap_or_default();
        if body.contains("HSOFErrorRateCritical") {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "alert never fired");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("overview").await;
    let morning = app.wait_text("[data-testid=panel-morning]", "HSOFErrorRateCritical").await;
    assert!(morning.contains("a critical check failed") && morning.contains("pass"), "{morning}");
    app.wait_text("[data-testid=panel-health]", "all three stages").await;
    let err_tile = app.wait_text("[data-testid=metric-error_rate_pct]", "%").await;
    assert!(err_tile.contains("target < 0.1 %"), "{err_tile}");
    app.screenshot("overview-live").await;

    // Open incident on the alert: Incidents opens with the declaration prefilled from it.
    app.wait_css("[data-testid=panel-alerts] [data-testid=alert-open-incident]").await.click().await.expect("open");
    app.wait_css("[data-testid=screen-incidents] [data-testid=declare-form]").await;
    let start = std::time::Instant::now();
    loop {
        let v = app.execute("return [document.querySelector('[data-testid=declare-title]').value, document.querySelector('[data-testid=sev-P1]').checked, document.querySelector('[data-testid=declare-description]').value]").await;
        if v[0].as_str().is_some_and(|t| !t.is_empty()) {
            assert_eq!(v[1], true, "a critical alert is declared P1: {v}");
            assert!(v[2].as_str().is_some_and(|d| d.contains("Runbook")), "{v}");
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "the declaration was not prefilled: {v}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.screenshot("incident-from-alert").await;
    app.open("overview").await;

    // Acknowledge from the UI; AlertManager's own API shows the silence.
    app.wait_css("[data-testid=panel-alerts] [data-testid=ack]").await.click().await.expect("ack");
    app.wait_css("[data-testid=ack-comment]").await.send_keys("looking into the 500s").await.expect("type");
    app.wait_css("[data-testid=ack-submit]").await.click().await.expect("submit");
    app.wait_text("[data-testid=alert-note]", "Silenced").await;
    let silences =
        reqwest::get(format!("{}/api/v2/silences", am.url)).await.expect("am").text().await.unwrap_or_default();
    assert!(silences.contains("looking into the 500s"), "{silences}");

    app.open("slos").await;
    let slo = app.wait_text("[data-testid=slo-availability]", "%").await;
    assert!(slo.contains("99.9 %"), "{slo}");
    app.wait_text("[data-testid=panel-evening]", "Monitoring is active").await;
    app.wait_css("[data-testid=chart-availability_sli] svg").await;
    app.wait_css("[data-testid=chart-latency_p95] svg").await;
    app.wait_css("[data-testid=silence-row]").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    app.screenshot("slos-live").await;

    // Prometheus goes away: the last known metrics stay, marked stale with their age.
    prom.kill();
    app.open("overview").await;
    app.wait_text("[data-testid=panel-metrics]", "STALE").await;
    app.wait_text("[data-testid=metric-gpu_temperature_c]", "66").await;
    app.screenshot("overview-prometheus-down").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_screen_and_restart_scale_rollback_through_the_ui_are_audited() {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 40);
    let kube = FakeKube::start(store);
    let profile = Profile::new();
    profile.with_cluster(&kube);
    let replicas = || {
        kube.with(|s| {
            s.objects.iter().find(|((p, _, n), _)| p == "deployments" && n == "hsof-main").map(|(_, v)| {
                (
                    v["spec"]["replicas"].as_i64(),
                    v["metadata"]["annotations"]["deployment.kubernetes.io/revision"].as_str().map(str::to_string),
                )
            })
        })
    };

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("cluster").await;
    app.wait_text("[data-testid=pods-pill]", "43 pods").await;
    app.wait_text("[data-testid=panel-history]", "upgrade to 1.5.0").await;
    app.wait_text("[data-testid=gpu-pill]", "3 requested / 8 allocatable").await;
    app.wait_text("[data-testid=panel-nodes]", "% CPU").await;
    app.wait_text("[data-testid=watch-pill]", "live").await;
    // A pod appears in the cluster: the watch redraws the table without a refresh.
    kube.with(|s| {
        s.put(serde_json::json!({"kind": "Pod", "metadata": {"name": "hsof-zz-debug", "namespace": "hsof"},
            "spec": {"containers": [{"name": "debug", "image": "busybox:1.36"}]}, "status": {"phase": "Pending"}}))
    });
    app.wait_text("[data-testid=pods-pill]", "44 pods").await;
    let first = app.wait_css("[data-testid=pod-row] td").await;
    let pod = first.text().await.expect("pod name");
    first.click().await.expect("open pod");
    app.wait_text("[data-testid=pod-containers]", "hsof/hsof:1.5.0").await;
    app.wait_text("[data-testid=pod-log]", "processed batch 20").await;
    app.wait_css("[data-testid=log-search]").await.send_keys("batch 1").await.expect("search");
    app.wait_text("[data-testid=pod-drawer]", "11 matches").await;
    // Follow: lines the pod writes now arrive live.
    app.wait_css("[data-testid=log-follow]").await.click().await.expect("follow");
    app.wait_text("[data-testid=follow-state]", "following").await;
    kube.with(|s| s.append_log("hsof", pod.trim(), "e2e live line"));
    app.wait_text("[data-testid=pod-log]", "e2e live line").await;
    app.wait_css("[data-testid=log-stop]").await.click().await.expect("stop");
    app.wait_text("[data-testid=follow-state]", "stopped").await;
    app.execute("document.querySelector('[data-testid=df-run]').scrollIntoView(); return 0").await;
    app.wait_css("[data-testid=df-run]").await.click().await.expect("df");
    app.wait_text("[data-testid=df-table]", "/models").await;
    app.screenshot("cluster").await;

    app.open("changes").await;
    let field = app.wait_css("[data-testid=scale-replicas]").await;
    field.clear().await.expect("clear");
    field.send_keys("5").await.expect("type");
    app.wait_enabled("[data-testid=action-restart]").await.send_keys("\u{E007}").await.expect("enter on restart");
    // Keyboard first: Enter on a focused action opens its confirmation; Cancel changes nothing.
    app.wait_text("[data-testid=confirm-dialog]", "restarted").await;
    app.wait_css("[data-testid=confirm-cancel]").await.click().await.expect("cancel");
    app.wait_enabled("[data-testid=action-scale]").await.click().await.expect("scale");
    app.wait_text("[data-testid=confirm-dialog]", "scaled from 3 to 5").await;
    assert_eq!(replicas().map(|r| r.0), Some(Some(3)), "the preview changed nothing");
    app.screenshot("change-confirm-scale").await;
    app.wait_css("[data-testid=confirm-apply]").await.click().await.expect("apply");
    app.wait_text("[data-testid=change-done]", "scaled from 3 to 5").await;
    app.wait_text("[data-testid=rollout-status]", "successfully rolled out").await;
    assert_eq!(replicas().map(|r| r.0), Some(Some(5)));

    app.wait_enabled("[data-testid=action-undo]").await.click().await.expect("undo");
    app.wait_text("[data-testid=confirm-dialog]", "rolled back").await;
    app.wait_css("[data-testid=confirm-apply]").await.click().await.expect("apply");
    app.wait_text("[data-testid=change-done]", "rolled back from revision 2").await;
    assert_eq!(replicas().and_then(|r| r.1), Some("3".to_string()));

    app.wait_enabled("[data-testid=action-restart]").await.click().await.expect("restart");
    app.wait_css("[data-testid=confirm-apply]").await.click().await.expect("apply");
    app.wait_text("[data-testid=change-done]", "restarted").await;

    let level = app.wait_css("[data-testid=configmap] input[data-key=log_level]").await;
    level.clear().await.expect("clear");
    level.send_keys("debug").await.expect("type");
    app.wait_enabled("[data-testid=action-config]").await.click().await.expect("patch config");
    app.wait_text("[data-testid=confirm-dialog]", "1 key(s) changed (log_level)").await;
    app.wait_css("[data-testid=confirm-apply]").await.click().await.expect("apply");
    app.wait_text("[data-testid=change-done]", "configmap/hsof-config").await;
    let level_now = kube.with(|s| {
        s.objects
            .iter()
            .find(|((p, _, n), _)| p == "configmaps" && n == "hsof-config")
            .map(|(_, v)| v["data"]["log_level"].clone())
    });
    assert_eq!(level_now, Some(serde_json::json!("debug")));

    app.wait_enabled("[data-testid=job-vulnerability-scan]").await.click().await.expect("scan");
    app.wait_text("[data-testid=confirm-dialog]", "vulnerability-scan").await;
    app.wait_css("[data-testid=confirm-apply]").await.click().await.expect("apply");
    let job = app.wait_text("[data-testid=job-status]", "succeeded").await;
    assert!(job.contains("Total: 0 (HIGH: 0, CRITICAL: 0)"), "{job}");

    let audit = app.wait_text("[data-testid=audit-table]", "configmap.patch").await;
    assert!(audit.contains("job.run"), "{audit}");
    assert!(audit.contains("scale") && audit.contains("rollout.undo") && audit.contains("rollout.restart"), "{audit}");
    app.wait_text("[data-testid=audit-pill]", "audit chain intact").await;
    app.screenshot("changes-audited").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_table_stays_usable_with_5000_pods() {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 5000);
    let kube = FakeKube::start(store);
    let profile = Profile::new();
    profile.with_cluster(&kube);
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("cluster").await;
    app.wait_text("[data-testid=pods-pill]", "5003 pods").await;
    // Only the rows in view are in the DOM, however long the list.
    let rendered = app.execute("return document.querySelectorAll('[data-testid=pod-row]').length").await;
    assert!(rendered.as_u64().is_some_and(|n| (10..=60).contains(&n)), "rendered rows: {rendered}");
    // Scroll to the end: the last pods are drawn.
    app.execute("const v = document.querySelector('[data-testid=virtual-rows]'); v.scrollTop = v.scrollHeight; v.dispatchEvent(new Event('scroll')); return 0").await;
    app.wait_text("[data-testid=virtual-rows]", "hsof-worker-04999").await;
    app.screenshot("cluster-5000-pods-scrolled").await;
    // Filtering narrows 5,003 rows to one.
    app.wait_css("[data-testid=pod-filter]").await.send_keys("worker-02500").await.expect("filter");
    app.wait_text(".pods", "1 of 5003 shown").await;
    // A change in the cluster redraws incrementally: the filtered row shows the pod's new
    // restart count and a deletion drops it, each from the watch's delta.
    let restarts =
        |n: u64| format!("document.querySelector('[data-testid=pod-row] td:nth-child(4)').textContent === '{n}'");
    let cell =
        app.execute("return Number(document.querySelector('[data-testid=pod-row] td:nth-child(4)').textContent)").await;
    let before = cell.as_u64().expect("restart count");
    for n in 1..=2 {
        kube.with(|s| assert!(sim::bump_restarts(s, "hsof", "hsof-worker-02500")));
        app.wait_until(&restarts(before + n)).await;
    }
    let r = app.execute("const d = document.querySelector('[data-testid=redraw]').dataset; return [d.ms, d.readMs, d.drawMs, d.rows]").await;
    eprintln!("cluster screen, 5,003 pods, one change: [total, backend read, merge + draw] ms, rows sent: {r}");
    assert_eq!(r[3], "1", "only the changed pod crosses IPC");
    kube.with(|s| assert!(sim::delete_pod(s, "hsof", "hsof-worker-02500")));
    app.wait_text(".pods", "0 of 5002 shown").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}

/// A CSV where `signal_a + signal_b` decides `label` and `noise_*` columns do not.
/// The config of a profile on one fake cluster: namespace hsof with the seeded Deployment
/// and ConfigMap, HSOF at `hsof`, Prometheus and AlertManager at a closed port.
pub(crate) fn one_cluster(profile: &Profile, kube: &FakeKube, hsof: &Exporter) {
    profile.write_config(&one_cluster_config(profile, kube, hsof));
}

/// The configuration [`one_cluster`] writes, for a spec to change before writing it.
pub(crate) fn one_cluster_config(profile: &Profile, kube: &FakeKube, hsof: &Exporter) -> hsof_core::config::Config {
    let kubeconfig = profile.data_dir().with_file_name("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = kubeconfig.display().to_string();
    cfg.cluster.deployment = "hsof-main".into();
    cfg.cluster.configmap = "hsof-config".into();
    cfg.endpoints.request_timeout_secs = 2;
    cfg.endpoints.hsof_health_url = hsof.url();
    cfg.endpoints.prometheus_url = "http://127.0.0.1:9".into();
    cfg.endpoints.alertmanager_url = "http://127.0.0.1:9".into();
    cfg
}

pub(crate) fn write_experiment_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let mut state = 0x51_7cc1_b727_u64;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as f64) / f64::from(1u32 << 31)
    };
    let mut text = String::from("id,noise_0,signal_a,noise_1,signal_b,noise_2,label\n");
    for i in 0..300 {
        let (a, b) = (next(), next());
        let label = if a + b > 1.0 { "yes" } else { "no" };
        text.push_str(&format!("{i},{:.4},{a:.4},{:.4},{b:.4},{:.4},{label}\n", next(), next(), next()));
    }
    let path = dir.join("synthetic.csv");
    std::fs::write(&path, text).expect("write csv");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn experiment_runs_through_the_ui_and_reopens_from_history() {
    let profile = Profile::new();
    let data = tempfile::tempdir().expect("tempdir");
    let csv = write_experiment_csv(data.path());
    let report = data.path().join("report.json");
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("experiments").await;
    app.wait_css("[data-testid=exp-history-empty]").await;
    app.wait_css("[data-testid=exp-result-empty]").await;

    app.wait_css("[data-testid=exp-path]").await.send_keys(&csv.display().to_string()).await.expect("type path");
    app.wait_enabled("[data-testid=exp-preview]").await.click().await.expect("preview");
    let columns = app.wait_text("[data-testid=exp-columns]", "signal_b").await;
    assert!(columns.contains("text") && columns.contains("numeric"), "kinds shown: {columns}");
    // A unique column named `id` is ticked as an ID column; the target must be chosen.
    let id_box = app.wait_css("[data-testid=exp-id-id]").await;
    assert!(id_box.is_selected().await.expect("checkbox"), "the id column is suggested");
    assert!(!app.wait_css("[data-testid=exp-run]").await.is_enabled().await.expect("enabled"), "no target yet");
    app.wait_css("[data-testid=exp-target]").await.select_by_value("label").await.expect("pick target");
    // The size is chosen by the data unless fixed: fix it at 2 for the first run.
    app.wait_css("[data-testid=exp-size-mode]").await.select_by_value("fixed").await.expect("fixed size");
    let k3 = app.wait_css("[data-testid=exp-k3]").await;
    k3.clear().await.expect("clear");
    k3.send_keys("2").await.expect("k3");
    app.wait_css("[data-testid=exp-out]").await.send_keys(&report.display().to_string()).await.expect("out");
    app.wait_enabled("[data-testid=exp-run]").await.click().await.expect("run");

    let result = app.wait_text("[data-testid=exp-result]", "accuracy").await;
    app.screenshot("experiments").await;
    assert!(result.contains("#1") && result.contains("ok"), "{result}");
    let features = app.wait_text("[data-testid=exp-features]", "signal_a").await;
    assert!(features.contains("signal_b") && !features.contains("noise"), "{features}");
    app.wait_text("[data-testid=exp-stage-evaluate]", "100 %").await;
    // The score shown is the held-out one, with its scheme and the optimistic inner score beside it.
    app.wait_text("[data-testid=exp-scheme]", "held out").await;
    app.wait_text("[data-testid=exp-validation]", "optimistic").await;
    app.wait_text("[data-testid=exp-metrics]", "balanced accuracy").await;
    app.wait_text("[data-testid=exp-stages]", "filter").await;
    app.wait_text("[data-testid=exp-history]", "synthetic.csv → label").await;
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report file written")).expect("json");
    assert_eq!(file["final_results"]["selected_features"].as_array().map(Vec::len), Some(2));
    app.wait_text("[data-testid=exp-size-rule]", "fixed at 2").await;

    // A second run lets the data choose the size up to 10: the screen shows the sizes tried,
    // their inner scores and the one chosen.
    app.wait_css("[data-testid=exp-size-mode]").await.select_by_value("auto").await.expect("auto size");
    let k3 = app.wait_css("[data-testid=exp-k3]").await;
    k3.clear().await.expect("clear");
    k3.send_keys("10").await.expect("k3 max");
    app.wait_enabled("[data-testid=exp-run]").await.click().await.expect("run again");
    app.wait_text("[data-testid=exp-result]", "#2").await;
    let rule = app.wait_text("[data-testid=exp-size-rule]", "tried in stage 3").await;
    assert!(rule.contains("sizes from 1 to"), "{rule}");
    app.wait_css("[data-testid=exp-size-curve]").await;
    let chosen = app.wait_css("[data-testid=exp-size-chosen]").await.text().await.expect("chosen row");
    assert!(chosen.contains('◀'), "{chosen}");
    app.execute("document.querySelector('[data-testid=exp-size-curve]').scrollIntoView()").await;
    app.screenshot("experiments-size").await;

    // Leave and come back: nothing shown until a past run is opened from the history.
    app.open("overview").await;
    app.open("experiments").await;
    app.wait_css("[data-testid=exp-result-empty]").await;
    app.execute("document.querySelector('[data-testid=exp-history-row]').scrollIntoView()").await;
    app.wait_css("[data-testid=exp-history-row] td").await.click().await.expect("open past run");
    let reopened = app.wait_text("[data-testid=exp-result]", "signal_a").await;
    assert!(reopened.contains("#2") && reopened.contains("signal_b"), "{reopened}");
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}
