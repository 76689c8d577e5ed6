//! The runbook's changes: rollout restart, scale, rollout undo. Each can run as a
//! server-side dry run first and returns before / after for the audit log.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde::Serialize;
use serde_json::{json, Value};

use crate::read::revision_of;
use crate::{Cluster, ClusterError};

/// The annotation `kubectl rollout restart` sets on the pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Upper bound for a scale request: a typo (`50` for `5`) on GPU pods is expensive.
pub const MAX_REPLICAS: i64 = 50;

/// Annotations kubectl never copies from a ReplicaSet back to its deployment on undo.
const SKIP_ON_UNDO: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// What a change did (or, dry-run, would do).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ChangeOutcome {
    /// `rollout.restart`, `scale`, `rollout.undo`.
    pub action: String,
    /// `deployment/hsof-main`.
    pub target: String,
    /// True when nothing was changed (server-side dry run).
    pub dry_run: bool,
    /// The relevant state before, JSON.
    pub before: String,
    /// The relevant state after (as the server answered), JSON.
    pub after: String,
    /// One line for people.
    pub message: String,
}

fn params(dry_run: bool) -> PatchParams {
    PatchParams { dry_run, field_manager: Some(crate::FIELD_MANAGER.into()), ..Default::default() }
}

fn template_summary(d: &Deployment) -> Value {
    let spec = d.spec.as_ref();
    json!({
        "replicas": spec.and_then(|s| s.replicas),
        "revision": revision_of(d.metadata.annotations.as_ref()),
        "images": spec.and_then(|s| s.template.spec.as_ref()).map(|s| s.containers.iter().map(|c| c.image.clone()).collect::<Vec<_>>()),
        "restartedAt": spec.and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.annotations.as_ref()).and_then(|a| a.get(RESTARTED_AT)),
    })
}

impl Cluster {
    fn deployments_api(&self) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// `kubectl rollout restart`: stamps the pod template with `restartedAt = now`.
    pub async fn restart(
        &self,
        deployment: &str,
        now: chrono::DateTime<chrono::Utc>,
        dry_run: bool,
    ) -> Result<ChangeOutcome, ClusterError> {
        let api = self.deployments_api();
        let before = api
            .get(deployment)
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("get deployment {deployment}")))?;
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}});
        let after = api
            .patch(deployment, &params(dry_run), &Patch::Strategic(patch))
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("restart deployment {deployment}")))?;
        Ok(outcome(
            "rollout.restart",
            deployment,
            dry_run,
            &before,
            &after,
            format!("deployment/{deployment} restarted (pods replaced one by one)"),
        ))
    }

    /// `kubectl scale --replicas=N`, through the `/scale` subresource, bounded to
    /// `0..=MAX_REPLICAS`.
    pub async fn scale(&self, deployment: &str, replicas: i64, dry_run: bool) -> Result<ChangeOutcome, ClusterError> {
        if !(0..=MAX_REPLICAS).contains(&replicas) {
            return Err(ClusterError::Invalid(format!(
                "replicas must be between 0 and {MAX_REPLICAS}, not {replicas}"
            )));
        }
        let api = self.deployments_api();
        let before = api
            .get(deployment)
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("get deployment {deployment}")))?;
        let scale = api
            .patch_scale(deployment, &params(dry_run), &Patch::Merge(json!({"spec": {"replicas": replicas}})))
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("scale deployment {deployment}")))?;
        let mut after = before.clone();
        if let Some(s) = after.spec.as_mut() {
            s.replicas = scale.spec.and_then(|s| s.replicas);
        }
        let from = before.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        Ok(outcome(
            "scale",
            deployment,
            dry_run,
            &before,
            &after,
            format!("deployment/{deployment} scaled from {from} to {replicas}"),
        ))
    }

    /// `kubectl rollout undo [--to-revision=N]`: copies that revision's pod template (and
    /// its annotations, as kubectl does) into the deployment. `None` means the previous
    /// revision.
    pub async fn undo(
        &self,
        deployment: &str,
        to_revision: Option<u32>,
        dry_run: bool,
    ) -> Result<ChangeOutcome, ClusterError> {
        let (dep, sets) = self.deployment_and_sets(deployment).await?;
        let current = revision_of(dep.metadata.annotations.as_ref());
        let mut revisions: Vec<u32> =
            sets.iter().map(|rs| revision_of(rs.metadata.annotations.as_ref())).filter(|r| *r > 0).collect();
        revisions.sort_unstable();
        let target = match to_revision.filter(|r| *r > 0) {
            Some(r) => r,
            None => *revisions.iter().rev().find(|r| **r < current).ok_or_else(|| {
                ClusterError::Invalid(format!("deployment/{deployment} has no previous revision to roll back to"))
            })?,
        };
        let rs = sets.iter().find(|rs| revision_of(rs.metadata.annotations.as_ref()) == target).ok_or_else(|| {
            ClusterError::NotFound(format!(
                "revision {target} of deployment/{deployment} is not in its history (revisions: {revisions:?})"
            ))
        })?;
        if target == current {
            return Err(ClusterError::Invalid(format!(
                "deployment/{deployment} already runs revision {target}: nothing to roll back"
            )));
        }
        let mut template =
            serde_json::to_value(rs.spec.as_ref().and_then(|s| s.template.clone())).unwrap_or(Value::Null);
        if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
            labels.remove("pod-template-hash");
        }
        let mut annotations = serde_json::Map::new();
        for k in SKIP_ON_UNDO {
            if let Some(v) = dep.metadata.annotations.as_ref().and_then(|a| a.get(k)) {
                annotations.insert(k.into(), json!(v));
            }
        }
        for (k, v) in rs.metadata.annotations.clone().unwrap_or_default() {
            if !SKIP_ON_UNDO.contains(&k.as_str()) {
                annotations.insert(k, json!(v));
            }
        }
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]))
        .map_err(|e| ClusterError::Invalid(e.to_string()))?;
        let after = self
            .deployments_api()
            .patch(deployment, &params(dry_run), &Patch::<()>::Json(patch))
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("roll back deployment {deployment}")))?;
        Ok(outcome(
            "rollout.undo",
            deployment,
            dry_run,
            &dep,
            &after,
            format!("deployment/{deployment} rolled back from revision {current} to the template of revision {target}"),
        ))
    }
}

fn outcome(
    action: &str,
    deployment: &str,
    dry_run: bool,
    before: &Deployment,
    after: &Deployment,
    message: String,
) -> ChangeOutcome {
    ChangeOutcome {
        action: action.into(),
        target: format!("deployment/{deployment}"),
        dry_run,
        before: template_summary(before).to_string(),
        after: template_summary(after).to_string(),
        message: if dry_run { format!("dry run: {message}") } else { message },
    }
}
