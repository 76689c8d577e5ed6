//! One handler for every request: parse the path, then serve discovery, lists, objects,
//! patches (with server-side dry run), `/scale`, logs and access reviews.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::resources::{find, Resource};
use crate::store::Store;
use crate::{controller, discovery, patch, streams};

/// Shared state.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The store.
    pub store: Arc<Mutex<Store>>,
    /// `127.0.0.1:port`.
    pub addr: String,
}

fn reply(code: StatusCode, v: Value) -> Response {
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
fn target(path: &str) -> Option<Target> {
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
    Some(Target { res: find(group, version, plural)?, ns, name, sub })
}

/// What every request goes through first: it is recorded, delayed and answered with an
/// injected fault (or 401 for a token the fake does not accept) when the test asks.
pub async fn admit(state: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    let (fault, delay) = {
        let mut s = state.store.lock().unwrap_or_else(|p| p.into_inner());
        s.requests
            .push(format!("{method} {path}{}", if query.is_empty() { String::new() } else { format!("?{query}") }));
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
pub async fn handle(state: Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(answer) = admit(&state, &method, &uri, &headers).await {
        return answer;
    }
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    match (method.as_str(), path.as_str()) {
        ("GET", "/version") => return reply(StatusCode::OK, discovery::version()),
        ("GET", "/api") => return reply(StatusCode::OK, discovery::api(&state.addr)),
        ("GET", "/apis") => return reply(StatusCode::OK, discovery::apis()),
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") => return access_review(&state, &body),
        _ => {}
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if method == Method::GET {
        let doc = match parts.as_slice() {
            ["api", v] => discovery::resources("", v),
            ["apis", g, v] => discovery::resources(g, v),
            _ => None,
        };
        if let Some(d) = doc {
            return reply(StatusCode::OK, d);
        }
    }
    if let Some(rest) = path.strip_prefix("/apis/metrics.k8s.io/v1beta1/") {
        return metrics(&state, rest);
    }
    let Some(t) = target(&path) else {
        return status(404, "NotFound", format!("the server could not find the requested resource ({path})"));
    };
    let dry_run = param(&query, "dryRun").as_deref() == Some("All");
    let ctype = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/json").to_string();
    let mut store = state.store.lock().unwrap_or_else(|p| p.into_inner());
    let ns = t.ns.clone().unwrap_or_default();
    match (method.as_str(), &t.name, t.sub.as_deref()) {
        ("GET", None, _) if matches!(param(&query, "watch").as_deref(), Some("true" | "1")) => streams::watch(
            &mut store,
            t.res,
            t.ns.as_deref(),
            param(&query, "labelSelector").as_deref(),
            param(&query, "fieldSelector").as_deref(),
            param(&query, "resourceVersion").as_deref(),
            param(&query, "timeoutSeconds").and_then(|s| s.parse().ok()),
        ),
        ("GET", None, _) => {
            let items = store.list(t.res, t.ns.as_deref(), param(&query, "labelSelector").as_deref());
            let rv = store.rv;
            reply(
                StatusCode::OK,
                json!({"kind": format!("{}List", t.res.kind), "apiVersion": t.res.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
            )
        }
        ("GET", Some(name), None) => match store.get(t.res, &ns, name) {
            Some(o) => reply(StatusCode::OK, o.clone()),
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
        ("PATCH" | "PUT", Some(name), sub) => {
            let Some(current) = store.get(t.res, &ns, name).cloned() else { return not_found(t.res, name) };
            let Ok(patch_body) = serde_json::from_slice::<Value>(&body) else {
                return status(400, "BadRequest", "the request body is not JSON".into());
            };
            let mut next = current.clone();
            let result = match (method.as_str(), sub) {
                ("PUT", None) => {
                    next = patch_body;
                    Ok(())
                }
                ("PUT", Some("scale")) => {
                    next["spec"]["replicas"] = patch_body["spec"]["replicas"].clone();
                    Ok(())
                }
                ("PATCH", Some("scale")) => {
                    let mut scale = scale_of(&current);
                    patch::apply(&mut scale, &ctype, &patch_body)
                        .map(|()| next["spec"]["replicas"] = scale["spec"]["replicas"].clone())
                }
                ("PATCH", None) => patch::apply(&mut next, &ctype, &patch_body),
                _ => Err(format!("unsupported subresource {}", sub.unwrap_or_default())),
            };
            if let Err(e) = result {
                return status(422, "Invalid", e);
            }
            if let Err(e) = validate(&next) {
                return status(422, "Invalid", format!("{} \"{name}\" is invalid: {e}", t.res.kind));
            }
            if current["spec"] != next["spec"] && t.res.kind == "Deployment" {
                next["metadata"]["generation"] = json!(current["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
            }
            if dry_run {
                return reply(StatusCode::OK, if sub == Some("scale") { scale_of(&next) } else { next });
            }
            let stored = store.put(next);
            if t.res.kind == "Deployment" {
                controller::reconcile(&mut store, &ns, name);
            }
            let out = store.get(t.res, &ns, name).cloned().unwrap_or(stored);
            reply(StatusCode::OK, if sub == Some("scale") { scale_of(&out) } else { out })
        }
        ("POST", None, None) => {
            let Ok(mut obj) = serde_json::from_slice::<Value>(&body) else {
                return status(400, "BadRequest", "the request body is not JSON".into());
            };
            obj["kind"] = json!(t.res.kind);
            obj["metadata"]["namespace"] = json!(ns);
            let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
            if name.is_empty() {
                return status(422, "Invalid", "metadata.name: Required value".into());
            }
            if store.get(t.res, &ns, &name).is_some() {
                return status(409, "AlreadyExists", format!("{} \"{name}\" already exists", t.res.plural));
            }
            if dry_run {
                return reply(StatusCode::CREATED, obj);
            }
            let stored = store.put(obj);
            match t.res.kind {
                "Deployment" => controller::reconcile(&mut store, &ns, &name),
                "Job" => controller::run_job(&mut store, &ns, &name),
                _ => {}
            }
            reply(StatusCode::CREATED, stored)
        }
        ("DELETE", Some(name), None) => match store.delete(t.res, &ns, name) {
            Some(_) => reply(StatusCode::OK, json!({"kind": "Status", "apiVersion": "v1", "status": "Success"})),
            None => not_found(t.res, name),
        },
        _ => status(405, "MethodNotAllowed", format!("{method} is not supported on {path}")),
    }
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

fn access_review(state: &Shared, body: &Bytes) -> Response {
    let Ok(mut review) = serde_json::from_slice::<Value>(body) else {
        return status(400, "BadRequest", "the request body is not JSON".into());
    };
    let a = &review["spec"]["resourceAttributes"];
    let key = (
        a["verb"].as_str().unwrap_or_default().to_string(),
        a["resource"].as_str().unwrap_or_default().to_string(),
        a["subresource"].as_str().unwrap_or_default().to_string(),
    );
    let denied = state.store.lock().unwrap_or_else(|p| p.into_inner()).denied.contains(&key);
    review["status"] = if denied {
        json!({"allowed": false, "reason": format!("RBAC: user cannot {} {}", key.0, key.1)})
    } else {
        json!({"allowed": true, "reason": "RBAC: allowed by fake"})
    };
    review["kind"] = json!("SelfSubjectAccessReview");
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    reply(StatusCode::CREATED, review)
}

/// metrics.k8s.io: usage derived from each pod's name, stable across calls; 404 when the
/// store says metrics-server is not installed, as the real API answers then.
fn metrics(state: &Shared, rest: &str) -> Response {
    let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
    if !store.metrics_server {
        return status(404, "NotFound", "the server could not find the requested resource".into());
    }
    let usage = |name: &str| {
        let h = name.bytes().fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        (100 + h % 900, 512 + (h / 7) % 3584)
    };
    let window = json!("30s");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let parts: Vec<&str> = rest.split('/').collect();
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
