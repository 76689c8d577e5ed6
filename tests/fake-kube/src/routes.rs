//! One handler for every request: parse the path, then serve discovery, lists, objects,
//! patches (with server-side dry run), `/scale`, logs and access reviews.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::policy::Attributes;
use crate::rbac::{Request, UserInfo};
use crate::resources::{find, Resource};
use crate::selector::Selectors;
use crate::store::Store;
use crate::{controller, crd, discovery, patch, printers, reviews, streams, validation};

/// Shared state.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The store.
    pub store: Arc<Mutex<Store>>,
    /// `127.0.0.1:port`.
    pub addr: String,
}

pub(crate) fn reply(code: StatusCode, v: Value) -> Response {
    (code, [("content-type", "application/json")], v.to_string()).into_response()
}

pub(crate) fn status(code: u16, reason: &str, message: String) -> Response {
    let c = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    reply(
        c,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}),
    )
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(v))
        .filter(|v| !v.is_empty())
}

/// Where a request points.
struct Target {
    res: &'static Resource,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

/// Parses `/api/v1/...` and `/apis/{g}/{v}/...` paths.
fn target(path: &str, store: &Store) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return None,
    };
    Some(Target { res: store.resource(group, version, plural)?, ns, name, sub })
}

/// The bearer token of a request.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
}

/// Who a request acts as: the `Impersonate-User` header (`kubectl --as`, which the fake
/// grants to everyone; kubectl sends no bearer token over plain http), else the user of
/// its bearer token.
pub(crate) fn user(store: &Store, headers: &HeaderMap) -> String {
    identity(store, headers).name
}

/// The user and groups a request acts as: impersonated (`Impersonate-User`, with its
/// `Impersonate-Group`s), else authenticated by its bearer token, else anonymous (and then
/// [`UserInfo::credentialless`]).
pub(crate) fn identity(store: &Store, headers: &HeaderMap) -> UserInfo {
    let impersonated = headers.get("impersonate-user").and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
    if let Some(name) = impersonated {
        let groups = headers
            .get_all("impersonate-group")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        return UserInfo::impersonated(name, groups);
    }
    let token = bearer(headers);
    let name = store.user_of(token);
    let mut who = UserInfo::authenticated(&name, store.groups.get(&name).map_or(&[], Vec::as_slice));
    who.credentialless = token.is_none();
    who
}

/// `403 Forbidden` unless the caller may do `a` (see [`crate::rbac`] for who decides).
pub(crate) fn authorize(store: &Store, headers: &HeaderMap, a: &Attributes) -> Option<Response> {
    let who = identity(store, headers);
    let decision = store.decide(&who, &Request::Resource(a));
    if decision.allowed {
        return None;
    }
    let user = who.name;
    // The API server appends the authorizers' reasons (RBAC gives one only when a binding's
    // role is missing).
    let mut message = a.forbidden_message(&user);
    if !decision.reason.is_empty() {
        message = format!("{message}: {}", decision.reason);
    }
    let mut details = json!({"group": a.group, "kind": a.resource});
    if !a.name.is_empty() {
        details["name"] = json!(a.name);
    }
    Some(reply(
        StatusCode::FORBIDDEN,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
               "reason": "Forbidden", "details": details, "code": 403}),
    ))
}

/// The API server's `409 Conflict` for a stale `metadata.resourceVersion`.
fn conflict(res: &Resource, name: &str) -> Response {
    let gr = if res.group.is_empty() { res.plural.to_string() } else { format!("{}.{}", res.plural, res.group) };
    reply(
        StatusCode::CONFLICT,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": format!("Operation cannot be fulfilled on {gr} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"),
               "reason": "Conflict", "details": {"name": name, "group": res.group, "kind": res.plural}, "code": 409}),
    )
}

