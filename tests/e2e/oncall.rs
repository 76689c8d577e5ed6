//! Incidents carried through, in the real UI: the team and its rotation made with hsofctl
//! are on the On-call screen (Alt+O) and the Overview card; an incident declared in the
//! UI gets the on-call engineer proposed as commander; a stakeholder update is previewed
//! with the exact body and reaches the stakeholder webhook once; a follow-up added on the
//! incident's page is on the Follow-ups tab; the post-mortem shows its merged timeline and
//! says what it could not read.

use std::time::{Duration, Instant};

use hsof_tests::webhook::{Answer, Webhook};
use hsof_tests::{Driver, Profile};

fn ctl(profile: &Profile, args: &[&str]) {
    let out = std::process::Command::new(hsof_tests::hsofctl())
        .args(args)
        .env("HSOF_CONTROL_CONFIG", profile.config_file())
        .env("HSOF_CONTROL_DATA_DIR", profile.data_dir())
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .output()
        .expect("hsofctl");
    assert!(out.status.success(), "hsofctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rotation_a_commander_a_stakeholder_update_a_follow_up_and_the_post_mortem() {
    let hook = Webhook::start(Answer::Ok);
    let profile = Profile::new();
    let mut cfg = hsof_core::config::Config::default();
    cfg.team.timezone = "Europe/Berlin".into();
    cfg.stakeholders.target = "webhook".into();
    profile.write_config(&cfg);
    crate::incidents::set_secret(&profile, "stakeholder-webhook", &hook.url);
    let me = hsof_core::os_user();
    ctl(&profile, &["oncall", "member", "add", &me, "--user", &me, "--contact", "+49 30 1"]);
    ctl(&profile, &["oncall", "member", "add", "ben"]);
    // Daily hand-overs: whoever is on call now, the other is next.
    ctl(
        &profile,
        &[
            "oncall",
            "rotation",
            "set",
            "--members",
            &format!("{me},ben"),
            "--every",
            "daily",
            "--start",
            "2026-01-01T09:00",
        ],
    );

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.wait_text("[data-testid=card-oncall-now]", "until").await;
    app.screenshot("overview-oncall").await;
    let body = app.wait_css("body").await;
    body.send_keys("\u{E00A}o").await.expect("alt+o");
    let now = app.wait_text("[data-testid=oncall-now]", "until").await;
    assert!(now.contains(&me) || now.contains("ben"), "{now}");
    app.wait_css("[data-testid=oncall-tonight]").await;
    app.wait_text("[data-testid=oncall-next]", "").await;
    assert_eq!(
        app.execute("return document.querySelectorAll('[data-testid=tonight-gap]').length").await,
        serde_json::json!(0),
        "a two-person daily rotation covers the night"
    );
    app.screenshot("oncall").await;

    // Declare: the commander is proposed from the rotation.
    app.open("incidents").await;
    app.click("[data-testid=declare-open]").await;
    let commander = app.wait_css("[data-testid=declare-commander]").await;
    let proposed = commander.prop("value").await.expect("value").unwrap_or_default();
    assert!(proposed == me || proposed == "ben", "proposed {proposed:?}");
    app.wait_css("[data-testid=declare-title]").await.send_keys("Queue grows without bound").await.expect("title");
    app.click("[data-testid=sev-P1]").await;
    app.click("[data-testid=declare-submit]").await;
    app.wait_css("[data-testid=incident-page]").await;
    let roles = app.wait_text("[data-testid=incident-roles]", &proposed).await;
    assert!(roles.contains("commander") || roles.contains("Commander"), "{roles}");

    // A stakeholder update: the exact body, then delivered once.
    app.click("[data-testid=stakeholder-open]").await;
    app.wait_css("[data-testid=stakeholder-dialog]").await;
    let req = app.wait_text("[data-testid=stakeholder-request]", "\"status\"").await;
    assert!(req.contains("investigating"), "{req}");
    app.screenshot("incident-stakeholder").await;
    app.click("[data-testid=stakeholder-send]").await;
    let start = Instant::now();
    while hook.bodies().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the webhook never heard the update");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.wait_text("[data-testid=stakeholder-posts]", "delivered").await;
    assert_eq!(hook.bodies().len(), 1);
    assert_eq!(hook.bodies()[0]["status"], "investigating");

    // A follow-up from the incident's page, on the Follow-ups tab.
    app.wait_css("[data-testid=followup-title]").await.send_keys("Alert on queue depth").await.expect("title");
    app.wait_css("[data-testid=followup-new-owner]").await.send_keys("ben").await.expect("owner");
    app.click("[data-testid=followup-create]").await;
    app.wait_text("[data-testid=followup-row]", "Alert on queue depth").await;
    app.screenshot("incident-response").await;

    // The post-mortem: the incident's own entries, and what it could not read said.
    app.click("[data-testid=incident-tabs-postmortem]").await;
    app.wait_text("[data-testid=postmortem-timeline]", "declared P1").await;
    app.wait_text("[data-testid=postmortem-sources]", "not read").await;
    app.screenshot("postmortem").await;

    app.open("oncall").await;
    app.click("[data-testid=oncall-tabs-followups]").await;
    app.wait_text("[data-testid=followup-row]", "Alert on queue depth").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;
    driver.stop().await;
}
