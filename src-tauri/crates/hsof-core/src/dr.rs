//! The monthly DR drill (runbook: Second Monday, Disaster Recovery Testing), run against
//! the primary and a `dr` cluster of the configuration: preflight, the backup restore
//! test (RPO, restore time), failover to the DR cluster (RTO) and fail-back to the state
//! recorded before anything changed, a test message through the Slack path, and the
//! escalation policy checked. Every change goes through [`AppContext::change`] (read-only,
//! RBAC, server-side dry run, audit). The record (hsof-fleet's [`DrillRecord`]) is written
//! to the store as each step ends, so a drill whose process died half-way is found and
//! rolled back later ([`AppContext::dr_rollback`]).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hsof_fleet::drill::{Before, DrillRecord, DrillState, DrillTargets as Targets, DrillVerdict as Verdict, StepId};
use hsof_store::NewAuditEntry;

use crate::cluster::{ChangeRequest, RunbookJob};
use crate::config::ClusterRole;
use crate::{AppContext, Error};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn state_word(s: DrillState) -> &'static str {
    match s {
        DrillState::Running => "running",
        DrillState::Finished => "finished",
        DrillState::RolledBack => "rolled_back",
    }
}

/// How often the drill looks at the DR cluster while it comes up or goes back.
const POLL: Duration = Duration::from_secs(1);

/// One drill at a time in this process (the window, the calendar and a CLI call in it).
static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}

/// `PID@HOST` of this process.
fn me() -> String {
    format!("{}@{}", std::process::id(), this_host())
}

