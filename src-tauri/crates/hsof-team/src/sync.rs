//! Reading and writing the shared incidents through the API server. Every write is a
//! read-modify-write of the record's status guarded by its resourceVersion: when someone
//! wrote in between, the API server answers 409 and the same change is applied again to
//! what is there now. Nothing here keeps state; the caller's outbox does.

use futures_util::Stream;
use hsof_cluster::ClusterError;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::runtime::watcher;
use serde_json::Value;

use crate::incident::{self, Actor, Claimed};
use crate::{calendar, followup, oncall, review, TeamError, ADDED_KINDS, GROUP, VERSION};

/// The kinds of the team store, as the outbox and the API server name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `Incident`.
    Incident,
    /// `ProcedureRun`.
    ProcedureRun,
    /// `MaintenanceWindow`.
    MaintenanceWindow,
    /// `SecurityReview`.
    SecurityReview,
    /// `OnCallSchedule`.
    OnCallSchedule,
    /// `FollowUp`.
    FollowUp,
    /// `PostMortem`.
    PostMortem,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 7] = [
        Kind::Incident,
        Kind::ProcedureRun,
        Kind::MaintenanceWindow,
        Kind::SecurityReview,
        Kind::OnCallSchedule,
        Kind::FollowUp,
        Kind::PostMortem,
    ];

    /// The outbox's name for it.
    pub fn outbox(self) -> &'static str {
        match self {
            Kind::Incident => "incident",
            Kind::ProcedureRun => "procedurerun",
            Kind::MaintenanceWindow => "maintenancewindow",
            Kind::SecurityReview => "securityreview",
            Kind::OnCallSchedule => "oncallschedule",
            Kind::FollowUp => "followup",
            Kind::PostMortem => "postmortem",
        }
    }

    /// Added to the store after its first release ([`ADDED_KINDS`]): a store installed
    /// before it may not serve it, and is still the store for the others.
    pub fn added(self) -> bool {
        ADDED_KINDS.contains(&self.resource().kind.as_str())
    }

    /// From the outbox's name.
    pub fn from_outbox(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.outbox() == s)
    }

    /// Its resource.
    pub fn resource(self) -> kube::discovery::ApiResource {
        let (plural, kind) = match self {
            Kind::Incident => ("incidents", "Incident"),
            Kind::ProcedureRun => ("procedureruns", "ProcedureRun"),
            Kind::MaintenanceWindow => ("maintenancewindows", "MaintenanceWindow"),
            Kind::SecurityReview => ("securityreviews", "SecurityReview"),
            Kind::OnCallSchedule => ("oncallschedules", "OnCallSchedule"),
            Kind::FollowUp => ("followups", "FollowUp"),
            Kind::PostMortem => ("postmortems", "PostMortem"),
        };
        kube::discovery::ApiResource {
            group: GROUP.into(),
            version: VERSION.into(),
            api_version: format!("{GROUP}/{VERSION}"),
            kind: kind.into(),
            plural: plural.into(),
        }
    }

    /// The new record the writes `ops` create, when one of them can.
    fn create_from(self, name: &str, namespace: &str, ops: &[Value], actor: &Actor) -> Option<Value> {
        match self {
            Kind::Incident => ops
                .iter()
                .find(|o| o["op"] == "declare")
                .map(|d| incident::new_object(name, namespace, &d["incident"], actor)),
            Kind::ProcedureRun => ops.first().map(|o| calendar::new_run(name, namespace, o)),
            Kind::MaintenanceWindow => ops.first().map(|o| calendar::new_window(name, namespace, o, actor)),
            Kind::SecurityReview => {
                ops.iter().find(|o| o["record"].is_object()).map(|o| review::new_object(name, namespace, o, actor))
            }
            Kind::OnCallSchedule => Some(oncall::new_object(name, namespace, actor)),
            Kind::FollowUp => {
                ops.iter().find(|o| o["op"] == "create").map(|o| followup::new_object(name, namespace, o, actor))
            }
            Kind::PostMortem => ops.first().map(|o| followup::new_postmortem(name, namespace, o, actor)),
        }
    }

    /// Creates the record this app's own view starts from, before the cluster has it (the
    /// offline view of a kind kept only as the cluster's copy plus this desktop's writes).
    pub fn local_object(self, name: &str, ops: &[Value], actor: &Actor) -> Option<Value> {
        self.create_from(name, "", ops, actor)
    }

    /// Applies this desktop's writes to a record (its offline view) as the push does: in
    /// order, stopping at the first that cannot be applied (it and those after it wait, as
    /// they do in the outbox). Returns why, when one could not.
    pub fn fold(self, obj: &mut Value, ops: &[Value], actor: &Actor) -> Vec<String> {
        for (n, op) in ops.iter().enumerate() {
            if let Err(why) = self.apply(obj, op, actor) {
                let after = ops.len() - n - 1;
                let waiting =
                    if after > 0 { format!(" ({after} later write(s) wait behind it)") } else { String::new() };
                return vec![format!("{why}{waiting}")];
            }
        }
        Vec::new()
    }

    /// Why the new record `new` cannot be created, when it cannot.
    fn refuse_create(self, new: &Value) -> Option<String> {
        match self {
            Kind::SecurityReview => review::check_record(&new["spec"]).err(),
            Kind::FollowUp if new["spec"]["title"].as_str().is_none_or(str::is_empty) => {
                Some("a follow-up without a title".into())
            }
            _ => None,
        }
    }

    fn apply(self, obj: &mut Value, op: &Value, actor: &Actor) -> Result<Option<Claimed>, String> {
        match self {
            Kind::Incident => incident::apply(obj, op, actor),
            Kind::ProcedureRun => calendar::apply_run(obj, op, actor).map(|()| None),
            Kind::MaintenanceWindow => calendar::apply_window(obj, op, actor).map(|()| None),
            Kind::SecurityReview => review::apply(obj, op, actor).map(|()| None),
            Kind::OnCallSchedule => oncall::apply(obj, op, actor).map(|()| None),
            Kind::FollowUp => followup::apply(obj, op, actor).map(|()| None),
            Kind::PostMortem => followup::apply_postmortem(obj, op, actor).map(|()| None),
        }
    }
}

