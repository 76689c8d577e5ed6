//! The DR drill's steps against the clusters: preflight, the restore test, failover and
//! fail-back, the communication test and the escalation check. Each returns its evidence,
//! or why it failed with what it saw until then.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hsof_fleet::drill::{Before, DrillRecord, DrillVerdict as Verdict};

use super::POLL;
use crate::cluster::{ChangeRequest, RunbookJob};
use crate::{AppContext, Error};

pub(super) async fn preflight(p: &AppContext, d: &AppContext) -> Result<String, String> {
    let mut out = String::new();
    for (who, ctx) in [("primary", p), ("DR", d)] {
        let cfg = ctx.config().config;
        let name = &ctx.current_cluster().name;
        if cfg.cluster.read_only {
            return Err(format!("{name} ({who}) has cluster.read_only set: the drill changes it"));
        }
        let cluster = ctx.cluster().await.map_err(|e| format!("{name} ({who}) cannot be reached: {e}"))?;
        let deployments = cluster.deployments().await.map_err(|e| format!("{name} ({who}) cannot be read: {e}"))?;
        let dep = deployments.iter().find(|x| x.name == cfg.cluster.deployment).ok_or_else(|| {
            format!(
                "{name} ({who}) has no deployment {} in namespace {}: HSOF is not installed there",
                cfg.cluster.deployment, cfg.cluster.namespace
            )
        })?;
        out.push_str(&format!(
            "{name} ({who}): {} at {}, deployment/{} {}/{} ready\n",
            cluster.context, cluster.server, dep.name, dep.ready, dep.replicas
        ));
        let checks: &[(&str, &str, &str, &str)] = if who == "DR" {
            &[("patch", "apps", "deployments", "scale"), ("get", "apps", "deployments", "")]
        } else {
            &[("create", "batch", "jobs", ""), ("delete", "batch", "jobs", ""), ("get", "batch", "cronjobs", "")]
        };
        // The restore test's scratch namespace, when configured: there, and Jobs allowed in it.
        let scratch = &cfg.dr.restore_namespace;
        if who == "primary" && !scratch.is_empty() {
            if !cluster.namespace_exists(scratch).await.map_err(|e| format!("{name} (primary): {e}"))? {
                return Err(format!(
                    "{name} (primary) has no namespace {scratch} (dr.restore_namespace): create it for the restore test"
                ));
            }
            let there = cluster.in_namespace(scratch);
            for verb in ["create", "delete"] {
                let (ok, reason) = ctx.can_i(&there, verb, "batch", "jobs", "").await.map_err(|e| e.to_string())?;
                if !ok {
                    return Err(format!("{name} (primary): this identity may not {verb} jobs in {scratch} ({reason})"));
                }
                out.push_str(&format!("  may {verb} jobs in {scratch} (restore namespace)\n"));
            }
        }
        for (verb, group, resource, sub) in checks {
            let (ok, reason) = ctx.can_i(&cluster, verb, group, resource, sub).await.map_err(|e| e.to_string())?;
            let what = format!("{verb} {resource}{}", if sub.is_empty() { String::new() } else { format!("/{sub}") });
            if !ok {
                return Err(format!("{name} ({who}): this identity may not {what} ({reason})"));
            }
            out.push_str(&format!("  may {what}\n"));
        }
    }
    Ok(out)
}

