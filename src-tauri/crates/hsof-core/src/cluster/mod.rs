//! Cluster services: connect from the configuration, read views, and audited changes
//! that are permission-checked and dry-run on the server before they are made.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_cluster::{ChangeOutcome, Cluster};
use hsof_store::NewAuditEntry;
use serde::{Deserialize, Serialize};

use crate::{AppContext, Error};

mod connection;
mod sources;
mod view;

pub use connection::{ClusterState, PERMISSION_TTL};
pub(crate) use sources::{resolve, target_of};
pub use sources::{ConnectChoice, ConnectReport, ProxyState, SourceReport};
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
    /// `kubectl delete KIND NAME`: a leftover the maintenance check found (cleanup).
    Delete {
        /// `job`, `replicaset`, `configmap`, `secret` or `persistentvolumeclaim`.
        object_kind: String,
        /// Its name.
        name: String,
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
        hsof_cluster::JobTemplate { name: name.into(), image: image.clone(), command: command.clone(), manifest: None }
    }
}

impl ChangeRequest {
    /// `(verb, group, resource, subresource)` the change needs.
    fn permission(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Scale { .. } => ("patch", "apps", "deployments", "scale"),
            Self::PatchConfig { .. } => ("patch", "", "configmaps", ""),
            Self::RunJob { .. } => ("create", "batch", "jobs", ""),
            Self::Delete { object_kind, .. } => match object_kind.as_str() {
                "job" => ("delete", "batch", "jobs", ""),
                "replicaset" => ("delete", "apps", "replicasets", ""),
                "configmap" => ("delete", "", "configmaps", ""),
                "secret" => ("delete", "", "secrets", ""),
                _ => ("delete", "", "persistentvolumeclaims", ""),
            },
            _ => ("patch", "apps", "deployments", ""),
        }
    }
}

impl AppContext {
    /// `Err` in read-only mode (`cluster.read_only`): nothing may be written to the cluster.
    pub fn ensure_writable(&self) -> Result<(), Error> {
        if self.config().config.cluster.read_only {
            return Err(Error::Forbidden("read-only mode (cluster.read_only = true): changes are disabled".into()));
        }
        Ok(())
    }

