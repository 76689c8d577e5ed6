//! Objects written at API versions a coming Kubernetes release removes. The table is the
//! Kubernetes deprecated API migration guide
//! (<https://kubernetes.io/docs/reference/using-api/deprecation-guide/>), kept here; what an
//! object was written at is read from its `managedFields` (every writer's apiVersion) and
//! kubectl's `last-applied-configuration` annotation — the API server itself answers in
//! whatever version it is asked, so the object's own `apiVersion` says nothing.

use serde::{Deserialize, Serialize};

/// Where the table comes from.
pub const SOURCE: &str = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/";

/// `(apiVersion, kind, removed in 1.N, use instead)`.
pub const REMOVED: &[(&str, &str, u32, &str)] = &[
    ("extensions/v1beta1", "Ingress", 22, "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "Ingress", 22, "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass", 22, "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*", 22, "rbac.authorization.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass", 22, "scheduling.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 22, "apiextensions.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "*", 22, "admissionregistration.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "Lease", 22, "coordination.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest", 22, "certificates.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass", 22, "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob", 25, "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice", 25, "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event", 25, "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler", 25, "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget", 25, "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy", 25, "Pod Security Admission"),
    ("node.k8s.io/v1beta1", "RuntimeClass", 25, "node.k8s.io/v1"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", 26, "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*", 26, "flowcontrol.apiserver.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity", 27, "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*", 29, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*", 32, "flowcontrol.apiserver.k8s.io/v1"),
];

/// What is known of one object: its kind and name, and every apiVersion it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// `(apiVersion, by whom)`: a managedFields entry's manager, or `kubectl apply`.
    pub versions: Vec<(String, String)>,
}

/// One object at a removed or soon removed API version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RemovedApi {
    /// `HorizontalPodAutoscaler hsof-hpa`.
    pub object: String,
    /// The apiVersion it was written at.
    pub api_version: String,
    /// By whom (field manager).
    pub by: String,
    /// `1.26`.
    pub removed_in: String,
    /// What to use instead.
    pub replacement: String,
    /// Already gone from the cluster's release (manifests that still say it fail to apply).
    pub already_removed: bool,
}

/// The objects at API versions removed by the cluster's next minor release (or earlier).
pub fn removed(objects: &[Written], server_minor: u32) -> Vec<RemovedApi> {
    let mut out = Vec::new();
    for o in objects {
        for (v, by) in &o.versions {
            let hit = REMOVED.iter().find(|(gv, kind, _, _)| gv == v && (*kind == "*" || *kind == o.kind));
            if let Some((gv, _, at, instead)) = hit {
                if *at <= server_minor + 1 {
                    let r = RemovedApi {
                        object: format!("{} {}", o.kind, o.name),
                        api_version: (*gv).to_string(),
                        by: by.clone(),
                        removed_in: format!("1.{at}"),
                        replacement: (*instead).to_string(),
                        already_removed: *at <= server_minor,
                    };
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
        }
    }
    out
}

/// Every apiVersion an object was written at, from its JSON (managedFields and kubectl's
/// last-applied annotation).
pub fn written(obj: &serde_json::Value) -> Written {
    let mut versions = Vec::new();
    for m in obj["metadata"]["managedFields"].as_array().into_iter().flatten() {
        if let Some(v) = m["apiVersion"].as_str() {
            versions.push((v.to_string(), m["manager"].as_str().unwrap_or("unknown").to_string()));
        }
    }
    let applied = obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].as_str();
    if let Some(v) = applied
        .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
        .and_then(|a| a["apiVersion"].as_str().map(str::to_string))
    {
        versions.push((v, "kubectl apply (last-applied-configuration)".into()));
    }
    Written {
        kind: obj["kind"].as_str().unwrap_or_default().to_string(),
        name: obj["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        versions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_written_at_removed_versions_are_found_from_their_writers() {
        let hpa = json!({"kind": "HorizontalPodAutoscaler", "metadata": {"name": "hsof-hpa",
            "managedFields": [{"manager": "helm", "apiVersion": "autoscaling/v2beta2"}, {"manager": "kube-controller-manager", "apiVersion": "autoscaling/v2"}]}});
        let cron = json!({"kind": "CronJob", "metadata": {"name": "hsof-backup", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"batch/v1beta1\",\"kind\":\"CronJob\"}"}}});
        let fine = json!({"kind": "Deployment", "metadata": {"name": "hsof", "managedFields": [{"manager": "kubectl", "apiVersion": "apps/v1"}]}});
        let objs: Vec<Written> = [hpa, cron, fine].iter().map(written).collect();
        let r = removed(&objs, 25);
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!(
            (r[0].object.as_str(), r[0].removed_in.as_str(), r[0].already_removed),
            ("HorizontalPodAutoscaler hsof-hpa", "1.26", false)
        );
        assert_eq!(r[0].by, "helm");
        assert_eq!((r[1].object.as_str(), r[1].already_removed), ("CronJob hsof-backup", true));
        assert!(
            removed(&objs, 20).iter().all(|x| x.removed_in != "1.25" && x.removed_in != "1.26"),
            "1.25/1.26 are not next for 1.20"
        );
    }
}
