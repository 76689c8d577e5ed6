//! The Tables the API server prints for `kubectl get` (`Accept: ...;as=Table`): custom
//! resources by their printer columns, Jobs, and the built-in printers of the RBAC kinds,
//! ServiceAccounts and StorageClasses (kubectl shows only NAME and AGE for a kind the
//! server answers without a Table).

use serde_json::{json, Value};

use crate::resources::Resource;
use crate::store::Store;

fn col(name: &str, kind: &str, priority: i64) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": kind, "format": format, "description": "", "priority": priority})
}

fn age(o: &Value) -> Value {
    json!(o["metadata"]["creationTimestamp"].as_str().map(crate::crd::age).unwrap_or_default())
}

fn name(o: &Value) -> Value {
    o["metadata"]["name"].clone()
}

/// `rbac.SubjectsStrings`: users, groups, and service accounts as `namespace/name`.
fn subjects(o: &Value) -> [String; 3] {
    let mut out: [Vec<String>; 3] = Default::default();
    for s in o["subjects"].as_array().into_iter().flatten() {
        let n = s["name"].as_str().unwrap_or_default();
        match s["kind"].as_str() {
            Some("User") => out[0].push(n.to_string()),
            Some("Group") => out[1].push(n.to_string()),
            Some("ServiceAccount") => out[2].push(format!("{}/{n}", s["namespace"].as_str().unwrap_or_default())),
            _ => {}
        }
    }
    out.map(|v| v.join(", "))
}

fn binding_row(o: &Value) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        o["roleRef"]["kind"].as_str().unwrap_or_default(),
        o["roleRef"]["name"].as_str().unwrap_or_default()
    );
    let [users, groups, sas] = subjects(o);
    vec![name(o), json!(role), age(o), json!(users), json!(groups), json!(sas)]
}

fn storage_class_row(o: &Value) -> Vec<Value> {
    let default = ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"]
        .iter()
        .any(|k| o["metadata"]["annotations"][*k].as_str() == Some("true"));
    let n = o["metadata"]["name"].as_str().unwrap_or_default();
    let s = |k: &str, d: &str| o[k].as_str().unwrap_or(d).to_string();
    vec![
        json!(if default { format!("{n} (default)") } else { n.to_string() }),
        json!(s("provisioner", "")),
        json!(s("reclaimPolicy", "Delete")),
        json!(s("volumeBindingMode", "Immediate")),
        json!(o["allowVolumeExpansion"].as_bool().unwrap_or(false)),
        age(o),
    ]
}

/// The built-in printer of `plural`: column definitions and a row maker.
type Printer = (Vec<Value>, fn(&Value) -> Vec<Value>);

fn printer(plural: &str) -> Option<Printer> {
    let created = |o: &Value| vec![name(o), o["metadata"]["creationTimestamp"].clone()];
    let binding_cols = || {
        vec![
            col("Name", "string", 0),
            col("Role", "string", 0),
            col("Age", "string", 0),
            col("Users", "string", 1),
            col("Groups", "string", 1),
            col("ServiceAccounts", "string", 1),
        ]
    };
    Some(match plural {
        "roles" | "clusterroles" => (vec![col("Name", "string", 0), col("Created At", "date", 0)], created),
        "rolebindings" | "clusterrolebindings" => (binding_cols(), binding_row),
        "serviceaccounts" => {
            (vec![col("Name", "string", 0), col("Secrets", "string", 0), col("Age", "string", 0)], |o| {
                vec![name(o), json!(o["secrets"].as_array().map_or(0, Vec::len)), age(o)]
            })
        }
        "storageclasses" => (
            ["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"]
                .iter()
                .map(|c| col(c, "string", 0))
                .collect(),
            storage_class_row,
        ),
        _ => return None,
    })
}

/// The Table of `objects` of `res` when the server prints that resource, else `None` (the
/// list or object goes as it is).
pub fn table(store: &Store, res: &Resource, objects: &[Value], list_meta: Value) -> Option<Value> {
    if let Some(custom) = store.custom(res.plural) {
        return Some(crate::crd::table(custom, objects, list_meta));
    }
    if res.plural == "jobs" {
        return Some(crate::crd::job_table(objects, list_meta));
    }
    let (defs, row) = printer(res.plural)?;
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({"cells": row(o), "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
        })
        .collect();
    Some(
        json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "columnDefinitions": defs, "rows": rows}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_and_storage_classes_print_as_the_api_server_prints_them() {
        let rb = json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "u"}, {"kind": "Group", "name": "g"}, {"kind": "ServiceAccount", "name": "sa", "namespace": "ci"}]});
        assert_eq!(
            binding_row(&rb),
            [json!("rb"), json!("ClusterRole/view"), json!(""), json!("u"), json!("g"), json!("ci/sa")]
        );
        let sc = json!({"metadata": {"name": "fast", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "p"});
        assert_eq!(
            storage_class_row(&sc)[..5],
            [json!("fast (default)"), json!("p"), json!("Delete"), json!("Immediate"), json!(false)]
        );
    }
}
