//! The operations calendar below the UI: occurrences with their status, automated steps
//! run against the fake cluster, manual ticks, completion and skipping, the quality gates
//! with recorded Job evidence, maintenance windows silenced in a real AlertManager, the
//! .ics export, and the CLI.

use std::process::Command;

use chrono::{Duration, TimeZone, Utc};
use hsof_core::{AppContext, BackendChoice, Options};
use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_ops::calendar::{OccurrenceStatus, Verdict};
use hsof_tests::servers;

struct Env {
    ctx: AppContext,
    dir: tempfile::TempDir,
    _kube: FakeKube,
}

fn env(alertmanager: Option<&str>) -> Env {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 0);
    let kube = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = kubeconfig.display().to_string();
    cfg.team.timezone = "Europe/Berlin".into();
    cfg.endpoints.request_timeout_secs = 2;
    if let Some(am) = alertmanager {
        cfg.endpoints.alertmanager_url = am.into();
    }
    let cfg_path = dir.path().join("config.toml");
    hsof_core::config::save(&cfg_path, &cfg).expect("config");
    let ctx = AppContext::open(&Options {
        config: Some(cfg_path),
        data_dir: Some(dir.path().join("data")),
        secrets: BackendChoice::File,
    });
    Env { ctx, dir, _kube: kube }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_morning_check_runs_from_the_calendar_and_its_results_are_kept() {
    let e = env(None);
    let ctx = &e.ctx;
    // Monday 2026-11-30, 09:30 Berlin: the 09:00 morning check is due.
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 8, 30, 0).single().expect("time");
    let day = ctx.calendar(now - Duration::hours(9), now + Duration::hours(15), now).expect("calendar");
    let morning = day
        .occurrences
        .iter()
        .find(|o| o.occurrence.procedure_id.contains("morning"))
        .expect("a morning check on Monday");
    assert_eq!(morning.status, OccurrenceStatus::Due);
    assert!(day.occurrences.iter().any(|o| o.occurrence.title.contains("Standup")), "weekday standup");
    let key = morning.occurrence.key.clone();
    let detail = ctx.occurrence(&key, now).expect("checklist");
    let pods = detail
        .steps
        .iter()
        .find(|s| matches!(s.step.action, Some(hsof_ops::calendar::Action::PodStatus)))
        .expect("an automated pod-status step")
        .step
        .id
        .clone();
    let d = ctx.run_step(&key, &pods, "ana", now).await.expect("run");
    let r = d.steps.iter().find(|s| s.step.id == pods).and_then(|s| s.result.clone()).expect("recorded");
    assert_eq!(r.verdict, "pass", "{}", r.output);
    assert!(r.output.contains("3 pods"), "{}", r.output);
    // A step whose feature is unreachable records `unknown` with the reason; the rest works.
    let health = detail
        .steps
        .iter()
        .find(|s| matches!(s.step.action, Some(hsof_ops::calendar::Action::HealthEndpoints)))
        .map(|s| s.step.id.clone());
    if let Some(h) = health {
        let d = ctx.run_step(&key, &h, "ana", now).await.expect("run");
        let r = d.steps.iter().find(|s| s.step.id == h).and_then(|s| s.result.clone()).expect("recorded");
        assert!(["unknown", "fail"].contains(&r.verdict.as_str()), "{r:?}");
    }
    let manual = detail.steps.iter().find(|s| s.step.action.is_none()).map(|s| s.step.id.clone());
    if let Some(m) = &manual {
        ctx.tick_step(&key, m, "looked at Slack", "ana", now).expect("tick");
    }
    assert!(
        ctx.run_step(&key, manual.as_deref().unwrap_or("x"), "ana", now).await.is_err(),
        "a manual step is not run"
    );
    let d = ctx.complete_occurrence(&key, "", "ana", now).expect("complete");
    assert_eq!(d.view.status, OccurrenceStatus::Partial, "steps without a result make it partial");
    assert_eq!(d.completed_by.as_deref(), Some("ana"));
    // Kept: reopen the store through a fresh context.
    drop(e.ctx);
    let ctx = AppContext::open(&Options {
        config: Some(e.dir.path().join("config.toml")),
        data_dir: Some(e.dir.path().join("data")),
        secrets: BackendChoice::File,
    });
    let d = ctx.occurrence(&key, now).expect("again");
    assert!(d.steps.iter().any(|s| s.result.as_ref().is_some_and(|r| r.output.contains("3 pods"))));

    // Skipping needs a reason; an occurrence that never happened is not found.
    let evening = key.replace("morning-health-check@2026-11-30T09:00", "evening-status-review@2026-11-30T18:00");
    assert!(ctx.skip_occurrence(&evening, " ", "ana", now).is_err());
    assert!(ctx.occurrence("morning-health-check@2026-11-30T09:01", now).is_err());
    // Yesterday's evening review, untouched, is overdue and noticed once.
    let later = now + Duration::days(2);
    let notices = ctx.calendar_tick(later).expect("tick");
    assert!(notices.iter().any(|n| n.title.starts_with("Overdue")), "{notices:?}");
    assert!(ctx.calendar_tick(later).expect("tick").iter().all(|n| !n.title.starts_with("Overdue")), "once");
}

