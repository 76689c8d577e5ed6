//! Discovery documents kubectl and kube-rs read before anything else.

use serde_json::{json, Value};

use crate::resources::{Resource, RESOURCES};
use crate::store::Store;

/// Built-in resources and the custom ones the store's CRDs serve.
fn all(store: &Store) -> Vec<&'static Resource> {
    RESOURCES.iter().chain(store.crds.iter().map(|c| c.res)).collect()
}

/// The review kinds (created only, never stored), for the OpenAPI documents: kubectl
/// `create -f` of one looks for the `fieldValidation` parameter there too.
const REVIEWS: &[Resource] = &[
    review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview"),
    review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
    review("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview"),
];

const fn review(group: &'static str, plural: &'static str, kind: &'static str) -> Resource {
    Resource { group, version: "v1", plural, kind, namespaced: false, subresources: &[], short: &[] }
}

/// What the OpenAPI documents describe: the served resources and the reviews.
fn documented(store: &Store) -> Vec<&'static Resource> {
    all(store).into_iter().chain(REVIEWS.iter()).collect()
}

const EXTRA_GROUPS: &[(&str, &str)] =
    &[("authentication.k8s.io", "v1"), ("authorization.k8s.io", "v1"), ("metrics.k8s.io", "v1beta1")];

/// `GET /version`
pub fn version() -> Value {
    json!({"major": "1", "minor": "30", "gitVersion": "v1.30.0-hsof-fake", "gitCommit": "0000000", "gitTreeState": "clean",
           "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22", "compiler": "gc", "platform": "linux/amd64"})
}

/// `GET /apis/GROUP`: one group's APIGroup document (404 for a group not served, as the
/// API server answers; clients probe a CRD's group this way).
pub fn group(store: &Store, group: &str) -> Option<Value> {
    let list = apis(store);
    let g = list["groups"].as_array()?.iter().find(|g| g["name"] == group)?.clone();
    Some(
        json!({"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": g["versions"], "preferredVersion": g["preferredVersion"]}),
    )
}

/// `GET /api`
pub fn api(addr: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]})
}

/// `GET /apis`
pub fn apis(store: &Store) -> Value {
    let mut groups: Vec<(&str, &str)> =
        all(store).iter().filter(|r| !r.group.is_empty()).map(|r| (r.group, r.version)).collect();
    groups.extend_from_slice(EXTRA_GROUPS);
    let mut seen = std::collections::BTreeSet::new();
    groups.retain(|g| seen.insert(*g));
    let groups: Vec<Value> = groups
        .iter()
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /api/v1` or `GET /apis/{group}/{version}`; `None` for an unknown group.
pub fn resources(store: &Store, group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    let verbs = json!(["create", "delete", "get", "list", "patch", "update", "watch"]);
    let mut list: Vec<Value> = Vec::new();
    for r in all(store).into_iter().filter(|r| r.group == group && r.version == version) {
        list.push(json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced, "kind": r.kind, "verbs": verbs, "shortNames": r.short}));
        for sub in r.subresources {
            let (kind, extra, verbs) = match *sub {
                "scale" => {
                    ("Scale", json!({"group": "autoscaling", "version": "v1"}), json!(["get", "patch", "update"]))
                }
                "log" => ("Pod", json!({}), json!(["get"])),
                "exec" => ("PodExecOptions", json!({}), json!(["create", "get"])),
                "proxy" => ("ServiceProxyOptions", json!({}), json!(["create", "delete", "get", "patch", "update"])),
                _ => (r.kind, json!({}), json!(["get", "patch", "update"])),
            };
            let mut s = json!({"name": format!("{}/{sub}", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": kind, "verbs": verbs});
            if let (Some(o), Some(e)) = (s.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            list.push(s);
        }
    }
    match (group, version) {
        ("authentication.k8s.io", "v1") => {
            list.push(json!({"name": "selfsubjectreviews", "singularName": "", "namespaced": false, "kind": "SelfSubjectReview", "verbs": ["create"]}));
        }
        ("authorization.k8s.io", "v1") => {
            list.push(json!({"name": "selfsubjectaccessreviews", "singularName": "", "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"]}));
            list.push(json!({"name": "subjectaccessreviews", "singularName": "", "namespaced": false, "kind": "SubjectAccessReview", "verbs": ["create"]}));
        }
        ("metrics.k8s.io", "v1beta1") => {
            list.push(json!({"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]}));
            list.push(json!({"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]}));
        }
        _ => {}
    }
    (!list.is_empty())
        .then(|| json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list}))
}

/// `GET /openapi/v3`: one entry per served group-version. kubectl reads it before
/// `apply` to learn that the server validates fields itself (`fieldValidation`), which
/// spares it the client-side schema check against `/openapi/v2` (not served).
pub fn openapi_root(store: &Store) -> Value {
    let mut paths = serde_json::Map::new();
    for r in documented(store) {
        let gv =
            if r.group.is_empty() { format!("api/{}", r.version) } else { format!("apis/{}/{}", r.group, r.version) };
        paths.insert(gv.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash=0")}));
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`: the patch operation
/// of each resource, with the group-version-kind extension and the `fieldValidation`
/// parameter (no schemas: the fake does not validate fields).
pub fn openapi_group(store: &Store, group: &str, version: &str) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    let param = json!([{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}]);
    for r in documented(store).into_iter().filter(|r| r.group == group && r.version == version) {
        let base = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
        let path = if r.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("{base}/{}/{{name}}", r.plural)
        };
        let op = json!({"x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": r.kind},
                        "x-kubernetes-action": "patch", "parameters": param, "responses": {"200": {"description": "OK"}}});
        paths.insert(path, json!({"patch": op, "parameters": param}));
    }
    (!paths.is_empty()).then(|| json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.30.0"}, "paths": paths, "components": {"schemas": {}}}))
}
