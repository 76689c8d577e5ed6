//! Two desktops sharing incidents through the team store: two app contexts with their
//! own data directories and their own Kubernetes users against one fake API server.
//! Declarations, acknowledgements and updates reach the other desktop (by its watch,
//! within seconds); simultaneous acknowledgements make one; an offline desktop's writes
//! arrive once, in order, when it returns; Slack hears each message once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_core::{AppContext, BackendChoice, Options, SecretValue};
use hsof_ops::incidents::{NewIncident, Severity, StatusUpdate};
use hsof_tests::webhook::{Answer, Webhook};

use crate::{connect, fake, kubectl, Fake};

pub(crate) struct Desktop {
    pub(crate) ctx: Arc<AppContext>,
    pub(crate) dir: tempfile::TempDir,
}

impl Desktop {
    /// `hsofctl` on this desktop's profile.
    pub(crate) fn cli(&self, f: &Fake, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(hsof_tests::hsofctl());
        c.args(args)
            .env("HSOF_CONTROL_CONFIG", self.dir.path().join("config.toml"))
            .env("HSOF_CONTROL_DATA_DIR", self.dir.path().join("data"))
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            .env("KUBECONFIG", &f.kubeconfig)
            .stdout(std::process::Stdio::null());
        c
    }
}

/// A desktop whose kubeconfig authenticates as `user` (the fake takes the token as the name).
fn desktop(f: &Fake, user: &str, webhook: Option<&str>) -> Desktop {
    desktop_with(f, user, webhook, |_| {})
}

/// [`desktop`] with its configuration changed by `edit` first.
pub(crate) fn desktop_with(
    f: &Fake,
    user: &str,
    webhook: Option<&str>,
    edit: impl FnOnce(&mut hsof_core::config::Config),
) -> Desktop {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    let text = f.server.kubeconfig_named("fake", user, "hsof").replace(hsof_fake_kube::DEFAULT_TOKEN, user);
    std::fs::write(&kubeconfig, text).expect("kubeconfig");
    let mut cfg = hsof_core::config::Config::default();
    cfg.cluster.kubeconfig = kubeconfig.display().to_string();
    edit(&mut cfg);
    let config = dir.path().join("config.toml");
    hsof_core::config::save(&config, &cfg).expect("config");
    let ctx = AppContext::open(&Options {
        config: Some(config),
        data_dir: Some(dir.path().join("data")),
        secrets: BackendChoice::File,
    });
    if let Some(url) = webhook {
        ctx.secrets().set("slack-webhook", &SecretValue::new(url.to_string())).expect("secret");
    }
    Desktop { ctx: Arc::new(ctx), dir }
}

pub(crate) async fn installed(f: &Fake) {
    hsof_team::install(&connect(f).await, false).await.expect("install");
}

pub(crate) async fn connected(d: &Desktop) {
    let s = d.ctx.team_connect().await.expect("team status");
    assert!(s.installed && s.writable, "{s:?}");
    assert!(d.ctx.store().expect("store").team_enabled().expect("enabled"));
}

/// Starts `d`'s watch, as the app does; the notifications it would show are collected.
fn watching(d: &Desktop) -> tokio::task::JoinHandle<()> {
    watching_into(d, Arc::default())
}