    /// Whether `request` may be made now: read-only mode and RBAC (the API's answer is
    /// cached for [`PERMISSION_TTL`]). `Err` says why not.
    pub async fn change_allowed(&self, cluster: &Cluster, request: &ChangeRequest) -> Result<(), Error> {
        self.ensure_writable()?;
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

    /// `request` against the configured deployment / ConfigMap / Job templates, as a
    /// server-side dry run or for real.
    async fn apply(
        &self,
        cluster: &Cluster,
        request: &ChangeRequest,
        now: DateTime<Utc>,
        dry: bool,
    ) -> Result<ChangeOutcome, Error> {
        let full = self.config().config;
        let (deployment, configmap) = (&full.cluster.deployment, &full.cluster.configmap);
        Ok(match request {
            ChangeRequest::Restart => cluster.restart(deployment, now, dry).await,
            ChangeRequest::Scale { replicas } => cluster.scale(deployment, i64::from(*replicas), dry).await,
            ChangeRequest::Undo { to_revision } => cluster.undo(deployment, *to_revision, dry).await,
            ChangeRequest::PatchConfig { set } => cluster.patch_config(configmap, set, dry).await,
            ChangeRequest::RunJob { job } => {
                let mut t = job.template(&full.jobs);
                t.manifest = self.job_manifest(cluster, &t.name, &full.jobs).await?;
                cluster.run_job(&t, now, dry).await
            }
            ChangeRequest::SetResources { container, resources } => {
                cluster.set_resources(deployment, container, resources, dry).await
            }
            ChangeRequest::Delete { object_kind, name } => cluster.delete_object(object_kind, name, dry).await,
        }?)
    }

    /// The team's own manifest for runbook Job `name`, when the configuration names where
    /// they are: `jobs.manifests_dir` (`<dir>/<name>.yaml`, as the runbook's
    /// `deployment/testing/`), else key `<name>.yaml` of the ConfigMap `jobs.manifests_configmap`
    /// in HSOF's namespace. A source that is set but holds no manifest for `name` means the
    /// `[jobs]` image and command; one that cannot be read is an error (never silently the
    /// other Job).
    pub(crate) async fn job_manifest(
        &self,
        cluster: &hsof_cluster::Cluster,
        name: &str,
        jobs: &crate::config::JobsConfig,
    ) -> Result<Option<(String, String)>, Error> {
        if !jobs.manifests_dir.is_empty() {
            let path = std::path::Path::new(&jobs.manifests_dir).join(format!("{name}.yaml"));
            match std::fs::read_to_string(&path) {
                Ok(text) => return Ok(Some((path.display().to_string(), text))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::Unavailable(format!("{}: {e}", path.display()))),
            }
        }
        if !jobs.manifests_configmap.is_empty() {
            let data = cluster.configmap(&jobs.manifests_configmap).await?;
            let key = format!("{name}.yaml");
            if let Some(text) = data.get(&key) {
                return Ok(Some((format!("configmap/{} key {key}", jobs.manifests_configmap), text.clone())));
            }
        }
        Ok(None)
    }

    /// Makes `request` on the configured deployment: permission check, server-side dry
    /// run, then (unless `dry_run`) the intent in the audit trail (who, what, the state
    /// before and the state expected), the change itself, and its outcome as a second
    /// audit row. No intent, no change: when the intent cannot be written the change is
    /// refused ([`Error::StoreUnavailable`], exit 7). A process killed between the change
    /// and its outcome leaves the intent, which [`AppContext::reconcile_changes`] settles
    /// against the cluster at the next start. A dry run is not audited: nothing changed.
    pub async fn change(
        &self,
        request: &ChangeRequest,
        dry_run: bool,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ChangeOutcome, Error> {
        let cluster = self.cluster().await?;
        self.change_allowed(&cluster, request).await?;
        let preview = self.apply(&cluster, request, now, true).await?;
        if dry_run {
            return Ok(preview);
        }
        let who = self.audit_actor(actor, &cluster.context);
        let target = format!("{} in {}", preview.target, cluster.namespace);
        let mut action = preview.action.clone();
        // During an open incident every change is an emergency change, linked to it.
        let incident = self.incident_for_changes();
        if let Some(i) = &incident {
            action = format!("emergency.{action} (incident #{})", i.id);
        }
        let request_json =
            serde_json::to_string(request).map_err(|e| Error::InvalidInput(format!("change request: {e}")))?;
        let intent = self
            .store()
            .and_then(|s| {
                s.append_intent(
                    &NewAuditEntry {
                        actor: &who,
                        action: &action,
                        target: &target,
                        before: Some(&preview.before),
                        after: Some(&preview.after),
                        result: INTENT_RESULT,
                    },
                    &request_json,
                    now,
                )
                .map_err(Error::from)
            })
            .map_err(|e| {
                Error::StoreUnavailable(format!(
                    "the change was not made, because its audit record could not be written first ({e})"
                ))
            })?;
        self.advance_audit_anchor();
        let result = self.apply(&cluster, request, now, false).await;
        let (before, after, outcome) = match &result {
            Ok(o) => (Some(o.before.clone()), Some(o.after.clone()), format!("ok (intent #{})", intent.id)),
            Err(e) => (Some(preview.before.clone()), None, format!("error: {e} (intent #{})", intent.id)),
        };
        let settled = self.store().and_then(|s| {
            s.settle_intent(
                intent.id,
                &NewAuditEntry {
                    actor: &who,
                    action: &action,
                    target: &target,
                    before: before.as_deref(),
                    after: after.as_deref(),
                    result: &outcome,
                },
                now,
            )
            .map_err(Error::from)
        });
        if matches!(settled, Ok(Some(_))) {
            self.advance_audit_anchor();
        }
        let mut result = result?;
        match settled {
            Ok(Some(audit)) => {
                if let Some(i) = &incident {
                    self.link_emergency_change(i, &audit, now);
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, intent = intent.id, "the change's outcome could not be recorded");
                result.message = format!(
                    "{} (its outcome could not be recorded: intent #{} will be checked at the next start)",
                    result.message, intent.id
                );
            }
        }
        Ok(result)
    }

    /// Settles every change intent that has no outcome (a process died between applying
    /// a change and recording it): the state the dry run of the same request finds now is
    /// compared with the intent's before and expected after, and the verdict is written as
    /// the outcome, marked *outcome checked at restart*. Returns how many were settled; an
    /// unreachable cluster leaves them for the next start.
    pub async fn reconcile_changes(&self, now: DateTime<Utc>) -> Result<u32, Error> {
        let pending = self.store()?.pending_intents()?;
        if pending.is_empty() {
            return Ok(0);
        }
        let cluster = self.cluster().await?;
        let mut settled = 0;
        for p in pending {
            let verdict = match serde_json::from_str::<ChangeRequest>(&p.request) {
                Err(e) => Some((None, format!("unknown: the recorded request cannot be read ({e})"))),
                Ok(request) => match self.apply(&cluster, &request, now, true).await {
                    Ok(current) => {
                        let state = Some(current.before);
                        let v = if state == p.entry.after {
                            "applied"
                        } else if state == p.entry.before {
                            "not applied"
                        } else {
                            "unknown: the state differs from both the state before and the one expected"
                        };
                        Some((state, v.to_string()))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, intent = p.entry.id, "change intent left for the next start");
                        None
                    }
                },
            };
            let Some((state, verdict)) = verdict else { continue };
            let result = format!("outcome checked at restart: {verdict} (intent #{})", p.entry.id);
            let written = self.store()?.settle_intent(
                p.entry.id,
                &NewAuditEntry {
                    actor: RESTART_CHECKER,
                    action: &p.entry.action,
                    target: &p.entry.target,
                    before: p.entry.before.as_deref(),
                    after: state.as_deref(),
                    result: &result,
                },
                now,
            )?;
            if written.is_some() {
                self.advance_audit_anchor();
                settled += 1;
            }
        }
        Ok(settled)
    }
}

/// The result of an intent row: the change is about to be applied.
pub const INTENT_RESULT: &str = "intent: recorded before applying";
/// Who writes the outcome of an intent settled at restart.
const RESTART_CHECKER: &str = "hsof-control-center (restart check)";

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
