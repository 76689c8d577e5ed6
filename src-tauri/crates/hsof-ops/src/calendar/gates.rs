//! The runbook's quality gates ("Quality Assurance › Quality Gates"), each judged from
//! evidence gathered by the caller. Missing or stale evidence is `Unknown`, never `Pass`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Job evidence older than this counts as unknown for the deployment gates.
pub const JOB_MAX_AGE: Duration = Duration::days(7);

/// A backup restore test older than this counts as unknown: the DR test runs monthly
/// (second Monday), so a little over a month.
pub const RESTORE_TEST_MAX_AGE: Duration = Duration::days(35);

/// The runbook's production error-rate gate: below 0.1 % over 24 h.
const MAX_ERROR_RATE: f64 = 0.001;

/// A gate's judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The evidence meets the gate.
    Pass,
    /// The evidence fails the gate.
    Fail,
    /// Evidence is missing or stale.
    Unknown,
}

/// One gate, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct GateResult {
    /// Stable id, e.g. `integration-tests`.
    pub id: String,
    /// The runbook's wording.
    pub title: String,
    /// The judgement.
    pub verdict: Verdict,
    /// What it was based on, in words.
    pub evidence: String,
}

/// The outcome of a test or scan job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct JobEvidence {
    /// The job completed successfully.
    pub succeeded: bool,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// A line about the result (e.g. "212 passed, 0 failed").
    pub summary: String,
}

/// What the deployment gates are judged on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DeploymentEvidence {
    /// All health endpoints answered healthy; `None` when not checked.
    pub health_ok: Option<bool>,
    /// Which endpoints answered what.
    pub health_detail: String,
    /// The last integration test run.
    pub integration_tests: Option<JobEvidence>,
    /// The last load test run (the performance benchmark).
    pub load_tests: Option<JobEvidence>,
    /// The last vulnerability scan.
    pub security_scan: Option<JobEvidence>,
    /// Measured P95 request latency, seconds.
    pub latency_p95_secs: Option<f64>,
    /// The runbook's target: P95 < 30 s.
    pub latency_target_secs: f64,
}

/// What the production gates are judged on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ProductionEvidence {
    /// Failed / total requests over the last 24 h, as a fraction.
    pub error_rate_24h: Option<f64>,
    /// The latency SLI (fraction of requests within target) over the SLO window.
    pub latency_sli: Option<f64>,
    /// Its objective, as a fraction.
    pub latency_objective: f64,
    /// The availability SLI over the SLO window.
    pub availability_sli: Option<f64>,
    /// Its objective, as a fraction.
    pub availability_objective: f64,
    /// Critical alerts firing now.
    pub critical_alerts: Option<u32>,
    /// When the last backup completed successfully.
    pub backup_last_success: Option<DateTime<Utc>>,
    /// How old the last backup may be.
    pub backup_max_age_hours: f64,
    /// The last backup restore test.
    pub backup_restore_test: Option<JobEvidence>,
}

fn gate(id: &str, title: &str, verdict: Verdict, evidence: String) -> GateResult {
    GateResult { id: id.into(), title: title.into(), verdict, evidence }
}

fn age(d: Duration) -> String {
    if d >= Duration::days(2) {
        format!("{} days ago", d.num_days())
    } else if d >= Duration::hours(1) {
        format!("{} h ago", d.num_hours())
    } else {
        format!("{} min ago", d.num_minutes().max(0))
    }
}

/// A job's verdict: fresh success passes, fresh failure fails, missing or stale is unknown.
fn job_verdict(what: &str, job: Option<&JobEvidence>, now: DateTime<Utc>, max_age: Duration) -> (Verdict, String) {
    let Some(job) = job else { return (Verdict::Unknown, format!("no {what} run recorded")) };
    let when = age(now - job.finished_at);
    let summary = if job.summary.trim().is_empty() { String::new() } else { format!(": {}", job.summary.trim()) };
    if now - job.finished_at > max_age {
        let outcome = if job.succeeded { "succeeded" } else { "failed" };
        return (
            Verdict::Unknown,
            format!("last {what} {outcome} {when}, stale (older than {} days); run it again", max_age.num_days()),
        );
    }
    if job.succeeded {
        (Verdict::Pass, format!("{what} succeeded {when}{summary}"))
    } else {
        (Verdict::Fail, format!("{what} failed {when}{summary}"))
    }
}

/// Combines verdicts: any fail fails, else any unknown is unknown, else pass.
pub fn overall(g: &[GateResult]) -> Verdict {
    combine(g.iter().map(|r| r.verdict))
}

fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    let verdicts: Vec<Verdict> = verdicts.into_iter().collect();
    if verdicts.contains(&Verdict::Fail) {
        Verdict::Fail
    } else if verdicts.contains(&Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::Pass
    }
}