fn watching_into(d: &Desktop, notices: Arc<std::sync::Mutex<Vec<String>>>) -> tokio::task::JoinHandle<()> {
    let ctx = d.ctx.clone();
    tokio::spawn(async move {
        let _ = ctx
            .team_watch(move |c| {
                if let Some(n) = c.notice {
                    notices.lock().expect("lock").push(format!("{} — {}", n.title, n.body));
                }
            })
            .await;
    })
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

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The incident named `name` on `d`, waited for up to `within`.
async fn arrives(
    d: &Desktop,
    name: &str,
    within: Duration,
    what: impl Fn(&hsof_core::incidents::IncidentDetail) -> bool,
) -> hsof_core::incidents::IncidentDetail {
    let start = std::time::Instant::now();
    loop {
        let store = d.ctx.store().expect("store");
        if let Some(id) = store.incident_by_team_name(name).expect("read") {
            let detail = d.ctx.incident_detail(id, now()).expect("detail");
            if what(&detail) {
                return detail;
            }
        }
        assert!(start.elapsed() < within, "{name} did not arrive as expected within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn name_of(d: &Desktop, id: i64) -> String {
    d.ctx.store().expect("store").incident(id).expect("read").expect("there").team_name.expect("shared")
}

fn kinds(detail: &hsof_core::incidents::IncidentDetail) -> Vec<String> {
    detail.timeline.iter().map(|e| e.kind.as_str().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declaration_and_an_acknowledgement_reach_the_other_desktop_within_seconds() {
    let f = fake();
    installed(&f).await;
    let (a, b) = (desktop(&f, "alice", None), desktop(&f, "bob", None));
    connected(&a).await;
    connected(&b).await;
    let notices_b: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let (wa, wb) = (watching(&a), watching_into(&b, notices_b.clone()));

    let declared = a.ctx.incident_declare(&p1("GPU OOM in stage 2"), "ali", now()).expect("declare");
    let name = name_of(&a, declared.view.incident.id);
    assert_eq!(declared.view.shared.as_ref().map(|s| s.pending), Some(2), "declaration and its Slack message wait");
    let sent = a.ctx.team_sync(now()).await.expect("sync");
    assert!(sent.sent >= 1 && sent.pending == 0 && sent.errors.is_empty(), "{sent:?}");
    assert_eq!(sent.identity.as_deref(), Some("alice"));

    let on_b = arrives(&b, &name, Duration::from_secs(2), |_| true).await;
    assert_eq!(on_b.view.incident.title, "GPU OOM in stage 2");
    assert_eq!(on_b.view.incident.declared_by, "alice (ali)", "the Kubernetes user, with the local one beside it");
    let start = std::time::Instant::now();
    while notices_b.lock().expect("lock").is_empty() && start.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        *notices_b.lock().expect("lock"),
        ["P1 declared by alice (ali) — GPU OOM in stage 2"],
        "one notification on B, naming who declared it"
    );

    b.ctx.incident_ack(on_b.view.incident.id, None, "bo", now()).await.expect("ack");
    b.ctx.team_sync(now()).await.expect("sync");
    let on_a = arrives(&a, &name, Duration::from_secs(2), |d| d.view.incident.acknowledged_at.is_some()).await;
    assert!(
        on_a.timeline.iter().any(|e| e.author == "bob (bo)" && e.kind.as_str() == "acknowledged"),
        "{:?}",
        on_a.timeline
    );
    assert!(on_a.unshared.is_empty());

    let table = kubectl(&f, &["get", "incidents"]);
    assert!(table.contains(&name) && table.contains("Acknowledged") && table.contains("alice"), "{table}");
    wa.abort();
    wb.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn simultaneous_acknowledgements_make_one_and_lose_no_entry() {
    let f = fake();
    installed(&f).await;
    let (a, b) = (desktop(&f, "alice", None), desktop(&f, "bob", None));
    connected(&a).await;
    connected(&b).await;
    let declared = a.ctx.incident_declare(&p1("stage 3 stalled"), "ali", now()).expect("declare");
    let name = name_of(&a, declared.view.incident.id);
    a.ctx.team_sync(now()).await.expect("sync");
    b.ctx.team_sync(now()).await.expect("sync");
    let id_b = b.ctx.store().expect("store").incident_by_team_name(&name).expect("read").expect("on b");

    let t = now();
    a.ctx.incident_ack(declared.view.incident.id, None, "ali", t).await.expect("ack a");
    b.ctx.incident_ack(id_b, None, "bo", t).await.expect("ack b");
    let (ra, rb) = tokio::join!(a.ctx.team_sync(now()), b.ctx.team_sync(now()));
    ra.expect("sync a");
    rb.expect("sync b");
    a.ctx.team_sync(now()).await.expect("sync a again");
    b.ctx.team_sync(now()).await.expect("sync b again");

    let on_a = a.ctx.incident_detail(declared.view.incident.id, now()).expect("a");
    let on_b = b.ctx.incident_detail(id_b, now()).expect("b");
    assert_eq!(kinds(&on_a), kinds(&on_b), "both desktops show one timeline");
    assert_eq!(on_a.timeline.len(), on_b.timeline.len());
    assert_eq!(kinds(&on_a).iter().filter(|k| *k == "acknowledged").count(), 1, "{:?}", on_a.timeline);
    let also: Vec<_> = on_a.timeline.iter().filter(|e| e.text.starts_with("also acknowledged by")).collect();
    assert_eq!(also.len(), 1, "the second acknowledgement is kept as a note: {:?}", on_a.timeline);
    assert_eq!(on_a.view.incident.acknowledged_at, on_b.view.incident.acknowledged_at);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offline_desktop_sends_its_writes_once_and_in_order_when_it_returns() {
    let f = fake();
    installed(&f).await;
    let (a, b) = (desktop(&f, "alice", None), desktop(&f, "bob", None));
    connected(&a).await;
    connected(&b).await;

    f.server.with(|s| s.faults.status = Some(503));
    let declared = a.ctx.incident_declare(&p1("backup job failed"), "ali", now()).expect("declare offline");
    let id = declared.view.incident.id;
    let update = StatusUpdate {
        conditions: "backups of 04:00 failed".into(),
        actions: "rerunning".into(),
        needs: String::new(),
    };
    a.ctx.incident_update(id, &update, "ali", now()).expect("update offline");
    assert!(a.ctx.team_sync(now()).await.is_err(), "the cluster is away");
    let waiting = a.ctx.incident_detail(id, now()).expect("detail");
    let shared = waiting.view.shared.clone().expect("shared");
    assert!(shared.pending >= 3 && shared.error.is_some(), "{shared:?}");
    assert_eq!(waiting.unshared.len(), waiting.timeline.len(), "every entry is marked not shared yet");
    let name = shared.name;

    f.server.with(|s| s.faults.status = None);
    let sent = a.ctx.team_sync(now()).await.expect("back");
    assert_eq!(sent.pending, 0, "{sent:?}");
    a.ctx.team_sync(now()).await.expect("again: nothing twice");
    b.ctx.team_sync(now()).await.expect("b");
    let on_b = arrives(&b, &name, Duration::from_secs(2), |_| true).await;
    assert_eq!(kinds(&on_b), ["declared", "update"], "in order, once: {:?}", on_b.timeline);
    assert!(on_b.view.incident.last_update_at.is_some());
    assert!(a.ctx.incident_detail(id, now()).expect("a").unshared.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_hears_each_message_once_with_two_apps_running() {
    let f = fake();
    installed(&f).await;
    let hook = Webhook::start(Answer::Slow(Duration::from_millis(300)));
    let (a, b) = (desktop(&f, "alice", Some(&hook.url)), desktop(&f, "bob", Some(&hook.url)));
    connected(&a).await;
    connected(&b).await;
    let declared = a.ctx.incident_declare(&p1("GPU node lost"), "ali", now()).expect("declare");
    let update =
        StatusUpdate { conditions: "node gpu-2 NotReady".into(), actions: "cordoned".into(), needs: String::new() };
    a.ctx.incident_update(declared.view.incident.id, &update, "ali", now()).expect("update");
    a.ctx.team_sync(now()).await.expect("sync a");
    b.ctx.team_sync(now()).await.expect("sync b");
    // Both desktops flush at once (two processes, as two apps), twice, as their clocks would.
    for _ in 0..2 {
        let flushes: Vec<_> =
            [&a, &b].iter().map(|d| d.cli(&f, &["incident", "flush"]).spawn().expect("hsofctl")).collect();
        for mut p in flushes {
            assert!(p.wait().expect("wait").success());
        }
        a.ctx.team_sync(now()).await.expect("sync a");
        b.ctx.team_sync(now()).await.expect("sync b");
    }
    let bodies = hook.bodies();
    let texts: Vec<&str> = bodies.iter().filter_map(|b| b["text"].as_str()).collect();
    assert_eq!(texts.len(), 2, "the declaration and the update, each once: {texts:?}");
    assert_ne!(texts[0], texts[1]);
    let name = name_of(&a, declared.view.incident.id);
    let on_b = arrives(&b, &name, Duration::from_secs(2), |d| d.slack.iter().all(|m| m.posted_at.is_some())).await;
    assert_eq!(on_b.slack.len(), 2);
    assert_eq!(kinds(&on_b).iter().filter(|k| *k == "slack_posted").count(), 2, "{:?}", on_b.timeline);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_edited_by_hand_into_another_shape_is_named_and_never_overwritten() {
    let f = fake();
    installed(&f).await;
    let a = desktop(&f, "alice", None);
    connected(&a).await;
    let declared = a.ctx.incident_declare(&p1("exporter down"), "ali", now()).expect("declare");
    let name = name_of(&a, declared.view.incident.id);
    a.ctx.team_sync(now()).await.expect("sync");
    kubectl(&f, &["patch", "incident", &name, "--type=merge", "-p", r#"{"spec":{"severity":"P9"}}"#]);
    let report = a.ctx.team_sync(now()).await.expect("sync");
    assert!(report.invalid.iter().any(|(n, why)| *n == name && why.contains("spec.severity")), "{report:?}");
    // The view still reads (the last good copy), and nothing wrote over the hand edit.
    assert_eq!(
        a.ctx.incident_detail(declared.view.incident.id, now()).expect("detail").view.incident.title,
        "exporter down"
    );
    let sev = kubectl(&f, &["get", "incident", &name, "-o", "jsonpath={.spec.severity}"]);
    assert_eq!(sev.trim(), "P9");
}

#[tokio::test(flavor = "multi_thread")]
async fn older_local_records_are_offered_for_upload_once() {
    let f = fake();
    installed(&f).await;
    let a = desktop(&f, "alice", None);
    let old = a.ctx.incident_declare(&p1("from before the team store"), "ali", now()).expect("declare");
    assert!(old.view.shared.is_none(), "local-only while the store is off");
    let t = now();
    let before_key = a.ctx.find_occurrence("morning-health-check", None, t).expect("an occurrence");
    a.ctx.complete_occurrence(&before_key, "done before", "ali", t).expect("complete");
    connected(&a).await;
    let offer = a.ctx.team_upload_offer().expect("offer");
    assert_eq!(offer.incidents, vec![old.view.incident.id]);
    assert_eq!(offer.runs, vec![before_key.clone()]);
    assert_eq!(a.ctx.team_upload(true).expect("upload"), 2);
    assert!(a.ctx.team_upload_offer().expect("offer").is_empty(), "offered once");
    a.ctx.team_sync(now()).await.expect("sync");
    let name = name_of(&a, old.view.incident.id);
    let table = kubectl(&f, &["get", "incidents"]);
    assert!(table.contains(&name) && table.contains("from before the team store"), "{table}");
    let runs = kubectl(&f, &["get", "procedureruns"]);
    assert!(runs.contains(&hsof_store::run_name(&before_key)) && runs.contains("Completed"), "{runs}");
    let detail = a.ctx.incident_detail(old.view.incident.id, now()).expect("detail");
    assert_eq!(kinds(&detail), ["declared"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checklist_done_on_one_desktop_is_done_on_the_other_and_windows_are_shared() {
    use hsof_ops::calendar::OccurrenceStatus;
    let f = fake();
    installed(&f).await;
    let (a, b) = (desktop(&f, "alice", None), desktop(&f, "bob", None));
    connected(&a).await;
    connected(&b).await;
    let (wa, wb) = (watching(&a), watching(&b));

    // Today's latest started morning check, whatever day this runs.
    let t = now();
    let key = a
        .ctx
        .find_occurrence("morning-health-check", None, t)
        .or_else(|_| {
            let day = a.ctx.calendar(t - chrono::Duration::days(3), t, t).expect("calendar");
            day.occurrences
                .iter()
                .find(|o| o.occurrence.procedure_id.contains("morning"))
                .map(|o| o.occurrence.key.clone())
                .ok_or(hsof_core::Error::NotFound("a morning check".into()))
        })
        .expect("an occurrence");
    let detail = a.ctx.occurrence(&key, t).expect("checklist");
    let first = detail.steps[0].step.id.clone();
    a.ctx.tick_step(&key, &first, "looked at it", "ali", t).expect("tick");
    a.ctx.complete_occurrence(&key, "all good", "ali", t).expect("complete");
    a.ctx.team_sync(now()).await.expect("sync a");

    let start = std::time::Instant::now();
    let on_b = loop {
        let d = b.ctx.occurrence(&key, now()).expect("b's checklist");
        if d.completed_at.is_some() {
            break d;
        }
        assert!(start.elapsed() < Duration::from_secs(2), "b's calendar never showed the run done");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(on_b.completed_by.as_deref(), Some("alice (ali)"));
    assert_ne!(on_b.view.status, OccurrenceStatus::Overdue);
    let ticked =
        on_b.steps.iter().find(|s| s.step.id == first).and_then(|s| s.result.clone()).expect("the step result");
    assert_eq!(ticked.by, "alice (ali)");

    // A window scheduled on B is on A's calendar; A cancels it and B sees that.
    let w = hsof_core::calendar::NewWindow {
        title: "GPU node pool upgrade".into(),
        start: (now() + chrono::Duration::days(2)).to_rfc3339(),
        end: (now() + chrono::Duration::days(2) + chrono::Duration::hours(2)).to_rfc3339(),
        description: "driver 550 → 560".into(),
        impact: "stage 2 paused".into(),
        silence: false,
    };
    b.ctx.schedule_window(&w, "bo", now()).await.expect("schedule");
    b.ctx.team_sync(now()).await.expect("sync b");
    let start = std::time::Instant::now();
    let id_on_a = loop {
        if let Some(v) =
            a.ctx.windows().expect("windows").into_iter().find(|v| v.window.title == "GPU node pool upgrade")
        {
            assert_eq!(v.created_by, "bob (bo)");
            break v.window.id;
        }
        assert!(start.elapsed() < Duration::from_secs(2), "a's calendar never showed the window");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    a.ctx.cancel_window(id_on_a, "ali", now()).await.expect("cancel");
    a.ctx.team_sync(now()).await.expect("sync a");
    let start = std::time::Instant::now();
    while !b
        .ctx
        .windows()
        .expect("windows")
        .iter()
        .any(|v| v.window.title == "GPU node pool upgrade" && v.cancelled_at.is_some())
    {
        assert!(start.elapsed() < Duration::from_secs(2), "b never saw the cancellation");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let table = kubectl(&f, &["get", "procedureruns,maintenancewindows"]);
    assert!(
        table.contains("Completed") && table.contains("Cancelled") && table.contains("GPU node pool upgrade"),
        "{table}"
    );
    wa.abort();
    wb.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_write_is_kept_and_named_and_other_kinds_still_go() {
    let f = fake();
    installed(&f).await;
    let b = desktop(&f, "bob", None);
    connected(&b).await;
    // Bob's role is taken back for incidents only: he may read them, and write the calendar.
    f.server.with(|s| {
        s.policy.insert(
            "bob".into(),
            vec![
                hsof_fake_kube::Rule::new(&["get", "list", "watch"], &["*"], &["*"]),
                hsof_fake_kube::Rule::new(
                    &["*"],
                    &["ops.hsof.io"],
                    &["procedureruns", "procedureruns/status", "maintenancewindows", "maintenancewindows/status"],
                ),
                hsof_fake_kube::Rule::new(&["create"], &["authorization.k8s.io", "authentication.k8s.io"], &["*"]),
            ],
        );
    });
    let declared = b.ctx.incident_declare(&p1("exporter flapping"), "bo", now()).expect("declare");
    let w = hsof_core::calendar::NewWindow {
        title: "etcd defrag".into(),
        start: (now() + chrono::Duration::days(3)).to_rfc3339(),
        end: (now() + chrono::Duration::days(3) + chrono::Duration::hours(1)).to_rfc3339(),
        description: String::new(),
        impact: "none expected".into(),
        silence: false,
    };
    b.ctx.schedule_window(&w, "bo", now()).await.expect("schedule");
    let report = b.ctx.team_sync(now()).await.expect("sync");
    assert!(
        report.errors.iter().any(|e| e.contains("may not write incidents") && e.contains("kept on this desktop")),
        "{report:?}"
    );
    assert!(kubectl(&f, &["get", "maintenancewindows"]).contains("etcd defrag"), "the window went");
    assert!(kubectl(&f, &["get", "incidents", "-o", "name"]).trim().is_empty(), "the incident did not");
    let detail = b.ctx.incident_detail(declared.view.incident.id, now()).expect("detail");
    let shared = detail.view.shared.expect("shared");
    assert!(
        shared.pending > 0 && shared.error.as_deref().is_some_and(|e| e.contains("may not write incidents")),
        "{shared:?}"
    );

    // The role comes back: what waited goes, once (after the access reviews' cache, five
    // minutes at most, or at once when the permissions are read again).
    f.server.with(|s| s.policy.remove("bob"));
    b.ctx.forget_permissions();
    let report = b.ctx.team_sync(now()).await.expect("sync");
    assert_eq!(report.pending, 0, "{report:?}");
    assert!(kubectl(&f, &["get", "incidents"]).contains("exporter flapping"));
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_timers_run_by_the_api_servers_clock_not_a_skewed_desktops() {
    let f = fake();
    installed(&f).await;
    let (a, b) = (desktop(&f, "alice", None), desktop(&f, "bob", None));
    connected(&a).await;
    connected(&b).await;
    let t = now();
    a.ctx.incident_declare(&p1("queue backlog"), "ali", t).expect("declare");
    a.ctx.team_sync(t).await.expect("sync a");
    // Bob's clock runs 20 minutes fast: the P1's 15-minute acknowledgement is not due yet.
    let fast = t + chrono::Duration::minutes(20);
    let report = b.ctx.team_sync(fast).await.expect("sync b");
    assert!(report.clock_skew_secs.is_some_and(|s| (-1210..=-1190).contains(&s)), "{report:?}");
    let reminders = |d: &Desktop| {
        d.ctx
            .store()
            .expect("store")
            .team_outbox()
            .expect("outbox")
            .iter()
            .filter(|o| o.op.contains("\"reminder\""))
            .count()
    };
    b.ctx.incidents_tick(fast).expect("tick");
    assert_eq!(reminders(&b), 0, "nothing is due by the server's clock");
    b.ctx.incidents_tick(fast + chrono::Duration::minutes(20)).expect("tick");
    assert!(reminders(&b) > 0, "20 minutes later by the server's clock, the acknowledgement is overdue");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_timeline_moves_its_oldest_entries_to_configmaps_and_reads_back_whole() {
    let f = fake();
    installed(&f).await;
    let (a, b) = (desktop(&f, "alice", None), desktop(&f, "bob", None));
    connected(&a).await;
    connected(&b).await;
    let declared = a.ctx.incident_declare(&p1("long night"), "ali", now()).expect("declare");
    let id = declared.view.incident.id;
    let store = a.ctx.store().expect("store");
    let t0 = now();
    for n in 0..260 {
        let at = hsof_core::time::ts(t0 + chrono::Duration::seconds(n + 1));
        let text = format!("note {n:03}");
        let ev = hsof_store::NewTimelineEvent { at: &at, author: "ali", kind: "note", text: &text, data: "null" };
        store.append_timeline(id, &ev).expect("append");
        // Sent in batches, as a long incident's syncs would.
        if n % 90 == 89 {
            a.ctx.team_sync(now()).await.expect("sync");
        }
    }
    a.ctx.team_sync(now()).await.expect("sync");
    a.ctx.team_sync(now()).await.expect("sync again");
    let name = name_of(&a, id);
    let pages =
        kubectl(&f, &["get", "incident", &name, "-o", "jsonpath={.status.timelinePages} {.status.timeline[*].id}"]);
    let (count, ids) = pages.split_once(' ').expect("pages and ids");
    assert!(count.parse::<u32>().expect("a number") >= 1, "{pages}");
    assert!(ids.split_whitespace().count() <= 200, "the record stays under its limit");
    assert!(kubectl(&f, &["get", "configmap", &format!("{name}-timeline-1"), "-o", "name"]).contains("configmap"));

    b.ctx.team_sync(now()).await.expect("sync b");
    let on_b = arrives(&b, &name, Duration::from_secs(2), |_| true).await;
    let notes: Vec<&str> =
        on_b.timeline.iter().filter(|e| e.kind.as_str() == "note").map(|e| e.text.as_str()).collect();
    assert_eq!(notes.len(), 260, "every entry once");
    assert!(notes.windows(2).all(|w| w[0] < w[1]), "in order");
    let on_a = a.ctx.incident_detail(id, now()).expect("a");
    assert_eq!(on_a.timeline.len(), on_b.timeline.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_security_review_and_its_sign_off_reach_the_other_desktop_and_the_next_review_diffs_against_it() {
    let f = fake();
    installed(&f).await;
    let (a, b) = (desktop(&f, "alice", None), desktop(&f, "bob", None));
    connected(&a).await;
    connected(&b).await;
    let rec = a.ctx.security_review("alice", None, false, now()).await.expect("review on a");
    a.ctx.security_review_sign_off(rec.id, "alice", now()).expect("sign off");
    a.ctx.team_sync(now()).await.expect("sync a");
    // The shared record, as a teammate's kubectl shows it.
    let table = kubectl(&f, &["get", "securityreviews.ops.hsof.io"]);
    assert!(table.contains(&rec.uid), "{table}");
    b.ctx.team_sync(now()).await.expect("sync b");
    let on_b = b.ctx.security_reviews(10).expect("b's reviews");
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert_eq!(on_b[0].uid, rec.uid);
    assert_eq!(on_b[0].signed_off_by.as_deref(), Some("alice"));
    // b's next review is compared with a's.
    let next = b.ctx.security_review("bob", None, false, now()).await.expect("review on b");
    assert_eq!(next.previous.as_deref(), Some(rec.uid.as_str()));
    assert!(
        next.diff.as_ref().is_some_and(hsof_review::diff::ReviewDiff::is_empty),
        "nothing changed: {:?}",
        next.diff
    );
}
