//! Two clusters in one window: the header's switcher lists both, the Fleet screen shows a
//! row each with drift from the primary, two clusters compared, and switching the window
//! to the other cluster shows its pods and its HSOF, not the first one's.

use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_tests::exporter::{Exporter, Script};
use hsof_tests::{Driver, Profile};

fn region(extra_pods: usize) -> (FakeKube, Exporter) {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, extra_pods);
    (FakeKube::start(store), Exporter::start(Script::default()))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_clusters_in_the_switcher_the_fleet_screen_and_a_switch() {
    let (prod, prod_hsof) = region(0);
    let (dr, dr_hsof) = region(7);
    let profile = Profile::new();
    let dir = profile.data_dir().with_file_name("kube");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut cfg = hsof_core::config::Config::default();
    cfg.endpoints.request_timeout_secs = 2;
    for (name, role, kube, hsof) in [
        ("prod-eu", hsof_core::config::ClusterRole::Primary, &prod, &prod_hsof),
        ("dr-us", hsof_core::config::ClusterRole::Dr, &dr, &dr_hsof),
    ] {
        let kubeconfig = dir.join(name);
        std::fs::write(&kubeconfig, kube.kubeconfig_named(name, "admin", "hsof")).expect("kubeconfig");
        cfg.clusters.push(hsof_core::config::ClusterEntry {
            name: name.into(),
            role,
            kubeconfig: kubeconfig.display().to_string(),
            context: name.into(),
            hsof_health_url: hsof.url(),
            prometheus_url: "http://127.0.0.1:9".into(),
            alertmanager_url: "http://127.0.0.1:9".into(),
            ..Default::default()
        });
    }
    cfg.dr.failover_hold_secs = 1;
    cfg.dr.failover_timeout_secs = 30;
    profile.write_config(&cfg);
    let hook = hsof_tests::webhook::Webhook::start(hsof_tests::webhook::Answer::Ok);
    crate::incidents::set_secret(&profile, "slack-webhook", &hook.url);
    // dr-us logs at debug: drift from the primary.
    dr.with(|s| {
        s.put(serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "hsof-config", "namespace": "hsof"},
            "data": {"log_level": "debug", "stage1_keep": "500", "stage2_keep": "50", "stage3_keep": "15"}}))
    });

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    let switcher = app.wait_text("[data-testid=cluster-switcher]", "dr-us").await;
    assert!(switcher.contains("prod-eu · primary"), "{switcher}");
    let current = app.execute("return document.querySelector('[data-testid=cluster-switcher]').value").await;
    assert_eq!(current, "prod-eu", "the window opens on the primary");

    // Alt+F: the Fleet screen, a row per cluster, dr-us drifting on replicas.
    let body = app.wait_css("body").await;
    body.send_keys("\u{E00A}f").await.expect("alt+f");
    app.wait_text("[data-testid=fleet-row-prod-eu]", "HEALTHY").await;
    let dr_row = app.wait_text("[data-testid=fleet-row-dr-us]", "1 difference").await;
    assert!(dr_row.contains("HEALTHY") && dr_row.contains("1.5.0"), "{dr_row}");
    app.click("[data-testid=fleet-drift-dr-us]").await;
    app.wait_text("[data-testid=fleet-table]", "configmap · log_level: info on prod-eu → debug here").await;
    app.click("[data-testid=compare-run]").await;
    let table = app.wait_text("[data-testid=compare-table]", "log_level").await;
    assert!(table.contains("prod-eu") && table.contains("dr-us"), "{table}");
    app.screenshot("fleet").await;

    // A DR drill from the Fleet screen: confirmed, followed step by step, scored.
    app.click("[data-testid=dr-start]").await;
    app.wait_text("[data-testid=dr-confirm]", "[TEST]").await;
    app.click("[data-testid=dr-run]").await;
    let verdict = app.wait_text("[data-testid=dr-verdict]", "passed").await;
    assert_eq!(verdict.trim(), "passed");
    let rto = app.wait_text("[data-testid=dr-rto]", "RTO").await;
    assert!(!rto.contains("not measured"), "{rto}");
    app.wait_text("[data-testid=dr-step-failback]", "pass").await;
    assert!(hook.bodies().iter().any(|b| b.to_string().contains("[TEST] HSOF DR drill")));
    app.execute("document.querySelector('[data-testid=panel-dr]').scrollIntoView(); return 0").await;
    app.screenshot("fleet-dr-drill").await;

    // Switch the window to dr-us: its pods (7 more than prod-eu's) and its HSOF.
    app.wait_css("[data-testid=cluster-switcher]").await.select_by_value("dr-us").await.expect("switch");
    app.wait_until("document.querySelector('[data-testid=cluster-switcher]')?.value === 'dr-us'").await;
    app.open("overview").await;
    app.wait_text("[data-testid=panel-health]", &dr_hsof.url()).await;
    app.open("cluster").await;
    app.wait_text("[data-testid=pods-pill]", "10 pods").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}
