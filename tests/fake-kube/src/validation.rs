//! The API server's defaulting and validation of the RBAC kinds and StorageClasses on
//! create and update, with its `422 Invalid` messages
//! (`RoleBinding.rbac.authorization.k8s.io "x" is invalid: subjects[0].kind: ...`).

use serde_json::{json, Value};

use crate::rbac::RBAC_GROUP;
use crate::resources::Resource;

fn required(field: &str, detail: &str) -> String {
    if detail.is_empty() {
        format!("{field}: Required value")
    } else {
        format!("{field}: Required value: {detail}")
    }
}

fn unsupported(field: &str, value: &str, supported: &[&str]) -> String {
    let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
    format!("{field}: Unsupported value: \"{value}\": supported values: {}", list.join(", "))
}

/// Go's `%#v` of a `[]string`.
fn go_strings(v: &Value) -> String {
    let items: Vec<String> =
        v.as_array().into_iter().flatten().map(|s| format!("\"{}\"", s.as_str().unwrap_or_default())).collect();
    format!("[]string{{{}}}", items.join(", "))
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

fn list_len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

/// Defaults, then validates `obj` (a create when `old` is `None`); the API server's `422`
/// Status (message, and details with one cause per field) when it would refuse it.
pub fn admit(res: &Resource, obj: &mut Value, old: Option<&Value>) -> Result<(), Value> {
    let errors = match (res.group, res.kind) {
        (RBAC_GROUP, "RoleBinding" | "ClusterRoleBinding") => binding(res.kind, obj, old),
        (RBAC_GROUP, "Role") => rules(obj, true),
        (RBAC_GROUP, "ClusterRole") => {
            let mut errors = rules(obj, false);
            errors.extend(aggregation_rule(&obj["aggregationRule"]));
            errors
        }
        ("storage.k8s.io", "StorageClass") => storage_class(obj, old),
        _ => Vec::new(),
    };
    if errors.is_empty() {
        return Ok(());
    }
    let group = if res.group.is_empty() { String::new() } else { format!(".{}", res.group) };
    let name = s(&obj["metadata"], "name");
    let what = if errors.len() == 1 { errors[0].clone() } else { format!("[{}]", errors.join(", ")) };
    let causes: Vec<Value> = errors
        .iter()
        .map(|e| {
            let (field, message) = e.split_once(": ").unwrap_or(("", e));
            let reason = [
                ("Required value", "FieldValueRequired"),
                ("Unsupported value", "FieldValueNotSupported"),
                ("Forbidden", "FieldValueForbidden"),
            ]
            .iter()
            .find(|(prefix, _)| message.starts_with(prefix))
            .map_or("FieldValueInvalid", |(_, r)| r);
            json!({"reason": reason, "message": message, "field": field})
        })
        .collect();
    Err(json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("{}{group} \"{name}\" is invalid: {what}", res.kind), "reason": "Invalid",
        "details": {"name": name, "group": res.group, "kind": res.kind, "causes": causes}, "code": 422}))
}