/// What every request goes through first: it is recorded (with its user), delayed and
/// answered with an injected fault (or 401 for a token the fake does not accept) when the
/// test asks.
pub async fn admit(state: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    let (fault, delay) = {
        let mut s = state.store.lock().unwrap_or_else(|p| p.into_inner());
        s.requests
            .push(format!("{method} {path}{}", if query.is_empty() { String::new() } else { format!("?{query}") }));
        let user = user(&s, headers);
        s.request_users.push(user);
        let token_ok = s.faults.require_token.as_ref().is_none_or(|t| {
            headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(format!("Bearer {t}").as_str())
        });
        (if token_ok { s.faults.status } else { Some(401) }, s.faults.delay_ms)
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let code = fault?;
    let reason = match code {
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "InternalError",
    };
    Some(status(code, reason, format!("injected fault {code}")))
}

/// The whole API.
fn lock(state: &Shared) -> std::sync::MutexGuard<'_, Store> {
    state.store.lock().unwrap_or_else(|p| p.into_inner())
}

pub async fn handle(state: Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(answer) = admit(&state, &method, &uri, &headers).await {
        return answer;
    }
    if let Some(answer) = crate::svcproxy::serve(&state, &method, &uri, &headers, &body).await {
        return answer;
    }
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    match (method.as_str(), path.as_str()) {
        ("GET", "/version") => return reply(StatusCode::OK, discovery::version()),
        ("GET", "/api") => return reply(StatusCode::OK, discovery::api(&state.addr)),
        ("GET", "/apis") => return reply(StatusCode::OK, discovery::apis(&lock(&state))),
        ("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews") => {
            return reviews::self_subject_review(&lock(&state), &headers)
        }
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") => {
            return reviews::self_subject_access_review(&lock(&state), &headers, &body)
        }
        ("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews") => {
            return reviews::subject_access_review(&lock(&state), &headers, &body)
        }
        _ => {}
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if method == Method::GET {
        let doc = match parts.as_slice() {
            ["openapi", "v3"] => Some(discovery::openapi_root(&lock(&state))),
            ["openapi", "v3", "api", v] => discovery::openapi_group(&lock(&state), "", v),
            ["openapi", "v3", "apis", g, v] => discovery::openapi_group(&lock(&state), g, v),
            ["api", v] => discovery::resources(&lock(&state), "", v),
            ["apis", g, v] => discovery::resources(&lock(&state), g, v),
            ["apis", g] => discovery::group(&lock(&state), g),
            _ => None,
        };
        if let Some(d) = doc {
            return reply(StatusCode::OK, d);
        }
    }
    if let Some(rest) = path.strip_prefix("/apis/metrics.k8s.io/v1beta1/") {
        return metrics(&state, &headers, rest);
    }
    let found = target(&path, &lock(&state));
    let Some(t) = found else {
        return status(404, "NotFound", format!("the server could not find the requested resource ({path})"));
    };
    if t.sub.as_deref().is_some_and(|s| !t.res.subresources.contains(&s)) {
        return status(404, "NotFound", "the server could not find the requested resource".into());
    }
    let watching = matches!(param(&query, "watch").as_deref(), Some("true" | "1"));
    let verb = match (method.as_str(), t.name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) if watching => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    };
    let attrs = Attributes {
        verb: verb.into(),
        group: t.res.group.into(),
        resource: t.res.plural.into(),
        subresource: t.sub.clone().unwrap_or_default(),
        // The API server's request info: a namespace's own namespace is itself.
        namespace: match (t.res.namespaced, t.res.plural) {
            (true, _) => t.ns.clone().unwrap_or_default(),
            (false, "namespaces") => t.name.clone().unwrap_or_default(),
            _ => String::new(),
        },
        name: t.name.clone().unwrap_or_default(),
    };
    let dry_run = param(&query, "dryRun").as_deref() == Some("All");
    let ctype = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/json").to_string();
    let table = crd::wants_table(headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default());
    let is_crd = t.res.plural == "customresourcedefinitions";
    // Server-side apply creates what does not exist yet.
    let applying = ctype.starts_with("application/apply-patch");
    let mut store = state.store.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(denied) = authorize(&store, &headers, &attrs) {
        return denied;
    }
    let ns = t.ns.clone().unwrap_or_default();
    let selectors = || {
        Selectors::parse(
            t.res.plural,
            param(&query, "labelSelector").as_deref(),
            param(&query, "fieldSelector").as_deref(),
        )
        .map_err(|e| Box::new(status(400, "BadRequest", e)))
    };
    match (method.as_str(), &t.name, t.sub.as_deref()) {
        ("GET", None, _) if watching => {
            let sel = match selectors() {
                Ok(s) => s,
                Err(e) => return *e,
            };
            let opts = streams::WatchOptions {
                resource_version: param(&query, "resourceVersion"),
                timeout_secs: param(&query, "timeoutSeconds").and_then(|s| s.parse().ok()),
                bookmarks: param(&query, "allowWatchBookmarks").as_deref() == Some("true"),
                initial_events: param(&query, "sendInitialEvents").as_deref() == Some("true"),
            };
            streams::watch(&mut store, t.res, t.ns.as_deref(), sel, &opts)
        }
        ("GET", None, _) => {
            let sel = match selectors() {
                Ok(s) => s,
                Err(e) => return *e,
            };
            list_page(&store, t.res, t.ns.as_deref(), &sel, &query, table)
        }
        ("GET", Some(name), None | Some("status")) => match store.get(t.res, &ns, name) {
            Some(o) => match (table && (t.sub.is_none() || store.custom(t.res.plural).is_some()))
                .then(|| printers::table(&store, t.res, std::slice::from_ref(o), json!({})))
                .flatten()
            {
                Some(printed) => reply(StatusCode::OK, printed),
                None => reply(StatusCode::OK, o.clone()),
            },
            None => not_found(t.res, name),
        },
        ("GET", Some(name), Some("log")) => {
            if store.get(t.res, &ns, name).is_none() {
                return not_found(t.res, name);
            }
            let since = match param(&query, "sinceTime").map(|s| chrono::DateTime::parse_from_rfc3339(&s)) {
                None => None,
                Some(Ok(at)) => Some(at.with_timezone(&chrono::Utc)),
                Some(Err(e)) => return status(400, "BadRequest", format!("sinceTime: {e}")),
            };
            let q = streams::LogQuery {
                follow: param(&query, "follow").as_deref() == Some("true"),
                timestamps: param(&query, "timestamps").as_deref() == Some("true"),
                tail: param(&query, "tailLines").and_then(|n| n.parse().ok()),
                since,
            };
            streams::logs(&mut store, &ns, name, &q)
        }
        ("GET", Some(name), Some("scale")) => match store.get(t.res, &ns, name) {
            Some(o) => reply(StatusCode::OK, scale_of(o)),
            None => not_found(t.res, name),
        },
        ("PATCH", Some(name), None) if applying && store.get(t.res, &ns, name).is_none() => {
            let Ok(mut obj) = serde_json::from_slice::<Value>(&body) else {
                return status(
                    400,
                    "BadRequest",
                    "the apply body is not JSON (YAML is not parsed by this server)".into(),
                );
            };
            if obj["metadata"]["name"].as_str() != Some(name.as_str()) {
                return status(
                    400,
                    "BadRequest",
                    format!("the name of the object does not match the name on the URL ({name})"),
                );
            }
            obj["kind"] = json!(t.res.kind);
            if t.res.namespaced {
                obj["metadata"]["namespace"] = json!(ns);
            }
            let who = crate::managed::manager(
                param(&query, "fieldManager"),
                headers.get("user-agent").and_then(|v| v.to_str().ok()),
            );
            crate::managed::record(&mut obj, &who, "Apply", None);
            create(&mut store, t.res, &ns, obj, dry_run, is_crd)
        }
        ("PATCH" | "PUT", Some(name), sub) => {
            let Some(current) = store.get(t.res, &ns, name).cloned() else { return not_found(t.res, name) };
            let Ok(patch_body) = serde_json::from_slice::<Value>(&body) else {
                return status(400, "BadRequest", "the request body is not JSON".into());
            };
            let mut next = current.clone();
            // The resourceVersion the request was made against, when it names one: a PUT's
            // body, or one a patch sets (both are preconditions on the real server).
            let mut wanted_rv = None;
            let result = match (method.as_str(), sub) {
                ("PUT", None | Some("status")) => {
                    let body_name = patch_body["metadata"]["name"].as_str().unwrap_or_default();
                    if body_name != name.as_str() {
                        return status(
                            400,
                            "BadRequest",
                            format!("the name of the object ({body_name}) does not match the name on the URL ({name})"),
                        );
                    }
                    wanted_rv = patch_body["metadata"]["resourceVersion"].as_str().map(str::to_string);
                    next = patch_body;
                    next["kind"] = json!(t.res.kind);
                    if t.res.namespaced {
                        next["metadata"]["namespace"] = json!(ns);
                    }
                    Ok(())
                }
                ("PUT", Some("scale")) => {
                    wanted_rv = patch_body["metadata"]["resourceVersion"].as_str().map(str::to_string);
                    next["spec"]["replicas"] = patch_body["spec"]["replicas"].clone();
                    Ok(())
                }
                ("PATCH", Some("scale")) => {
                    let mut scale = scale_of(&current);
                    patch::apply(&mut scale, &ctype, &patch_body).map(|()| {
                        wanted_rv = scale["metadata"]["resourceVersion"].as_str().map(str::to_string);
                        next["spec"]["replicas"] = scale["spec"]["replicas"].clone();
                    })
                }
                ("PATCH", None | Some("status")) => patch::apply(&mut next, &ctype, &patch_body).map(|()| {
                    wanted_rv = next["metadata"]["resourceVersion"].as_str().map(str::to_string);
                }),
                _ => Err(format!("unsupported subresource {}", sub.unwrap_or_default())),
            };
            if let Err(e) = result {
                return status(422, "Invalid", e);
            }
            if wanted_rv.as_deref().is_some_and(|rv| Some(rv) != current["metadata"]["resourceVersion"].as_str()) {
                return conflict(t.res, name);
            }
            if sub == Some("status") {
                // Only .status changes through /status.
                let status = next["status"].take();
                next = current.clone();
                next["status"] = status;
            } else if t.res.subresources.contains(&"status") {
                // ... and never through the object itself.
                match current.get("status") {
                    Some(s) => next["status"] = s.clone(),
                    None => {
                        next.as_object_mut().map(|o| o.remove("status"));
                    }
                }
            }
            if next["metadata"].get("generation").is_none() && current["metadata"].get("generation").is_some() {
                next["metadata"]["generation"] = current["metadata"]["generation"].clone();
            }
            if let Err(e) = validate(&next) {
                return status(422, "Invalid", format!("{} \"{name}\" is invalid: {e}", t.res.kind));
            }
            if sub.is_none() {
                if let Err(e) = validation::admit(t.res, &mut next, Some(&current)) {
                    return reply(StatusCode::UNPROCESSABLE_ENTITY, e);
                }
            }
            if is_crd && sub != Some("status") {
                if let Err(e) = crd::served(&next) {
                    return status(
                        422,
                        "Invalid",
                        format!("CustomResourceDefinition.apiextensions.k8s.io \"{name}\" is invalid: {e}"),
                    );
                }
                next = crd::established(next);
            }
            if current["spec"] != next["spec"] && t.res.kind == "Deployment" {
                next["metadata"]["generation"] = json!(current["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
            }
            if dry_run {
                return reply(StatusCode::OK, if sub == Some("scale") { scale_of(&next) } else { next });
            }
            let who = crate::managed::manager(
                param(&query, "fieldManager"),
                headers.get("user-agent").and_then(|v| v.to_str().ok()),
            );
            crate::managed::record(&mut next, &who, if applying { "Apply" } else { "Update" }, sub);
            let stored = store.put(next);
            if t.res.kind == "Deployment" && sub != Some("status") {
                controller::reconcile(&mut store, &ns, name);
            }
            if is_crd {
                store.sync_crds();
            }
            let out = store.get(t.res, &ns, name).cloned().unwrap_or(stored);
            reply(StatusCode::OK, if sub == Some("scale") { scale_of(&out) } else { out })
        }
        ("POST", None, None) => {
            let Ok(mut obj) = serde_json::from_slice::<Value>(&body) else {
                return status(400, "BadRequest", "the request body is not JSON".into());
            };
            obj["kind"] = json!(t.res.kind);
            if t.res.namespaced {
                obj["metadata"]["namespace"] = json!(ns);
            }
            let who = crate::managed::manager(
                param(&query, "fieldManager"),
                headers.get("user-agent").and_then(|v| v.to_str().ok()),
            );
            crate::managed::record(&mut obj, &who, "Update", None);
            create(&mut store, t.res, &ns, obj, dry_run, is_crd)
        }
        ("DELETE", Some(name), None) if dry_run || delete_dry_run(&body) => match store.get(t.res, &ns, name) {
            // A dry run answers as the delete would and removes nothing.
            Some(obj) => reply(StatusCode::OK, obj.clone()),
            None => not_found(t.res, name),
        },
        ("DELETE", Some(name), None) => match store.delete(t.res, &ns, name) {
            Some(gone) => {
                if is_crd {
                    store.sync_crds();
                }
                // The garbage collector: dependents go with their owner unless orphaned
                // (`propagationPolicy: Orphan`; kubectl's default is Background).
                let policy = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|b| b["propagationPolicy"].as_str().map(str::to_string))
                    .or_else(|| param(&query, "propagationPolicy"));
                if policy.as_deref() != Some("Orphan") {
                    delete_dependents(&mut store, &gone);
                }
                reply(StatusCode::OK, json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}))
            }
            None => not_found(t.res, name),
        },
        _ => status(405, "MethodNotAllowed", format!("{method} is not supported on {path}")),
    }
}

