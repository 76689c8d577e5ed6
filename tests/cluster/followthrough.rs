//! Incidents carried through, on two desktops sharing one team store (the fake API
//! server): an override made on one desktop is on the other; a follow-up assigned on one
//! notifies its owner's desktop once it is overdue (the clock is an argument) and nobody
//! else's; a member removed is named on the follow-ups they own; a follow-up whose
//! incident was deleted stands alone, named; the status page hears each stakeholder
//! update once, in order, with two apps flushing at once; a status page that refuses
//! keeps the update and gets it once later; the post-mortem of a drill holds the alert,
//! the change and the event in time order with its impact computed from Prometheus.

use std::time::Duration;

use chrono::{DateTime, Duration as Span, Utc};
use hsof_core::followthrough::{FollowUpFilter, NewFollowUp, OverrideInput};
use hsof_core::SecretValue;
use hsof_ops::incidents::followups::Due;
use hsof_ops::incidents::statuspage::PageStatus;
use hsof_ops::incidents::{NewIncident, Severity};
use hsof_ops::oncall::{Rotation, ShiftSource};
use hsof_tests::statuspage::StatusPage;

use crate::team_sync::{connected, desktop_with, installed, Desktop};
use crate::{fake, Fake};

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn p1(title: &str) -> NewIncident {
    NewIncident {
        title: title.into(),
        severity: Severity::P1,
        components: vec!["pipeline".into()],
        description: String::new(),
        source_alert: None,
        drill: None,
    }
}

fn team(f: &Fake, user: &str) -> Desktop {
    desktop_with(f, user, None, |c| c.team.timezone = "Europe/Berlin".into())
}

fn rotation() -> Rotation {
    Rotation {
        members: vec!["ali".into(), "bo".into()],
        rrule: "FREQ=WEEKLY;BYDAY=MO".into(),
        start: "2026-01-05T09:00".into(),
        timezone: "Europe/Berlin".into(),
        skip_holidays: true,
    }
}

