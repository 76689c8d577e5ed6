//! More read views for the runbook's checks: events, the backup CronJob, images in use
//! (the Friday update review), pod logs.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams};
use serde::Serialize;

use crate::{Cluster, ClusterError};

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct EventRow {
    /// `Normal` or `Warning`.
    pub kind: String,
    /// Reason, e.g. `BackOff`.
    pub reason: String,
    /// `Pod/hsof-main-…`.
    pub object: String,
    /// Message.
    pub message: String,
    /// Times seen.
    pub count: u32,
    /// Last seen (RFC 3339).
    pub last_seen: Option<String>,
}

/// The backup CronJob's state.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct BackupStatus {
    /// CronJob name.
    pub name: String,
    /// Cron schedule.
    pub schedule: String,
    /// Suspended.
    pub suspended: bool,
    /// Last time a job was scheduled.
    pub last_schedule: Option<String>,
    /// Last time a job succeeded.
    pub last_success: Option<String>,
    /// True when the last scheduled run has not succeeded (the last success is older).
    pub last_run_failed: bool,
}

/// An image and where it runs.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ImageUse {
    /// Image reference.
    pub image: String,
    /// Pods running it.
    pub pods: u32,
}

impl Cluster {
    /// Events in the namespace, newest first.
    pub async fn events(&self) -> Result<Vec<EventRow>, ClusterError> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        let list = api.list(&ListParams::default()).await.map_err(|e| ClusterError::from_kube(e, "list events"))?;
        let mut rows: Vec<EventRow> = list.items.into_iter().map(|e| event_row(&e)).collect();
        rows.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
        Ok(rows)
    }

    /// The backup CronJob (`kubectl get cronjob hsof-backup`).
    pub async fn backup(&self, cronjob: &str) -> Result<BackupStatus, ClusterError> {
        let api: Api<CronJob> = Api::namespaced(self.client.clone(), &self.namespace);
        let cj = api.get(cronjob).await.map_err(|e| ClusterError::from_kube(e, &format!("get cronjob {cronjob}")))?;
        let status = cj.status.unwrap_or_default();
        let last_schedule = status.last_schedule_time.map(|t| t.0.to_string());
        let last_success = status.last_successful_time.map(|t| t.0.to_string());
        let last_run_failed = match (&last_schedule, &last_success) {
            (Some(s), Some(ok)) => ok < s,
            (Some(_), None) => true,
            _ => false,
        };
        Ok(BackupStatus {
            name: cronjob.into(),
            schedule: cj.spec.as_ref().map(|s| s.schedule.clone()).unwrap_or_default(),
            suspended: cj.spec.and_then(|s| s.suspend).unwrap_or(false),
            last_schedule,
            last_success,
            last_run_failed,
        })
    }

    /// Images of every container in the namespace with how many pods run each
    /// (`kubectl get pods -o jsonpath='{..image}'`).
    pub async fn images(&self) -> Result<Vec<ImageUse>, ClusterError> {
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for p in self.pods().await? {
            for i in p.images {
                *counts.entry(i).or_default() += 1;
            }
        }
        Ok(counts.into_iter().map(|(image, pods)| ImageUse { image, pods }).collect())
    }

    /// The last `tail` lines of a pod's log (`kubectl logs --tail`).
    pub async fn logs(&self, pod: &str, tail: i64) -> Result<String, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let params = LogParams { tail_lines: Some(tail.clamp(1, 10_000)), ..Default::default() };
        api.logs(pod, &params).await.map_err(|e| ClusterError::from_kube(e, &format!("logs of pod {pod}")))
    }
}

/// The table row of an event.
pub(crate) fn event_row(e: &Event) -> EventRow {
    EventRow {
        kind: e.type_.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        object: format!(
            "{}/{}",
            e.involved_object.kind.clone().unwrap_or_default(),
            e.involved_object.name.clone().unwrap_or_default()
        ),
        message: e.message.clone().unwrap_or_default(),
        count: u32::try_from(e.count.unwrap_or(1)).unwrap_or(1),
        last_seen: e.last_timestamp.as_ref().map(|t| t.0.to_string()),
    }
}