/// Attempts of one guarded write before giving up (each a 409: the record kept changing).
const TRIES: usize = 20;

fn api(client: &kube::Client, namespace: &str, kind: Kind) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &kind.resource())
}

fn value(o: DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or_default()
}

fn object(v: &Value) -> Result<DynamicObject, TeamError> {
    serde_json::from_value(v.clone()).map_err(|e| TeamError::Refused(format!("not an object: {e}")))
}

/// Timeline entries moved out of an Incident at a time, when it would hold more than
/// [`incident::MAX_TIMELINE`].
pub const PAGE: usize = 100;

fn page_name(name: &str, page: u64) -> String {
    format!("{name}-timeline-{page}")
}

/// Keeps an Incident under etcd's object size limit: when `incoming` more entries would
/// take its timeline past [`incident::MAX_TIMELINE`], its oldest entries (at least
/// [`PAGE`]) move to the ConfigMap `<name>-timeline-<n>` (owned by the Incident) and
/// `status.timelinePages` counts it. The page is written before the record: a record whose
/// update then meets a 409 is paged again from what it holds, into the same page name.
async fn page_out(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    obj: &mut Value,
    incoming: usize,
) -> Result<(), TeamError> {
    let timeline = obj["status"]["timeline"].as_array().cloned().unwrap_or_default();
    if timeline.len() + incoming <= incident::MAX_TIMELINE {
        return Ok(());
    }
    let n = (timeline.len() + incoming - incident::MAX_TIMELINE).max(PAGE).min(timeline.len());
    if n == 0 {
        return Ok(());
    }
    let page = obj["status"]["timelinePages"].as_u64().unwrap_or(0) + 1;
    let cm_name = page_name(name, page);
    let owner = serde_json::json!([{"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "Incident", "name": name,
        "uid": obj["metadata"]["uid"], "blockOwnerDeletion": false}]);
    let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": cm_name, "namespace": namespace, "ownerReferences": owner,
            "labels": {"app.kubernetes.io/part-of": "hsof-control-center", "ops.hsof.io/incident": name}},
        "data": {"entries": Value::Array(timeline[..n].to_vec()).to_string()}});
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), namespace);
    let typed: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(cm).map_err(|e| TeamError::Refused(format!("timeline page: {e}")))?;
    match cms.create(&PostParams::default(), &typed).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {
            // Left by an attempt whose record update lost a race: written again from now.
            let mut current = cms
                .get(&cm_name)
                .await
                .map_err(|e| ClusterError::from_kube(e, &format!("get configmaps/{cm_name}")))?;
            current.data = typed.data.clone();
            cms.replace(&cm_name, &PostParams::default(), &current)
                .await
                .map_err(|e| ClusterError::from_kube(e, &format!("update configmaps/{cm_name}")))?;
        }
        Err(e) => return Err(ClusterError::from_kube(e, &format!("create configmaps/{cm_name}")).into()),
    }
    obj["status"]["timeline"] = Value::Array(timeline[n..].to_vec());
    obj["status"]["timelinePages"] = serde_json::json!(page);
    Ok(())
}