async fn sync(ds: &[&Desktop]) {
    for d in ds {
        d.ctx.team_sync(now()).await.expect("sync");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_override_on_one_desktop_is_on_the_other_and_an_overdue_follow_up_notifies_its_owner_only() {
    let f = fake();
    installed(&f).await;
    let (a, b) = (team(&f, "alice"), team(&f, "bob"));
    connected(&a).await;
    connected(&b).await;
    let t = now();
    a.ctx.oncall_member_add("ali", Some("alice"), Some("+49 30 1"), t).expect("member");
    a.ctx.oncall_member_add("bo", Some("bob"), None, t).expect("member");
    a.ctx.oncall_rotation_set(&rotation(), t).expect("rotation");
    let start = (t + Span::hours(30)).format("%Y-%m-%dT%H:00").to_string();
    let end = (t + Span::hours(40)).format("%Y-%m-%dT%H:00").to_string();
    let input = OverrideInput { start: start.clone(), end, who: "bo".into(), reason: "swap with ali".into() };
    a.ctx.oncall_override_add(&input, "ali", t).expect("override");
    sync(&[&a, &b]).await;
    let on_b = b.ctx.oncall(t).expect("on-call on b");
    assert_eq!(on_b.members.len(), 2);
    assert_eq!(on_b.rotation.as_ref().map(|r| r.rrule.as_str()), Some("FREQ=WEEKLY;BYDAY=MO"));
    assert_eq!(on_b.overrides.len(), 1, "{on_b:?}");
    assert_eq!(on_b.pending, 0, "b made no writes");
    let at = a.ctx.team_time(&start, "start").expect("time") + Span::minutes(30);
    let cov = b.ctx.oncall_coverage(at, at + Span::minutes(1)).expect("coverage");
    assert_eq!(cov.shifts[0].who, "bo");
    assert!(matches!(&cov.shifts[0].source, ShiftSource::Override { reason, .. } if reason == "swap with ali"));
    assert!(on_b.tonight_gaps.is_empty(), "a two-person rotation covers every night: {:?}", on_b.tonight_gaps);

    // A follow-up assigned on a to bo (bob's desktop), due tomorrow.
    let declared = a.ctx.incident_declare(&p1("Queue depth unbounded"), "ali", t).expect("declare");
    let new = NewFollowUp {
        title: "Alert on queue depth".into(),
        owner: "bo".into(),
        due: "+1d".into(),
        incident_id: Some(declared.view.incident.id),
        source: None,
    };
    let fu = a.ctx.followup_create(&new, "ali", t).expect("follow-up");
    let id = declared.view.incident.id;
    a.ctx.incident_role(id, hsof_ops::incidents::roles::Role::Commander, "ali", "ali", t).expect("commander");
    a.ctx
        .incident_role(id, hsof_ops::incidents::roles::Role::Commander, "bo", "ali", t + Span::minutes(20))
        .expect("hand over");
    sync(&[&a, &b]).await;
    let name = a.ctx.store().expect("store").incident(id).expect("read").expect("there").team_name.expect("shared");
    let on_b_id = b.ctx.store().expect("store").incident_by_team_name(&name).expect("read").expect("on b");
    let roles = b.ctx.incident_detail(on_b_id, t).expect("detail").roles;
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert_eq!(
        (roles[0].who.as_str(), roles[0].previous.as_deref()),
        ("bo", Some("ali")),
        "the hand-over, timed, on b"
    );
    assert!((roles[0].since - (t + Span::minutes(20))).num_milliseconds().abs() < 1, "stored to the millisecond");
    let on_b = b.ctx.followups(&FollowUpFilter { mine: true, ..Default::default() }, t).expect("list");
    assert_eq!(on_b.len(), 1, "bob owns it on his desktop");
    assert_eq!(on_b[0].name, fu.name);
    assert!(on_b[0].incident_id.is_some(), "its incident came with it");
    assert!(b.ctx.followups_tick(t).expect("tick").is_empty(), "not overdue yet");
    let later = t + Span::days(3);
    let notices = b.ctx.followups_tick(later).expect("tick");
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].title.starts_with("Follow-up overdue by"), "{:?}", notices[0]);
    assert!(b.ctx.followups_tick(later + Span::minutes(5)).expect("tick").is_empty(), "once a day");
    assert!(a.ctx.followups_tick(later).expect("tick").is_empty(), "alice does not own it");

    // Done on b, done on a.
    b.ctx
        .followup_state(&fu.name, hsof_ops::incidents::followups::FollowUpState::Done, Some("rule added"), "bo", t)
        .expect("done");
    sync(&[&b, &a]).await;
    let on_a = a.ctx.followup(&fu.name, t).expect("on a");
    assert_eq!(on_a.due_state, Due::Closed);
    assert_eq!(on_a.closed_by.as_deref(), Some("bob"), "the Kubernetes user who closed it");

    // A member removed who owns an open follow-up: named and reassignable.
    let second = a
        .ctx
        .followup_create(
            &NewFollowUp {
                title: "Runbook for OOM".into(),
                owner: "bo".into(),
                due: "+7d".into(),
                ..Default::default()
            },
            "ali",
            t,
        )
        .expect("second");
    let orphaned = a.ctx.oncall_member_remove("bo", t).expect("remove");
    assert_eq!(orphaned.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), [second.name.as_str()]);
    sync(&[&a, &b]).await;
    let named = b.ctx.followup(&second.name, t).expect("on b");
    assert!(!named.owner_is_member && named.problems.iter().any(|p| p.contains("bo was removed")), "{named:?}");
    let reassigned = b.ctx.followup_assign(&second.name, "ali", "bo", t).expect("reassign");
    assert!(reassigned.problems.is_empty(), "{reassigned:?}");
    assert!(b.ctx.followup_assign(&second.name, "bo", "bo", t).is_err(), "a removed member takes nothing");
    // bo is out of the rotation now: his weeks are gaps, named.
    let week = b.ctx.oncall(t).expect("on-call").week;
    sync(&[&b]).await;
    assert!(week.gaps.iter().any(|g| g.why.contains("bo is no longer a member")), "{:?}", week.gaps);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follow_up_whose_incident_was_deleted_stands_alone_named() {
    let f = fake();
    installed(&f).await;
    let a = team(&f, "alice");
    connected(&a).await;
    let t = now();
    let declared = a.ctx.incident_declare(&p1("Disk full"), "ali", t).expect("declare");
    let new = NewFollowUp {
        title: "Alert on disk".into(),
        owner: "ali".into(),
        due: "+3d".into(),
        incident_id: Some(declared.view.incident.id),
        source: None,
    };
    let fu = a.ctx.followup_create(&new, "ali", t).expect("follow-up");
    sync(&[&a]).await;
    let name = a
        .ctx
        .store()
        .expect("store")
        .incident(declared.view.incident.id)
        .expect("read")
        .expect("there")
        .team_name
        .expect("shared");
    crate::kubectl(&f, &["delete", "incidents.ops.hsof.io", &name, "-n", "hsof"]);
    // A desktop that never had the incident reads the follow-up alone.
    let b = team(&f, "bob");
    connected(&b).await;
    sync(&[&b]).await;
    let on_b = b.ctx.followup(&fu.name, t).expect("follow-up on b");
    assert_eq!(on_b.incident_id, None);
    assert!(on_b.problems.iter().any(|p| p.contains("not in the store any more")), "{on_b:?}");
}

