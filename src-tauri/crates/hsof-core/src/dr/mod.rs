//! The monthly DR drill (runbook: Second Monday, Disaster Recovery Testing), run against
//! the primary and a `dr` cluster of the configuration: preflight, the backup restore
//! test (RPO, restore time), failover to the DR cluster (RTO) and fail-back to the state
//! recorded before anything changed, a test message through the Slack path, and the
//! escalation policy checked. Every change goes through [`AppContext::change`] (read-only,
//! RBAC, server-side dry run, audit). The record (hsof-fleet's [`DrillRecord`]) is written
//! to the store as each step ends, so a drill whose process died half-way is found and
//! rolled back later ([`AppContext::dr_rollback`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_fleet::drill::{DrillRecord, DrillState, DrillTargets as Targets, DrillVerdict as Verdict, StepId};
use hsof_store::NewAuditEntry;

use crate::config::ClusterRole;
use crate::{AppContext, Error};

mod steps;
use steps::{communication_test, escalation_check, fail_back, failover, preflight, read_replicas, restore_test};

use crate::monitoring::rfc3339;

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
            // The drill's replicas, or the ones before it (killed before its scale landed).
            if now_replicas != set && now_replicas != before.replicas {
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
