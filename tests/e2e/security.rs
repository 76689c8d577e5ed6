//! The Security screen on a namespace seeded with problems: Alt+Y, an empty state that says
//! what a review does, a review run with one click (verdict per runbook step, findings with
//! evidence, who can do what, who may talk to whom), a change made outside the app and a
//! second review showing exactly it, and the sign-off.

use hsof_fake_kube::{seed_hsof, seed_security, FakeKube, Store};
use hsof_tests::exporter::{Exporter, Script};
use hsof_tests::{Driver, Profile};

#[tokio::test(flavor = "multi_thread")]
async fn a_review_its_findings_a_change_and_the_sign_off() {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 0);
    seed_security(&mut store, chrono::Utc::now());
    let kube = FakeKube::start(store);
    let hsof = Exporter::start(Script::default());
    let profile = Profile::new();
    crate::one_cluster(&profile, &kube, &hsof);

    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    let body = app.wait_css("body").await;
    body.send_keys("\u{E00A}y").await.expect("alt+y");
    app.wait_text("[data-testid=review-empty]", "Run the review").await;

    app.click("[data-testid=review-run]").await;
    let verdicts = app.wait_text("[data-testid=review-verdicts]", "RBAC").await;
    assert!(verdicts.contains("Vulnerabilities: fail"), "a fixable critical CVE: {verdicts}");
    assert!(verdicts.contains("Backup access: warn") && verdicts.contains("Network policies: warn"), "{verdicts}");
    assert!(verdicts.contains("Audit log: not run"), "{verdicts}");
    let findings = app.wait_text("[data-testid=panel-findings]", "alice@example.com").await;
    assert!(findings.contains("debug-shell") && findings.contains("CVE-2024-5535"), "{findings}");
    let access = app.wait_text("[data-testid=access-table]", "old-deployer").await;
    assert!(access.contains("platform-oncall") && access.contains("does not exist"), "{access}");
    app.wait_css("[data-testid=net-picture]").await;
    app.wait_text("[data-testid=cross-check]", "all agree").await;
    app.wait_text("[data-testid=panel-diff]", "nothing to compare with").await;
    app.screenshot("security").await;
    app.execute("document.querySelector('[data-testid=panel-access]').scrollIntoView(); return 0").await;
    app.screenshot("security-access").await;

    // Someone deletes the HSOF network policy; the next review says exactly that.
    kube.with(|s| {
        let key = s.objects.keys().find(|(p, _, n)| p == "networkpolicies" && n == "hsof-network-policy").cloned();
        if let Some(k) = key {
            s.objects.remove(&k);
        }
    });
    app.click("[data-testid=review-run]").await;
    app.wait_text("[data-testid=review-age]", "review #2").await;
    let diff = app.wait_text("[data-testid=diff-lines]", "uncovered ingress: hsof-main").await;
    assert!(diff.contains("uncovered egress: hsof-main"), "{diff}");
    assert!(!diff.contains("subject"), "no subject changed: {diff}");
    app.screenshot("security-diff").await;

    // A finding becomes a maintenance task on the team's calendar.
    app.click("[data-testid=plan-open]").await;
    app.click("[data-testid=plan-submit]").await;
    app.wait_text("[data-testid=planned]", "maintenance window #").await;

    app.click("[data-testid=review-signoff-button]").await;
    app.wait_text("[data-testid=review-signoff]", "signed off by").await;
}