fn with_statuspage(url: &str) -> impl FnOnce(&mut hsof_core::config::Config) + '_ {
    move |c| {
        c.stakeholders.target = "statuspage".into();
        c.stakeholders.statuspage_url = url.into();
        c.stakeholders.page_id = "pg1".into();
        c.stakeholders.components = vec!["pipeline=cmp-pipeline".into()];
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_hears_each_update_once_and_in_order_with_two_apps_flushing() {
    let f = fake();
    installed(&f).await;
    let page = StatusPage::start("pg1", "key-123", Duration::from_millis(200));
    let (a, b) = (
        desktop_with(&f, "alice", None, with_statuspage(&page.url)),
        desktop_with(&f, "bob", None, with_statuspage(&page.url)),
    );
    for d in [&a, &b] {
        d.ctx.secrets().set("statuspage-api-key", &SecretValue::new("key-123")).expect("secret");
        connected(d).await;
    }
    let t = now();
    let id = a.ctx.incident_declare(&p1("Pipeline stalled"), "ali", t).expect("declare").view.incident.id;
    let first = a.ctx.incident_stakeholder_preview(id, "", t).expect("preview");
    assert_eq!(first.request.as_ref().map(|r| r.method.as_str()), Some("POST"), "the first update creates");
    assert_eq!(first.update.components.keys().collect::<Vec<_>>(), ["cmp-pipeline"]);
    a.ctx.incident_stakeholder_send(id, &first.update, "ali", t).expect("send 1");
    let mut second = first.update.clone();
    second.status = PageStatus::Identified;
    second.body = "A fix is being rolled out.".into();
    a.ctx.incident_stakeholder_send(id, &second, "ali", t).expect("send 2");
    sync(&[&a, &b]).await;
    for _ in 0..3 {
        let flushes: Vec<_> =
            [&a, &b].iter().map(|d| d.cli(&f, &["incident", "flush"]).spawn().expect("hsofctl")).collect();
        for mut p in flushes {
            assert!(p.wait().expect("wait").success());
        }
        sync(&[&a, &b]).await;
    }
    let reqs = page.requests();
    assert_eq!(reqs.len(), 2, "each update once: {reqs:?}");
    assert_eq!((reqs[0].method.as_str(), reqs[0].path.as_str()), ("POST", "/pages/pg1/incidents"));
    assert_eq!((reqs[1].method.as_str(), reqs[1].path.as_str()), ("PATCH", "/pages/pg1/incidents/pinc1"));
    assert_eq!(reqs[1].body["incident"]["status"], "identified");
    assert_eq!(reqs[0].body["incident"]["components"]["cmp-pipeline"], "partial_outage");
    assert_eq!(page.refused(), 0);
    let name = a.ctx.store().expect("store").incident(id).expect("read").expect("there").team_name.expect("shared");
    let on_b = b.ctx.store().expect("store").incident_by_team_name(&name).expect("read").expect("on b");
    let posts = b.ctx.incident_stakeholder_posts(on_b).expect("posts");
    assert_eq!(posts.len(), 2);
    assert!(posts.iter().all(|p| p.posted_at.is_some() && p.page_incident.as_deref() == Some("pinc1")), "{posts:?}");
    let detail = b.ctx.incident_detail(on_b, t).expect("detail");
    assert_eq!(detail.timeline.iter().filter(|e| e.kind.as_str() == "stakeholder_posted").count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusing_status_page_keeps_the_update_and_gets_it_once_later() {
    let f = fake();
    let page = StatusPage::start("pg1", "key-123", Duration::ZERO);
    let a = desktop_with(&f, "alice", None, with_statuspage(&page.url));
    a.ctx.secrets().set("statuspage-api-key", &SecretValue::new("key-123")).expect("secret");
    let t = now();
    let id = a.ctx.incident_declare(&p1("Latency up"), "ali", t).expect("declare").view.incident.id;
    let u = a.ctx.incident_stakeholder_preview(id, "Slower answers; investigating.", t).expect("preview").update;
    a.ctx.incident_stakeholder_send(id, &u, "ali", t).expect("send");
    page.refuse_next(2);
    let (posted, failed) = a.ctx.flush_stakeholders(t).await.expect("flush");
    assert_eq!((posted, failed), (0, 1));
    let posts = a.ctx.incident_stakeholder_posts(id).expect("posts");
    assert!(
        posts[0].posted_at.is_none() && posts[0].last_error.as_deref().is_some_and(|e| e.contains("503")),
        "{posts:?}"
    );
    assert_eq!(a.ctx.flush_stakeholders(t).await.expect("flush"), (0, 0), "not before its retry time");
    let later = t + Span::minutes(30);
    assert_eq!(a.ctx.flush_stakeholders(later).await.expect("flush"), (0, 1));
    assert_eq!(a.ctx.flush_stakeholders(later + Span::minutes(30)).await.expect("flush"), (1, 0));
    assert_eq!(a.ctx.flush_stakeholders(later + Span::hours(2)).await.expect("flush"), (0, 0), "delivered once");
    assert_eq!(page.requests().len(), 1);
    let posts = a.ctx.incident_stakeholder_posts(id).expect("posts");
    assert_eq!((posts[0].attempts, posts[0].page_incident.as_deref()), (3, Some("pinc1")));
    let detail = a.ctx.incident_detail(id, later).expect("detail");
    let kinds: Vec<&str> = detail.timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "stakeholder_failed").count(), 1, "the first failure, once: {kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "stakeholder_posted").count(), 1);
    // A wrong key is refused for good: kept, shown, retried by hand.
    a.ctx.secrets().set("statuspage-api-key", &SecretValue::new("wrong")).expect("secret");
    a.ctx.incident_stakeholder_send(id, &u, "ali", later).expect("send");
    assert_eq!(a.ctx.flush_stakeholders(later).await.expect("flush"), (0, 1));
    let posts = a.ctx.incident_stakeholder_posts(id).expect("posts");
    assert!(posts[1].gave_up && posts[1].last_error.as_deref().is_some_and(|e| e.contains("401")), "{posts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drills_post_mortem_holds_the_alert_the_change_and_the_event_in_order_with_its_impact() {
    use hsof_demo::history::OpenMetrics;
    let end = Utc::now().timestamp() / 60 * 60;
    let t0 = end - 40 * 60; // declared
    let (alert_from, alert_to) = (t0 - 10 * 60, t0 + 20 * 60);
    let start = end - 3 * 3600;
    let mut h = OpenMetrics::default();
    h.gauge(
        15,
        "ALERTS",
        &[("alertname", "HsofHighErrorRate"), ("alertstate", "firing"), ("severity", "critical")],
        alert_from,
        alert_to,
        |_| Some(1.0),
    );
    let bad = |t: i64| (alert_from..alert_to).contains(&t);
    h.counter(15, "hsof_requests_total", &[("status", "200")], start, end, None, |_| Some(36_000.0));
    h.counter(15, "hsof_requests_total", &[("status", "500")], start, end, None, move |t| {
        Some(if bad(t) { 3_600.0 } else { 0.0 })
    });
    h.counter(15, "hsof_datasets_processed_total", &[], start, end, None, move |t| {
        Some(if bad(t) { 0.0 } else { 120.0 })
    });
    let prom = hsof_tests::servers::prometheus_backfilled(&h.finish());
    let f = fake();
    let iso = |t: i64| DateTime::from_timestamp(t, 0).expect("time").to_rfc3339();
    f.server.with(|st| st.put(serde_json::json!({"kind": "Event", "metadata": {"name": "hsof-main-abc.oom", "namespace": "hsof"},
        "type": "Warning", "reason": "OOMKilled", "involvedObject": {"kind": "Pod", "name": "hsof-main-abc", "namespace": "hsof"},
        "message": "container hsof exceeded its memory limit", "count": 3, "firstTimestamp": iso(t0 - 900), "lastTimestamp": iso(t0 - 900)})));
    let a = desktop_with(&f, "alice", None, |c| {
        c.endpoints.prometheus_url = prom.url.clone();
        c.endpoints.alertmanager_url = "http://127.0.0.1:9".into();
        c.endpoints.hsof_health_url = "http://127.0.0.1:9".into();
    });
    let declared_at = DateTime::from_timestamp(t0, 0).expect("t0");
    let mut drill = p1("Error burst (drill)");
    drill.drill = Some("error-burst".into());
    let id = a.ctx.incident_declare(&drill, "ali", declared_at).expect("declare").view.incident.id;
    let change_at = declared_at + Span::minutes(5);
    a.ctx
        .change(&hsof_core::cluster::ChangeRequest::Scale { replicas: 5 }, false, "ali", change_at)
        .await
        .expect("scale");
    a.ctx.incident_resolve(id, "rolled back", "ali", declared_at + Span::minutes(30)).expect("resolve");
    a.ctx
        .incident_postmortem_edit(
            id,
            Some("A config push raised the batch size."),
            Some("Canary config pushes."),
            "ali",
            now(),
        )
        .await
        .expect("edit");
    let pm = a.ctx.incident_postmortem(id, now()).await.expect("post-mortem");
    let tl = &pm.postmortem.timeline;
    let pos =
        |what: &str| tl.iter().position(|e| e.text.contains(what)).unwrap_or_else(|| panic!("{what} not in {tl:#?}"));
    let (event, alert, declared, change, resolved) =
        (pos("OOMKilled"), pos("HsofHighErrorRate"), pos("declared"), pos("scale"), pos("resolved after"));
    assert!(event < alert && alert < declared && declared < change && change < resolved, "{tl:#?}");
    assert!(tl.iter().any(|e| e.text.contains("HsofHighErrorRate resolved")), "the alert cleared in the window");
    assert!(
        tl.iter().any(|e| e.source == hsof_ops::incidents::postmortem::Source::Audit
            && e.text.contains("scale")
            && e.detail.is_some()),
        "the change carries its before and after: {tl:#?}"
    );
    let availability = pm.postmortem.impact.budgets.iter().find(|b| b.id == "availability").expect("availability");
    let consumed = availability.consumed.expect("computed");
    assert!(
        consumed > 0.5,
        "a 9 % error rate for 30 min burns far more than half of a 99.9 % budget over 3 h: {consumed}"
    );
    assert!(availability.minutes_over.is_some_and(|m| m >= 20.0), "{availability:?}");
    let delayed = pm.postmortem.impact.datasets_delayed.expect("datasets delayed");
    // 100 in the hour before (50 min at 120/h), 20 in the 30 min after: 50 − 20 = 30.
    assert!((20.0..=40.0).contains(&delayed), "{delayed}");
    assert!(pm.markdown.contains("## Timeline") && pm.markdown.contains("Canary config pushes."));
    assert!(pm.postmortem.sources.iter().all(|s| s.read), "{:?}", pm.postmortem.sources);
}
