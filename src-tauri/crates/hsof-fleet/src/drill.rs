//! The monthly DR drill as a record: its steps with their times, verdicts and evidence,
//! what the DR cluster looked like before (restored at the end, also after a crash), the
//! measured RTO and RPO against their targets, and the Markdown report. Pure: the
//! orchestration that fills it lives in hsof-core.

use serde::{Deserialize, Serialize};

/// The drill's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum StepId {
    /// Checks before anything changes: read-only, permissions, both clusters reachable.
    Preflight,
    /// The backup restore Job against the latest good backup: RPO and restore time.
    BackupRestore,
    /// HSOF in the DR cluster scaled up, ready and healthy: RTO.
    Failover,
    /// The DR cluster put back as it was before the drill.
    Failback,
    /// A test message through the Slack path, its delivery confirmed.
    Communication,
    /// The escalation policy: every severity has a response time, an escalation and a channel.
    Escalation,
}

impl StepId {
    /// Every step, in order.
    pub const ALL: [StepId; 6] =
        [Self::Preflight, Self::BackupRestore, Self::Failover, Self::Failback, Self::Communication, Self::Escalation];

    /// What the step does, for people.
    pub fn title(self) -> &'static str {
        match self {
            Self::Preflight => "Preflight: read-only, permissions, both clusters reachable",
            Self::BackupRestore => "Backup restore test against the latest good backup",
            Self::Failover => "Failover: HSOF in the DR cluster up, ready and healthy",
            Self::Failback => "Fail back: the DR cluster as it was before the drill",
            Self::Communication => "Communication: a test message through the Slack path",
            Self::Escalation => "Escalation policy: every severity has a target and a contact",
        }
    }
}

/// A step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum DrillVerdict {
    /// Not reached yet.
    Pending,
    /// Running now.
    Running,
    /// Done, with its evidence.
    Pass,
    /// Done and failed, with why.
    Fail,
    /// Not run (an earlier step failed, or it does not apply), with why.
    Skipped,
}

/// One step of a drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DrillStep {
    /// Which.
    pub id: StepId,
    /// What it does.
    pub title: String,
    /// Outcome.
    pub verdict: DrillVerdict,
    /// When it started and ended (RFC 3339).
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
    /// What it saw: commands' answers, the Job's log, the health report.
    pub evidence: String,
}

/// What the DR cluster's HSOF Deployment looked like before the drill changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Before {
    /// The Deployment.
    pub deployment: String,
    /// Its replicas before.
    pub replicas: i32,
}

/// Where a drill is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum DrillState {
    /// Steps are running (or the process running them died: see [`DrillRecord::needs_rollback`]).
    Running,
    /// Every step ran; the DR cluster is back as before.
    Finished,
    /// A drill left half-done was rolled back afterwards.
    RolledBack,
}

/// The targets the drill is scored against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DrillTargets {
    /// Recovery time objective, seconds (failover start → healthy).
    pub rto_secs: f64,
    /// Recovery point objective, seconds (age of the backup restored).
    pub rpo_secs: f64,
}

/// A drill from start to scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DrillRecord {
    /// Store id.
    #[specta(type = f64)]
    pub id: i64,
    /// The primary cluster (its backup is restored).
    pub primary: String,
    /// The DR cluster failed over to.
    pub dr: String,
    /// Who started it.
    pub by: String,
    /// When (RFC 3339).
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// Where it is.
    pub state: DrillState,
    /// The DR cluster before the drill; recorded before anything changes.
    pub before: Option<Before>,
    /// True once the DR cluster is back as [`before`](Self::before).
    pub restored: bool,
    /// The replicas the drill scaled the DR cluster to (a roll-back checks nobody changed it since).
    #[serde(default)]
    pub scaled_to: Option<i32>,
    /// The process running the drill, `PID@HOST`: a drill whose process is alive is not
    /// half-done, whatever its record says.
    #[serde(default)]
    pub owner: Option<String>,
    /// The steps.
    pub steps: Vec<DrillStep>,
    /// Measured recovery time, seconds.
    pub rto_secs: Option<f64>,
    /// Measured recovery point (the restored backup's age), seconds.
    pub rpo_secs: Option<f64>,
    /// How long the restore Job took, seconds.
    pub restore_secs: Option<f64>,
    /// DrillTargets.
    pub targets: DrillTargets,
}

