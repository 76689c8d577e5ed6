//! Quality gates from evidence: pass, fail, unknown (missing or stale), and the overall verdict.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsof_ops::calendar::{
    deployment_gates, overall, production_gates, DeploymentEvidence, GateResult, JobEvidence, ProductionEvidence,
    Verdict,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).single().expect("valid")
}

fn job(succeeded: bool, days_ago: i64) -> Option<JobEvidence> {
    Some(JobEvidence { succeeded, finished_at: now() - Duration::days(days_ago), summary: "212 passed".into() })
}

fn good_deployment() -> DeploymentEvidence {
    DeploymentEvidence {
        health_ok: Some(true),
        health_detail: "/health 200, /health/gpu 200, /health/pipeline 200".into(),
        integration_tests: job(true, 1),
        load_tests: job(true, 2),
        security_scan: job(true, 3),
        latency_p95_secs: Some(21.5),
        latency_target_secs: 30.0,
    }
}

fn good_production() -> ProductionEvidence {
    ProductionEvidence {
        error_rate_24h: Some(0.0004),
        latency_sli: Some(0.996),
        latency_objective: 0.99,
        availability_sli: Some(0.9995),
        availability_objective: 0.999,
        critical_alerts: Some(0),
        backup_last_success: Some(now() - Duration::hours(8)),
        backup_max_age_hours: 26.0,
        backup_restore_test: job(true, 20),
    }
}

fn verdict(gates: &[GateResult], id: &str) -> Verdict {
    gates.iter().find(|g| g.id == id).unwrap_or_else(|| panic!("no gate {id}")).verdict
}

fn evidence<'a>(gates: &'a [GateResult], id: &str) -> &'a str {
    &gates.iter().find(|g| g.id == id).expect("gate").evidence
}

#[test]
fn deployment_gates_pass_on_fresh_good_evidence() {
    let gates = deployment_gates(&good_deployment(), now());
    let ids: Vec<&str> = gates.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["health-checks", "integration-tests", "performance-benchmarks", "security-scans"]);
    assert!(gates.iter().all(|g| g.verdict == Verdict::Pass), "{gates:?}");
    assert_eq!(overall(&gates), Verdict::Pass);
    assert!(evidence(&gates, "integration-tests").contains("212 passed"));
    assert!(evidence(&gates, "performance-benchmarks").contains("21.5 s"));
}

#[test]
fn deployment_gates_fail_and_go_unknown() {
    let mut e = good_deployment();
    e.health_ok = Some(false);
    e.integration_tests = job(false, 1);
    e.latency_p95_secs = Some(31.0);
    let gates = deployment_gates(&e, now());
    assert_eq!(verdict(&gates, "health-checks"), Verdict::Fail);
    assert_eq!(verdict(&gates, "integration-tests"), Verdict::Fail);
    assert_eq!(
        verdict(&gates, "performance-benchmarks"),
        Verdict::Fail,
        "P95 over target fails even with load tests passing"
    );
    assert_eq!(overall(&gates), Verdict::Fail);

    let mut e = good_deployment();
    e.health_ok = None;
    e.security_scan = job(true, 8);
    e.load_tests = None;
    let gates = deployment_gates(&e, now());
    assert_eq!(verdict(&gates, "health-checks"), Verdict::Unknown);
    assert_eq!(verdict(&gates, "security-scans"), Verdict::Unknown, "a scan 8 days old is stale");
    assert!(evidence(&gates, "security-scans").contains("stale"), "{}", evidence(&gates, "security-scans"));
    assert_eq!(verdict(&gates, "performance-benchmarks"), Verdict::Unknown);
    assert_eq!(verdict(&gates, "integration-tests"), Verdict::Pass);
    assert_eq!(overall(&gates), Verdict::Unknown);

    let mut e = good_deployment();
    e.integration_tests = job(false, 9);
    assert_eq!(
        verdict(&deployment_gates(&e, now()), "integration-tests"),
        Verdict::Unknown,
        "a stale failure is unknown too"
    );
}

#[test]
fn production_gates_judge_error_rate_sla_alerts_and_backups() {
    let gates = production_gates(&good_production(), now());
    let ids: Vec<&str> = gates.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["error-rate-24h", "performance-sla", "no-critical-alerts", "backup-verified"]);
    assert_eq!(overall(&gates), Verdict::Pass, "{gates:?}");
    assert!(evidence(&gates, "error-rate-24h").contains("0.040 %"));

    let mut e = good_production();
    e.error_rate_24h = Some(0.001);
    e.availability_sli = Some(0.998);
    e.critical_alerts = Some(2);
    e.backup_last_success = Some(now() - Duration::hours(30));
    let gates = production_gates(&e, now());
    assert!(gates.iter().all(|g| g.verdict == Verdict::Fail), "{gates:?}");
    assert!(evidence(&gates, "no-critical-alerts").contains('2'));

    let mut e = good_production();
    e.error_rate_24h = None;
    e.latency_sli = None;
    e.critical_alerts = None;
    e.backup_restore_test = job(true, 40);
    let gates = production_gates(&e, now());
    assert!(gates.iter().all(|g| g.verdict == Verdict::Unknown), "{gates:?}");
    assert!(evidence(&gates, "backup-verified").contains("stale"));

    let mut e = good_production();
    e.backup_restore_test = job(false, 3);
    assert_eq!(verdict(&production_gates(&e, now()), "backup-verified"), Verdict::Fail);
}

#[test]
fn overall_prefers_fail_then_unknown() {
    let g = |verdict| GateResult { id: "g".into(), title: "G".into(), verdict, evidence: String::new() };
    assert_eq!(overall(&[g(Verdict::Pass), g(Verdict::Unknown), g(Verdict::Fail)]), Verdict::Fail);
    assert_eq!(overall(&[g(Verdict::Pass), g(Verdict::Unknown)]), Verdict::Unknown);
    assert_eq!(overall(&[g(Verdict::Pass)]), Verdict::Pass);
    assert_eq!(overall(&[]), Verdict::Pass);
    assert_eq!(serde_json::to_string(&Verdict::Unknown).expect("serialises"), "\"unknown\"");
}
