//! The Maintenance screen: Alt+M, the versions (the fake API server at 1.30, its nodes),
//! Clean up… previewed as a dry run, the selected leftovers deleted on confirmation.

use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_tests::exporter::{Exporter, Script};
use hsof_tests::{Driver, Profile};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn versions_and_a_cleanup_previewed_then_applied() {
    let mut store = Store::default();
    seed_hsof(&mut store, 2, 0);
    let done = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    store.put(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "old-job", "namespace": "hsof"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}},
        "status": {"succeeded": 1, "completionTime": done}}));
    store.put(json!({"kind": "ConfigMap", "metadata": {"name": "stale-cm", "namespace": "hsof"}, "data": {"a": "b"}}));
    let kube = FakeKube::start(store);
    let hsof = Exporter::start(Script::default());
    let profile = Profile::new();
    crate::one_cluster(&profile, &kube, &hsof);

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    let body = app.wait_css("body").await;
    body.send_keys("\u{E00A}m").await.expect("alt+m");
    let versions = app.wait_text("[data-testid=versions-table]", "api server").await;
    assert!(versions.contains("v1.30") && versions.contains("gpu-node-1"), "{versions}");
    app.click("[data-testid=cleanup-preview]").await;
    let left = app.wait_text("[data-testid=panel-leftovers]", "job/old-job").await;
    assert!(left.contains("configmap/stale-cm") && left.contains("would be deleted"), "{left}");
    app.screenshot("maintenance").await;
    app.click("[data-testid=cleanup-apply]").await;
    app.wait_text("[data-testid=cleanup-done]", "deleted (audited)").await;
    let gone = kube.with(|s| !s.objects.keys().any(|(p, _, n)| p == "jobs" && n == "old-job"));
    assert!(gone, "the job is deleted");
}
