//! `metadata.managedFields` as the API server keeps them: every write records its field
//! manager (the `fieldManager` parameter, else the client's user agent's first word, as
//! the API server derives it), the operation and the time, one entry per manager,
//! operation and subresource. The fields themselves are not tracked (`fieldsV1: {}`).

use serde_json::{json, Value};

/// The manager of a write: `fieldManager`, else the user agent's program name.
pub fn manager(field_manager: Option<String>, user_agent: Option<&str>) -> String {
    field_manager.filter(|m| !m.is_empty()).unwrap_or_else(|| {
        user_agent.and_then(|u| u.split(['/', ' ']).next()).filter(|u| !u.is_empty()).unwrap_or("unknown").to_string()
    })
}

/// Records a write by `manager` on `obj`.
pub fn record(obj: &mut Value, manager: &str, operation: &str, subresource: Option<&str>) {
    let api_version = obj["apiVersion"].clone();
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut entry = json!({"manager": manager, "operation": operation, "apiVersion": api_version, "time": time, "fieldsType": "FieldsV1", "fieldsV1": {}});
    if let Some(s) = subresource {
        entry["subresource"] = json!(s);
    }
    let mut list: Vec<Value> = obj["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    list.retain(|e| {
        !(e["manager"] == manager && e["operation"] == operation && e["subresource"].as_str() == subresource)
    });
    list.push(entry);
    obj["metadata"]["managedFields"] = Value::Array(list);
}

/// Gives every stored object without a managedFields entry the one `kubectl apply` would
/// have left (`kubectl-client-side-apply`, at its creation): what a seeded cluster looks
/// like to a client reading who wrote what.
pub fn seeded(store: &mut crate::Store) {
    let keys: Vec<_> = store.objects.keys().cloned().collect();
    for k in keys {
        if let Some(obj) = store.objects.get_mut(&k) {
            if obj["metadata"]["managedFields"].as_array().is_none_or(Vec::is_empty) {
                let time = obj["metadata"]["creationTimestamp"].clone();
                record(obj, "kubectl-client-side-apply", "Update", None);
                if time.is_string() {
                    obj["metadata"]["managedFields"][0]["time"] = time;
                }
            }
        }
    }
}
