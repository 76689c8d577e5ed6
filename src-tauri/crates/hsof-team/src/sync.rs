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
use crate::TeamError;

/// Attempts of one guarded write before giving up (each a 409: the record kept changing).
const TRIES: usize = 20;

fn api(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &incident::resource())
}

fn value(o: DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or_default()
}

fn object(v: &Value) -> Result<DynamicObject, TeamError> {
    serde_json::from_value(v.clone()).map_err(|e| TeamError::Refused(format!("not an object: {e}")))
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

/// Sends `ops` (one record's queued writes, oldest first) to the shared incident `name`,
/// creating it from its declaration when it is not there yet.
pub async fn push(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    ops: &[Value],
    actor: &Actor,
) -> Result<Pushed, TeamError> {
    let api = api(client, namespace);
    for _ in 0..TRIES {
        let current =
            api.get_opt(name).await.map_err(|e| ClusterError::from_kube(e, &format!("get incidents/{name}")))?;
        let mut obj = match current {
            Some(o) => value(o),
            None => {
                let Some(decl) = ops.iter().find(|o| o["op"] == "declare") else {
                    return Err(TeamError::Refused(format!(
                        "incident {name} is no longer in the team store (deleted there); its writes stay on this desktop"
                    )));
                };
                let new = incident::new_object(name, namespace, &decl["incident"], actor);
                match api.create(&PostParams::default(), &object(&new)?).await {
                    Ok(o) => value(o),
                    Err(kube::Error::Api(e)) if e.code == 409 => continue,
                    Err(e) => return Err(ClusterError::from_kube(e, &format!("create incidents/{name}")).into()),
                }
            }
        };
        let before = obj["status"].clone();
        let (mut applied, mut refused, mut claimed) = (0, None, Vec::new());
        for op in ops {
            match incident::apply(&mut obj, op, actor) {
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
            Ok(o) => return Ok(Pushed { object: value(o), applied, refused, claimed }),
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => return Err(ClusterError::from_kube(e, &format!("update incidents/{name}/status")).into()),
        }
    }
    Err(TeamError::Refused(format!(
        "incident {name} kept changing under {TRIES} attempts to write it; tried again later"
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
    let api = api(client, namespace);
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

/// Every shared incident in the namespace.
pub async fn list(client: &kube::Client, namespace: &str) -> Result<Vec<Value>, TeamError> {
    let list = api(client, namespace)
        .list(&ListParams::default())
        .await
        .map_err(|e| ClusterError::from_kube(e, "list incidents"))?;
    Ok(list.items.into_iter().map(value).collect())
}

/// The shared incidents as they change (kube-runtime's watcher: a list, then a watch
/// resumed from where it stopped, re-listed after a gap, with backoff while the cluster
/// is away): each record as it is after a change. Removals are not reported (a desktop
/// keeps its copy of a record deleted in the cluster).
pub fn watch(client: &kube::Client, namespace: &str) -> impl Stream<Item = Value> + Send + 'static {
    use futures_util::StreamExt;
    use kube::runtime::watcher::Event;
    use kube::runtime::WatchStreamExt;
    watcher(api(client, namespace), watcher::Config::default()).default_backoff().filter_map(|ev| async move {
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
