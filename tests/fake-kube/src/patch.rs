//! The patch types kubectl and the app send.

use serde_json::Value;

/// Applies `patch` of `content_type` to `doc`.
pub fn apply(doc: &mut Value, content_type: &str, patch: &Value) -> Result<(), String> {
    match content_type.split(';').next().unwrap_or_default().trim() {
        // Server-side apply, as far as one field manager goes: the applied configuration
        // merges into the object (no managed-field bookkeeping, so nothing is removed).
        "application/merge-patch+json" | "application/apply-patch+yaml" => {
            json_patch::merge(doc, patch);
            Ok(())
        }
        "application/strategic-merge-patch+json" => {
            strategic_merge(doc, patch);
            Ok(())
        }
        "application/json-patch+json" => {
            let p: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|e| format!("invalid JSON patch: {e}"))?;
            json_patch::patch(doc, &p).map_err(|e| format!("JSON patch failed: {e}"))
        }
        other => Err(format!("unsupported patch type {other}")),
    }
}

/// The part of strategic merge patch that matters here: maps merge recursively (`null`
/// deletes), lists of objects with a `name` merge element by element (containers, env,
/// ports), other lists are replaced; `$`-directives are ignored.
pub fn strategic_merge(doc: &mut Value, patch: &Value) {
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    d.remove(k);
                } else {
                    strategic_merge(d.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (Value::Array(d), Value::Array(p)) if !p.is_empty() && p.iter().all(|e| e.get("name").is_some()) => {
            for pe in p {
                match d.iter_mut().find(|de| de.get("name") == pe.get("name")) {
                    Some(de) => strategic_merge(de, pe),
                    None => d.push(pe.clone()),
                }
            }
        }
        (d, p) => *d = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name() {
        let mut d = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        strategic_merge(
            &mut d,
            &json!({"spec": {"containers": [{"name": "b", "resources": {"limits": {"cpu": "2"}}}]}}),
        );
        assert_eq!(d["spec"]["containers"][0]["image"], "x:1");
        assert_eq!(d["spec"]["containers"][1]["resources"]["limits"]["cpu"], "2");
        assert_eq!(d["spec"]["containers"][1]["image"], "y:1");
    }
}