pub(super) async fn restore_test(p: &AppContext, rec: &mut DrillRecord, actor: &str) -> Result<String, String> {
    let cfg = p.config().config;
    let cluster = p.cluster().await.map_err(|e| e.to_string())?;
    let backup = cluster.backup(&cfg.cluster.backup_cronjob).await.map_err(|e| e.to_string())?;
    let mut out = String::new();
    let last = backup.last_success.clone().ok_or_else(|| {
        format!("cronjob/{} has no successful run: there is no good backup to restore", cfg.cluster.backup_cronjob)
    })?;
    if let Ok(t) = DateTime::parse_from_rfc3339(&last) {
        let rpo = (Utc::now() - t.with_timezone(&Utc)).num_seconds() as f64;
        rec.rpo_secs = Some(rpo);
        out.push_str(&format!(
            "latest good backup {last} (cronjob/{}): RPO {}\n",
            cfg.cluster.backup_cronjob,
            hsof_fleet::drill::human(rpo)
        ));
    }
    let started = Instant::now();
    // The runbook's Job: from the team's own manifest when [jobs] names where they are
    // (validated by a server-side dry run), else image and command; in the scratch
    // namespace when one is configured, else HSOF's (through the audited change path).
    let timeout = Duration::from_secs(u64::from(cfg.dr.restore_timeout_secs));
    let scratch = cfg.dr.restore_namespace.clone();
    let (name, target) = if scratch.is_empty() {
        let created = p
            .change(&ChangeRequest::RunJob { job: RunbookJob::BackupRestoreTest }, false, actor, Utc::now())
            .await
            .map_err(|e| format!("{out}the restore Job could not be created: {e}"))?;
        out.push_str(&format!("{}\n", created.message));
        (created.target.trim_start_matches("job/").to_string(), cluster.clone())
    } else {
        let there = cluster.in_namespace(&scratch);
        let mut t = RunbookJob::BackupRestoreTest.template(&cfg.jobs);
        t.manifest = p.job_manifest(&cluster, &t.name, &cfg.jobs).await.map_err(|e| format!("{out}{e}"))?;
        let at = Utc::now();
        there.run_job(&t, at, true).await.map_err(|e| format!("{out}the restore Job was refused in {scratch}: {e}"))?;
        let created = there
            .run_job(&t, at, false)
            .await
            .map_err(|e| format!("{out}the restore Job could not be created: {e}"))?;
        p.audit_entry(
            &hsof_store::NewAuditEntry {
                actor: &p.audit_actor(actor, &cluster.context),
                action: "job.run",
                target: &format!("{} in {scratch}", created.target),
                before: None,
                after: Some(&created.after),
                result: "ok (DR drill restore test)",
            },
            Utc::now(),
        );
        out.push_str(&format!("{} in namespace {scratch}\n", created.message));
        (created.target.trim_start_matches("job/").to_string(), there)
    };
    let followed = if scratch.is_empty() {
        p.follow_runbook_job(Some(RunbookJob::BackupRestoreTest), &name, timeout, Utc::now).await
    } else {
        target.follow_job(&name, timeout, Duration::from_secs(2)).await.map_err(Error::from)
    };
    let mut passed = false;
    match &followed {
        Ok(done) => {
            rec.restore_secs = Some(started.elapsed().as_secs_f64());
            out.push_str(&format!(
                "job/{name} {} after {}\n{}\n",
                done.state,
                hsof_fleet::drill::human(started.elapsed().as_secs_f64()),
                done.logs.trim_end()
            ));
            passed = done.state == "succeeded";
        }
        Err(e) => out.push_str(&format!("following job/{name} failed: {e}\n")),
    }
    // The restored copy is checked by the Job itself; the service it backs must still answer.
    match p.health_check(Utc::now).await {
        Ok(h) if h.report.reachable && h.report.overall == hsof_monitor::Level::Healthy => {
            out.push_str(&format!("HSOF health on {} after the restore: HEALTHY\n", p.current_cluster().name));
        }
        Ok(h) => {
            passed = false;
            out.push_str(&format!(
                "HSOF health on {} after the restore: {:?}{}\n",
                p.current_cluster().name,
                h.report.overall,
                if h.report.reachable { "" } else { " (does not answer)" }
            ));
        }
        Err(e) => {
            passed = false;
            out.push_str(&format!("HSOF health on {} after the restore not read: {e}\n", p.current_cluster().name));
        }
    }
    // Clean up what the drill created, whatever happened.
    match target.delete_job(&name).await {
        Ok(()) => out.push_str(&format!("job/{name} deleted\n")),
        Err(e) => out.push_str(&format!("job/{name} not deleted: {e}\n")),
    }
    if passed {
        Ok(out)
    } else {
        Err(out)
    }
}