/// Whether the process that owns a drill still runs (on this host; another host's is
/// taken as alive, as nothing here can tell).
fn owner_alive(owner: Option<&str>) -> bool {
    let Some((pid, host)) = owner.and_then(|o| o.split_once('@')) else { return false };
    if host != this_host() {
        return true;
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| !r.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

impl AppContext {
    fn save_drill(&self, d: &DrillRecord) -> Result<(), Error> {
        let json = serde_json::to_string(d).map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.store()?.update_drill(d.id, state_word(d.state), &json, &rfc3339(Utc::now()))?;
        Ok(())
    }

    /// Saves during a drill: a store that fails now must not stop the fail-back.
    fn keep(&self, d: &DrillRecord) {
        if let Err(e) = self.save_drill(d) {
            tracing::error!(error = %e, drill = d.id, "DR drill record not saved; the drill goes on");
        }
    }

    /// Drills, newest first (only those that left their DR cluster changed with `pending`).
    pub fn dr_drills(&self, pending: bool, limit: u32) -> Result<Vec<DrillRecord>, Error> {
        let rows = self.store()?.drills(pending, limit)?;
        let all = rows.into_iter().filter_map(|r| serde_json::from_str::<DrillRecord>(&r.record).ok());
        // Half-done: changed the DR cluster, did not put it back, and its process is gone
        // (a drill still running is not offered for roll-back).
        Ok(if pending {
            all.filter(|d| d.needs_rollback() && !owner_alive(d.owner.as_deref())).collect()
        } else {
            all.collect()
        })
    }

    /// One drill.
    pub fn dr_drill_get(&self, id: i64) -> Result<DrillRecord, Error> {
        let row = self.store()?.drill(id)?.ok_or_else(|| Error::NotFound(format!("no DR drill #{id}")))?;
        serde_json::from_str(&row.record)
            .map_err(|e| Error::InvalidInput(format!("DR drill #{id} cannot be read: {e}")))
    }

    /// The primary and the DR cluster a drill runs between: `dr`, else the first cluster
    /// with role `dr`.
    pub fn dr_pair(&self, dr: Option<&str>) -> Result<(AppContext, AppContext), Error> {
        let file = self.file_config().config;
        let primary = file.default_cluster();
        if primary.role != ClusterRole::Primary || file.clusters.len() < 2 {
            return Err(Error::InvalidInput(
                "a DR drill needs a primary and a DR cluster: list both in [[clusters]] (role = \"primary\" and role = \"dr\")".into(),
            ));
        }
        let dr_name = match dr {
            Some(d) => d.to_string(),
            None => file
                .cluster_refs()
                .into_iter()
                .find(|c| c.role == ClusterRole::Dr)
                .map(|c| c.name)
                .ok_or_else(|| Error::InvalidInput("no cluster has role = \"dr\": name the DR cluster".into()))?,
        };
        if dr_name == primary.name {
            return Err(Error::InvalidInput(format!("{dr_name} is the primary: fail over to another cluster")));
        }
        Ok((self.on_cluster(&primary.name)?, self.on_cluster(&dr_name)?))
    }

    /// Runs a DR drill from the primary to `dr` (else the first `dr` cluster). `started`
    /// hears the drill's id once it is recorded (before anything changes). Refused while
    /// an earlier drill left its DR cluster changed.
    pub async fn dr_drill(
        &self,
        dr: Option<&str>,
        actor: &str,
        started: impl FnOnce(i64),
    ) -> Result<DrillRecord, Error> {
        self.dr_drill_on(dr, actor, started, None).await
    }

    /// [`dr_drill`](Self::dr_drill), its parts recorded on calendar occurrence `occurrence`
    /// (else the latest `monthly-dr-test` that has started).
    pub async fn dr_drill_on(
        &self,
        dr: Option<&str>,
        actor: &str,
        started: impl FnOnce(i64),
        occurrence: Option<&str>,
    ) -> Result<DrillRecord, Error> {
        let (p, d) = self.dr_pair(dr)?;
        let Ok(_one) = RUNNING.try_lock() else {
            return Err(Error::InvalidInput("a DR drill is already running in this app".into()));
        };
        for other in self.dr_drills(false, 20)?.into_iter().filter(|x| x.state == DrillState::Running) {
            if owner_alive(other.owner.as_deref()) {
                return Err(Error::InvalidInput(format!(
                    "DR drill #{} ({} → {}) is running (process {}): one drill at a time",
                    other.id,
                    other.primary,
                    other.dr,
                    other.owner.unwrap_or_default()
                )));
            }
            if !other.needs_rollback() {
                // Its process ended before it changed anything: closed as such.
                let mut closed = other;
                let at = rfc3339(Utc::now());
                closed.stopped("the drill's process stopped before this step", &at);
                closed.state = DrillState::Finished;
                closed.finished_at = Some(at);
                self.keep(&closed);
            }
        }
        if let Some(left) = self.dr_drills(true, 20)?.into_iter().next() {
            return Err(Error::InvalidInput(format!(
                "DR drill #{} left {} changed (deployment scaled from {} replica(s)); roll it back first: `hsofctl dr rollback {}` or Fleet → Roll back",
                left.id,
                left.dr,
                left.before.as_ref().map_or(0, |b| b.replicas),
                left.id
            )));
        }
        let cfg = p.config().config;
        let targets =
            Targets { rto_secs: cfg.dr.rto_target_minutes * 60.0, rpo_secs: cfg.dr.rpo_target_hours * 3600.0 };
        let now = Utc::now();
        let mut rec =
            DrillRecord::new(&p.current_cluster().name, &d.current_cluster().name, actor, &rfc3339(now), targets);
        rec.owner = Some(me());
        let json = serde_json::to_string(&rec).map_err(|e| Error::InvalidInput(e.to_string()))?;
        rec.id = self.store()?.insert_drill(&rec.started_at, &rec.primary, &rec.dr, &json)?;
        self.save_drill(&rec)?;
        started(rec.id);
        self.audit_entry(
            &NewAuditEntry {
                actor,
                action: "dr.drill",
                target: &format!("{} → {}", rec.primary, rec.dr),
                before: None,
                after: None,
                result: &format!("started drill #{}", rec.id),
            },
            now,
        );

        let at = || rfc3339(Utc::now());
        // Preflight: nothing changes before it passes.
        rec.begin(StepId::Preflight, &at());
        self.keep(&rec);
        match preflight(&p, &d).await {
            Ok(evidence) => rec.end(StepId::Preflight, Verdict::Pass, &evidence, &at()),
            Err(why) => {
                rec.end(StepId::Preflight, Verdict::Fail, &why, &at());
                rec.skip_rest("the preflight failed: nothing was changed", &at());
                return self.finish_drill(rec, actor, occurrence).await;
            }
        }
        self.keep(&rec);

        // Backup restore test on the primary.
        rec.begin(StepId::BackupRestore, &at());
        self.keep(&rec);
        let (verdict, evidence) = match restore_test(&p, &mut rec, actor).await {
            Ok(e) => (Verdict::Pass, e),
            Err(e) => (Verdict::Fail, e),
        };
        rec.end(StepId::BackupRestore, verdict, &evidence, &at());
        self.keep(&rec);

        // Failover: the DR cluster's state is recorded before it changes.
        rec.begin(StepId::Failover, &at());
        let failover = match read_replicas(&d).await {
            Ok(before) => {
                rec.before = Some(before.clone());
                self.keep(&rec);
                failover(&p, &d, &mut rec, &before, actor).await
            }
            Err(e) => Err(format!("the DR cluster's deployment could not be read, nothing changed: {e}")),
        };
        match failover {
            Ok(e) => rec.end(StepId::Failover, Verdict::Pass, &e, &at()),
            Err(e) => rec.end(StepId::Failover, Verdict::Fail, &e, &at()),
        }
        self.keep(&rec);

        // Fail back, whatever happened above.
        rec.begin(StepId::Failback, &at());
        match rec.before.clone() {
            Some(before) => match fail_back(&d, &before, actor).await {
                Ok(e) => {
                    rec.restored = true;
                    rec.end(StepId::Failback, Verdict::Pass, &e, &at());
                }
                Err(e) => rec.end(StepId::Failback, Verdict::Fail, &e, &at()),
            },
            None => rec.end(StepId::Failback, Verdict::Skipped, "nothing was changed in the DR cluster", &at()),
        }
        self.keep(&rec);

        rec.begin(StepId::Communication, &at());
        let (v, e) = match communication_test(&p, rec.id).await {
            Ok(e) => (Verdict::Pass, e),
            Err(e) => (Verdict::Fail, e),
        };
        rec.end(StepId::Communication, v, &e, &at());
        rec.begin(StepId::Escalation, &at());
        let (v, e) = escalation_check(&p);
        rec.end(StepId::Escalation, v, &e, &at());
        self.finish_drill(rec, actor, occurrence).await
    }

    async fn finish_drill(
        &self,
        mut rec: DrillRecord,
        actor: &str,
        occurrence: Option<&str>,
    ) -> Result<DrillRecord, Error> {
        let now = Utc::now();
        rec.finished_at = Some(rfc3339(now));
        if !rec.needs_rollback() {
            rec.state = DrillState::Finished;
        }
        self.keep(&rec);
        let card = rec.scorecard();
        self.audit_entry(
            &NewAuditEntry {
                actor,
                action: "dr.drill",
                target: &format!("{} → {}", rec.primary, rec.dr),
                before: None,
                after: serde_json::to_string(&card).ok().as_deref(),
                result: &format!(
                    "drill #{} {}: {} of {} steps passed",
                    rec.id,
                    if card.passed { "passed" } else { "not passed" },
                    card.steps_passed,
                    card.steps_total
                ),
            },
            now,
        );
        if let Err(e) = self.dr_report(&rec) {
            tracing::warn!(error = %e, drill = rec.id, "DR drill report not written");
        }
        if let Err(e) = self.dr_to_calendar(&rec, occurrence, actor, now) {
            tracing::warn!(error = %e, drill = rec.id, "DR drill not recorded on the calendar");
        }
        Ok(rec)
    }

    /// Writes the drill's Markdown report to the reports folder; returns its path.
    pub fn dr_report(&self, rec: &DrillRecord) -> Result<std::path::PathBuf, Error> {
        let dir = self.paths().data_dir.join("reports");
        crate::private::create_dir_all(&dir).map_err(|e| Error::Unavailable(format!("{}: {e}", dir.display())))?;
        let path = dir.join(format!("dr-drill-{}.md", rec.id));
        crate::private::write_atomically(&path, rec.markdown().as_bytes())
            .map_err(|e| Error::Unavailable(format!("{}: {e}", path.display())))?;
        Ok(path)
    }

    /// Records the drill's parts on the `monthly-dr-test` occurrence (the latest one that
    /// has started): each step the drill covers, with its verdict and evidence.
    pub(crate) fn dr_to_calendar(
        &self,
        rec: &DrillRecord,
        occurrence: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let key = match occurrence {
            Some(k) => k.to_string(),
            None => self.find_occurrence("monthly-dr-test", None, now)?,
        };
        let rto = rec
            .rto_secs
            .map_or_else(|| "RTO not measured".to_string(), |r| format!("RTO {}", hsof_fleet::drill::human(r)));
        let rpo = rec
            .rpo_secs
            .map_or_else(|| "RPO not measured".to_string(), |r| format!("RPO {}", hsof_fleet::drill::human(r)));
        for (step, part, measured) in [
            ("backup-restore", "backup", Some(&rpo)),
            ("failover", "failover", Some(&rto)),
            ("recovery-procedures", "recovery", None),
            ("communication-protocols", "communication", None),
            ("emergency-contacts", "contacts", None),
            ("escalation", "escalation", None),
        ] {
            let ids = DrillRecord::part_steps(part);
            let output = format!(
                "{}DR drill #{} {} → {}\n{}",
                measured.map(|m| format!("{m}\n")).unwrap_or_default(),
                rec.id,
                rec.primary,
                rec.dr,
                rec.evidence_of(ids)
            );
            self.record_automated_step(&key, step, rec.verdict_of(ids), &output, actor, now)?;
        }
        Ok(())
    }

    /// Puts a drill's DR cluster back as it was before (a drill left half-done by a closed
    /// app or a killed process), audited; the drill is then `rolled_back`.
    /// A drill whose process still runs is refused (it fails back itself), and so is a DR
    /// cluster whose replicas someone changed since the drill scaled it (a real failover
    /// since?) unless `force`.
    pub async fn dr_rollback(&self, id: i64, actor: &str, force: bool) -> Result<DrillRecord, Error> {
        let mut rec = self.dr_drill_get(id)?;
        if !rec.needs_rollback() {
            return Err(Error::InvalidInput(format!(
                "DR drill #{id} left nothing to roll back ({})",
                if rec.restored { "its DR cluster was put back" } else { "it changed nothing" }
            )));
        }
        if owner_alive(rec.owner.as_deref()) {
            return Err(Error::InvalidInput(format!(
                "DR drill #{id} is still running (process {}): it fails back itself",
                rec.owner.clone().unwrap_or_default()
            )));
        }
        let before = rec.before.clone().ok_or_else(|| Error::InvalidInput("no state recorded".into()))?;
        let d = self.on_cluster(&rec.dr)?;
        if let (Some(set), false) = (rec.scaled_to, force) {
            let now_replicas = read_replicas(&d).await?.replicas;
            if now_replicas != set {
                return Err(Error::InvalidInput(format!(
                    "{} runs {now_replicas} replica(s) now, not the {set} the drill set: someone changed it since (a real failover?). \
                     Roll back anyway with `hsofctl dr rollback {id} --force`",
                    rec.dr
                )));
            }
        }
        let evidence = fail_back(&d, &before, actor).await.map_err(Error::Unavailable)?;
        let now = rfc3339(Utc::now());
        rec.restored = true;
        rec.state = DrillState::RolledBack;
        rec.end(
            StepId::Failback,
            Verdict::Pass,
            &format!("rolled back after the drill ended half-way\n{evidence}"),
            &now,
        );
        rec.stopped("the drill ended half-way (its process stopped) and was rolled back", &now);
        rec.finished_at = Some(now);
        self.save_drill(&rec)?;
        self.audit_entry(
            &NewAuditEntry {
                actor,
                action: "dr.rollback",
                target: &format!("{} deployment/{}", rec.dr, before.deployment),
                before: None,
                after: Some(&format!("{{\"replicas\":{}}}", before.replicas)),
                result: &format!("drill #{id} rolled back"),
            },
            Utc::now(),
        );
        let _ = self.dr_report(&rec);
        Ok(rec)
    }
}

async fn preflight(p: &AppContext, d: &AppContext) -> Result<String, String> {
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

async fn restore_test(p: &AppContext, rec: &mut DrillRecord, actor: &str) -> Result<String, String> {
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

async fn read_replicas(d: &AppContext) -> Result<Before, Error> {
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
async fn wait_ready(d: &AppContext, replicas: i32, healthy: bool, timeout: Duration) -> Result<String, String> {
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

async fn failover(
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
    d.change(&ChangeRequest::Scale { replicas: target }, false, actor, Utc::now())
        .await
        .map_err(|e| format!("{out}scaling {} to {target} failed: {e}", before.deployment))?;
    rec.scaled_to = Some(target);
    // Saved at once: a drill killed from here on is rolled back against this.
    d.keep(rec);
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

async fn fail_back(d: &AppContext, before: &Before, actor: &str) -> Result<String, String> {
    let cfg = d.config().config;
    d.change(&ChangeRequest::Scale { replicas: before.replicas }, false, actor, Utc::now())
        .await
        .map_err(|e| format!("scaling deployment/{} back to {} failed: {e}", before.deployment, before.replicas))?;
    let ready =
        wait_ready(d, before.replicas, false, Duration::from_secs(u64::from(cfg.dr.failover_timeout_secs))).await?;
    Ok(format!("scaled deployment/{} back to {}: {ready}\n", before.deployment, before.replicas))
}

async fn communication_test(p: &AppContext, id: i64) -> Result<String, String> {
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

fn escalation_check(p: &AppContext) -> (Verdict, String) {
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