#[tokio::test(flavor = "multi_thread")]
async fn gates_use_recorded_jobs_and_windows_are_silenced_in_alertmanager() {
    let am = servers::alertmanager();
    let e = env(Some(&am.url));
    let ctx = &e.ctx;
    let now = Utc::now();
    // Evidence: a passing integration-test Job, run through the audited change path.
    let created = ctx
        .change(
            &hsof_core::cluster::ChangeRequest::RunJob { job: hsof_core::cluster::RunbookJob::IntegrationTests },
            false,
            "ana",
            now,
        )
        .await
        .expect("job");
    let name = created.target.trim_start_matches("job/").to_string();
    ctx.follow_runbook_job(None, &name, std::time::Duration::from_secs(30), Utc::now).await.expect("follow");
    let g = ctx.gates(now).await.expect("gates");
    let integration = g.deployment.iter().find(|r| r.title.to_lowercase().contains("integration")).expect("gate");
    assert_eq!(integration.verdict, Verdict::Pass, "{integration:?}");
    assert!(g.deployment.iter().any(|r| r.verdict == Verdict::Unknown), "no load test or scan recorded yet");

    let start = now + Duration::hours(24);
    let w = hsof_core::calendar::NewWindow {
        title: "GPU driver upgrade".into(),
        start: start.to_rfc3339(),
        end: (start + Duration::hours(2)).to_rfc3339(),
        description: "nvidia driver 550 → 560".into(),
        impact: "selection jobs paused".into(),
        silence: true,
    };
    let (view, warnings) = ctx.schedule_window(&w, "ana", now).await.expect("schedule");
    assert!(!view.notice_ok && warnings.iter().any(|w| w.contains("48")), "short notice said: {warnings:?}");
    assert!(view.announcement.contains("GPU driver upgrade") && view.announcement.contains("selection jobs paused"));
    let silence = view.silence_id.clone().expect("silenced");
    let silences: serde_json::Value =
        reqwest::get(format!("{}/api/v2/silences", am.url)).await.expect("get").json().await.expect("json");
    let ours = silences.as_array().and_then(|a| a.iter().find(|s| s["id"] == silence.as_str())).expect("{silences}");
    // Only HSOF's alerts (its Prometheus's external label), not every team's on this AlertManager.
    assert_eq!(
        ours["matchers"],
        serde_json::json!([{"name": "monitor", "value": "hsof-monitor", "isRegex": false, "isEqual": true}]),
        "{ours}"
    );
    // The announcement reminder is due now (less than 48 h ahead): noticed once.
    assert!(ctx.calendar_tick(now).expect("tick").iter().any(|n| n.title.contains("GPU driver upgrade")));
    ctx.cancel_window(view.window.id, "ana", now).await.expect("cancel");
    assert!(ctx.cancel_window(view.window.id, "ana", now).await.is_err(), "twice");
    let bad = hsof_core::calendar::NewWindow { end: (start - Duration::hours(1)).to_rfc3339(), ..w };
    assert!(ctx.schedule_window(&bad, "ana", now).await.is_err(), "end before start");

    let ics = ctx.calendar_ics(now).expect("ics");
    assert!(ics.contains("BEGIN:VCALENDAR") && ics.contains("RRULE:"));
}

