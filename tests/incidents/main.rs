//! Incident response end to end below the UI: a P1 from declaration to post-mortem under
//! an injected clock, Slack through a local webhook receiver (ok, 500, 400, hanging, not
//! configured), emergency changes linked while an incident is open, and the CLI.

use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hsof_core::{AppContext, BackendChoice, Options, SecretValue};
use hsof_fake_kube::{seed_hsof, FakeKube, Store};
use hsof_ops::incidents::{NewIncident, Severity, StatusUpdate, TimelineKind};
use hsof_tests::webhook::{Answer, Webhook};

struct Env {
    ctx: AppContext,
    dir: tempfile::TempDir,
}

fn env(webhook: Option<&str>, kubeconfig: Option<&std::path::Path>) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = hsof_core::config::Config::default();
    cfg.team.timezone = "Europe/Berlin".into();
    cfg.team.business_hours_start = "09:00".into();
    cfg.team.business_hours_end = "17:00".into();
    if let Some(k) = kubeconfig {
        cfg.cluster.kubeconfig = k.display().to_string();
    }
    let cfg_path = dir.path().join("config.toml");
    hsof_core::config::save(&cfg_path, &cfg).expect("config");
    let ctx = AppContext::open(&Options {
        config: Some(cfg_path),
        data_dir: Some(dir.path().join("data")),
        secrets: BackendChoice::File,
    });
    if let Some(url) = webhook {
        ctx.secrets().set("slack-webhook", &SecretValue::new(url)).expect("secret");
    }
    Env { ctx, dir }
}

fn p1(title: &str) -> NewIncident {
    NewIncident {
        title: title.into(),
        severity: Severity::P1,
        components: vec!["stage2".into()],
        description: "tree search throughput fell by half".into(),
        source_alert: None,
        drill: None,
    }
}

/// Thursday 2026-11-26 10:00 Berlin.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).single().expect("time")
}