fn binding(kind: &str, obj: &mut Value, old: Option<&Value>) -> Vec<String> {
    // SetDefaults_RoleBinding / _ClusterRoleBinding / _Subject.
    if s(&obj["roleRef"], "apiGroup").is_empty() && obj["roleRef"].is_object() {
        obj["roleRef"]["apiGroup"] = json!(RBAC_GROUP);
    }
    for subject in obj["subjects"].as_array_mut().into_iter().flatten() {
        if s(subject, "apiGroup").is_empty() && matches!(s(subject, "kind"), "User" | "Group") {
            subject["apiGroup"] = json!(RBAC_GROUP);
        }
    }
    let mut errors = Vec::new();
    let role_ref = &obj["roleRef"];
    if s(role_ref, "apiGroup") != RBAC_GROUP {
        errors.push(unsupported("roleRef.apiGroup", s(role_ref, "apiGroup"), &[RBAC_GROUP]));
    }
    let kinds: &[&str] = if kind == "RoleBinding" { &["Role", "ClusterRole"] } else { &["ClusterRole"] };
    if !kinds.contains(&s(role_ref, "kind")) {
        errors.push(unsupported("roleRef.kind", s(role_ref, "kind"), kinds));
    }
    if s(role_ref, "name").is_empty() {
        errors.push(required("roleRef.name", ""));
    }
    let namespaced = kind == "RoleBinding";
    for (i, subject) in obj["subjects"].as_array().into_iter().flatten().enumerate() {
        let field = |f: &str| format!("subjects[{i}].{f}");
        if s(subject, "name").is_empty() {
            errors.push(required(&field("name"), ""));
        }
        match s(subject, "kind") {
            "ServiceAccount" => {
                if !s(subject, "apiGroup").is_empty() {
                    errors.push(unsupported(&field("apiGroup"), s(subject, "apiGroup"), &[""]));
                }
                if !namespaced && s(subject, "namespace").is_empty() {
                    errors.push(required(&field("namespace"), ""));
                }
            }
            "User" | "Group" => {
                if s(subject, "apiGroup") != RBAC_GROUP {
                    errors.push(unsupported(&field("apiGroup"), s(subject, "apiGroup"), &[RBAC_GROUP]));
                }
            }
            other => errors.push(unsupported(&field("kind"), other, &["ServiceAccount", "User", "Group"])),
        }
    }
    if let Some(old) = old {
        let before = &old["roleRef"];
        if [("apiGroup"), ("kind"), ("name")].iter().any(|k| s(before, k) != s(role_ref, k)) {
            errors.push(format!(
                "roleRef: Invalid value: rbac.RoleRef{{APIGroup:\"{}\", Kind:\"{}\", Name:\"{}\"}}: cannot change roleRef",
                s(role_ref, "apiGroup"),
                s(role_ref, "kind"),
                s(role_ref, "name")
            ));
        }
    }
    errors
}

/// `ValidatePolicyRule` for each rule of a Role (`namespaced`) or ClusterRole.
fn rules(obj: &Value, namespaced: bool) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, rule) in obj["rules"].as_array().into_iter().flatten().enumerate() {
        let field = |f: &str| format!("rules[{i}].{f}");
        if list_len(&rule["verbs"]) == 0 {
            errors.push(required(&field("verbs"), "verbs must contain at least one value"));
        }
        if list_len(&rule["nonResourceURLs"]) > 0 {
            let urls = go_strings(&rule["nonResourceURLs"]);
            if namespaced {
                errors.push(format!(
                    "{}: Invalid value: {urls}: namespaced rules cannot apply to non-resource URLs",
                    field("nonResourceURLs")
                ));
            }
            if list_len(&rule["apiGroups"]) + list_len(&rule["resources"]) + list_len(&rule["resourceNames"]) > 0 {
                errors.push(format!(
                    "{}: Invalid value: {urls}: rules cannot apply to both regular resources and non-resource URLs",
                    field("nonResourceURLs")
                ));
            }
            continue;
        }
        if list_len(&rule["apiGroups"]) == 0 {
            errors.push(required(&field("apiGroups"), "resource rules must supply at least one api group"));
        }
        if list_len(&rule["resources"]) == 0 {
            errors.push(required(&field("resources"), "resource rules must supply at least one resource"));
        }
    }
    errors
}