/// The entries moved out of the Incident `obj` to its timeline pages, oldest first, so a
/// desktop shows the whole timeline. A page that cannot be read is left out and logged.
pub async fn paged_entries(client: &kube::Client, namespace: &str, obj: &Value) -> Vec<Value> {
    let pages = obj["status"]["timelinePages"].as_u64().unwrap_or(0);
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut entries = Vec::new();
    for page in 1..=pages {
        let cm_name = page_name(name, page);
        match cms.get(&cm_name).await {
            Ok(cm) => {
                let text = cm.data.and_then(|d| d.get("entries").cloned()).unwrap_or_default();
                match serde_json::from_str::<Vec<Value>>(&text) {
                    Ok(e) => entries.extend(e),
                    Err(e) => tracing::warn!(page = cm_name, error = %e, "a timeline page is not a list of entries"),
                }
            }
            Err(e) => tracing::warn!(page = cm_name, error = %e, "a timeline page could not be read"),
        }
    }
    entries
}

/// What sending a record's writes did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The record as the cluster has it now.
    pub object: Value,
    /// How many of the writes (in order) are in it.
    pub applied: usize,
    /// Why the next one could not be applied (it and those after it stay queued).
    pub refused: Option<String>,
    /// Reminders this app claimed.
    pub claimed: Vec<Claimed>,
}