/// The drill's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DrillScorecard {
    /// Every step passed and both objectives were met.
    pub passed: bool,
    /// RTO measured and within its target.
    pub rto_met: Option<bool>,
    /// RPO measured and within its target.
    pub rpo_met: Option<bool>,
    /// Steps that passed / ran.
    pub steps_passed: u32,
    /// Steps in the drill.
    pub steps_total: u32,
    /// One line per thing that failed or was not measured.
    pub findings: Vec<String>,
}

impl DrillRecord {
    /// A new drill, every step pending.
    pub fn new(primary: &str, dr: &str, by: &str, started_at: &str, targets: DrillTargets) -> Self {
        Self {
            id: 0,
            primary: primary.into(),
            dr: dr.into(),
            by: by.into(),
            started_at: started_at.into(),
            finished_at: None,
            state: DrillState::Running,
            before: None,
            restored: false,
            scaled_to: None,
            owner: None,
            steps: StepId::ALL
                .iter()
                .map(|&id| DrillStep {
                    id,
                    title: id.title().into(),
                    verdict: DrillVerdict::Pending,
                    started_at: None,
                    finished_at: None,
                    evidence: String::new(),
                })
                .collect(),
            rto_secs: None,
            rpo_secs: None,
            restore_secs: None,
            targets,
        }
    }

    /// The step `id`.
    pub fn step(&self, id: StepId) -> &DrillStep {
        self.steps.iter().find(|s| s.id == id).unwrap_or(&self.steps[0])
    }

    fn step_mut(&mut self, id: StepId) -> Option<&mut DrillStep> {
        self.steps.iter_mut().find(|s| s.id == id)
    }

    /// Marks `id` running at `at`.
    pub fn begin(&mut self, id: StepId, at: &str) {
        if let Some(s) = self.step_mut(id) {
            s.verdict = DrillVerdict::Running;
            s.started_at = Some(at.into());
        }
    }

    /// Ends `id` with `verdict` and its evidence. A pass needs evidence: a step never
    /// passes on nothing.
    pub fn end(&mut self, id: StepId, verdict: DrillVerdict, evidence: &str, at: &str) {
        if let Some(s) = self.step_mut(id) {
            s.verdict =
                if verdict == DrillVerdict::Pass && evidence.trim().is_empty() { DrillVerdict::Fail } else { verdict };
            s.evidence = if evidence.trim().is_empty() && verdict == DrillVerdict::Pass {
                "no evidence was recorded, so the step does not count as passed".into()
            } else {
                evidence.into()
            };
            s.started_at.get_or_insert_with(|| at.into());
            s.finished_at = Some(at.into());
        }
    }

    /// Skips every step still pending, with why.
    pub fn skip_rest(&mut self, why: &str, at: &str) {
        for s in self.steps.iter_mut().filter(|s| s.verdict == DrillVerdict::Pending) {
            s.verdict = DrillVerdict::Skipped;
            s.evidence = why.into();
            s.finished_at = Some(at.into());
        }
    }

    /// The drill's process stopped (closed, killed): a step it was in failed, the steps it
    /// had not reached are skipped with `why`.
    pub fn stopped(&mut self, why: &str, at: &str) {
        for s in self.steps.iter_mut().filter(|s| s.verdict == DrillVerdict::Running) {
            s.verdict = DrillVerdict::Fail;
            s.evidence.push_str("\nthe drill's process stopped during this step");
        }
        self.skip_rest(why, at);
    }