fn aggregation_rule(rule: &Value) -> Vec<String> {
    if rule.is_null() {
        return Vec::new();
    }
    let path = "aggregationRule.clusterRoleSelectors";
    let selectors = rule["clusterRoleSelectors"].as_array().cloned().unwrap_or_default();
    let mut errors = Vec::new();
    if selectors.is_empty() {
        errors.push(required(path, "at least one clusterRoleSelector required if aggregationRule is non-nil"));
    }
    for (i, sel) in selectors.iter().enumerate() {
        for (j, e) in sel["matchExpressions"].as_array().into_iter().flatten().enumerate() {
            let field = format!("{path}[{i}].matchExpressions[{j}]");
            let values = list_len(&e["values"]);
            match s(e, "operator") {
                "In" | "NotIn" if values == 0 => errors
                    .push(required(&format!("{field}.values"), "must be specified when `operator` is 'In' or 'NotIn'")),
                "Exists" | "DoesNotExist" if values > 0 => errors.push(format!(
                    "{field}.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                )),
                "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
                op => errors.push(format!("{field}.operator: Invalid value: \"{op}\": not a valid selector operator")),
            }
        }
    }
    errors
}

fn storage_class(obj: &mut Value, old: Option<&Value>) -> Vec<String> {
    // SetDefaults_StorageClass.
    if obj["reclaimPolicy"].is_null() {
        obj["reclaimPolicy"] = json!("Delete");
    }
    if obj["volumeBindingMode"].is_null() {
        obj["volumeBindingMode"] = json!("Immediate");
    }
    let mut errors = Vec::new();
    if s(obj, "provisioner").is_empty() {
        errors.push(required("provisioner", ""));
    }
    if !["Delete", "Retain"].contains(&s(obj, "reclaimPolicy")) {
        errors.push(unsupported("reclaimPolicy", s(obj, "reclaimPolicy"), &["Delete", "Retain"]));
    }
    if !["Immediate", "WaitForFirstConsumer"].contains(&s(obj, "volumeBindingMode")) {
        errors.push(unsupported(
            "volumeBindingMode",
            s(obj, "volumeBindingMode"),
            &["Immediate", "WaitForFirstConsumer"],
        ));
    }
    if let Some(old) = old {
        let empty = |v: &Value| v.is_null() || v.as_object().is_some_and(serde_json::Map::is_empty);
        if old["parameters"] != obj["parameters"] && !(empty(&old["parameters"]) && empty(&obj["parameters"])) {
            errors.push("parameters: Forbidden: updates to parameters are forbidden.".into());
        }
        if s(old, "provisioner") != s(obj, "provisioner") {
            errors.push("provisioner: Forbidden: updates to provisioner are forbidden.".into());
        }
        if s(old, "reclaimPolicy") != s(obj, "reclaimPolicy") {
            errors.push("reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.".into());
        }
        if s(old, "volumeBindingMode") != s(obj, "volumeBindingMode") {
            errors.push(format!(
                "volumeBindingMode: Invalid value: \"{}\": field is immutable",
                s(obj, "volumeBindingMode")
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    fn res(plural: &str) -> &'static Resource {
        find(RBAC_GROUP, "v1", plural).or_else(|| find("storage.k8s.io", "v1", plural)).expect("served")
    }

    #[test]
    fn bindings_are_defaulted_and_validated_as_the_api_server_does() {
        let mut rb = json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "sa"}]});
        admit(res("rolebindings"), &mut rb, None)
            .expect("valid: a RoleBinding's service account may omit its namespace");
        assert_eq!(
            (rb["roleRef"]["apiGroup"].as_str(), rb["subjects"][0]["apiGroup"].as_str()),
            (Some(RBAC_GROUP), Some(RBAC_GROUP))
        );
        assert!(rb["subjects"][1].get("apiGroup").is_none());
        let mut crb = json!({"metadata": {"name": "crb"}, "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa"}]});
        assert_eq!(
            admit(res("clusterrolebindings"), &mut crb, None).expect_err("invalid")["message"],
            "ClusterRoleBinding.rbac.authorization.k8s.io \"crb\" is invalid: [roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\", subjects[0].namespace: Required value]"
        );
        let old = rb.clone();
        rb["roleRef"]["name"] = json!("other");
        assert_eq!(
            admit(res("rolebindings"), &mut rb, Some(&old)).expect_err("immutable")["message"],
            "RoleBinding.rbac.authorization.k8s.io \"rb\" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"other\"}: cannot change roleRef"
        );
    }

    #[test]
    fn roles_and_storage_classes_are_validated() {
        let mut role =
            json!({"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]});
        assert_eq!(
            admit(res("roles"), &mut role, None).expect_err("invalid")["message"],
            "Role.rbac.authorization.k8s.io \"r\" is invalid: rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs"
        );
        admit(res("clusterroles"), &mut role, None).expect("a ClusterRole may name URLs");
        let mut agg = json!({"metadata": {"name": "a"}, "aggregationRule": {"clusterRoleSelectors": [{"matchExpressions": [{"key": "k", "operator": "In"}]}]}});
        assert!(admit(res("clusterroles"), &mut agg, None).expect_err("invalid")["message"].as_str().unwrap_or_default().ends_with(
            "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
        ));
        let mut sc = json!({"metadata": {"name": "fast"}, "provisioner": "csi.example.com"});
        admit(res("storageclasses"), &mut sc, None).expect("valid");
        assert_eq!(
            (sc["reclaimPolicy"].as_str(), sc["volumeBindingMode"].as_str()),
            (Some("Delete"), Some("Immediate"))
        );
        let old = sc.clone();
        sc["provisioner"] = json!("other");
        assert!(admit(res("storageclasses"), &mut sc, Some(&old)).expect_err("immutable")["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("updates to provisioner are forbidden."));
    }
}