/// The deployment gates: all health checks pass, integration tests pass, performance
/// benchmarks meet targets, security scans complete. Job evidence older than
/// [`JOB_MAX_AGE`] is unknown ("stale").
pub fn deployment_gates(e: &DeploymentEvidence, now: DateTime<Utc>) -> Vec<GateResult> {
    let detail = e.health_detail.trim();
    let health = match e.health_ok {
        None => (Verdict::Unknown, "health endpoints not checked".to_owned()),
        Some(true) => (Verdict::Pass, format!("all health endpoints healthy. {detail}").trim().to_owned()),
        Some(false) => (Verdict::Fail, format!("a health endpoint is unhealthy. {detail}").trim().to_owned()),
    };
    let tests = job_verdict("integration tests", e.integration_tests.as_ref(), now, JOB_MAX_AGE);

    let load = job_verdict("load tests", e.load_tests.as_ref(), now, JOB_MAX_AGE);
    let target = e.latency_target_secs;
    let latency = match e.latency_p95_secs {
        None => (Verdict::Unknown, "P95 latency unknown".to_owned()),
        Some(p95) if p95 < target => (Verdict::Pass, format!("P95 latency {p95:.1} s (target < {target:.0} s)")),
        Some(p95) => (Verdict::Fail, format!("P95 latency {p95:.1} s, over the target of {target:.0} s")),
    };
    let benchmarks = (combine([load.0, latency.0]), format!("{}; {}", load.1, latency.1));
    let scan = job_verdict("vulnerability scan", e.security_scan.as_ref(), now, JOB_MAX_AGE);

    vec![
        gate("health-checks", "All health checks pass", health.0, health.1),
        gate("integration-tests", "Integration tests pass", tests.0, tests.1),
        gate("performance-benchmarks", "Performance benchmarks meet targets", benchmarks.0, benchmarks.1),
        gate("security-scans", "Security scans complete", scan.0, scan.1),
    ]
}

fn percent(fraction: f64) -> String {
    format!("{:.3} %", fraction * 100.0)
}

/// `sli` against `objective`, named `what`.
fn sli_verdict(what: &str, sli: Option<f64>, objective: f64) -> (Verdict, String) {
    match sli {
        None => (Verdict::Unknown, format!("{what} SLI unknown")),
        Some(v) if v >= objective => {
            (Verdict::Pass, format!("{what} {} (objective {})", percent(v), percent(objective)))
        }
        Some(v) => (Verdict::Fail, format!("{what} {} below the objective of {}", percent(v), percent(objective))),
    }
}

/// The production gates: error rate < 0.1 % for 24 hours, performance within SLA
/// targets, no critical alerts active, backup verification complete.
pub fn production_gates(e: &ProductionEvidence, now: DateTime<Utc>) -> Vec<GateResult> {
    let errors = match e.error_rate_24h {
        None => (Verdict::Unknown, "error rate over the last 24 h unknown".to_owned()),
        Some(r) if r < MAX_ERROR_RATE => (Verdict::Pass, format!("{} over the last 24 h (gate < 0.1 %)", percent(r))),
        Some(r) => (Verdict::Fail, format!("{} over the last 24 h, at or over the 0.1 % gate", percent(r))),
    };

    let latency = sli_verdict("latency", e.latency_sli, e.latency_objective);
    let availability = sli_verdict("availability", e.availability_sli, e.availability_objective);
    let sla = (combine([latency.0, availability.0]), format!("{}; {}", latency.1, availability.1));

    let alerts = match e.critical_alerts {
        None => (Verdict::Unknown, "critical alerts unknown (AlertManager not reached)".to_owned()),
        Some(0) => (Verdict::Pass, "no critical alert firing".to_owned()),
        Some(n) => (Verdict::Fail, format!("{n} critical alert(s) firing")),
    };

    let max_age_hours = e.backup_max_age_hours;
    let backup = match e.backup_last_success {
        None => (Verdict::Unknown, "no successful backup recorded".to_owned()),
        Some(at) => {
            let hours = (now - at).num_minutes() as f64 / 60.0;
            if hours <= max_age_hours {
                (Verdict::Pass, format!("last backup {} (max {max_age_hours:.0} h)", age(now - at)))
            } else {
                (Verdict::Fail, format!("last successful backup {}, older than {max_age_hours:.0} h", age(now - at)))
            }
        }
    };
    let restore = job_verdict("backup restore test", e.backup_restore_test.as_ref(), now, RESTORE_TEST_MAX_AGE);
    let verified = (combine([backup.0, restore.0]), format!("{}; {}", backup.1, restore.1));

    vec![
        gate("error-rate-24h", "Error rate < 0.1 % for 24 hours", errors.0, errors.1),
        gate("performance-sla", "Performance within SLA targets", sla.0, sla.1),
        gate("no-critical-alerts", "No critical alerts active", alerts.0, alerts.1),
        gate("backup-verified", "Backup verification complete", verified.0, verified.1),
    ]
}
