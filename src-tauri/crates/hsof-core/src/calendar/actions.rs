//! Automated steps: each runbook action the catalog names, run through the app's own
//! monitoring and cluster features, with its output and a verdict recorded.

use chrono::{DateTime, Utc};
use hsof_monitor::Level;
use hsof_ops::calendar::{Action, GateSet, Verdict};

use super::{ts, OccurrenceDetail};
use crate::cluster::{ChangeRequest, RunbookJob};
use crate::{AppContext, Error};

fn level_verdict(l: Level) -> &'static str {
    match l {
        Level::Healthy => "pass",
        Level::Warning => "warn",
        Level::Critical => "fail",
        Level::Unknown => "unknown",
    }
}

fn gate_verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Unknown => "unknown",
    }
}

impl AppContext {
    /// Runs an automated step and records what it found; a step whose feature is not
    /// reachable records `unknown` with the reason (the rest of the checklist still works).
    pub async fn run_step(
        &self,
        key: &str,
        step_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<OccurrenceDetail, Error> {
        let (o, p) = self.occurrence_and_procedure(key)?;
        let step = p
            .steps
            .iter()
            .find(|s| s.id == step_id)
            .ok_or_else(|| Error::NotFound(format!("procedure {} has no step {step_id:?}", p.id)))?;
        let action = step
            .action
            .clone()
            .ok_or_else(|| Error::InvalidInput(format!("step {step_id:?} is manual: tick it when done")))?;
        let outcome = match &action {
            // One drill covers every DR part of the occurrence: a drill already run for it
            // is used, not run again; a new one records its parts on this occurrence.
            Action::DrDrill { part } => self.dr_part(key, o.start, part, actor).await,
            Action::SecurityReview { part } => self.security_part(o.start, &p.id, part, actor, now).await,
            _ => self.perform(&action, actor, now).await,
        };
        let (verdict, output) = match outcome {
            Ok(r) => r,
            Err(e) => ("unknown", format!("could not run: {e}")),
        };
        self.record_automated_step(key, step_id, verdict, &output, actor, now)?;
        self.occurrence(key, now)
    }

    /// The DR drill's `part` for occurrence `key` (starting at `start`): the drill already
    /// run since the occurrence began when there is one, else a new drill.
    async fn dr_part(
        &self,
        key: &str,
        start: DateTime<Utc>,
        part: &str,
        actor: &str,
    ) -> Result<(&'static str, String), Error> {
        use hsof_fleet::drill::DrillState;
        let since = |d: &hsof_fleet::drill::DrillRecord| {
            DateTime::parse_from_rfc3339(&d.started_at).is_ok_and(|t| t.with_timezone(&Utc) >= start)
        };
        let done = self.dr_drills(false, 20)?.into_iter().find(|d| d.state != DrillState::Running && since(d));
        let rec = match done {
            Some(d) => d,
            None => self.dr_drill_on(None, actor, |_| {}, Some(key)).await?,
        };
        let ids = hsof_fleet::drill::DrillRecord::part_steps(part);
        let card = rec.scorecard();
        let out = format!(
            "DR drill #{} {} → {}: {} ({} of {} steps passed)\n{}",
            rec.id,
            rec.primary,
            rec.dr,
            if card.passed { "passed" } else { "not passed" },
            card.steps_passed,
            card.steps_total,
            rec.evidence_of(ids)
        );
        Ok((rec.verdict_of(ids), out))
    }

    /// The security review's `part`: the review of this cluster run since the occurrence
    /// began when there is one (with the audit check for the monthly assessment), else a
    /// new review.
    async fn security_part(
        &self,
        start: DateTime<Utc>,
        procedure: &str,
        part: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(&'static str, String), Error> {
        let audit = part == "audit-logs" || procedure == "monthly-security-assessment";
        let since = |r: &crate::security::ReviewRecord| {
            DateTime::parse_from_rfc3339(&r.report.at).is_ok_and(|t| t.with_timezone(&Utc) >= start)
                && (!audit || r.audit.is_some())
        };
        let rec = match self.security_reviews(5)?.into_iter().find(since) {
            Some(r) => r,
            None => self.security_review(actor, None, audit, now).await?,
        };
        let (verdict, evidence) = rec.step_verdict(part);
        Ok((
            verdict,
            format!("security review #{} of {} ({}) by {}\n{evidence}", rec.id, rec.cluster, rec.report.at, rec.by),
        ))
    }

    /// Records an automated step's result on occurrence `key` (a DR drill records each
    /// part it covered this way).
    pub(crate) fn record_automated_step(
        &self,
        key: &str,
        step_id: &str,
        verdict: &str,
        output: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let (o, p) = self.occurrence_and_procedure(key)?;
        if !p.steps.iter().any(|s| s.id == step_id) {
            return Err(Error::NotFound(format!("procedure {} has no step {step_id:?}", p.id)));
        }
        self.store()?.record_step(&hsof_store::NewStepResult {
            occurrence_key: key,
            procedure_id: &p.id,
            starts_at: &ts(o.start),
            step_id,
            at: &ts(Utc::now().max(now)),
            by: actor,
            automated: true,
            verdict,
            output,
            note: None,
            cluster: self.record_cluster().as_deref(),
        })?;
        Ok(())
    }

    async fn perform(&self, action: &Action, actor: &str, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let deployment = self.config().config.cluster.deployment;
        Ok(match action {
            Action::PodStatus => {
                let pods = self.cluster().await?.pods().await?;
                let bad: Vec<_> = pods
                    .iter()
                    .filter(|p| p.phase != "Running" || p.ready.split('/').next() != p.ready.split('/').nth(1))
                    .collect();
                let mut out = format!("{} pods, {} not running and ready\n", pods.len(), bad.len());
                for p in pods.iter().take(50) {
                    out.push_str(&format!("{:<40} {:<6} {:<10} restarts {}\n", p.name, p.ready, p.phase, p.restarts));
                }
                (
                    if bad.is_empty() {
                        "pass"
                    } else if bad.len() * 2 >= pods.len().max(1) {
                        "fail"
                    } else {
                        "warn"
                    },
                    out,
                )
            }
            Action::HealthEndpoints => {
                let h = self.health_check(|| now).await?;
                let out = serde_json::to_string_pretty(&h.report).unwrap_or_default();
                (level_verdict(h.report.overall), out)
            }
            Action::AlertReview => {
                let a = self.alerts(now).await?;
                let crit = a.active_count("critical");
                let warn = a.active_count("warning");
                let mut out = format!("{crit} critical, {warn} warning alerts active\n");
                for g in &a.groups {
                    for al in &g.alerts {
                        out.push_str(&format!("[{}] {}\n", g.severity, al.name()));
                    }
                }
                (
                    if crit > 0 {
                        "fail"
                    } else if warn > 0 {
                        "warn"
                    } else {
                        "pass"
                    },
                    out,
                )
            }
            Action::KeyMetrics => {
                let m = self.key_metrics(now).await?;
                let worst = m.metrics.iter().map(|k| k.level).max().unwrap_or(Level::Unknown);
                let out = m
                    .metrics
                    .iter()
                    .map(|k| format!("{}: {} (target {})\n", k.label, k.display_value(), k.target))
                    .collect();
                (level_verdict(worst), out)
            }
            Action::Top => {
                let c = self.cluster().await?;
                let pods = c.top_pods().await?;
                let nodes = c.top_nodes().await?;
                let out =
                    pods.iter().chain(&nodes).map(|t| serde_json::to_string(t).unwrap_or_default() + "\n").collect();
                ("pass", out)
            }
            Action::BackupStatus => {
                let cronjob = self.config().config.cluster.backup_cronjob;
                let b = self.cluster().await?.backup(&cronjob).await?;
                let out = serde_json::to_string_pretty(&b).unwrap_or_default();
                (
                    if b.last_run_failed {
                        "fail"
                    } else if b.last_success.is_none() {
                        "warn"
                    } else {
                        "pass"
                    },
                    out,
                )
            }
            Action::ImagesInPods => {
                let images = self.cluster().await?.images().await?;
                ("pass", images.iter().map(|i| format!("{:>4} pods  {}\n", i.pods, i.image)).collect())
            }
            Action::DfInPod => {
                let r = self.cluster().await?.df(&deployment).await?;
                let max = self.config().config.thresholds.storage_max_pct;
                let worst = r.rows.iter().map(|d| d.use_percent).max().unwrap_or(0);
                let mut out = format!("df -h in {}\n", r.pod);
                for d in &r.rows {
                    out.push_str(&format!("{:>4}%  {:>6} of {:>6}  {}\n", d.use_percent, d.used, d.size, d.mounted_on));
                }
                (
                    if f64::from(worst) >= 90.0 {
                        "fail"
                    } else if f64::from(worst) >= max {
                        "warn"
                    } else {
                        "pass"
                    },
                    out,
                )
            }
            Action::SloReview => {
                let r = self.slo_report(now).await?;
                let worst = r.slos.iter().map(|s| s.level).max().unwrap_or(Level::Unknown);
                let out = r
                    .slos
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: SLI {} (objective {}), budget left {}\n",
                            s.name,
                            s.sli.map_or("—".into(), |v| format!("{v:.4}")),
                            s.objective,
                            s.budget_remaining.map_or("—".into(), |b| format!("{:.0} %", b * 100.0))
                        )
                    })
                    .collect();
                (level_verdict(worst), out)
            }
            Action::ThresholdReview => {
                let t = self.evaluate_thresholds(now)?;
                let out = t
                    .states
                    .iter()
                    .map(|s| format!("{} {}\n", if s.active { "BREACHED" } else { "ok      " }, s.rule.title))
                    .collect();
                (level_verdict(t.worst), out)
            }
            Action::RunJob { job } => {
                let job =
                    RunbookJob::from_key(job).ok_or_else(|| Error::InvalidInput(format!("unknown job {job:?}")))?;
                let created = self.change(&ChangeRequest::RunJob { job }, false, actor, now).await?;
                let name = created.target.trim_start_matches("job/").to_string();
                let done =
                    self.follow_runbook_job(Some(job), &name, std::time::Duration::from_secs(1800), Utc::now).await?;
                let verdict = match done.state.as_str() {
                    "succeeded" => "pass",
                    "failed" => "fail",
                    _ => "unknown",
                };
                (verdict, format!("job/{} {}\n{}", done.name, done.state, done.logs))
            }
            Action::DrDrill { .. } => {
                return Err(Error::InvalidInput("a DR drill step runs from its calendar occurrence".into()))
            }
            Action::SecurityReview { .. } => {
                return Err(Error::InvalidInput("a security review step runs from its calendar occurrence".into()))
            }
            Action::Upkeep { part } if part == "leftovers" => {
                crate::upkeep::leftovers_step(&self.leftovers(now).await?)
            }
            Action::Upkeep { part } => self.updates(now).await?.step(part),
            Action::Cost { part } => self.cost_step(part, now).await?,
            Action::Incidents { part } => self.followthrough_step(part, now).await?,
            Action::EvaluateGates { gates } => {
                let view = self.gates(now).await?;
                let list = match gates {
                    GateSet::Deployment => &view.deployment,
                    GateSet::Production => &view.production,
                };
                let out = list.iter().map(|g| format!("{:?}: {} — {}\n", g.verdict, g.title, g.evidence)).collect();
                (gate_verdict(hsof_ops::calendar::overall(list)), out)
            }
        })
    }
}
