//! `kubectl rollout status`: follow a deployment until its rollout completes, fails
//! (progress deadline exceeded) or the wait times out.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use serde::Serialize;

use crate::{Cluster, ClusterError};

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct RolloutStatus {
    /// `complete`, `progressing`, `failed` or `timed_out`.
    pub state: String,
    /// What kubectl would print.
    pub message: String,
    /// Desired replicas.
    pub replicas: i32,
    /// Replicas on the new template.
    pub updated: i32,
    /// Available replicas.
    pub available: i32,
}

fn status_of(d: &Deployment) -> RolloutStatus {
    let name = d.metadata.name.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    let spec_replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = d.status.clone().unwrap_or_default();
    let (updated, available, replicas) =
        (st.updated_replicas.unwrap_or(0), st.available_replicas.unwrap_or(0), st.replicas.unwrap_or(0));
    let failed = st
        .conditions
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded"));
    let (state, message) = if failed {
        ("failed", format!("deployment \"{name}\" exceeded its progress deadline"))
    } else if st.observed_generation.unwrap_or(0) < generation {
        ("progressing", "Waiting for deployment spec update to be observed...".to_string())
    } else if updated < spec_replicas {
        ("progressing", format!("Waiting for deployment \"{name}\" rollout to finish: {updated} out of {spec_replicas} new replicas have been updated..."))
    } else if replicas > updated {
        (
            "progressing",
            format!(
                "Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...",
                replicas - updated
            ),
        )
    } else if available < updated {
        ("progressing", format!("Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available..."))
    } else {
        ("complete", format!("deployment \"{name}\" successfully rolled out"))
    };
    RolloutStatus { state: state.into(), message, replicas: spec_replicas, updated, available }
}

impl Cluster {
    /// Polls `deployment` every `every` until it is complete or failed, or `timeout` passes;
    /// `progress` sees each distinct state.
    pub async fn rollout_status(
        &self,
        deployment: &str,
        timeout: Duration,
        every: Duration,
        mut progress: impl FnMut(&RolloutStatus),
    ) -> Result<RolloutStatus, ClusterError> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &self.namespace);
        let start = std::time::Instant::now();
        let mut last: Option<RolloutStatus> = None;
        loop {
            let d = api
                .get(deployment)
                .await
                .map_err(|e| ClusterError::from_kube(e, &format!("get deployment {deployment}")))?;
            let s = status_of(&d);
            if last.as_ref() != Some(&s) {
                progress(&s);
            }
            if s.state != "progressing" {
                return Ok(s);
            }
            if start.elapsed() >= timeout {
                return Ok(RolloutStatus {
                    state: "timed_out".into(),
                    message: format!("timed out after {} s: {}", timeout.as_secs(), s.message),
                    ..s
                });
            }
            last = Some(s);
            tokio::time::sleep(every).await;
        }
    }
}