fn min(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_p1_runs_from_declaration_to_postmortem_with_every_reminder_on_time() {
    let hook = Webhook::start(Answer::Ok);
    let e = env(Some(&hook.url), None);
    let ctx = &e.ctx;
    let d = ctx.incident_declare(&p1("Stage 2 throughput halved"), "ana", t0()).expect("declare");
    let id = d.view.incident.id;
    assert_eq!(ctx.flush_slack(t0()).await.expect("flush"), (1, 0));
    let bodies = hook.bodies();
    assert!(bodies[0]["text"].as_str().unwrap_or_default().contains("Stage 2 throughput halved"), "{bodies:?}");
    assert!(bodies[0]["blocks"].is_array());

    // Nothing is due before the targets; at +16 min the acknowledgement (15 min) and the
    // first status update (every 15 min) are, each reminded once.
    assert!(ctx.incidents_tick(t0() + min(10)).expect("tick").is_empty());
    let due = ctx.incidents_tick(t0() + min(16)).expect("tick");
    assert_eq!(due.len(), 2, "{due:?}");
    assert!(ctx.incidents_tick(t0() + min(17)).expect("tick").is_empty(), "once per reminder");

    ctx.incident_ack(id, None, "ana", t0() + min(17)).await.expect("ack");
    let u = StatusUpdate {
        conditions: "stage 2 at 40 % of normal throughput".into(),
        actions: "rolling back to revision 1".into(),
        needs: "nothing".into(),
    };
    ctx.incident_update(id, &u, "ana", t0() + min(20)).expect("update");
    assert_eq!(ctx.flush_slack(t0() + min(20)).await.expect("flush"), (1, 0));
    let text = hook.bodies()[1].to_string();
    assert!(text.contains("rolling back to revision 1") && text.contains("40 %"), "{text}");

    // Escalation at 30 min (unresolved): marked, on the timeline, notified once.
    let due = ctx.incidents_tick(t0() + min(31)).expect("tick");
    assert!(due.iter().any(|r| r.title.to_lowercase().contains("escalat")), "{due:?}");
    let d = ctx.incident_detail(id, t0() + min(31)).expect("detail");
    assert!(d.view.incident.escalated_at.is_some());
    assert!(d.timeline.iter().any(|e| e.kind == TimelineKind::Escalated));
    // The next update is due 15 min after the last one (at +35), not before.
    assert!(ctx.incidents_tick(t0() + min(34)).expect("tick").is_empty());
    assert_eq!(ctx.incidents_tick(t0() + min(36)).expect("tick").len(), 1);

    let d = ctx.incident_resolve(id, "rolled back", "ana", t0() + min(50)).expect("resolve");
    assert!(d.view.timers.is_none());
    // Friday 09:00 Berlin = 08:00 UTC: the next business day after Thursday.
    assert_eq!(d.postmortem_due.as_deref(), Some("2026-11-27T08:00:00.000Z"));
    let cal = ctx.calendar(t0(), t0() + chrono::Duration::days(3), t0() + min(50)).expect("calendar");
    assert!(cal.reviews.iter().any(|r| r.incident_id == id && r.title.contains("Post-mortem")), "{:?}", cal.reviews);
    assert_eq!(ctx.flush_slack(t0() + min(50)).await.expect("flush"), (1, 0));
    assert!(ctx.incidents_tick(t0() + min(120)).expect("tick").is_empty(), "resolved: no more reminders");

    let summary = ctx.incident_summary(id).expect("summary");
    for needle in ["Stage 2 throughput halved", "P1", "rolled back", "40 %"] {
        assert!(summary.contains(needle), "summary lacks {needle:?}:\n{summary}");
    }
    ctx.incident_save_summary(id, &format!("{summary}\n- follow-up: alert on stage 2 rate"), "ana", t0() + min(60))
        .expect("save");
    assert!(ctx.incident_summary(id).expect("saved").contains("follow-up: alert on stage 2 rate"));
    let stats = ctx.incident_stats(t0() - min(1), t0() + min(1)).expect("stats");
    let p1 = stats.iter().find(|s| s.severity == Severity::P1).expect("p1");
    assert_eq!((p1.count, p1.mtta_secs, p1.mttr_secs), (1, Some(17.0 * 60.0), Some(50.0 * 60.0)));
    drop(e.dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_failures_are_shown_retried_with_backoff_and_never_lost() {
    let hook = Webhook::start(Answer::Status(500, "internal_error".into()));
    let e = env(Some(&hook.url), None);
    let ctx = &e.ctx;
    let id = ctx.incident_declare(&p1("Webhook trouble"), "ana", t0()).expect("declare").view.incident.id;
    assert_eq!(ctx.flush_slack(t0()).await.expect("flush"), (0, 1));
    let d = ctx.incident_detail(id, t0()).expect("detail");
    assert!(d.slack[0].last_error.as_deref().unwrap_or_default().contains("500"), "{:?}", d.slack);
    assert!(d.timeline.iter().any(|e| e.kind == TimelineKind::SlackFailed));
    assert_eq!(ctx.flush_slack(t0() + chrono::Duration::seconds(1)).await.expect("flush"), (0, 0), "backing off");
    hook.answer(Answer::Ok);
    assert_eq!(ctx.flush_slack(t0() + min(1)).await.expect("flush"), (1, 0));
    assert_eq!(hook.bodies().len(), 1);

    // A permanent refusal is kept and can be retried by hand.
    hook.answer(Answer::Status(400, "invalid_payload".into()));
    ctx.incident_update(
        id,
        &StatusUpdate { conditions: "x".into(), actions: String::new(), needs: String::new() },
        "ana",
        t0() + min(2),
    )
    .expect("update");
    assert_eq!(ctx.flush_slack(t0() + min(2)).await.expect("flush"), (0, 1));
    let post = ctx.incident_detail(id, t0() + min(2)).expect("detail").slack.pop().expect("post");
    assert!(post.gave_up && post.posted_at.is_none());
    assert_eq!(ctx.flush_slack(t0() + min(60)).await.expect("flush"), (0, 0), "not retried on its own");
    hook.answer(Answer::Ok);
    assert!(ctx.slack_retry(post.id, t0() + min(61)).expect("retry"));
    assert_eq!(ctx.flush_slack(t0() + min(61)).await.expect("flush"), (1, 0));

    // A hanging webhook times out instead of hanging the app; the message waits.
    hook.answer(Answer::Hang);
    ctx.incident_update(
        id,
        &StatusUpdate { conditions: "y".into(), actions: String::new(), needs: String::new() },
        "ana",
        t0() + min(62),
    )
    .expect("update");
    let started = std::time::Instant::now();
    assert_eq!(ctx.flush_slack(t0() + min(62)).await.expect("flush"), (0, 1));
    assert!(started.elapsed() < Duration::from_secs(20));
    let last = ctx.incident_detail(id, t0() + min(62)).expect("detail").slack.pop().expect("post");
    assert!(last.posted_at.is_none() && !last.gave_up, "{last:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_webhook_or_with_a_plain_http_one_posts_wait_with_the_reason() {
    let e = env(None, None);
    let id = e.ctx.incident_declare(&p1("No webhook yet"), "ana", t0()).expect("declare").view.incident.id;
    assert_eq!(e.ctx.flush_slack(t0()).await.expect("flush"), (0, 1));
    let post = &e.ctx.incident_detail(id, t0()).expect("detail").slack[0];
    assert!(post.last_error.as_deref().unwrap_or_default().contains("hsofctl secret set slack-webhook"), "{post:?}");
    assert!(!post.gave_up, "kept for when the webhook is configured");

    let e = env(Some("http://hooks.example.com/services/x"), None);
    let id = e.ctx.incident_declare(&p1("Insecure webhook"), "ana", t0()).expect("declare").view.incident.id;
    e.ctx.flush_slack(t0()).await.expect("flush");
    let post = &e.ctx.incident_detail(id, t0()).expect("detail").slack[0];
    assert!(post.last_error.as_deref().unwrap_or_default().contains("https"), "{post:?}");

    // Bad input: no title, a blank update, acknowledging twice.
    let mut blank = p1("  ");
    assert!(e.ctx.incident_declare(&blank, "ana", t0()).is_err());
    blank.title = "x".repeat(500);
    assert!(e.ctx.incident_declare(&blank, "ana", t0()).expect_err("too long").to_string().contains("200"));
    let empty = StatusUpdate { conditions: " ".into(), actions: String::new(), needs: String::new() };
    assert!(e.ctx.incident_update(id, &empty, "ana", t0()).is_err());
    e.ctx.incident_ack(id, None, "ana", t0()).await.expect("ack");
    assert!(e.ctx.incident_ack(id, None, "ana", t0()).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_during_an_open_incident_are_emergency_changes_linked_to_it() {
    let mut store = Store::default();
    seed_hsof(&mut store, 3, 0);
    let kube = FakeKube::start(store);
    let kdir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = kdir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
    let e = env(None, Some(&kubeconfig));
    let ctx = &e.ctx;
    let now = Utc::now();
    let id = ctx
        .incident_declare(&NewIncident { severity: Severity::P0, ..p1("Everything down") }, "ana", now)
        .expect("declare")
        .view
        .incident
        .id;
    ctx.change(&hsof_core::cluster::ChangeRequest::Restart, false, "ana", now).await.expect("restart");
    let audit = ctx.audit_list(5).expect("audit");
    assert!(audit[0].action.starts_with("emergency.rollout.restart"), "{:?}", audit[0]);
    let d = ctx.incident_detail(id, now).expect("detail");
    let change = d.timeline.iter().find(|e| e.kind == TimelineKind::Change).expect("linked change");
    assert_eq!(change.data["audit_id"].as_i64(), Some(audit[0].id));

    // The snapshot attaches pods, health, history and alerts (unreachable ones say why).
    let d = ctx.incident_snapshot(id, "ana", now).await.expect("snapshot");
    let snap = d.timeline.iter().find(|e| e.kind == TimelineKind::Snapshot).expect("snapshot");
    assert!(snap.text.contains("3 pods"), "{}", snap.text);
    assert!(snap.data["rollout_history"].is_array());
    assert!(snap.data["health"].is_object(), "{}", snap.data["health"]);
    assert!(snap.text.contains("health"), "{}", snap.text);

    ctx.incident_resolve(id, "", "ana", now).expect("resolve");
    ctx.change(&hsof_core::cluster::ChangeRequest::Scale { replicas: 4 }, false, "ana", now).await.expect("scale");
    assert!(
        !ctx.audit_list(1).expect("audit")[0].action.starts_with("emergency"),
        "no open incident: a standard change"
    );
}

#[test]
fn the_cli_declares_updates_resolves_and_writes_the_summary() {
    let hook = Webhook::start(Answer::Ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let cli = |args: &[&str]| {
        Command::new(hsof_tests::hsofctl())
            .args(args)
            .env("HSOF_CONTROL_CONFIG", dir.path().join("config.toml"))
            .env("HSOF_CONTROL_DATA_DIR", dir.path().join("data"))
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .output()
            .expect("hsofctl")
    };
    let set = Command::new(hsof_tests::hsofctl())
        .args(["secret", "set", "slack-webhook"])
        .env("HSOF_CONTROL_CONFIG", dir.path().join("config.toml"))
        .env("HSOF_CONTROL_DATA_DIR", dir.path().join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin.take().expect("stdin").write_all(hook.url.as_bytes())?;
            c.wait()
        })
        .expect("secret set");
    assert!(set.success());
    let out = cli(&[
        "--json",
        "incident",
        "declare",
        "--severity",
        "P1",
        "--title",
        "CLI incident",
        "--components",
        "gpu,model",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let id = d["view"]["incident"]["id"].as_i64().expect("id").to_string();
    assert_eq!(d["view"]["incident"]["components"], serde_json::json!(["gpu", "model"]));
    assert_eq!(hook.wait_for(1, Duration::from_secs(5)).len(), 1, "posted at once");
    assert!(cli(&["incident", "ack", &id]).status.success());
    let out = cli(&["incident", "update", &id, "--conditions", "degraded", "--actions", "scaling out"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(hook.wait_for(2, Duration::from_secs(5))[1].to_string().contains("scaling out"));
    assert!(cli(&["incident", "resolve", &id, "--note", "scaled"]).status.success());
    let list = cli(&["--json", "incident", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(list[0]["incident"]["status"], "resolved");
    let md = String::from_utf8_lossy(&cli(&["incident", "summary", &id]).stdout).into_owned();
    assert!(md.contains("CLI incident") && md.contains("scaling out"), "{md}");

    let bad = cli(&["incident", "declare", "--severity", "P7", "--title", "x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("P0"), "{}", String::from_utf8_lossy(&bad.stderr));
    let none = cli(&["incident", "declare", "--severity", "P2"]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("title"), "{}", String::from_utf8_lossy(&none.stderr));
    assert_eq!(cli(&["incident", "show", "999"]).status.code(), Some(4), "not found");
}

fn flush_process(e: &Env) -> std::process::Child {
    Command::new(hsof_tests::hsofctl())
        .args(["--json", "incident", "flush"])
        .env("HSOF_CONTROL_CONFIG", e.dir.path().join("config.toml"))
        .env("HSOF_CONTROL_DATA_DIR", e.dir.path().join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("hsofctl incident flush")
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_and_the_app_flushing_at_once_post_each_message_once() {
    // A slow Slack: every answer takes 2 s, so all three flushers are in flight together.
    let hook = Webhook::start(Answer::Slow(Duration::from_secs(2)));
    let e = env(Some(&hook.url), None);
    let now = Utc::now();
    let mut titles = Vec::new();
    for (i, sev) in [Severity::P0, Severity::P1, Severity::P1, Severity::P0].into_iter().enumerate() {
        let title = format!("exactly-once incident {i}");
        let mut n = p1(&title);
        n.severity = sev;
        e.ctx.incident_declare(&n, "ana", now).expect("declare");
        titles.push(title);
    }
    let (a, b) = (flush_process(&e), flush_process(&e));
    // The app's poller runs the same flush, in this process, at the same time.
    let (ours, a, b) = tokio::join!(
        e.ctx.flush_slack(Utc::now()),
        tokio::task::spawn_blocking(move || a.wait_with_output().expect("a")),
        tokio::task::spawn_blocking(move || b.wait_with_output().expect("b")),
    );
    let ours = ours.expect("flush");
    let mut posted = ours.0;
    for out in [a.expect("join"), b.expect("join")] {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        posted += u32::try_from(v["posted"].as_u64().expect("posted")).expect("small");
    }
    let outbox = e.ctx.store().expect("store").slack_outbox(None).expect("outbox");
    assert!(outbox.len() >= 4, "one declaration message per incident at least: {outbox:?}");
    assert!(outbox.iter().all(|m| m.posted_at.is_some() && m.attempts == 1), "{outbox:?}");
    assert_eq!(posted as usize, outbox.len(), "the three flushers together posted each message once");
    let bodies = hook.wait_for(outbox.len(), Duration::from_secs(10));
    assert_eq!(bodies.len(), outbox.len(), "{bodies:?}");
    assert_eq!(hook.requests(), outbox.len(), "no message was sent twice");
    for m in &outbox {
        let sent: serde_json::Value = serde_json::from_str(&m.payload).expect("json");
        let n = bodies.iter().filter(|b| b["text"] == sent["text"]).count();
        assert_eq!(n, 1, "{} arrived {n} times", sent["text"]);
    }
    for t in &titles {
        assert!(bodies.iter().any(|b| b["text"].as_str().unwrap_or_default().contains(t.as_str())), "{t}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flusher_killed_mid_post_leaves_the_message_to_be_retried() {
    let hook = Webhook::start(Answer::Hang);
    let e = env(Some(&hook.url), None);
    e.ctx.incident_declare(&p1("killed mid-post"), "ana", Utc::now()).expect("declare");
    let mut child = flush_process(&e);
    let start = std::time::Instant::now();
    while hook.requests() == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "the flusher never posted");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");

    let store = e.ctx.store().expect("store");
    let m = store.slack_outbox(None).expect("outbox").pop().expect("the message is kept");
    assert!(m.posted_at.is_none() && !m.gave_up && m.attempts == 0, "{m:?}");
    hook.answer(Answer::Ok);
    // The dead flusher's lease holds for a while (it might still have been posting) ...
    assert_eq!(e.ctx.flush_slack(Utc::now()).await.expect("flush"), (0, 0));
    // ... and once it runs out the message goes, once.
    let later = Utc::now() + chrono::Duration::seconds(31);
    assert_eq!(e.ctx.flush_slack(later).await.expect("flush"), (1, 0));
    assert_eq!(hook.bodies().len(), 1);
    assert!(hook.bodies()[0]["text"].as_str().unwrap_or_default().contains("killed mid-post"));
}

/// `hsofctl` on `e`'s profile, its output.
fn ctl(e: &Env, args: &[&str]) -> std::process::Output {
    hsof_tests::hsofctl_on(e.dir.path()).args(args).output().expect("hsofctl")
}

/// Runs at whatever the clock says (`make test-dates` moves it to a week's end, both
/// Berlin DST changes, a leap day and a year's end): a daily two-person rotation covers
/// every night, a member removed leaves named gaps, follow-ups are due by the team's date.
#[test]
fn the_rotation_covers_every_night_at_any_date_and_a_removed_member_leaves_named_gaps() {
    let e = env(None, None);
    for (name, user) in [("ali", "alice"), ("bo", "bob")] {
        let out = ctl(&e, &["oncall", "member", "add", name, "--user", user]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = ctl(
        &e,
        &["oncall", "rotation", "set", "--members", "ali,bo", "--every", "daily", "--start", "2026-01-01T09:00"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = ctl(&e, &["--json", "oncall"]);
    assert_eq!(out.status.code(), Some(0), "tonight covered: {}", String::from_utf8_lossy(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["now"]["who"].is_string() && v["next"]["who"].is_string(), "{v}");
    assert_ne!(v["now"]["who"], v["next"]["who"]);
    let (from, to) = (v["tonight"][0].as_str().expect("from"), v["tonight"][1].as_str().expect("to"));
    let hours = (DateTime::parse_from_rfc3339(to).expect("to") - DateTime::parse_from_rfc3339(from).expect("from"))
        .num_minutes();
    assert!((14 * 60..=17 * 60).contains(&hours), "17:00 to 09:00 is 16 h (15 or 17 across a DST change): {hours} min");
    let out = ctl(&e, &["oncall", "week"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let week = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(week.lines().count() >= 7, "a hand-over a day: {week}");
    let ics = String::from_utf8(ctl(&e, &["oncall", "ics", "--weeks", "2"]).stdout).expect("utf-8");
    assert!(ics.starts_with("BEGIN:VCALENDAR") && ics.matches("BEGIN:VEVENT").count() >= 13, "{ics}");

    let out = ctl(&e, &["followup", "add", "Alert on queue depth", "--owner", "bo", "--due", "+1d"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = ctl(&e, &["followup", "list", "--overdue"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "due tomorrow is not overdue today: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = ctl(&e, &["followup", "add", "Old", "--owner", "bo", "--due", "2020-01-01"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("in the past"));

    let out = ctl(&e, &["oncall", "member", "remove", "bo"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Alert on queue depth"),
        "his follow-up is named to reassign"
    );
    let out = ctl(&e, &["oncall", "week"]);
    assert_eq!(out.status.code(), Some(2), "bo's days are gaps now");
    assert!(String::from_utf8_lossy(&out.stdout).contains("bo is no longer a member of the team"));
}