pub(super) async fn read_replicas(d: &AppContext) -> Result<Before, Error> {
    let deployment = d.config().config.cluster.deployment;
    let rows = d.cluster().await?.deployments().await?;
    let row = rows
        .iter()
        .find(|r| r.name == deployment)
        .ok_or_else(|| Error::NotFound(format!("no deployment {deployment} in {}", d.current_cluster().name)))?;
    Ok(Before { deployment, replicas: row.replicas as i32 })
}

/// Waits until the DR deployment has `replicas` ready (and, with `healthy`, HSOF's health
/// answers HEALTHY there), at most `timeout`.
pub(super) async fn wait_ready(
    d: &AppContext,
    replicas: i32,
    healthy: bool,
    timeout: Duration,
) -> Result<String, String> {
    let deployment = d.config().config.cluster.deployment;
    let begun = Instant::now();
    let mut last;
    loop {
        let ready = match d.cluster().await {
            Ok(c) => c.deployments().await.ok().and_then(|rows| rows.into_iter().find(|r| r.name == deployment)),
            Err(_) => None,
        };
        let ready_now = ready.as_ref().is_some_and(|r| r.ready as i32 == replicas && r.replicas as i32 == replicas);
        last = ready.map_or_else(|| "deployment not read".into(), |r| format!("{}/{} ready", r.ready, r.replicas));
        if ready_now {
            if !healthy {
                return Ok(last);
            }
            match d.health_check(Utc::now).await {
                Ok(h) if h.report.reachable && h.report.overall == hsof_monitor::Level::Healthy => {
                    let parts: Vec<String> =
                        h.report.components.iter().map(|c| format!("{} {:?}", c.name, c.level)).collect();
                    return Ok(format!("{last}; /health HEALTHY ({})", parts.join(", ")));
                }
                Ok(h) => last = format!("{last}; /health {:?}", h.report.overall),
                Err(e) => last = format!("{last}; /health: {e}"),
            }
        }
        if begun.elapsed() >= timeout {
            return Err(format!("not ready within {}: {last}", hsof_fleet::drill::human(timeout.as_secs_f64())));
        }
        tokio::time::sleep(POLL).await;
    }
}

pub(super) async fn failover(
    p: &AppContext,
    d: &AppContext,
    rec: &mut DrillRecord,
    before: &Before,
    actor: &str,
) -> Result<String, String> {
    let cfg = d.config().config;
    let target = if cfg.dr.dr_replicas > 0 {
        cfg.dr.dr_replicas as i32
    } else {
        read_replicas(p).await.map(|b| b.replicas.max(1)).unwrap_or(1)
    };
    let mut out = format!("{} ran {} replica(s) before the drill\n", rec.dr, before.replicas);
    let started = Instant::now();
    // Saved before the write: a drill killed between the scale and its record would otherwise
    // leave no trace of the replicas it set, and a rollback could not tell a teammate's change
    // from the drill's (the rollback accepts the replicas before the drill as well, for a kill
    // before the write landed).
    rec.scaled_to = Some(target);
    d.keep(rec);
    if let Err(e) = d.change(&ChangeRequest::Scale { replicas: target }, false, actor, Utc::now()).await {
        rec.scaled_to = None;
        d.keep(rec);
        return Err(format!("{out}scaling {} to {target} failed: {e}", before.deployment));
    }
    out.push_str(&format!("scaled deployment/{} to {target}\n", before.deployment));
    let ready = wait_ready(d, target, true, Duration::from_secs(u64::from(cfg.dr.failover_timeout_secs)))
        .await
        .map_err(|e| format!("{out}{e}"))?;
    let rto = started.elapsed().as_secs_f64();
    rec.rto_secs = Some(rto);
    out.push_str(&format!(
        "{ready}\nRTO {} (target {})\n",
        hsof_fleet::drill::human(rto),
        hsof_fleet::drill::human(rec.targets.rto_secs)
    ));
    // Smoke checks while the DR cluster serves: health again and again for the hold time.
    let hold = Duration::from_secs(u64::from(cfg.dr.failover_hold_secs));
    let held = Instant::now();
    let mut checks = 0;
    while held.elapsed() < hold {
        tokio::time::sleep(Duration::from_secs(5).min(hold.saturating_sub(held.elapsed())).max(POLL)).await;
        let h = d.health_check(Utc::now).await.map_err(|e| format!("{out}smoke check: {e}"))?;
        checks += 1;
        if h.report.overall != hsof_monitor::Level::Healthy {
            return Err(format!(
                "{out}smoke check {checks}: /health {:?} while serving from {}",
                h.report.overall, rec.dr
            ));
        }
    }
    out.push_str(&format!(
        "{checks} smoke check(s) over {} while serving: HEALTHY\n",
        hsof_fleet::drill::human(hold.as_secs_f64())
    ));
    Ok(out)
}