    /// The drill's steps a part of the calendar's DR procedure stands for (`backup`,
    /// `failover`, `recovery`, `communication`, `contacts`, `escalation`).
    pub fn part_steps(part: &str) -> &'static [StepId] {
        match part {
            "backup" => &[StepId::BackupRestore],
            "failover" => &[StepId::Failover],
            "recovery" => &[StepId::Failover, StepId::Failback],
            "communication" => &[StepId::Communication],
            "contacts" => &[StepId::Communication, StepId::Escalation],
            _ => &[StepId::Escalation],
        }
    }

    /// The verdict of `ids` together, as a checklist records it: `pass` when every one
    /// passed, `fail` when one failed, else `unknown`.
    pub fn verdict_of(&self, ids: &[StepId]) -> &'static str {
        let verdicts: Vec<DrillVerdict> = ids.iter().map(|i| self.step(*i).verdict).collect();
        if verdicts.iter().all(|v| *v == DrillVerdict::Pass) {
            "pass"
        } else if verdicts.contains(&DrillVerdict::Fail) {
            "fail"
        } else {
            "unknown"
        }
    }

    /// The steps `ids` with their verdicts and evidence, one after the other.
    pub fn evidence_of(&self, ids: &[StepId]) -> String {
        let mut out = String::new();
        for id in ids {
            let s = self.step(*id);
            out.push_str(&format!("{}: {:?}\n{}\n", s.title, s.verdict, s.evidence.trim_end()));
        }
        out
    }

    /// True when the drill changed the DR cluster and did not put it back: the process
    /// running it ended half-way (closed, killed, a crash).
    pub fn needs_rollback(&self) -> bool {
        self.state == DrillState::Running && self.before.is_some() && !self.restored
    }

    /// The verdict: every step passed, RTO and RPO measured and within target.
    pub fn scorecard(&self) -> DrillScorecard {
        let mut findings = Vec::new();
        let ran: Vec<&DrillStep> = self.steps.iter().filter(|s| s.verdict != DrillVerdict::Skipped).collect();
        let passed = ran.iter().filter(|s| s.verdict == DrillVerdict::Pass).count() as u32;
        for s in &self.steps {
            match s.verdict {
                DrillVerdict::Pass => {}
                DrillVerdict::Fail => findings.push(format!("{} failed: {}", s.id.title(), first_line(&s.evidence))),
                DrillVerdict::Skipped => {
                    findings.push(format!("{} not run: {}", s.id.title(), first_line(&s.evidence)))
                }
                DrillVerdict::Pending | DrillVerdict::Running => {
                    findings.push(format!("{} did not finish", s.id.title()))
                }
            }
        }
        let met = |v: Option<f64>, target: f64, what: &str, findings: &mut Vec<String>| match v {
            None => {
                findings.push(format!("{what} was not measured"));
                None
            }
            Some(v) if v <= target => Some(true),
            Some(v) => {
                findings.push(format!("{what} {} is over its target {}", human(v), human(target)));
                Some(false)
            }
        };
        let rto_met = met(self.rto_secs, self.targets.rto_secs, "RTO", &mut findings);
        let rpo_met = met(self.rpo_secs, self.targets.rpo_secs, "RPO", &mut findings);
        if self.before.is_some() && !self.restored {
            findings.push(format!("{} was not put back as it was before the drill", self.dr));
        }
        DrillScorecard {
            passed: findings.is_empty(),
            rto_met,
            rpo_met,
            steps_passed: passed,
            steps_total: self.steps.len() as u32,
            findings,
        }
    }

    /// The drill as a Markdown report.
    pub fn markdown(&self) -> String {
        let card = self.scorecard();
        let mut out = format!(
            "# DR drill #{}: {} → {}\n\nStarted {} by {}{}.\n\n**{}** — {} of {} steps passed.\n\n",
            self.id,
            self.primary,
            self.dr,
            self.started_at,
            self.by,
            self.finished_at.as_deref().map(|f| format!(", ended {f}")).unwrap_or_default(),
            if card.passed { "PASSED" } else { "NOT PASSED" },
            card.steps_passed,
            card.steps_total,
        );
        let opt = |v: Option<f64>| v.map_or_else(|| "not measured".to_string(), human);
        out.push_str("| objective | measured | target | met |\n|---|---|---|---|\n");
        let yes = |m: Option<bool>| match m {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        out.push_str(&format!(
            "| RTO (failover start → healthy) | {} | {} | {} |\n",
            opt(self.rto_secs),
            human(self.targets.rto_secs),
            yes(card.rto_met)
        ));
        out.push_str(&format!(
            "| RPO (age of the backup restored) | {} | {} | {} |\n",
            opt(self.rpo_secs),
            human(self.targets.rpo_secs),
            yes(card.rpo_met)
        ));
        if let Some(r) = self.restore_secs {
            out.push_str(&format!("\nThe restore took {}.\n", human(r)));
        }
        if let Some(b) = &self.before {
            out.push_str(&format!(
                "\nBefore the drill {} ran deployment/{} with {} replica(s); {}.\n",
                self.dr,
                b.deployment,
                b.replicas,
                if self.restored { "it was put back so" } else { "**it was not put back**" }
            ));
        }
        out.push_str("\n## Steps\n");
        for s in &self.steps {
            out.push_str(&format!(
                "\n### {} — {:?}\n\n{} → {}\n\n```\n{}\n```\n",
                s.title,
                s.verdict,
                s.started_at.as_deref().unwrap_or("—"),
                s.finished_at.as_deref().unwrap_or("—"),
                s.evidence.trim_end()
            ));
        }
        if !card.findings.is_empty() {
            out.push_str("\n## Findings\n\n");
            for f in &card.findings {
                out.push_str(&format!("- {f}\n"));
            }
        }
        out
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

/// Seconds for people: `42 s`, `3 min 5 s`, `26 h 0 min`.
pub fn human(secs: f64) -> String {
    let s = secs.max(0.0).round() as i64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> DrillTargets {
        DrillTargets { rto_secs: 900.0, rpo_secs: 26.0 * 3600.0 }
    }

    #[test]
    fn a_drill_passes_only_with_every_step_passed_and_both_objectives_met() {
        let mut d = DrillRecord::new("prod-eu", "dr-us", "alice", "2026-12-14T10:00:00Z", targets());
        assert!(!d.needs_rollback(), "nothing changed yet");
        d.before = Some(Before { deployment: "hsof-main".into(), replicas: 0 });
        assert!(d.needs_rollback(), "changed and not put back");
        for id in StepId::ALL {
            d.begin(id, "t0");
            d.end(id, DrillVerdict::Pass, "seen", "t1");
        }
        d.rto_secs = Some(95.0);
        d.rpo_secs = Some(8.0 * 3600.0);
        let card = d.scorecard();
        assert!(!card.passed, "the DR cluster was not put back: {card:?}");
        d.restored = true;
        d.state = DrillState::Finished;
        let card = d.scorecard();
        assert!(card.passed, "{card:?}");
        assert_eq!((card.rto_met, card.rpo_met, card.steps_passed, card.steps_total), (Some(true), Some(true), 6, 6));
        let md = d.markdown();
        assert!(md.contains("**PASSED** — 6 of 6 steps passed"), "{md}");
        assert!(md.contains("| RTO (failover start → healthy) | 1 min 35 s | 15 min 0 s | yes |"), "{md}");

        d.rpo_secs = Some(30.0 * 3600.0);
        let card = d.scorecard();
        assert_eq!(card.rpo_met, Some(false));
        assert!(card.findings.iter().any(|f| f == "RPO 30 h 0 min is over its target 26 h 0 min"), "{card:?}");
    }

    #[test]
    fn no_step_passes_without_evidence_and_skipped_steps_say_why() {
        let mut d = DrillRecord::new("a", "b", "bob", "t", targets());
        d.end(StepId::Preflight, DrillVerdict::Pass, "  ", "t1");
        assert_eq!(d.step(StepId::Preflight).verdict, DrillVerdict::Fail);
        d.skip_rest("preflight failed: read_only is set", "t2");
        assert_eq!(d.step(StepId::Failover).verdict, DrillVerdict::Skipped);
        let card = d.scorecard();
        assert!(!card.passed);
        assert_eq!(card.rto_met, None);
        assert!(card.findings.contains(&"RTO was not measured".to_string()), "{card:?}");
        assert!(card.findings.iter().any(|f| f.contains("not run: preflight failed")), "{card:?}");
    }
}
