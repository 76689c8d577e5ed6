//! The operations calendar through the real UI: a month of the runbook's procedures,
//! an occurrence's checklist run (automated step against the fake cluster, a manual
//! tick, completion), the quality gates, a maintenance window and the .ics export.

use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_tests::{Driver, Profile};

#[tokio::test(flavor = "multi_thread")]
async fn calendar_shows_the_runbook_and_runs_a_checklist() {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 0);
    let kube = FakeKube::start(store);
    let profile = Profile::new();
    profile.with_cluster(&kube);
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    // The spec works within one local day of the page's clock (today's checklist before
    // and after a restart): started just before midnight, it waits for the new day.
    let to_midnight = app
        .execute("const n = new Date(), m = new Date(n); m.setHours(24, 0, 0, 0); return m - n")
        .await
        .as_f64()
        .expect("ms to midnight");
    if to_midnight < 180_000.0 {
        tokio::time::sleep(std::time::Duration::from_millis(to_midnight as u64 + 2_000)).await;
    }
    app.open("calendar").await;
    // The month view opens on the current month, as the page's clock and locale name it.
    let month = app
        .execute("return new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long' }).format(new Date())")
        .await
        .as_str()
        .expect("month label")
        .to_string();
    app.wait_text("[data-testid=calendar]", &month.to_uppercase()).await;
    app.wait_css("[data-testid=calendar-pill]").await;
    app.screenshot("calendar-month").await;
    // The agenda view lists the week's procedures by name.
    app.execute("[...document.querySelectorAll('[data-testid=calendar] button')].find(b => b.textContent.trim() === 'agenda').click(); return 0").await;
    let mut listed = String::new();
    for _ in 0..50 {
        listed = app
            .execute("return document.querySelector('[data-testid=calendar]').textContent")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        if listed.contains("Morning Health Check") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(listed.contains("Morning Health Check") && listed.contains("Evening Status Review"), "{listed}");
    app.screenshot("calendar-agenda").await;

    // Today's morning check from the side panel.
    app.wait_text("[data-testid=panel-today]", "Morning Health Check").await;
    app.execute("[...document.querySelectorAll('[data-testid=today-row]')].find(r => r.textContent.includes('Morning Health Check')).click(); return 0").await;
    app.wait_text("[data-testid=checklist]", "Morning Health Check").await;
    let pods_step = app
        .execute("const b = [...document.querySelectorAll('li [data-testid^=run-]')].find(b => b.closest('li').textContent.match(/pod/i)); return b ? b.dataset.testid.slice(4) : null")
        .await;
    let step = pods_step.as_str().expect("a pod-status step in the morning check").to_string();
    app.click(&format!("[data-testid=run-{step}]")).await;
    app.wait_text(&format!("[data-testid=output-{step}]"), "3 pods").await;
    // Every automated step with one click; unreachable features record `unknown`, not a hang.
    app.click("[data-testid=run-all]").await;
    app.wait_enabled("[data-testid=run-all]").await;
    let manual = app
        .execute(
            "const b = document.querySelector('[data-testid^=tick-]'); return b ? b.dataset.testid.slice(5) : null",
        )
        .await;
    if let Some(m) = manual.as_str() {
        app.click(&format!("[data-testid=tick-{m}]")).await;
        app.wait_text(&format!("[data-testid=step-{m}]"), "ticked by").await;
    }
    app.wait_css("[data-testid=closing-note]").await.send_keys("all good").await.expect("note");
    app.click("[data-testid=complete]").await;
    app.wait_text("[data-testid=completed]", "Completed by").await;
    let status = app.wait_css("[data-testid=occurrence-status]").await.text().await.expect("status");
    assert!(status.contains("partial") || status.contains("done"), "{status}");
    app.screenshot("calendar-checklist").await;

    app.click("[data-testid=gates-evaluate]").await;
    app.wait_css("[data-testid=gates-deployment]").await;

    let ics = profile.data_dir().with_file_name("hsof.ics");
    app.execute("document.querySelector('[data-testid=ics-path]').scrollIntoView(); return 0").await;
    app.wait_css("[data-testid=ics-path]").await.send_keys(&ics.display().to_string()).await.expect("path");
    app.wait_css("[data-testid=ics-export]").await.click().await.expect("export");
    app.wait_text("[data-testid=ics-done]", "wrote").await;
    let text = std::fs::read_to_string(&ics).expect("ics written");
    assert!(
        text.contains("BEGIN:VCALENDAR") && text.matches("BEGIN:VEVENT").count() >= 20,
        "{}",
        &text[..text.len().min(400)]
    );
    assert!(text.contains("RRULE:FREQ=MONTHLY;BYDAY=1MO"), "first-Monday rules exported");
    // Reports: write the weekly summary and read it.
    app.open("reports").await;
    app.wait_css("[data-testid=report-weekly]").await.click().await.expect("weekly");
    app.wait_text("[data-testid=report-view]", "Weekly performance summary").await;
    app.wait_text("[data-testid=report-view]", "procedure done scheduled").await;
    app.screenshot("reports-weekly").await;
    let errors = app.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    app.close().await;

    // After a restart the morning check's record is still there.
    let app = driver.launch().await;
    app.open("calendar").await;
    app.wait_text("[data-testid=panel-today]", "Morning Health Check").await;
    app.execute("[...document.querySelectorAll('[data-testid=today-row]')].find(r => r.textContent.includes('Morning Health Check')).click(); return 0").await;
    app.wait_text("[data-testid=completed]", "Completed by").await;
    app.wait_text(&format!("[data-testid=output-{step}]"), "3 pods").await;
    app.close().await;
    driver.stop().await;
}
