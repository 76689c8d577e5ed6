//! The team store: HSOF Control Center's shared state — incidents, procedure runs,
//! maintenance windows, security reviews, the on-call schedule, follow-up actions and
//! post-mortems — as custom resources in group `ops.hsof.io`,
//! kept by the cluster the team already runs (etcd behind the API server, with its RBAC
//! and audit).
//! This crate owns the resource definitions (`manifests/team-store.yaml`, which
//! `kubectl apply -f` also takes), installs them with server-side apply, and says whether
//! the store is installed, of a version this app speaks, and readable / writable for the
//! current identity. It has its own reason to change (the team's shared schema), so it is
//! not part of hsof-cluster or hsof-core.

pub mod calendar;
pub mod followup;
pub mod incident;
pub mod oncall;
pub mod review;
pub mod sync;

use hsof_cluster::{Cluster, ClusterError};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// API group of the team store.
pub const GROUP: &str = "ops.hsof.io";
/// The version this app reads and writes.
pub const VERSION: &str = "v1";
/// Field manager of the installer's server-side apply.
pub const FIELD_MANAGER: &str = "hsof-control-center";
/// The command that installs the store, for messages.
pub const INSTALL_HINT: &str = "hsofctl team install";

/// The kinds: (plural, kind).
pub const KINDS: [(&str, &str); 7] = [
    ("incidents", "Incident"),
    ("procedureruns", "ProcedureRun"),
    ("maintenancewindows", "MaintenanceWindow"),
    ("securityreviews", "SecurityReview"),
    ("oncallschedules", "OnCallSchedule"),
    ("followups", "FollowUp"),
    ("postmortems", "PostMortem"),
];

/// Kinds added after the store's first release. A store installed before one of them
/// still serves the others: it counts as installed (and readable, writable) by the other
/// kinds, its status names the missing kind, and that kind's records wait on each desktop
/// until `hsofctl team install` adds it.
pub const ADDED_KINDS: [&str; 4] = ["SecurityReview", "OnCallSchedule", "FollowUp", "PostMortem"];

const MANIFESTS: &str = include_str!("../manifests/team-store.yaml");

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    /// The cluster refused or could not be reached.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The identity may not do what installing needs.
    #[error("{0}")]
    Forbidden(String),
    /// A definition of another version or owner is in the way.
    #[error("{0}")]
    Conflict(String),
    /// The write cannot be applied to the shared record as it is (it stays queued).
    #[error("{0}")]
    Refused(String),
    /// The shipped manifests do not parse (a build defect).
    #[error("the team store manifests do not parse: {0}")]
    Manifests(String),
}

/// The shipped manifests, one JSON value per YAML document.
pub fn manifests() -> Result<Vec<Value>, TeamError> {
    serde_norway::Deserializer::from_str(MANIFESTS)
        .map(|doc| Value::deserialize(doc).map_err(|e| TeamError::Manifests(e.to_string())))
        .filter(|v| !matches!(v, Ok(Value::Null)))
        .collect()
}

/// The manifests as `kubectl apply -f` takes them.
pub fn manifests_yaml() -> &'static str {
    MANIFESTS
}

fn api_resource(doc: &Value) -> Option<ApiResource> {
    let (group, version) = match doc["apiVersion"].as_str()?.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), doc["apiVersion"].as_str()?.to_string()),
    };
    let kind = doc["kind"].as_str()?.to_string();
    let plural = match kind.as_str() {
        "CustomResourceDefinition" => "customresourcedefinitions",
        "ClusterRole" => "clusterroles",
        _ => return None,
    };
    Some(ApiResource {
        api_version: doc["apiVersion"].as_str()?.to_string(),
        group,
        version,
        kind,
        plural: plural.to_string(),
    })
}

/// One object the installer applied.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Applied {
    /// `CustomResourceDefinition`, `ClusterRole`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// `created`, `configured` or `unchanged` (`… (dry run)` when nothing was written).
    pub outcome: String,
}

/// The storage version of a stored CRD.
fn storage_version(crd: &Value) -> Option<String> {
    crd["spec"]["versions"].as_array()?.iter().find(|v| v["storage"] == Value::Bool(true))?["name"]
        .as_str()
        .map(str::to_string)
}

fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
        if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            m.retain(|k, _| k == "name" || k == "labels" || k == "annotations");
        }
    }
    v
}