#[test]
fn the_cli_lists_runs_exports_and_validates_the_catalog() {
    let e = env(None);
    let cli = |args: &[&str]| {
        Command::new(hsof_tests::hsofctl())
            .args(args)
            .env("HSOF_CONTROL_CONFIG", e.dir.path().join("config.toml"))
            .env("HSOF_CONTROL_DATA_DIR", e.dir.path().join("data"))
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .output()
            .expect("hsofctl")
    };
    let week = cli(&["--json", "calendar", "week"]);
    assert!(week.status.success(), "{}", String::from_utf8_lossy(&week.stderr));
    let v: serde_json::Value = serde_json::from_slice(&week.stdout).expect("json");
    assert!(v["occurrences"].as_array().is_some_and(|o| o.len() > 10));
    let ics = e.dir.path().join("out.ics");
    assert!(cli(&["calendar", "export", "--ics", &ics.display().to_string()]).status.success());
    assert!(std::fs::read_to_string(&ics).expect("ics").contains("BEGIN:VEVENT"));

    // A broken user catalog is named (file, procedure, field) and the built-in one is used.
    std::fs::write(e.dir.path().join("procedures.toml"), "[[procedures]]\nid = \"x\"\ntitle = \"X\"\ncadence = \"weekly\"\nrrule = \"FREQ=WEEKLY;BYDAY=MO\"\nstart = \"2026-01-06T09:00\"\nduration_minutes = 30\nsection = \"s\"\n[[procedures.steps]]\nid = \"a\"\ntext = \"a\"\n").expect("write");
    let out = cli(&["--json", "calendar", "week"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let problem = v["catalog_problem"].as_str().unwrap_or_default();
    assert!(problem.contains("procedures.toml") && problem.contains("`x`"), "{problem}");
    assert!(v["occurrences"].as_array().is_some_and(|o| o.len() > 10), "built-in catalog still used");
}

#[test]
fn a_fresh_install_sees_the_past_as_untracked_not_as_overdue_work() {
    let e = env(None);
    let now = Utc::now();
    let v = e.ctx.calendar(now - Duration::days(14), now, now).expect("calendar");
    assert!(!v.occurrences.is_empty());
    assert!(
        v.occurrences.iter().all(|o| o.status != OccurrenceStatus::Overdue),
        "nothing recorded yet, nothing overdue"
    );
    assert!(v.occurrences.iter().any(|o| o.status == OccurrenceStatus::Untracked));
    assert_eq!(e.ctx.overdue_count(now).expect("count"), 0);
}

/// The evening review's step 2 reads the calendar and the cluster: the maintenance windows
/// of the coming week (short notice warns) and the backup CronJob's schedule and last runs.
#[tokio::test(flavor = "multi_thread")]
async fn the_evening_review_lists_maintenance_and_the_backup_schedule() {
    let e = env(None);
    let ctx = &e.ctx;
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).single().expect("time");
    let step = |c: &hsof_core::monitoring::Checklist| {
        c.items.iter().find(|i| i.title.starts_with("2. Scheduled maintenance")).expect("step 2").clone()
    };
    let quiet = step(&ctx.check_evening(|| now).await.expect("evening"));
    assert_eq!(quiet.outcome, hsof_core::monitoring::CheckOutcome::Pass, "{}", quiet.evidence);
    assert!(quiet.evidence.contains("no maintenance window in the next 7 days"), "{}", quiet.evidence);
    assert!(quiet.evidence.contains("backup CronJob hsof-backup"), "{}", quiet.evidence);

    let window = |title: &str, hours: i64| hsof_core::calendar::NewWindow {
        title: title.into(),
        start: (now + Duration::hours(hours)).to_rfc3339(),
        end: (now + Duration::hours(hours + 2)).to_rfc3339(),
        description: "x".into(),
        impact: "none".into(),
        silence: false,
    };
    ctx.schedule_window(&window("Node pool upgrade", 72), "ana", now).await.expect("schedule");
    let planned = step(&ctx.check_evening(|| now).await.expect("evening"));
    assert_eq!(planned.outcome, hsof_core::monitoring::CheckOutcome::Pass, "{}", planned.evidence);
    assert!(planned.evidence.contains("maintenance \"Node pool upgrade\" Thu 03 Dec 18:00"), "{}", planned.evidence);

    ctx.schedule_window(&window("Hotfix", 20), "ana", now).await.expect("schedule");
    ctx.schedule_window(&window("Far away", 24 * 9), "ana", now).await.expect("schedule");
    let short = step(&ctx.check_evening(|| now).await.expect("evening"));
    assert_eq!(short.outcome, hsof_core::monitoring::CheckOutcome::Warn, "{}", short.evidence);
    assert!(short.evidence.contains("\"Hotfix\"") && short.evidence.contains("less than 48 h"), "{}", short.evidence);
    assert!(!short.evidence.contains("Far away"), "{}", short.evidence);
}
