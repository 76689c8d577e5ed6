//! Experiments on the cluster through the real app: the fake API server in kubelet mode
//! runs the real `hsofctl` as the engine image's container. One run goes to the cluster
//! from the Run panel and comes back with the features; another waits for a GPU (the
//! scheduler's reason on screen) and is cancelled, which deletes its Job.

use hsof_fake_kube::{seed_hsof, FakeKube, Kubelet, Store};
use hsof_tests::{Driver, Profile};

#[tokio::test(flavor = "multi_thread")]
async fn a_run_goes_to_the_cluster_from_the_ui_and_another_is_cancelled_while_waiting() {
    let data = tempfile::tempdir().expect("tempdir");
    let claim = data.path().join("claim");
    let mut store = Store::default();
    seed_hsof(&mut store, 1, 0);
    let mut k = Kubelet::from_pairs(&[], &[format!("hsof-data-storage={}", claim.display())]).expect("kubelet");
    k.images.insert("hsof/hsof-engine:0.1.0".into(), hsof_tests::hsofctl());
    store.kubelet = Some(k);
    let kube = FakeKube::start(store);
    let profile = Profile::new();
    profile.with_cluster(&kube);
    let csv = crate::write_experiment_csv(data.path());

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("experiments").await;
    app.wait_css("[data-testid=exp-path]").await.send_keys(&csv.display().to_string()).await.expect("type path");
    app.wait_enabled("[data-testid=exp-preview]").await.click().await.expect("preview");
    app.wait_text("[data-testid=exp-columns]", "signal_b").await;
    app.wait_css("[data-testid=exp-target]").await.select_by_value("label").await.expect("pick target");
    app.wait_css("[data-testid=exp-size-mode]").await.select_by_value("fixed").await.expect("fixed size");
    let k3 = app.wait_css("[data-testid=exp-k3]").await;
    k3.clear().await.expect("clear");
    k3.send_keys("2").await.expect("k3");
    app.wait_css("[data-testid=exp-place]").await.select_by_value("cluster").await.expect("cluster");
    app.wait_css("[data-testid=exp-gpus]").await;
    app.wait_text("[data-testid=exp-run]", "Run on cluster").await;
    app.wait_text("[data-testid=panel-run]", "Kubernetes Job").await;
    app.wait_enabled("[data-testid=exp-run]").await.click().await.expect("run");

    let result = app.wait_text("[data-testid=exp-result]", "accuracy").await;
    assert!(result.contains("cluster"), "where it ran is shown: {result}");
    let features = app.wait_text("[data-testid=exp-features]", "signal_a").await;
    assert!(features.contains("signal_b") && !features.contains("noise"), "{features}");
    app.wait_text("[data-testid=exp-run-status]", "as job hsof/hsof-select-1-").await;
    app.screenshot("experiments-cluster").await;
    let jobs = kube.with(|s| s.objects.keys().filter(|(p, _, _)| p == "jobs").count());
    assert_eq!(jobs, 1);

    // No GPU free: the run waits with the scheduler's reason on screen; Cancel deletes the Job.
    kube.with(|s| s.kubelet.as_mut().expect("kubelet").faults.no_gpu_capacity = true);
    app.wait_enabled("[data-testid=exp-run]").await.click().await.expect("run again");
    app.wait_text("[data-testid=exp-run-status]", "Insufficient nvidia.com/gpu").await;
    app.screenshot("experiments-cluster-waiting").await;
    app.click("[data-testid=exp-cancel]").await;
    app.wait_text("[data-testid=exp-run-status]", "the Job was deleted").await;
    let jobs: Vec<String> =
        kube.with(|s| s.objects.keys().filter(|(p, _, _)| p == "jobs").map(|(_, _, n)| n.clone()).collect());
    assert_eq!(jobs.len(), 1, "the cancelled run's Job is gone: {jobs:?}");
    app.wait_text("[data-testid=exp-history]", "cancelled").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}