/// Applies the definitions and roles with server-side apply (idempotent). Refuses, naming
/// the permission, when the identity may not create or patch them, and refuses to replace
/// a definition of another version. `dry_run` asks the API server to check everything and
/// write nothing.
pub async fn install(cluster: &Cluster, dry_run: bool) -> Result<Vec<Applied>, TeamError> {
    let docs = manifests()?;
    for (verb, group, resource) in [
        ("create", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("patch", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("create", "rbac.authorization.k8s.io", "clusterroles"),
        ("patch", "rbac.authorization.k8s.io", "clusterroles"),
    ] {
        let (allowed, reason) = cluster.can_i(verb, group, resource, "").await?;
        if !allowed {
            let why = if reason.is_empty() { String::new() } else { format!(": {reason}") };
            return Err(TeamError::Forbidden(format!(
                "your identity in context `{}` may not {verb} {resource}.{group}{why}; installing the team store needs a cluster administrator (or run `kubectl apply -f` of the manifests as one: `hsofctl team manifests`)",
                cluster.context
            )));
        }
    }
    let mut applied = Vec::new();
    for doc in docs {
        let Some(ar) = api_resource(&doc) else {
            return Err(TeamError::Manifests(format!("unexpected kind {}", doc["kind"])));
        };
        let name = doc["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let api: Api<DynamicObject> = Api::all_with(cluster.client().clone(), &ar);
        let what = format!("get {}/{name}", ar.plural);
        let existing = match api.get_opt(&name).await {
            Ok(o) => o.map(|o| serde_json::to_value(o).unwrap_or_default()),
            Err(e) => return Err(ClusterError::from_kube(e, &what).into()),
        };
        if let (Some(old), "CustomResourceDefinition") = (&existing, ar.kind.as_str()) {
            let found = storage_version(old).unwrap_or_else(|| "none".into());
            if found != VERSION {
                return Err(TeamError::Conflict(format!(
                    "{name} is installed with version {found}; this app speaks {VERSION} and will not replace it (a newer app may have installed it; upgrade this one)"
                )));
            }
        }
        let params = PatchParams { dry_run, ..PatchParams::apply(FIELD_MANAGER).force() };
        let out = api
            .patch(&name, &params, &Patch::Apply(&doc))
            .await
            .map_err(|e| ClusterError::from_kube(e, &format!("apply {}/{name}", ar.plural)))?;
        let out = serde_json::to_value(out).unwrap_or_default();
        let outcome = match &existing {
            None => "created",
            Some(old) if comparable(old) == comparable(&out) => "unchanged",
            Some(_) => "configured",
        };
        applied.push(Applied {
            kind: ar.kind.clone(),
            name,
            outcome: if dry_run { format!("{outcome} (dry run)") } else { outcome.into() },
        });
    }
    Ok(applied)
}

/// One kind of the store.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct KindStatus {
    /// `Incident`, `ProcedureRun`, `MaintenanceWindow`, `SecurityReview`.
    pub kind: String,
    /// The storage version found, when the definition exists.
    pub version: Option<String>,
    /// The API server accepts its names and serves it.
    pub established: bool,
    /// This identity may list and watch it in the namespace.
    pub readable: bool,
    /// This identity may create and update it (and its status) in the namespace.
    pub writable: bool,
    /// What is wrong, when something is.
    pub problem: Option<String>,
}

/// The Kubernetes user this connection authenticates as (a SelfSubjectReview, what
/// `kubectl auth whoami` asks): the actor the team's records name. `None` when the API
/// server does not answer it (before 1.28, or the API disabled).
pub async fn whoami(cluster: &Cluster) -> Result<Option<String>, TeamError> {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    let api: Api<SelfSubjectReview> = Api::all(cluster.client().clone());
    match api.create(&kube::api::PostParams::default(), &SelfSubjectReview::default()).await {
        Ok(r) => Ok(r.status.and_then(|s| s.user_info).and_then(|u| u.username)),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 403 => Ok(None),
        Err(e) => Err(ClusterError::from_kube(e, "create selfsubjectreviews").into()),
    }
}

/// Whether the team store can be used, for this identity, in this namespace.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct TeamStatus {
    /// Context.
    pub context: String,
    /// The Kubernetes user of this connection, when the API server says
    /// (SelfSubjectReview): the name the team's records carry.
    pub identity: Option<String>,
    /// Namespace the team's records live in.
    pub namespace: String,
    /// Every kind is installed at [`VERSION`] and established ([`ADDED_KINDS`] aside:
    /// `kinds` says whether they are).
    pub installed: bool,
    /// Every kind is readable ([`ADDED_KINDS`] aside).
    pub readable: bool,
    /// Every kind is writable ([`ADDED_KINDS`] aside).
    pub writable: bool,
    /// Per kind.
    pub kinds: Vec<KindStatus>,
    /// One line: what this means and, when the store cannot be used, the command that
    /// fixes it.
    pub summary: String,
}

/// Reads the definitions and asks the API server what this identity may do.
pub async fn status(cluster: &Cluster) -> Result<TeamStatus, TeamError> {
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(cluster.client().clone());
    let mut kinds = Vec::new();
    for (plural, kind) in KINDS {
        let name = format!("{plural}.{GROUP}");
        let found = match crds.get_opt(&name).await {
            Ok(found) => found,
            // Reading CRDs is cluster-scoped: a namespaced identity may not; fall back to
            // asking for the resource itself below.
            Err(kube::Error::Api(e)) if e.code == 403 => None,
            Err(e) => return Err(ClusterError::from_kube(e, &format!("get customresourcedefinitions/{name}")).into()),
        };
        let value = found.as_ref().map(|c| serde_json::to_value(c).unwrap_or_default());
        let version = value.as_ref().and_then(storage_version);
        let established = value.as_ref().is_some_and(|v| {
            v["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Established" && c["status"] == "True"))
        });
        let check = |verb: &'static str, sub: &'static str| async move {
            cluster.can_i(verb, GROUP, plural, sub).await.map(|(ok, _)| ok)
        };
        let readable = check("list", "").await? && check("watch", "").await?;
        let writable = check("create", "").await? && check("update", "").await? && check("update", "status").await?;
        let problem = match (&version, established) {
            (None, _) if found.is_none() => Some(format!("{name} is not installed (or not readable by this identity)")),
            (Some(v), _) if v != VERSION => Some(format!("{name} is at version {v}; this app speaks {VERSION}")),
            (_, false) => Some(format!("{name} is not established yet")),
            _ if !readable => Some(format!("this identity may not list and watch {plural} in {}", cluster.namespace)),
            _ if !writable => {
                Some(format!("this identity may not create and update {plural} in {}", cluster.namespace))
            }
            _ => None,
        };
        kinds.push(KindStatus { kind: kind.into(), version, established, readable, writable, problem });
    }
    let first = || kinds.iter().filter(|k| !ADDED_KINDS.contains(&k.kind.as_str()));
    let installed = first().all(|k| k.version.as_deref() == Some(VERSION) && k.established);
    let readable = first().all(|k| k.readable);
    let writable = first().all(|k| k.writable);
    let mut summary = if !installed {
        let foreign = kinds.iter().find_map(|k| k.version.as_ref().filter(|v| v.as_str() != VERSION));
        match foreign {
            Some(v) => format!("the team store in this cluster is version {v}, not {VERSION}: this app stays local-only until it is upgraded"),
            None => format!("the team store is not installed in this cluster: records stay on this desktop; `{INSTALL_HINT}` (a cluster administrator) shares them with the team"),
        }
    } else if !readable {
        format!("the team store is installed but this identity may not read it in {}: ask for the hsof-team-viewer or hsof-team-member role", cluster.namespace)
    } else if !writable {
        format!("the team store is installed and readable; this identity may not write to it in {} (the hsof-team-member role, or edit on the namespace, allows it)", cluster.namespace)
    } else {
        format!("the team store is installed, readable and writable in {}", cluster.namespace)
    };
    if installed {
        summary.push_str(&added_kinds_note(&kinds));
    }
    Ok(TeamStatus {
        context: cluster.context.clone(),
        identity: whoami(cluster).await?,
        namespace: cluster.namespace.clone(),
        installed,
        readable,
        writable,
        kinds,
        summary,
    })
}

