//! What the security review reads (hsof-review's [`Inputs`]): the RBAC objects, the
//! namespace's service accounts, workloads, pods, network policies, claims, the
//! StorageClasses and namespaces, HSOF's ConfigMap, and the Trivy Operator's reports when it
//! is installed — every read concurrently, each one that fails kept as the API server's
//! reason. And the API server's own answers (SubjectAccessReviews) for a cross-check.

use chrono::{DateTime, Utc};
use hsof_review::rbac::{Identity, Request};
use hsof_review::{Inputs, Read, Scanner};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Pod, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::discovery::ApiResource;

use crate::{Cluster, ClusterError};

/// The field manager of every change the app writes: the API server's `managedFields`
/// then say which object the app wrote and when (the audit-completeness check).
pub const FIELD_MANAGER: &str = "hsof-control-center";

/// The Trivy Operator's API group.
pub const TRIVY_GROUP: &str = "aquasecurity.github.io";

/// What the review reads besides the objects: names from the config and the time.
#[derive(Debug, Clone)]
pub struct ReviewNames<'a> {
    /// The main Deployment.
    pub deployment: &'a str,
    /// Its ConfigMap.
    pub configmap: &'a str,
    /// The backup CronJob.
    pub backup_cronjob: &'a str,
    /// The retention target, days.
    pub retention_target_days: u32,
}

async fn list<K>(api: Api<K>, what: &str) -> Read<Vec<K>>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.list(&ListParams::default()).await.map(|l| l.items).map_err(|e| ClusterError::from_kube(e, what).to_string())
}

impl Cluster {
    /// Everything one security review of the namespace reads.
    pub async fn security_inputs(&self, names: &ReviewNames<'_>, now: DateTime<Utc>) -> Inputs {
        let ns = self.namespace.as_str();
        let c = || self.client.clone();
        let (roles, cluster_roles, role_bindings, cluster_role_bindings, service_accounts, pods) = futures_util::join!(
            list(Api::<Role>::namespaced(c(), ns), "list roles"),
            list(Api::<ClusterRole>::all(c()), "list clusterroles"),
            list(Api::<RoleBinding>::namespaced(c(), ns), "list rolebindings"),
            list(Api::<ClusterRoleBinding>::all(c()), "list clusterrolebindings"),
            list(Api::<ServiceAccount>::namespaced(c(), ns), "list serviceaccounts"),
            list(Api::<Pod>::namespaced(c(), ns), "list pods"),
        );
        let cm_api = Api::<ConfigMap>::namespaced(c(), ns);
        let (deployments, cronjobs, jobs, network_policies, namespaces, claims, storage_classes, cm) = futures_util::join!(
            list(Api::<Deployment>::namespaced(c(), ns), "list deployments"),
            list(Api::<CronJob>::namespaced(c(), ns), "list cronjobs"),
            list(Api::<Job>::namespaced(c(), ns), "list jobs"),
            list(Api::<NetworkPolicy>::namespaced(c(), ns), "list networkpolicies"),
            list(Api::<Namespace>::all(c()), "list namespaces"),
            list(Api::<PersistentVolumeClaim>::namespaced(c(), ns), "list persistentvolumeclaims"),
            list(Api::<StorageClass>::all(c()), "list storageclasses"),
            cm_api.get_opt(names.configmap),
        );
        Inputs {
            namespace: ns.to_string(),
            roles,
            cluster_roles,
            role_bindings,
            cluster_role_bindings,
            service_accounts,
            pods,
            deployments,
            cronjobs,
            jobs,
            network_policies,
            namespaces,
            claims,
            storage_classes,
            configmap: cm
                .map_err(|e| ClusterError::from_kube(e, &format!("get configmap {}", names.configmap)).to_string()),
            scanner: self.trivy_reports().await,
            deployment: names.deployment.to_string(),
            backup_cronjob: names.backup_cronjob.to_string(),
            retention_target_days: names.retention_target_days,
            now,
        }
    }

