//! Cluster services: connect from the configuration, read views, and audited changes
//! that are permission-checked and dry-run on the server before they are made.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_cluster::{ChangeOutcome, Cluster};
use hsof_store::NewAuditEntry;
use serde::{Deserialize, Serialize};

use crate::{AppContext, Error};

mod connection;
mod view;

pub use connection::{ClusterState, PERMISSION_TTL};
pub use view::ClusterView;

/// A change the runbook makes to the main deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeRequest {
    /// `kubectl rollout restart deployment/hsof-main`.
    Restart,
    /// `kubectl scale deployment hsof-main --replicas=N`.
    Scale {
        /// Desired replicas (0–50).
        replicas: i32,
    },
    /// `kubectl rollout undo deployment/hsof-main [--to-revision=N]`.
    Undo {
        /// Revision to go back to; the previous one when absent.
        to_revision: Option<u32>,
    },
    /// `kubectl patch configmap hsof-config --patch "data: {...}"`.
    PatchConfig {
        /// Keys to set in the ConfigMap named by `cluster.configmap`.
        set: std::collections::BTreeMap<String, String>,
    },
    /// `kubectl apply -f deployment/.../<job>.yaml`: create one of the runbook's Jobs.
    RunJob {
        /// Which.
        job: RunbookJob,
    },
    /// `kubectl patch deployment hsof-main --patch "spec: {...}"` (vertical scaling).
    SetResources {
        /// Container name.
        container: String,
        /// New requests / limits.
        resources: hsof_cluster::Resources,
    },
}

/// The runbook's Jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum RunbookJob {
    /// `vulnerability-scan` (Wednesday security review).
    VulnerabilityScan,
    /// `backup-restore-test` (second-Monday DR test).
    BackupRestoreTest,
    /// `hsof-integration-tests` (weekly).
    IntegrationTests,
    /// `hsof-load-tests` (monthly).
    LoadTests,
}

impl RunbookJob {
    /// The Job's template from the configuration.
    pub fn template(self, jobs: &crate::config::JobsConfig) -> hsof_cluster::JobTemplate {
        let (name, image, command) = match self {
            Self::VulnerabilityScan => {
                ("vulnerability-scan", &jobs.vulnerability_scan_image, &jobs.vulnerability_scan_command)
            }
            Self::BackupRestoreTest => {
                ("backup-restore-test", &jobs.backup_restore_test_image, &jobs.backup_restore_test_command)
            }
            Self::IntegrationTests => {
                ("hsof-integration-tests", &jobs.integration_tests_image, &jobs.integration_tests_command)
            }
            Self::LoadTests => ("hsof-load-tests", &jobs.load_tests_image, &jobs.load_tests_command),
        };
        hsof_cluster::JobTemplate { name: name.into(), image: image.clone(), command: command.clone() }
    }
}

impl ChangeRequest {
    /// `(verb, group, resource, subresource)` the change needs.
    fn permission(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Scale { .. } => ("patch", "apps", "deployments", "scale"),
            Self::PatchConfig { .. } => ("patch", "", "configmaps", ""),
            Self::RunJob { .. } => ("create", "batch", "jobs", ""),
            _ => ("patch", "apps", "deployments", ""),
        }
    }
}

impl AppContext {
    /// Whether `request` may be made now: read-only mode and RBAC (the API's answer is
    /// cached for [`PERMISSION_TTL`]). `Err` says why not.
    pub async fn change_allowed(&self, cluster: &Cluster, request: &ChangeRequest) -> Result<(), Error> {
        if self.config().config.cluster.read_only {
            return Err(Error::Forbidden("read-only mode (cluster.read_only = true): changes are disabled".into()));
        }
        let (verb, group, resource, sub) = request.permission();
        let (allowed, reason) = self.can_i(cluster, verb, group, resource, sub).await?;
        if allowed {
            Ok(())
        } else {
            let what = if sub.is_empty() { resource.to_string() } else { format!("{resource}/{sub}") };
            Err(Error::Forbidden(format!(
                "your identity in context `{}` may not {verb} {what} in namespace {}: {reason}",
                cluster.context, cluster.namespace
            )))
        }
    }