impl TeamStatus {
    /// Whether the store serves `kind` (`SecurityReview`) at [`VERSION`], established.
    pub fn serves(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k.kind == kind && k.version.as_deref() == Some(VERSION) && k.established)
    }
}

/// What the summary of a store usable for its first kinds adds about the [`ADDED_KINDS`]
/// that are not: one clause each, naming the install when the kind is missing.
fn added_kinds_note(kinds: &[KindStatus]) -> String {
    let mut out = String::new();
    for (plural, kind) in KINDS.into_iter().filter(|(_, k)| ADDED_KINDS.contains(k)) {
        let Some(k) = kinds.iter().find(|s| s.kind == kind) else { continue };
        if k.version.is_none() {
            out.push_str(&format!(
                "; it has no {plural} (installed by an older app): those stay on this desktop until `{INSTALL_HINT}`"
            ));
        } else if let Some(p) = &k.problem {
            out.push_str(&format!("; {plural}: {p}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifests_define_every_kind_at_this_version_with_status_and_columns() {
        let docs = manifests().expect("parse");
        let crds: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "CustomResourceDefinition").collect();
        assert_eq!(crds.len(), KINDS.len());
        for (plural, kind) in KINDS {
            let c = crds.iter().find(|c| c["spec"]["names"]["plural"] == plural).expect(plural);
            assert_eq!(c["metadata"]["name"], format!("{plural}.{GROUP}"));
            assert_eq!(c["spec"]["names"]["kind"], kind);
            assert_eq!(storage_version(c).as_deref(), Some(VERSION));
            let v = &c["spec"]["versions"][0];
            assert!(v["subresources"]["status"].is_object(), "{kind} has a status subresource");
            assert!(v["additionalPrinterColumns"].as_array().is_some_and(|a| a.len() >= 4), "{kind} columns");
            assert_eq!(v["schema"]["openAPIV3Schema"]["type"], "object");
        }
        assert!(docs.iter().all(|d| api_resource(d).is_some()), "every document is something install knows");
    }

    #[test]
    fn the_roles_and_the_sync_know_every_kind() {
        let docs = manifests().expect("parse");
        let role = |name: &str| -> Vec<String> {
            let r = docs.iter().find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == name).expect(name);
            let rule = r["rules"].as_array().and_then(|a| a.iter().find(|x| x["apiGroups"][0] == GROUP)).expect("rule");
            rule["resources"]
                .as_array()
                .expect("resources")
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        };
        let (member, viewer) = (role("hsof-team-member"), role("hsof-team-viewer"));
        for (plural, kind) in KINDS {
            assert!(member.contains(&plural.to_string()) && member.contains(&format!("{plural}/status")), "{member:?}");
            assert!(viewer.contains(&plural.to_string()), "{viewer:?}");
            let k = sync::Kind::ALL.into_iter().find(|k| k.resource().kind == kind).expect(kind);
            assert_eq!(k.resource().plural, plural);
            assert_eq!(sync::Kind::from_outbox(k.outbox()), Some(k));
            assert_eq!(k.added(), ADDED_KINDS.contains(&kind));
        }
        assert_eq!(sync::Kind::ALL.len(), KINDS.len());
    }

    fn kind(kind: &str, version: Option<&str>, problem: Option<&str>) -> KindStatus {
        KindStatus {
            kind: kind.into(),
            version: version.map(String::from),
            established: version.is_some(),
            readable: true,
            writable: problem.is_none(),
            problem: problem.map(String::from),
        }
    }

    #[test]
    fn a_store_installed_before_a_kind_was_added_names_it_and_nothing_else() {
        let mut kinds: Vec<KindStatus> =
            KINDS.iter().filter(|(_, k)| !ADDED_KINDS.contains(k)).map(|(_, k)| kind(k, Some(VERSION), None)).collect();
        kinds.push(kind("SecurityReview", None, Some("securityreviews.ops.hsof.io is not installed")));
        let note = added_kinds_note(&kinds);
        assert!(note.contains("no securityreviews") && note.contains(INSTALL_HINT), "{note}");
        let status = |kinds: Vec<KindStatus>| TeamStatus {
            context: "c".into(),
            identity: None,
            namespace: "hsof".into(),
            installed: true,
            readable: true,
            writable: true,
            kinds,
            summary: String::new(),
        };
        assert!(!status(kinds.clone()).serves("SecurityReview") && status(kinds.clone()).serves("Incident"));
        kinds.pop();
        kinds.push(kind(
            "SecurityReview",
            Some(VERSION),
            Some("this identity may not create and update securityreviews"),
        ));
        assert!(added_kinds_note(&kinds).contains("securityreviews: this identity may not"));
        kinds.pop();
        kinds.push(kind("SecurityReview", Some(VERSION), None));
        assert_eq!(added_kinds_note(&kinds), "");
        assert!(status(kinds).serves("SecurityReview"));
    }
}
