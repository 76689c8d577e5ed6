//! A P1 through the real UI: declared (after a crash mid-edit lost nothing), acknowledged,
//! snapshotted, updated to a local Slack webhook, resolved, summarised.

use std::time::{Duration, Instant};

use hsof_tests::webhook::{Answer, Webhook};
use hsof_tests::{app_binary, Driver, Profile};

pub(crate) fn set_secret(profile: &Profile, name: &str, value: &str) {
    use std::io::Write as _;
    let mut child = std::process::Command::new(hsof_tests::hsofctl())
        .args(["secret", "set", name])
        .env("HSOF_CONTROL_CONFIG", profile.config_file())
        .env("HSOF_CONTROL_DATA_DIR", profile.data_dir())
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("hsofctl");
    child.stdin.take().expect("stdin").write_all(value.as_bytes()).expect("write");
    assert!(child.wait().expect("wait").success());
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_p1_through_the_ui_with_slack_updates_and_no_draft_lost_to_a_crash() {
    let hook = Webhook::start(Answer::Ok);
    let profile = Profile::new();
    profile.write_config(&hsof_core::config::Config::default());
    set_secret(&profile, "slack-webhook", &hook.url);
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("incidents").await;
    app.wait_text("[data-testid=incidents-pill]", "no open incidents").await;
    app.wait_css("[data-testid=declare-open]").await.click().await.expect("declare");
    app.wait_css("[data-testid=declare-title]").await.send_keys("Stage 2 stalls after 1.5.0").await.expect("title");
    app.wait_css("[data-testid=sev-P1]").await.click().await.expect("P1");
    app.wait_css("[data-testid=declare-description]").await.send_keys("half the workers idle").await.expect("text");

    // Kill the app mid-edit, as a crash would; the draft is in the store already.
    let store = hsof_store::Store::open(&profile.data_dir().join(hsof_store::STORE_FILE)).expect("store");
    until("the draft saved", || {
        store.draft("incident-new").ok().flatten().is_some_and(|(t, _)| t.contains("half the workers idle"))
    })
    .await;
    // Only the app this spec started, by process id: other instances on the machine live on.
    let pids = driver.app_pids();
    assert!(!pids.is_empty(), "the app {} runs under this spec's driver", app_binary().display());
    for pid in &pids {
        let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
    drop(app);
    until("the app gone", || pids.iter().all(|&pid| hsof_tests::process_gone(pid))).await;

    let app = driver.launch().await;
    app.open("incidents").await;
    // The form is drawn before its draft is read back; `data-ready` says when it has been.
    app.wait_css("[data-testid=declare-form][data-ready=true]").await;
    let restored = app.execute("return [document.querySelector('[data-testid=declare-title]').value, document.querySelector('[data-testid=declare-description]').value, document.querySelector('[data-testid=sev-P1]').checked]").await;
    assert_eq!(restored, serde_json::json!(["Stage 2 stalls after 1.5.0", "half the workers idle", true]));
    app.screenshot("incident-draft-restored").await;
    app.wait_css("[data-testid=declare-submit]").await.click().await.expect("submit");
    app.wait_text("[data-testid=incident-status]", "Open").await;
    app.wait_text("[data-testid=incident-timers]", "target 15 min").await;
    app.wait_text("[data-testid=incidents-pill]", "1 open · worst P1").await;
    let posted = hook.wait_for(1, Duration::from_secs(20));
    assert!(posted[0].to_string().contains("Stage 2 stalls after 1.5.0"), "{posted:?}");

    app.wait_enabled("[data-testid=incident-ack]").await.click().await.expect("ack");
    app.wait_text("[data-testid=incident-status]", "Acknowledged").await;
    app.wait_enabled("[data-testid=incident-snapshot]").await.click().await.expect("snapshot");
    app.wait_text("[data-testid=incident-timeline]", "impact snapshot").await;
    app.wait_css("[data-testid=update-conditions]").await.send_keys("stage 2 at 40 % throughput").await.expect("c");
    app.wait_css("[data-testid=update-actions]").await.send_keys("rolling back to revision 1").await.expect("a");
    app.wait_css("[data-testid=update-preview]").await.click().await.expect("preview");
    app.wait_text("[data-testid=slack-preview]", "rolling back to revision 1").await;
    app.wait_enabled("[data-testid=update-post]").await.click().await.expect("post");
    app.wait_text("[data-testid=incident-timeline]", "status update").await;
    let posted = hook.wait_for(2, Duration::from_secs(20));
    assert!(posted[1].to_string().contains("rolling back to revision 1"), "{posted:?}");
    app.wait_text("[data-testid=slack-posts]", "posted").await;
    app.wait_text("[data-testid=timer-update]", "left").await;
    app.screenshot("incident-p1").await;

    app.wait_css("[data-testid=resolve-note]").await.send_keys("rolled back").await.expect("note");
    app.wait_enabled("[data-testid=incident-resolve]").await.click().await.expect("resolve");
    app.wait_text("[data-testid=incident-status]", "Resolved").await;
    app.wait_text("[data-testid=postmortem]", "Post-mortem scheduled").await;
    app.wait_css("[data-testid=summary-edit]").await.click().await.expect("edit summary");
    let text = app.wait_css("[data-testid=summary-text]").await;
    text.send_keys("\n- follow-up: alert on stage 2 throughput").await.expect("edit");
    app.wait_css("[data-testid=summary-save]").await.click().await.expect("save");
    let saved = app.wait_text("[data-testid=summary-saved]", "follow-up: alert on stage 2 throughput").await;
    assert!(saved.contains("Stage 2 stalls after 1.5.0"), "{saved}");
    assert_eq!(hook.wait_for(3, Duration::from_secs(20)).len(), 3, "the resolution reached Slack");
    app.screenshot("incident-resolved").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}

/// `hsofctl demo ARGS` for the spec's own demo profile.
pub(crate) fn demo(profile: &Profile, args: &[&str]) -> String {
    let out = std::process::Command::new(hsof_tests::hsofctl())
        .arg("demo")
        .args(args)
        .env("HSOF_DEMO_DIR", profile.demo_dir())
        .output()
        .expect("hsofctl demo");
    assert!(out.status.success(), "hsofctl demo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_drill_started_from_the_incidents_screen_switches_the_demo_and_stays_off_slack() {
    let hook = Webhook::start(Answer::Ok);
    let profile = Profile::new();
    profile.write_config(&hsof_core::config::Config::default());
    set_secret(&profile, "slack-webhook", &hook.url);
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("incidents").await;
    app.wait_css("[data-testid=drill-open]").await.click().await.expect("drill");
    app.wait_text("[data-testid=drill-no-demo]", "hsofctl demo start").await;
    app.wait_css("[data-testid=drill-start]").await.click().await.expect("start without a demo");
    app.wait_text("[data-testid=drill-form]", "no demo is running").await;

    demo(&profile, &["start"]);
    app.wait_css("[data-testid=drill-start]").await.click().await.expect("start");
    let banner = app.wait_text("[data-testid=drill-banner]", "gpu-hot").await;
    assert!(banner.contains("never posted to Slack"), "{banner}");
    app.wait_text("[data-testid=incident-list]", "DRILL").await;
    app.wait_text("[data-testid=incident-stats]", "drills excluded").await;
    app.screenshot("incident-drill").await;
    let status = demo(&profile, &["status", "--json"]);
    assert!(status.contains("\"scenario\": \"gpu-hot\""), "{status}");
    // Nothing reached the webhook, and the outbox holds nothing for the drill.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(hook.requests(), 0, "a drill reached Slack");
    demo(&profile, &["stop"]);
}
