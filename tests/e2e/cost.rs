//! The Cost & Capacity screen against a real Prometheus holding five weeks of the demo's
//! history (backfilled with promtool) and the fake API server: Alt+C, the budget with its
//! projection, cost per dataset from HSOF's own counter, and a right-sizing row's *Set
//! resources…* previewed as a dry run, then applied to the Deployment.

use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_tests::exporter::{Exporter, Script};
use hsof_tests::{Driver, Profile};

fn requests(kube: &FakeKube) -> serde_json::Value {
    kube.with(|s| {
        s.objects
            .iter()
            .find(|((p, _, n), _)| p == "deployments" && n == "hsof-main")
            .map(|(_, d)| d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"].clone())
            .unwrap_or_default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn cost_capacity_and_a_right_sizing_applied() {
    let history = hsof_demo::history::demo(chrono::Utc::now().timestamp(), 5);
    let prom = hsof_tests::servers::prometheus_backfilled(&history);
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 0);
    let kube = FakeKube::start(store);
    let hsof = Exporter::start(Script::default());
    let profile = Profile::new();
    let mut cfg = crate::one_cluster_config(&profile, &kube, &hsof);
    cfg.endpoints.request_timeout_secs = 10;
    cfg.endpoints.prometheus_url = prom.url.clone();
    cfg.cost.monthly_budget = Some(9000.0);
    cfg.cost.gpu_hour = vec!["NVIDIA-A100-SXM4-80GB=2.93".into()];
    profile.write_config(&cfg);
    let before = requests(&kube);

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    let body = app.wait_css("body").await;
    body.send_keys("\u{E00A}c").await.expect("alt+c");
    let budget = app.wait_text("[data-testid=panel-budget]", "Projected month end").await;
    assert!(budget.contains("9,000") || budget.contains("9000"), "{budget}");
    let per = app.wait_text("[data-testid=panel-cost-per-dataset]", "hsof_compute_cost_dollars_total").await;
    assert!(per.contains("Per dataset"), "{per}");
    app.wait_text("[data-testid=panel-idle-gpu]", "GPU-hours").await;
    app.wait_text("[data-testid=panel-autoscaling]", "hsof-hpa").await;
    app.wait_css("[data-testid=hpa-replicas] polyline").await;
    app.wait_text("[data-testid=panel-rightsizing]", "Set resources").await;
    app.screenshot("cost").await;
    app.execute("document.querySelector('[data-testid=panel-rightsizing]').scrollIntoView(); return 0").await;
    app.screenshot("cost-capacity").await;

    app.click("[data-testid=rightsize-apply]").await;
    app.wait_css("[data-testid=confirm-dialog]").await;
    app.click("[data-testid=confirm-apply]").await;
    app.wait_text("[data-testid=rightsize-done]", "audit log").await;
    let after = requests(&kube);
    assert_ne!(before, after, "the recommended request is set: {before} → {after}");
}