/// Sends `ops` (one record's queued writes, oldest first) to the shared record `name`,
/// creating it (an incident from its declaration) when it is not there yet.
pub async fn push(
    client: &kube::Client,
    namespace: &str,
    kind: Kind,
    name: &str,
    ops: &[Value],
    actor: &Actor,
) -> Result<Pushed, TeamError> {
    let api = api(client, namespace, kind);
    let plural = kind.resource().plural;
    for _ in 0..TRIES {
        let current =
            api.get_opt(name).await.map_err(|e| ClusterError::from_kube(e, &format!("get {plural}/{name}")))?;
        let mut obj = match current {
            Some(o) => value(o),
            None => {
                let Some(new) = kind.create_from(name, namespace, ops, actor) else {
                    return Err(TeamError::Refused(format!(
                        "{plural}/{name} is no longer in the team store (deleted there); its writes stay on this desktop"
                    )));
                };
                if let Some(why) = kind.refuse_create(&new) {
                    return Err(TeamError::Refused(why));
                }
                match api.create(&PostParams::default(), &object(&new)?).await {
                    Ok(o) => value(o),
                    Err(kube::Error::Api(e)) if e.code == 409 => continue,
                    Err(e) => return Err(ClusterError::from_kube(e, &format!("create {plural}/{name}")).into()),
                }
            }
        };
        let before = obj["status"].clone();
        if kind == Kind::Incident {
            let incoming = ops.iter().filter(|o| o["event"].is_object()).count();
            page_out(client, namespace, name, &mut obj, incoming).await?;
        }
        let (mut applied, mut refused, mut claimed) = (0, None, Vec::new());
        for op in ops {
            match kind.apply(&mut obj, op, actor) {
                Ok(c) => {
                    applied += 1;
                    claimed.extend(c);
                }
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        if obj["status"] == before {
            return Ok(Pushed { object: obj, applied, refused, claimed });
        }
        match api.replace_status(name, &PostParams::default(), &object(&obj)?).await {
            Ok(o) => {
                let object = value(o);
                // An older Incident definition drops stakeholder updates: those writes
                // (and the ones after them) stay queued, named, until the store is upgraded.
                if let Some(n) =
                    incident::dropped_by_schema(&ops[..applied], &object).filter(|_| kind == Kind::Incident)
                {
                    let why = format!(
                        "the team store's Incident definition predates stakeholder updates (it dropped one): run {}",
                        crate::INSTALL_HINT
                    );
                    return Ok(Pushed { object, applied: n, refused: Some(why), claimed });
                }
                return Ok(Pushed { object, applied, refused, claimed });
            }
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => return Err(ClusterError::from_kube(e, &format!("update {plural}/{name}/status")).into()),
        }
    }
    Err(TeamError::Refused(format!(
        "{plural}/{name} kept changing under {TRIES} attempts to write it; tried again later"
    )))
}

/// Changes the shared incident `name` with `change` (which says whether it changed
/// anything), guarded by its resourceVersion and repeated on 409. Returns the record
/// when `change` changed it and the change is stored, `None` when `change` declined.
pub async fn update(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    mut change: impl FnMut(&mut Value) -> bool,
) -> Result<Option<Value>, TeamError> {
    let api = api(client, namespace, Kind::Incident);
    for _ in 0..TRIES {
        let Some(current) =
            api.get_opt(name).await.map_err(|e| ClusterError::from_kube(e, &format!("get incidents/{name}")))?
        else {
            return Ok(None);
        };
        let mut obj = value(current);
        if !change(&mut obj) {
            return Ok(None);
        }
        match api.replace_status(name, &PostParams::default(), &object(&obj)?).await {
            Ok(o) => return Ok(Some(value(o))),
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => return Err(ClusterError::from_kube(e, &format!("update incidents/{name}/status")).into()),
        }
    }
    Err(TeamError::Refused(format!("incident {name} kept changing under {TRIES} attempts to write it")))
}

/// The API server's clock (the `Date` of its answer to `GET /version`, to the second):
/// timers of shared records run by it, so desktops whose clocks disagree still agree on
/// when a reminder is due.
pub async fn server_time(client: &kube::Client) -> Result<chrono::DateTime<chrono::Utc>, TeamError> {
    let request = http::Request::get("/version")
        .body(kube::client::Body::empty())
        .map_err(|e| TeamError::Refused(format!("GET /version: {e}")))?;
    let response = client.send(request).await.map_err(|e| ClusterError::from_kube(e, "GET /version"))?;
    let date = response
        .headers()
        .get(http::header::DATE)
        .and_then(|d| d.to_str().ok())
        .ok_or_else(|| TeamError::Refused("the API server's answer has no Date header".into()))?;
    chrono::DateTime::parse_from_rfc2822(date)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| TeamError::Refused(format!("the API server's Date {date:?} is not a time: {e}")))
}

/// Whether the API server serves `kind` in this version (a store installed before the kind
/// was added does not): a list of one record answered 404 says no. A refusal (403) is not
/// an answer to this; it says yes and leaves the refusal to the write.
pub async fn served(client: &kube::Client, namespace: &str, kind: Kind) -> Result<bool, TeamError> {
    match api(client, namespace, kind).list(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(kube::Error::Api(e)) if e.code == 403 => Ok(true),
        Err(e) => Err(ClusterError::from_kube(e, &format!("list {}", kind.resource().plural)).into()),
    }
}

/// Every shared record of `kind` in the namespace.
pub async fn list(client: &kube::Client, namespace: &str, kind: Kind) -> Result<Vec<Value>, TeamError> {
    let list = api(client, namespace, kind)
        .list(&ListParams::default())
        .await
        .map_err(|e| ClusterError::from_kube(e, &format!("list {}", kind.resource().plural)))?;
    Ok(list.items.into_iter().map(value).collect())
}

/// The shared incidents as they change (kube-runtime's watcher: a list, then a watch
/// resumed from where it stopped, re-listed after a gap, with backoff while the cluster
/// is away): each record as it is after a change. Removals are not reported (a desktop
/// keeps its copy of a record deleted in the cluster).
pub fn watch(client: &kube::Client, namespace: &str, kind: Kind) -> impl Stream<Item = Value> + Send + 'static {
    use futures_util::StreamExt;
    use kube::runtime::watcher::Event;
    use kube::runtime::WatchStreamExt;
    watcher(api(client, namespace, kind), watcher::Config::default()).default_backoff().filter_map(|ev| async move {
        match ev {
            Ok(Event::Apply(o) | Event::InitApply(o)) => Some(value(o)),
            Ok(_) => None,
            Err(e) => {
                tracing::debug!(error = %e, "team store watch interrupted; it resumes by itself");
                None
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Value {
        json!({"uid": "prod-eu-20261209t100000-1a2b", "cluster": "prod-eu", "by": "ali",
            "report": {"namespace": "hsof", "findings": []}, "took_ms": 3.0})
    }

    #[test]
    fn a_security_review_is_created_from_any_write_and_signed_off_once() {
        let alice = Actor { user: "alice".into() };
        let k = Kind::from_outbox("securityreview").expect("known");
        assert!(k.added() && !Kind::ProcedureRun.added());
        let sign =
            |by: &str, at: &str| json!({"op": "sign_off", "record": record(), "signed_off": {"by": by, "at": at}});
        // Kept before sharing was on: the sign-off alone creates the shared review.
        let ops = [sign("ali", "2026-12-09T11:00:00Z")];
        let mut obj = k.create_from("prod-eu-20261209t100000-1a2b", "hsof", &ops, &alice).expect("created");
        assert_eq!((obj["kind"].as_str(), obj["spec"]["by"].as_str()), (Some("SecurityReview"), Some("ali")));
        assert_eq!(k.refuse_create(&obj), None);
        for op in [
            json!({"op": "record", "record": record()}),
            sign("ali", "2026-12-09T11:00:00Z"),
            sign("bo", "2026-12-09T12:00:00Z"),
        ] {
            assert_eq!(k.apply(&mut obj, &op, &alice), Ok(None));
        }
        assert_eq!(obj["status"]["signedOffAt"], "2026-12-09T11:00:00Z", "the first sign-off stands");
        assert!(
            k.create_from("x", "hsof", &[json!({"op": "sign_off"})], &alice).is_none(),
            "no record, nothing to create"
        );
        let mut big = record();
        big["report"]["blob"] = json!("x".repeat(review::MAX_RECORD_BYTES));
        let big = k.create_from("x", "hsof", &[json!({"op": "record", "record": big})], &alice).expect("object");
        assert!(k.refuse_create(&big).is_some_and(|why| why.contains("stays on this desktop")));
    }
}