    /// Makes `request` on the configured deployment: permission check, server-side dry
    /// run, then (unless `dry_run`) the change itself and an audit entry with before,
    /// after and result. A dry run is not audited: nothing changed.
    pub async fn change(
        &self,
        request: &ChangeRequest,
        dry_run: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ChangeOutcome, Error> {
        let full = self.config().config;
        let jobs = full.jobs.clone();
        let cfg = full.cluster;
        let (deployment, configmap) = (cfg.deployment, cfg.configmap);
        let cluster = self.cluster().await?;
        self.change_allowed(&cluster, request).await?;
        let run = |dry: bool| {
            let cluster = cluster.clone();
            let deployment = deployment.clone();
            let configmap = configmap.clone();
            let jobs = jobs.clone();
            let request = request.clone();
            async move {
                match request {
                    ChangeRequest::Restart => cluster.restart(&deployment, now, dry).await,
                    ChangeRequest::Scale { replicas } => cluster.scale(&deployment, i64::from(replicas), dry).await,
                    ChangeRequest::Undo { to_revision } => cluster.undo(&deployment, to_revision, dry).await,
                    ChangeRequest::PatchConfig { set } => cluster.patch_config(&configmap, &set, dry).await,
                    ChangeRequest::RunJob { job } => cluster.run_job(&job.template(&jobs), now, dry).await,
                    ChangeRequest::SetResources { container, resources } => {
                        cluster.set_resources(&deployment, &container, &resources, dry).await
                    }
                }
            }
        };
        let preview = run(true).await?;
        if dry_run {
            return Ok(preview);
        }
        let result = run(false).await;
        let who = format!("{actor} (context {})", cluster.context);
        let target = format!("{} in {}", preview.target, cluster.namespace);
        let (mut action, before, after, outcome) = match &result {
            Ok(o) => (o.action.clone(), Some(o.before.clone()), Some(o.after.clone()), "ok".to_string()),
            Err(e) => (preview.action.clone(), Some(preview.before.clone()), None, format!("error: {e}")),
        };
        // During an open incident every change is an emergency change, linked to it.
        let incident = self.incident_for_changes();
        if let Some(i) = &incident {
            action = format!("emergency.{action} (incident #{})", i.id);
        }
        let audit = self.audit_entry(
            &NewAuditEntry {
                actor: &who,
                action: &action,
                target: &target,
                before: before.as_deref(),
                after: after.as_deref(),
                result: &outcome,
            },
            now,
        );
        if let (Some(i), Some(a)) = (&incident, &audit) {
            self.link_emergency_change(i, a, now);
        }
        Ok(result?)
    }
}

impl RunbookJob {
    /// The runbook's name for the Job (`integration-tests`, …), as the calendar and the
    /// quality gates name it.
    pub fn key(self) -> &'static str {
        match self {
            Self::VulnerabilityScan => "vulnerability-scan",
            Self::BackupRestoreTest => "backup-restore-test",
            Self::IntegrationTests => "integration-tests",
            Self::LoadTests => "load-tests",
        }
    }

    /// The Job named by `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        [Self::VulnerabilityScan, Self::BackupRestoreTest, Self::IntegrationTests, Self::LoadTests]
            .into_iter()
            .find(|j| j.key() == key)
    }
}

impl AppContext {
    /// Follows Job `name` (created for `job`) to completion and records its outcome, the
    /// evidence the quality gates read.
    pub async fn follow_runbook_job(
        &self,
        job: Option<RunbookJob>,
        name: &str,
        timeout: Duration,
        now: impl Fn() -> DateTime<Utc>,
    ) -> Result<hsof_cluster::JobOutcome, Error> {
        let cluster = self.cluster().await?;
        let done = cluster.follow_job(name, timeout, Duration::from_secs(2)).await?;
        let job = job.or_else(|| {
            [
                RunbookJob::VulnerabilityScan,
                RunbookJob::BackupRestoreTest,
                RunbookJob::IntegrationTests,
                RunbookJob::LoadTests,
            ]
            .into_iter()
            .find(|j| name.starts_with(&j.template(&self.config().config.jobs).name))
        });
        if let (Some(job), true) = (job, matches!(done.state.as_str(), "succeeded" | "failed")) {
            let summary = done.logs.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().to_string();
            let rec = hsof_store::JobRecord {
                job: job.key().into(),
                name: done.name.clone(),
                finished_at: now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                succeeded: done.state == "succeeded",
                summary,
            };
            if let Err(e) = self.store().and_then(|s| Ok(s.record_job(&rec)?)) {
                tracing::error!(error = %e, job = name, "the Job's outcome could not be recorded");
            }
        }
        Ok(done)
    }
}
