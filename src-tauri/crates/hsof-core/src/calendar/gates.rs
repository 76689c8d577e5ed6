//! The runbook's quality gates evaluated from live data: health, the recorded runbook
//! Jobs, SLO figures from Prometheus, active alerts and the backup CronJob.

use chrono::{DateTime, Utc};
use hsof_monitor::Level;
use hsof_ops::calendar::{self as cal, DeploymentEvidence, GateResult, JobEvidence, ProductionEvidence, Verdict};
use serde::Serialize;

use crate::{AppContext, Error};

/// Both gate sets with their verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct GatesView {
    /// Deployment gates (before a release).
    pub deployment: Vec<GateResult>,
    /// Verdict of the deployment gates.
    pub deployment_verdict: Verdict,
    /// Production gates (while it runs).
    pub production: Vec<GateResult>,
    /// Verdict of the production gates.
    pub production_verdict: Verdict,
    /// When evaluated (RFC 3339).
    pub evaluated_at: String,
}

impl AppContext {
    fn job_evidence(&self, job: &str) -> Option<JobEvidence> {
        let r = self.store().ok()?.last_job(job).ok()??;
        Some(JobEvidence {
            succeeded: r.succeeded,
            finished_at: DateTime::parse_from_rfc3339(&r.finished_at).ok()?.with_timezone(&Utc),
            summary: format!("job/{}: {}", r.name, r.summary),
        })
    }

    /// Evaluates every gate now; evidence that cannot be read makes its gate `unknown`.
    pub async fn gates(&self, now: DateTime<Utc>) -> Result<GatesView, Error> {
        let cfg = self.config().config;
        let (health, slo, alerts) =
            futures_util::future::join3(self.health_check(|| now), self.slo_report(now), self.alerts(now)).await;
        let health_ok = health.as_ref().ok().map(|h| h.report.overall == Level::Healthy);
        let health_detail = match &health {
            Ok(h) => format!("overall {:?}", h.report.overall).to_lowercase(),
            Err(e) => format!("health unreadable: {e}"),
        };
        let slo = slo.ok();
        let find = |id: &str| slo.as_ref().and_then(|r| r.slos.iter().find(|s| s.id == id).cloned());
        let availability = find("availability");
        let latency = find("latency");
        // The availability SLO's 1-day burn rate times its error budget is the error rate
        // over the last 24 hours.
        let error_rate_24h = availability.as_ref().and_then(|a| {
            let rate = a.burn_rates.iter().find(|w| w.window == "1d")?.rate?;
            Some(rate * (1.0 - a.objective))
        });
        let critical_alerts = alerts.ok().map(|a| u32::try_from(a.active_count("critical")).unwrap_or(u32::MAX));
        let backup_last_success = match self.cluster().await {
            Ok(c) => c
                .backup(&cfg.cluster.backup_cronjob)
                .await
                .ok()
                .and_then(|b| b.last_success)
                .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                .map(|t| t.with_timezone(&Utc)),
            Err(_) => None,
        };
        let metrics = self.key_metrics(now).await.ok();
        let latency_p95_secs =
            metrics.as_ref().and_then(|m| m.metrics.iter().find(|k| k.id.contains("latency"))).and_then(|k| k.value);
        let deployment = cal::deployment_gates(
            &DeploymentEvidence {
                health_ok,
                health_detail,
                integration_tests: self.job_evidence("integration-tests"),
                load_tests: self.job_evidence("load-tests"),
                security_scan: self.job_evidence("vulnerability-scan"),
                latency_p95_secs,
                latency_target_secs: cfg.thresholds.latency_p95_max_secs,
            },
            now,
        );
        let production = cal::production_gates(
            &ProductionEvidence {
                error_rate_24h,
                latency_sli: latency.as_ref().and_then(|l| l.sli),
                latency_objective: latency.as_ref().map_or(cfg.slo.latency_objective, |l| l.objective),
                availability_sli: availability.as_ref().and_then(|a| a.sli),
                availability_objective: availability.as_ref().map_or(cfg.slo.availability_objective, |a| a.objective),
                critical_alerts,
                backup_last_success,
                backup_max_age_hours: cfg.thresholds.backup_max_age_hours,
                backup_restore_test: self.job_evidence("backup-restore-test"),
            },
            now,
        );
        Ok(GatesView {
            deployment_verdict: cal::overall(&deployment),
            production_verdict: cal::overall(&production),
            deployment,
            production,
            evaluated_at: now.to_rfc3339(),
        })
    }
}