/// Whether a DeleteOptions body asks for a dry run (`dryRun: ["All"]`).
fn delete_dry_run(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .is_some_and(|b| b["dryRun"].as_array().is_some_and(|a| a.iter().any(|x| x == "All")))
}

/// Deletes the pods (and ReplicaSets) whose controller owner is `owner`, as the garbage
/// collector does.
fn delete_dependents(store: &mut Store, owner: &Value) {
    let uid = owner["metadata"]["uid"].as_str().unwrap_or_default();
    let name = owner["metadata"]["name"].as_str().unwrap_or_default();
    let ns = owner["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
    for res in [crate::resources::find("apps", "v1", "replicasets"), crate::resources::find("", "v1", "pods")]
        .into_iter()
        .flatten()
    {
        let owned: Vec<String> = store
            .list(res, Some(&ns), None)
            .into_iter()
            .filter(|o| {
                o["metadata"]["ownerReferences"].as_array().into_iter().flatten().any(|r| {
                    r["controller"] == json!(true)
                        && r["name"].as_str() == Some(name)
                        && r["uid"].as_str().is_none_or(|u| u == uid)
                })
            })
            .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        for n in owned {
            store.delete(res, &ns, &n);
        }
    }
}

/// Creates `obj` (a POST, or a server-side apply of something new).
fn create(
    store: &mut Store,
    res: &'static Resource,
    ns: &str,
    mut obj: Value,
    dry_run: bool,
    is_crd: bool,
) -> Response {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    if name.is_empty() {
        return status(422, "Invalid", "metadata.name: Required value".into());
    }
    if store.get(res, ns, &name).is_some() {
        return status(409, "AlreadyExists", format!("{} \"{name}\" already exists", res.plural));
    }
    if let Err(e) = validation::admit(res, &mut obj, None) {
        return reply(StatusCode::UNPROCESSABLE_ENTITY, e);
    }
    if is_crd {
        if let Err(e) = crd::served(&obj) {
            return status(
                422,
                "Invalid",
                format!("CustomResourceDefinition.apiextensions.k8s.io \"{name}\" is invalid: {e}"),
            );
        }
        obj = crd::established(obj);
    } else if res.subresources.contains(&"status") && store.custom(res.plural).is_some() {
        // A custom resource's status is set through /status only.
        obj.as_object_mut().map(|o| o.remove("status"));
    }
    if dry_run {
        return reply(StatusCode::CREATED, obj);
    }
    let kubelet = crate::kubelet::takes(store, &obj);
    let stored = store.put(obj);
    match res.kind {
        "Deployment" => controller::reconcile(store, ns, &name),
        // The kubelet mode runs its Jobs from the watch bus, as a controller does.
        "Job" if !kubelet => controller::run_job(store, ns, &name),
        _ => {}
    }
    if is_crd {
        store.sync_crds();
    }
    reply(StatusCode::CREATED, stored)
}

fn not_found(res: &Resource, name: &str) -> Response {
    let group = if res.group.is_empty() { String::new() } else { format!(".{}", res.group) };
    status(404, "NotFound", format!("{}{group} \"{name}\" not found", res.plural))
}

fn scale_of(o: &Value) -> Value {
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": o["metadata"]["name"], "namespace": o["metadata"]["namespace"], "resourceVersion": o["metadata"]["resourceVersion"], "uid": o["metadata"]["uid"]},
        "spec": {"replicas": o["spec"]["replicas"]},
        "status": {"replicas": o["status"]["replicas"], "selector": "app.kubernetes.io/name=hsof"}
    })
}

