//! First run from a kubeconfig alone: the Overview's Connect panel appears because nothing
//! configured answers, finds the demo's HSOF, Prometheus and AlertManager through the API
//! server's service proxy with no URL typed, and saves them (audited).

use hsof_tests::{Driver, Profile};

use crate::incidents::demo;

#[tokio::test(flavor = "multi_thread")]
async fn first_run_finds_the_sources_through_the_service_proxy() {
    let profile = Profile::new();
    demo(&profile, &["start"]);
    // Only a kubeconfig: every endpoint is the shipped default, which answers nowhere.
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = profile.demo_dir().join("kubeconfig").display().to_string();
    profile.write_config(&cfg);
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("overview").await;
    let panel = app.wait_text("[data-testid=panel-connect]", "Nothing configured answers").await;
    assert!(panel.contains("https://hsof.company.com"), "{panel}");
    app.click("[data-testid=connect-discover]").await;
    let found = app.wait_text("[data-testid=connect-results]", "AlertManager 0.").await;
    assert!(found.contains("Prometheus 2."), "{found}");
    assert!(found.contains("HSOF health: HEALTHY"), "{found}");
    let summary = app.wait_text("[data-testid=connect-summary]", "hsof-demo").await;
    assert!(summary.contains("/services/NAME:PORT/proxy/"), "{summary}");
    for role in ["hsof", "prometheus", "alertmanager"] {
        let pill = app.wait_text(&format!("[data-testid=probe-{role}]"), "answers").await;
        assert_eq!(pill.trim(), "answers", "{role}");
    }
    app.screenshot("connect-found").await;
    app.click("[data-testid=connect-save]").await;
    app.wait_text("[data-testid=connect-saved]", "audit log").await;
    // What is configured now answers, through the service proxy.
    for role in ["hsof", "prometheus", "alertmanager"] {
        app.wait_text(&format!("[data-testid=configured-{role}]"), "yes").await;
    }
    // The morning check runs again on the saved sources: HSOF health answers now.
    let morning = app.wait_text("[data-testid=screen-overview]", "HSOF k8s-service://hsof/hsof-api:health").await;
    assert!(!morning.contains("https://hsof.company.com/health is unreachable"), "{morning}");
    // The forwarder's loopback URL (and its secret prefix) never reaches the screen.
    assert!(!morning.contains("services/hsof-api:health/proxy"), "{morning}");
    let text = std::fs::read_to_string(profile.config_file()).expect("config");
    assert!(text.contains("prometheus_url = \"k8s-service://monitoring/prometheus:web\""), "{text}");
    assert!(text.contains("context = \"hsof-demo\""), "{text}");
    app.screenshot("connect-saved").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
    demo(&profile, &["stop"]);
}
