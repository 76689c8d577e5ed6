//! A first run with nothing to connect to: Overview offers the demo, one click fills the
//! window with a live simulated HSOF in a profile of its own, and leaving it stops what it
//! started and brings back the user's profile exactly as it was.

use std::path::Path;
use std::time::{Duration, Instant};

use hsof_tests::{Driver, Profile};

/// Every file under `dir` with its bytes (none: an empty list).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// The processes whose parent is `pid` (the demo server's Prometheus and AlertManager).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let child: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            let parent: u32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            (parent == pid).then_some(child)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_run_without_a_cluster_offers_the_demo_and_leaving_restores_the_profile() {
    let profile = Profile::new();
    // A fresh profile: no kubeconfig anywhere, the shipped endpoints, which answer nowhere.
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = profile.data_dir().with_file_name("no-kubeconfig").display().to_string();
    profile.write_config(&cfg);
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("overview").await;
    let offer = app.wait_text("[data-testid=demo-offer]", "Try the demo").await;
    assert!(offer.contains(&profile.demo_dir().display().to_string()), "the demo's own profile is named: {offer}");
    app.wait_css("[data-testid=connect-no-kubeconfig]").await;
    app.screenshot("demo-offer").await;
    // The user's profile as it is before the demo (the config; the secrets file, if any).
    let config_before = std::fs::read(profile.config_file()).expect("config");
    let secrets = profile.config_file().with_file_name("secrets.toml");
    let secrets_before = std::fs::read(&secrets).ok();

    let began = Instant::now();
    app.click("[data-testid=demo-try]").await;
    // The page reloads on the demo's profile: the banner says so on every screen.
    let banner = app.wait_text("[data-testid=demo-banner]", "DEMO").await;
    assert!(banner.contains("Leave demo") && banner.contains("Start drill"), "{banner}");
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(profile.demo_dir().join("state.json")).expect("the demo server's state"),
    )
    .expect("state json");
    let pid = state["pid"].as_u64().expect("pid") as u32;
    let servers = children(pid);
    assert!(servers.len() >= 2, "Prometheus and AlertManager run under the demo server: {servers:?}");

    // Live data within a minute: health, alerts, key metrics, pods.
    let minute = Duration::from_secs(60);
    let morning = app.wait_text("[data-testid=panel-morning]", "HSOF health").await;
    assert!(!morning.contains("hsof.company.com"), "the user's endpoints are not asked: {morning}");
    app.wait_text("[data-testid=panel-health]", "healthy").await;
    let am = state["alertmanager_url"].as_str().expect("AlertManager URL");
    let alerts = app.wait_text("[data-testid=panel-alerts]", am).await;
    assert!(!alerts.contains("STALE"), "{alerts}");
    // Key metrics once Prometheus has scraped the simulated exporter (the poller's next rounds).
    app.wait_until(
        "/\\d/.test(document.querySelector('[data-testid=metric-gpu_temperature_c] .value')?.textContent ?? '')",
    )
    .await;
    app.open("cluster").await;
    app.wait_text("[data-testid=pods-pill]", "pods").await;
    assert!(began.elapsed() < minute, "live data took {:?}", began.elapsed());
    app.open("overview").await;
    app.screenshot("demo-live").await;

    // The scenario picker and the drill are one click from the banner.
    let select = app.wait_css("[data-testid=demo-scenario]").await;
    select.select_by_value("gpu-hot").await.expect("pick a scenario");
    app.wait_until(
        "document.querySelector('[data-testid=demo-scenario]').value === 'gpu-hot' && !document.querySelector('[data-testid=demo-scenario]').disabled",
    )
    .await;
    let now: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(profile.demo_dir().join("state.json")).expect("state"))
            .expect("json");
    assert_eq!(now["scenario"], "gpu-hot");
    app.click("[data-testid=demo-drill]").await;
    app.wait_css("[data-testid=screen-incidents] [data-testid=drill-form]").await;
    app.screenshot("demo-drill").await;

    app.click("[data-testid=demo-leave]").await;
    // Back on the user's profile (the page reloads once the demo has stopped): no banner,
    // the offer again, nothing of the demo running.
    app.wait_until("document.querySelector('[data-testid=demo-banner]') === null").await;
    app.open("overview").await;
    app.wait_css("[data-testid=demo-offer]").await;
    let start = Instant::now();
    while !(hsof_tests::process_gone(pid) && servers.iter().all(|p| hsof_tests::process_gone(*p))) {
        assert!(start.elapsed() < Duration::from_secs(20), "the demo's processes outlived leaving it");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!profile.demo_dir().join("state.json").exists(), "the demo server's state is cleared");
    assert_eq!(std::fs::read(profile.config_file()).expect("config"), config_before, "config byte-identical");
    assert_eq!(std::fs::read(&secrets).ok(), secrets_before, "secrets byte-identical");
    // The demo's own profile has everything it wrote; the user's data directory none of it.
    let user_files = snapshot(&profile.data_dir());
    assert!(
        user_files.iter().all(|(p, _)| !p.contains("demo")),
        "nothing of the demo in the user's data directory: {:?}",
        user_files.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    app.screenshot("demo-left").await;

    // Don't offer again: written to the config (audited), and the offer stays away.
    app.click("[data-testid=demo-dismiss]").await;
    let start = Instant::now();
    while !std::fs::read_to_string(profile.config_file()).expect("config").contains("demo_offer = false") {
        assert!(start.elapsed() < Duration::from_secs(10), "ui.demo_offer was not saved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.execute("location.reload(); return 0").await;
    app.wait_css("[data-testid=connect-no-kubeconfig]").await;
    assert!(app.execute("return document.querySelector('[data-testid=demo-offer]') === null").await == true);
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}