/// The checks the real API server would make on the fields the tests touch.
fn validate(o: &Value) -> Result<(), String> {
    if let Some(r) = o.get("spec").and_then(|s| s.get("replicas")) {
        match r.as_i64() {
            Some(n) if n < 0 => {
                return Err(format!("spec.replicas: Invalid value: {n}: must be greater than or equal to 0"))
            }
            None if !r.is_null() => return Err(format!("spec.replicas: Invalid value: {r}: must be an integer")),
            _ => {}
        }
    }
    Ok(())
}

/// metrics.k8s.io: usage derived from each pod's name, stable across calls; 404 when the
/// store says metrics-server is not installed, as the real API answers then.
fn metrics(state: &Shared, headers: &HeaderMap, rest: &str) -> Response {
    let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
    if !store.metrics_server {
        return status(404, "NotFound", "the server could not find the requested resource".into());
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let (resource, namespace) = match parts.as_slice() {
        ["namespaces", ns, r, ..] => (*r, *ns),
        [r, ..] => (*r, ""),
        [] => ("", ""),
    };
    let verb = if parts.len().is_multiple_of(2) { "get" } else { "list" };
    let a = Attributes {
        verb: verb.into(),
        group: "metrics.k8s.io".into(),
        resource: resource.into(),
        namespace: namespace.into(),
        ..Attributes::default()
    };
    if let Some(denied) = authorize(&store, headers, &a) {
        return denied;
    }
    let usage = |name: &str| {
        let h = name.bytes().fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        (100 + h % 900, 512 + (h / 7) % 3584)
    };
    let window = json!("30s");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match parts.as_slice() {
        ["namespaces", ns, "pods"] => {
            let Some(pods) = find("", "v1", "pods") else { return status(500, "InternalError", "no pods".into()) };
            let items: Vec<Value> = store
                .list(pods, Some(ns), None)
                .iter()
                .map(|p| {
                    let name = p["metadata"]["name"].as_str().unwrap_or_default();
                    let (cpu, mem) = usage(name);
                    let containers: Vec<Value> = p["spec"]["containers"].as_array().map(|cs| cs.iter().map(|c| json!({"name": c["name"], "usage": {"cpu": format!("{cpu}m"), "memory": format!("{mem}Mi")}})).collect()).unwrap_or_default();
                    json!({"metadata": {"name": name, "namespace": ns}, "timestamp": now, "window": window, "containers": containers})
                })
                .collect();
            reply(
                StatusCode::OK,
                json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}),
            )
        }
        ["nodes"] => {
            let Some(nodes) = find("", "v1", "nodes") else { return status(500, "InternalError", "no nodes".into()) };
            let items: Vec<Value> = store
                .list(nodes, None, None)
                .iter()
                .map(|n| {
                    let name = n["metadata"]["name"].as_str().unwrap_or_default();
                    let (cpu, mem) = usage(name);
                    json!({"metadata": {"name": name}, "timestamp": now, "window": window, "usage": {"cpu": format!("{}m", cpu * 20), "memory": format!("{}Mi", mem * 40)}})
                })
                .collect();
            reply(
                StatusCode::OK,
                json!({"kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}),
            )
        }
        _ => status(404, "NotFound", format!("no metrics resource {rest}")),
    }
}

/// The message of the API server's `410` for a continue token older than its compaction.
const CONTINUE_TOO_OLD: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// A continue token: the list's resourceVersion and the last key served, opaque to clients.
fn continue_token(rv: u64, after: &(String, String)) -> String {
    hex::encode(json!({"v": "meta.k8s.io/v1", "rv": rv, "ns": after.0, "name": after.1}).to_string())
}

fn parse_continue(token: &str) -> Option<(u64, (String, String))> {
    let v: Value = serde_json::from_slice(&hex::decode(token).ok()?).ok()?;
    Some((v["rv"].as_u64()?, (v["ns"].as_str()?.to_string(), v["name"].as_str()?.to_string())))
}

/// A list, paged by `limit` and `continue` as the API server pages: at most `limit`
/// items in key order, `metadata.continue` while more remain (with `remainingItemCount`
/// when no selector filters), `410 Expired` for a token older than the change history.
/// Later pages show the objects as they are now, not as of the first page.
fn list_page(store: &Store, res: &Resource, ns: Option<&str>, sel: &Selectors, query: &str, table: bool) -> Response {
    let limit = param(query, "limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let (rv, after) = match param(query, "continue") {
        None => (store.rv, None),
        Some(token) => match parse_continue(&token) {
            None => return status(400, "BadRequest", format!("continue key is not valid: {token}")),
            Some((rv, _)) if rv < store.oldest_resumable() => {
                let fresh = parse_continue(&token).map(|(_, after)| continue_token(store.rv, &after));
                return reply(
                    StatusCode::GONE,
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {"continue": fresh}, "status": "Failure",
                           "message": CONTINUE_TOO_OLD, "reason": "Expired", "code": 410}),
                );
            }
            Some((rv, after)) => (rv, Some(after)),
        },
    };
    let mut items = store.keyed(res, ns, sel, after.as_ref(), limit.map_or(usize::MAX, |l| l + 1));
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(l) = limit {
        if items.len() > l {
            items.truncate(l);
            let last = items.last().map(|(k, _)| k.clone()).unwrap_or_default();
            meta["continue"] = json!(continue_token(rv, &last));
            if sel.is_empty() {
                let remaining = store.count_after(res, ns, sel, &last);
                meta["remainingItemCount"] = json!(remaining);
            }
        }
    }
    let items: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
    if let Some(printed) = table.then(|| printers::table(store, res, &items, meta.clone())).flatten() {
        return reply(StatusCode::OK, printed);
    }
    reply(
        StatusCode::OK,
        json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": meta, "items": items}),
    )
}
