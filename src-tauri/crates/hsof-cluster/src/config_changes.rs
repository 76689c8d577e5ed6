//! Configuration changes of the runbook's "Standard Changes": patch the HSOF ConfigMap
//! (`kubectl patch configmap hsof-config --patch "data: {...}"`) and set a container's
//! resources (`kubectl patch deployment hsof-main --patch "spec: {...}"`, vertical scaling).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{ChangeOutcome, Cluster, ClusterError};

/// Requests and limits for one container; `None` leaves a value as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Resources {
    /// CPU request, e.g. `4` or `500m`.
    pub cpu_request: Option<String>,
    /// CPU limit.
    pub cpu_limit: Option<String>,
    /// Memory request, e.g. `16Gi`.
    pub memory_request: Option<String>,
    /// Memory limit.
    pub memory_limit: Option<String>,
    /// `nvidia.com/gpu` (request and limit, which Kubernetes requires to be equal).
    pub gpus: Option<u32>,
}

fn quantity_ok(q: &str, memory: bool) -> bool {
    let units: &[&str] = if memory { &["Ki", "Mi", "Gi", "Ti", "K", "M", "G", "T", ""] } else { &["m", ""] };
    units.iter().any(|u| q.strip_suffix(u).is_some_and(|n| !n.is_empty() && n.parse::<f64>().is_ok_and(|v| v > 0.0)))
}

impl Resources {
    fn validate(&self) -> Result<(), ClusterError> {
        for (name, v, mem) in [
            ("cpu request", &self.cpu_request, false),
            ("cpu limit", &self.cpu_limit, false),
            ("memory request", &self.memory_request, true),
            ("memory limit", &self.memory_limit, true),
        ] {
            if let Some(q) = v {
                if !quantity_ok(q, mem) {
                    let example = if mem { "16Gi or 512Mi" } else { "4 or 500m" };
                    return Err(ClusterError::Invalid(format!("{name} `{q}` is not a quantity such as {example}")));
                }
            }
        }
        if self == &Self::default() {
            return Err(ClusterError::Invalid("give at least one of cpu / memory request or limit, or gpus".into()));
        }
        Ok(())
    }
}

fn params(dry_run: bool) -> PatchParams {
    PatchParams { dry_run, field_manager: Some(crate::FIELD_MANAGER.into()), ..Default::default() }
}

impl Cluster {
    /// A ConfigMap's `data` (`kubectl get configmap -o jsonpath='{.data}'`).
    pub async fn configmap(&self, name: &str) -> Result<BTreeMap<String, String>, ClusterError> {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.namespace);
        let cm = api.get(name).await.map_err(|e| ClusterError::from_kube(e, &format!("get configmap {name}")))?;
        Ok(cm.data.unwrap_or_default())
    }

    /// Sets keys of a ConfigMap's `data` (a merge patch; other keys are kept).
    pub async fn patch_config(
        &self,
        configmap: &str,
        set: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<ChangeOutcome, ClusterError> {
        if set.is_empty() {
            return Err(ClusterError::Invalid("nothing to change: give KEY=VALUE pairs".into()));
        }
        if let Some(k) =
            set.keys().find(|k| k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        {
            return Err(ClusterError::Invalid(format!(
                "`{k}` is not a valid ConfigMap key (letters, digits, '-', '_', '.')"
            )));
        }
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.namespace);
        let before =
            api.get(configmap).await.map_err(|e| ClusterError::from_kube(e, &format!("get configmap {configmap}")))?;
        let after = api
            .patch(configmap, &params(dry_run), &Patch::Merge(json!({"data": set})))
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("patch configmap {configmap}")))?;
        let changed: Vec<String> = set
            .keys()
            .filter(|k| before.data.as_ref().and_then(|d| d.get(*k)) != after.data.as_ref().and_then(|d| d.get(*k)))
            .cloned()
            .collect();
        let message = format!(
            "configmap/{configmap}: {} key(s) changed ({}); restart the deployment to pick them up",
            changed.len(),
            changed.join(", ")
        );
        Ok(ChangeOutcome {
            action: "configmap.patch".into(),
            target: format!("configmap/{configmap}"),
            dry_run,
            before: json!(before.data).to_string(),
            after: json!(after.data).to_string(),
            message: if dry_run { format!("dry run: {message}") } else { message },
        })
    }

    /// Sets requests / limits of `container` in `deployment` (a strategic merge patch by
    /// container name; this starts a rollout).
    pub async fn set_resources(
        &self,
        deployment: &str,
        container: &str,
        r: &Resources,
        dry_run: bool,
    ) -> Result<ChangeOutcome, ClusterError> {
        r.validate()?;
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &self.namespace);
        let before = api
            .get(deployment)
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("get deployment {deployment}")))?;
        let current = |d: &Deployment| {
            d.spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .and_then(|s| s.containers.iter().find(|c| c.name == container))
                .map(|c| json!(c.resources))
        };
        if current(&before).is_none() {
            return Err(ClusterError::NotFound(format!("deployment/{deployment} has no container `{container}`")));
        }
        let mut requests = serde_json::Map::new();
        let mut limits = serde_json::Map::new();
        let put = |m: &mut serde_json::Map<String, serde_json::Value>, k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        };
        put(&mut requests, "cpu", &r.cpu_request);
        put(&mut requests, "memory", &r.memory_request);
        put(&mut limits, "cpu", &r.cpu_limit);
        put(&mut limits, "memory", &r.memory_limit);
        if let Some(g) = r.gpus {
            requests.insert("nvidia.com/gpu".into(), json!(g.to_string()));
            limits.insert("nvidia.com/gpu".into(), json!(g.to_string()));
        }
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": container, "resources": {"requests": requests, "limits": limits}}]}}}});
        let after = api
            .patch(deployment, &params(dry_run), &Patch::Strategic(patch))
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("patch deployment {deployment}")))?;
        let message = format!("deployment/{deployment}: resources of container {container} set (a rollout follows)");
        Ok(ChangeOutcome {
            action: "deployment.resources".into(),
            target: format!("deployment/{deployment}"),
            dry_run,
            before: current(&before).unwrap_or_default().to_string(),
            after: current(&after).unwrap_or_default().to_string(),
            message: if dry_run { format!("dry run: {message}") } else { message },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert!(quantity_ok("500m", false) && quantity_ok("4", false) && quantity_ok("0.5", false));
        assert!(!quantity_ok("4Gi", false) && !quantity_ok("-1", false) && !quantity_ok("", false));
        assert!(quantity_ok("16Gi", true) && quantity_ok("512Mi", true) && !quantity_ok("16GB", true));
        assert!(Resources::default().validate().is_err());
    }
}
