//! Discovery documents kubectl and kube-rs read before anything else.

use serde_json::{json, Value};

use crate::resources::RESOURCES;

const EXTRA_GROUPS: &[(&str, &str)] = &[("authorization.k8s.io", "v1"), ("metrics.k8s.io", "v1beta1")];

/// `GET /version`
pub fn version() -> Value {
    json!({"major": "1", "minor": "30", "gitVersion": "v1.30.0-hsof-fake", "gitCommit": "0000000", "gitTreeState": "clean",
           "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22", "compiler": "gc", "platform": "linux/amd64"})
}

/// `GET /api`
pub fn api(addr: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]})
}

/// `GET /apis`
pub fn apis() -> Value {
    let mut groups: Vec<(&str, &str)> =
        RESOURCES.iter().filter(|r| !r.group.is_empty()).map(|r| (r.group, r.version)).collect();
    groups.extend_from_slice(EXTRA_GROUPS);
    groups.dedup();
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
pub fn resources(group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    let verbs = json!(["create", "delete", "get", "list", "patch", "update", "watch"]);
    let mut list: Vec<Value> = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group && r.version == version) {
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
        ("authorization.k8s.io", "v1") => {
            list.push(json!({"name": "selfsubjectaccessreviews", "singularName": "", "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"]}));
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