    /// The Trivy Operator's VulnerabilityReports of the namespace: not installed when the
    /// API server serves no `aquasecurity.github.io` group, else the reports at the version
    /// this app reads (or the version found, which the review names).
    async fn trivy_reports(&self) -> Scanner {
        let req = match http::Request::get(format!("/apis/{TRIVY_GROUP}")).body(Vec::new()) {
            Ok(r) => r,
            Err(e) => return Scanner::Reports { version: String::new(), reports: Err(e.to_string()) },
        };
        let group: serde_json::Value = match self.client.request(req).await {
            Ok(v) => v,
            Err(kube::Error::Api(s)) if s.code == 404 => return Scanner::NotInstalled,
            Err(e) => {
                let why = ClusterError::from_kube(e, &format!("discover {TRIVY_GROUP}")).to_string();
                return Scanner::Reports { version: String::new(), reports: Err(why) };
            }
        };
        let versions: Vec<String> = group["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["version"].as_str().map(str::to_string))
            .collect();
        let version = if versions.iter().any(|v| v == hsof_review::vulns::TRIVY_VERSION) {
            hsof_review::vulns::TRIVY_VERSION.to_string()
        } else {
            match versions.first() {
                Some(v) => v.clone(),
                None => return Scanner::NotInstalled,
            }
        };
        if version != hsof_review::vulns::TRIVY_VERSION {
            return Scanner::Reports { version, reports: Ok(Vec::new()) };
        }
        let ar = ApiResource {
            group: TRIVY_GROUP.into(),
            version: version.clone(),
            api_version: format!("{TRIVY_GROUP}/{version}"),
            kind: "VulnerabilityReport".into(),
            plural: "vulnerabilityreports".into(),
        };
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), &self.namespace, &ar);
        let reports = match api.list(&ListParams::default()).await {
            Ok(l) => l
                .items
                .into_iter()
                .map(|o| serde_json::to_value(o).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>(),
            Err(kube::Error::Api(s)) if s.code == 404 => return Scanner::NotInstalled,
            Err(e) => Err(ClusterError::from_kube(e, "list vulnerabilityreports").to_string()),
        };
        Scanner::Reports { version, reports }
    }

    /// The API server's answer to "may `who` do `r`?" (a SubjectAccessReview).
    pub async fn subject_may(&self, who: &Identity, r: &Request) -> Result<bool, ClusterError> {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: (!who.user.is_empty()).then(|| who.user.clone()),
                groups: Some(who.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    namespace: (!r.namespace.is_empty()).then(|| r.namespace.clone()),
                    verb: Some(r.verb.clone()),
                    group: Some(r.group.clone()),
                    resource: Some(r.resource.clone()),
                    subresource: (!r.subresource.is_empty()).then(|| r.subresource.clone()),
                    name: (!r.name.is_empty()).then(|| r.name.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| ClusterError::from_kube(e, "create subjectaccessreviews"))?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }

    /// When field manager `manager` last wrote each of `objects` (`(kind, name)`, kind
    /// `deployment` or `configmap`), from their `managedFields`: `deployment/hsof` and the
    /// time. An object that does not exist is left out.
    pub async fn app_writes(
        &self,
        objects: &[(&str, &str)],
        manager: &str,
    ) -> Result<Vec<(String, DateTime<Utc>)>, ClusterError> {
        let mut out = Vec::new();
        for (kind, name) in objects {
            let meta = match *kind {
                "deployment" => Api::<Deployment>::namespaced(self.client.clone(), &self.namespace)
                    .get_opt(name)
                    .await
                    .map(|o| o.map(|o| o.metadata)),
                _ => Api::<ConfigMap>::namespaced(self.client.clone(), &self.namespace)
                    .get_opt(name)
                    .await
                    .map(|o| o.map(|o| o.metadata)),
            }
            .map_err(|e| ClusterError::from_kube(e, &format!("get {kind} {name}")))?;
            let Some(meta) = meta else { continue };
            if meta.managed_fields.as_ref().is_none_or(Vec::is_empty) {
                return Err(ClusterError::Invalid(format!(
                    "{kind} {name} carries no managedFields: the API server does not say who wrote it"
                )));
            }
            for m in meta.managed_fields.iter().flatten().filter(|m| m.manager.as_deref() == Some(manager)) {
                if let Some(t) = &m.time {
                    let at = DateTime::parse_from_rfc3339(&t.0.to_string())
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| ClusterError::Invalid(format!("managedFields time: {e}")))?;
                    out.push((format!("{kind}/{name}"), at));
                }
            }
        }
        Ok(out)
    }
}
