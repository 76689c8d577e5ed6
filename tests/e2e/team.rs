//! The team store through the real app: a teammate (`hsofctl` with a data directory and
//! Kubernetes user of their own) declares a P1 in the shared cluster, and the app's
//! window shows it (by its watch) without a reload, with who declared it.

use std::time::{Duration, Instant};

use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_tests::{Driver, Profile};

#[tokio::test(flavor = "multi_thread")]
async fn a_teammates_p1_appears_in_the_window_without_a_reload() {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 0);
    let kube = FakeKube::start(store);
    let profile = Profile::new();
    profile.with_cluster(&kube);
    let kubeconfig = profile.data_dir().with_file_name("kubeconfig");
    let cluster = hsof_cluster::Cluster::connect(
        Some(&kubeconfig),
        None,
        "hsof",
        &hsof_cluster::ConnectOptions { timeout: Duration::from_secs(5), proxy_url: None },
    )
    .await
    .expect("connect");
    hsof_team::install(&cluster, false).await.expect("install the team store");

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("incidents").await;
    // The app finds the store installed and writable and turns sharing on by itself.
    app.wait_text("[data-testid=incident-list]", "team store").await;

    // The teammate: another desktop, another identity (the fake takes the token as the user).
    let teammate = tempfile::tempdir().expect("tempdir");
    let their_kubeconfig = teammate.path().join("kubeconfig");
    std::fs::write(
        &their_kubeconfig,
        kube.kubeconfig_named("fake", "bob", "hsof").replace(hsof_fake_kube::DEFAULT_TOKEN, "bob"),
    )
    .expect("kubeconfig");
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = their_kubeconfig.display().to_string();
    hsof_core::config::save(&teammate.path().join("config.toml"), &cfg).expect("config");
    let declared = Instant::now();
    let out = std::process::Command::new(hsof_tests::hsofctl())
        .args(["incident", "declare", "--severity", "P1", "--title", "Stage 2 workers lost their GPUs"])
        .env("HSOF_CONTROL_CONFIG", teammate.path().join("config.toml"))
        .env("HSOF_CONTROL_DATA_DIR", teammate.path().join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .env("USER", "bo")
        .output()
        .expect("hsofctl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    app.wait_until(
        "[...document.querySelectorAll('[data-testid=incident-row]')].some(r => r.textContent.includes('Stage 2 workers lost their GPUs'))",
    )
    .await;
    let shown = declared.elapsed();
    app.wait_text("[data-testid=incidents-pill]", "1 open").await;
    app.execute(
        "[...document.querySelectorAll('[data-testid=incident-row]')].find(r => r.textContent.includes('Stage 2 workers')).click()",
    )
    .await;
    app.wait_text("[data-testid=incident-timeline]", "bob (bo)").await;
    app.screenshot("team-teammate-p1").await;

    // The cluster goes away: an acknowledgement made here is kept and shown as not shared
    // yet, then goes when the cluster is back.
    kube.with(|s| s.faults.status = Some(503));
    app.click("[data-testid=incident-ack]").await;
    app.wait_css("[data-testid=unshared-tag]").await;
    app.wait_css("[data-testid=entry-unshared]").await;
    app.wait_text("[data-testid=team-pending]", "not shared yet").await;
    app.screenshot("team-not-shared-yet").await;
    kube.with(|s| s.faults.status = None);
    app.wait_until("!document.querySelector('[data-testid=unshared-tag]')").await;
    let state = String::from_utf8_lossy(
        &std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["-n", "hsof", "get", "incidents", "-o", "jsonpath={.items[0].status.state}"])
            .output()
            .expect("kubectl")
            .stdout,
    )
    .into_owned();
    assert_eq!(state, "Acknowledged");
    assert!(app.console_errors().await.is_empty(), "{:?}", app.console_errors().await);
    eprintln!("the teammate's P1 was on screen {} ms after hsofctl started", shown.as_millis());
    app.close().await;
    driver.stop().await;
}