pub(super) async fn fail_back(d: &AppContext, before: &Before, actor: &str) -> Result<String, String> {
    let cfg = d.config().config;
    d.change(&ChangeRequest::Scale { replicas: before.replicas }, false, actor, Utc::now())
        .await
        .map_err(|e| format!("scaling deployment/{} back to {} failed: {e}", before.deployment, before.replicas))?;
    let ready =
        wait_ready(d, before.replicas, false, Duration::from_secs(u64::from(cfg.dr.failover_timeout_secs))).await?;
    Ok(format!("scaled deployment/{} back to {}: {ready}\n", before.deployment, before.replicas))
}

pub(super) async fn communication_test(p: &AppContext, id: i64) -> Result<String, String> {
    let cfg = p.config().config;
    let url = p.webhook_url()?;
    let client =
        hsof_ops::incidents::SlackClient::new(&url, Duration::from_secs(u64::from(cfg.endpoints.request_timeout_secs)))
            .map_err(|e| e.to_string())?;
    let text = format!(
        "[TEST] HSOF DR drill #{id}: communication test from HSOF Control Center — no action needed ({})",
        cfg.slack.channel
    );
    let message = hsof_ops::incidents::SlackMessage {
        text: text.clone(),
        blocks: serde_json::json!([{"type": "section", "text": {"type": "mrkdwn", "text": text}}]),
    };
    client.post(&message).await.map_err(|e| format!("the test message was not delivered: {e}"))?;
    Ok(format!("posted to {} and accepted by Slack: {text}\n", cfg.slack.channel))
}

pub(super) fn escalation_check(p: &AppContext) -> (Verdict, String) {
    let cfg = p.config().config;
    let mut out = String::new();
    let mut gaps = Vec::new();
    for (name, s) in cfg.severities.levels() {
        let escalation = crate::config::Escalation::parse(&s.escalation);
        out.push_str(&format!(
            "{name}: respond within {} min, escalate {}, status updates every {} min\n",
            s.response_minutes, s.escalation, s.status_update_minutes
        ));
        if s.response_minutes == 0 {
            gaps.push(format!("{name} has no response time"));
        }
        if escalation.is_none() {
            gaps.push(format!("{name}'s escalation {:?} is not a target", s.escalation));
        }
    }
    let contact = match p.webhook_url() {
        Ok(_) => format!("contact: Slack {} (webhook stored)", cfg.slack.channel),
        Err(e) => {
            gaps.push(format!("no contact: {e}"));
            format!("contact: Slack {} (no webhook)", cfg.slack.channel)
        }
    };
    out.push_str(&contact);
    out.push('\n');
    if gaps.is_empty() {
        (Verdict::Pass, out)
    } else {
        (Verdict::Fail, format!("{}\n{out}", gaps.join("; ")))
    }
}
