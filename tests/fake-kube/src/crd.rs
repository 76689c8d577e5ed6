//! Custom resources, served generically as the API server serves them: storing a
//! CustomResourceDefinition (apiextensions.k8s.io/v1) makes its served version appear in
//! discovery and its resources answer list / get / create / update / patch / delete /
//! watch (and `/status` when the CRD declares that subresource); its
//! `additionalPrinterColumns` shape the Table kubectl asks for. Deleting the CRD deletes
//! its objects.

use serde_json::{json, Value};

use crate::resources::Resource;
use crate::store::Store;

/// One printer column of a CRD version.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub kind: String,
    /// A simple JSONPath: `.spec.severity`.
    pub json_path: String,
    /// 0 shown always, more with `-o wide`.
    pub priority: i64,
}

/// A served custom resource: its resource entry and printer columns.
#[derive(Debug, Clone)]
pub struct Served {
    /// The resource, as the built-in ones are described.
    pub res: &'static Resource,
    /// Printer columns of the served version.
    pub columns: Vec<Column>,
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// What a stored CRD serves; an error names what the API server would refuse.
pub fn served(crd: &Value) -> Result<Served, String> {
    let spec = &crd["spec"];
    let group = spec["group"]
        .as_str()
        .filter(|g| g.contains('.'))
        .ok_or("spec.group: Required value (a DNS subdomain with a dot)")?;
    let names = &spec["names"];
    let plural = names["plural"].as_str().filter(|p| !p.is_empty()).ok_or("spec.names.plural: Required value")?;
    let kind = names["kind"].as_str().filter(|k| !k.is_empty()).ok_or("spec.names.kind: Required value")?;
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    if name != format!("{plural}.{group}") {
        return Err(format!("metadata.name: Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"));
    }
    let namespaced = match spec["scope"].as_str() {
        Some("Namespaced") => true,
        Some("Cluster") => false,
        other => {
            return Err(format!(
                "spec.scope: Unsupported value: {other:?}: supported values: \"Cluster\", \"Namespaced\""
            ))
        }
    };
    let versions = spec["versions"].as_array().filter(|v| !v.is_empty()).ok_or("spec.versions: Required value")?;
    if versions.iter().filter(|v| v["storage"].as_bool() == Some(true)).count() != 1 {
        return Err("spec.versions: Invalid value: must have exactly one version marked as storage version".into());
    }
    // The fake serves one version: the storage version (when it is served).
    let version = versions
        .iter()
        .find(|v| v["storage"].as_bool() == Some(true) && v["served"].as_bool() != Some(false))
        .ok_or("spec.versions: the storage version is not served")?;
    if version["schema"]["openAPIV3Schema"].is_null() {
        return Err("spec.versions[].schema.openAPIV3Schema: Required value".into());
    }
    let status = !version["subresources"]["status"].is_null();
    let short: Vec<&'static str> =
        names["shortNames"].as_array().into_iter().flatten().filter_map(Value::as_str).map(leak).collect();
    let columns = version["additionalPrinterColumns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Column {
            name: c["name"].as_str().unwrap_or_default().to_string(),
            kind: c["type"].as_str().unwrap_or("string").to_string(),
            json_path: c["jsonPath"].as_str().unwrap_or_default().to_string(),
            priority: c["priority"].as_i64().unwrap_or(0),
        })
        .collect();
    let res = Resource {
        group: leak(group),
        version: leak(version["name"].as_str().unwrap_or("v1")),
        plural: leak(plural),
        kind: leak(kind),
        namespaced,
        subresources: if status { &["status"] } else { &[] },
        short: Box::leak(short.into_boxed_slice()),
    };
    Ok(Served { res: Box::leak(Box::new(res)), columns })
}

/// The CRD as stored: with the conditions the API server sets once the names are accepted.
pub fn established(mut crd: Value) -> Value {
    let names = crd["spec"]["names"].clone();
    crd["status"] = json!({
        "acceptedNames": names,
        "storedVersions": [crd["spec"]["versions"].as_array().and_then(|v| v.iter().find(|v| v["storage"] == json!(true))).map(|v| v["name"].clone()).unwrap_or(json!("v1"))],
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
        ],
    });
    crd
}

/// The value at a simple JSONPath (`.a.b`, `.a[0].b`); `None` when any step is missing.
pub fn at<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = obj;
    for step in path.trim_start_matches('.').split('.').filter(|s| !s.is_empty()) {
        let (key, index) = match step.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (step, None),
        };
        if !key.is_empty() {
            v = v.get(key)?;
        }
        if let Some(i) = index {
            v = v.get(i)?;
        }
    }
    Some(v)
}

/// `5m`, `3h`, `2d`: the API server's short age of a timestamp.
pub(crate) fn age(ts: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) else { return "<invalid>".into() };
    let s = (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds().max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7_200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

fn cell(obj: &Value, c: &Column) -> Value {
    match at(obj, &c.json_path) {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) if c.kind == "date" => json!(age(s)),
        Some(v @ (Value::Number(_) | Value::Bool(_))) if c.kind != "string" => v.clone(),
        Some(Value::String(s)) => json!(s),
        Some(v) => json!(v.to_string()),
    }
}

/// A `meta.k8s.io/v1` Table of `objects`, as `kubectl get` asks for it
/// (`Accept: application/json;as=Table;...`).
pub fn table(served: &Served, objects: &[Value], list_meta: Value) -> Value {
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    let mut columns = served.columns.clone();
    if columns.is_empty() {
        columns.push(Column {
            name: "Age".into(),
            kind: "date".into(),
            json_path: ".metadata.creationTimestamp".into(),
            priority: 0,
        });
    }
    defs.extend(
        columns
            .iter()
            .map(|c| json!({"name": c.name, "type": c.kind, "format": "", "description": "", "priority": c.priority})),
    );
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut cells = vec![o["metadata"]["name"].clone()];
            cells.extend(columns.iter().map(|c| cell(o, c)));
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "columnDefinitions": defs, "rows": rows})
}

/// Jobs as the API server prints them for `kubectl get jobs`: status, completions
/// (`succeeded/completions`), duration and age.
pub fn job_table(objects: &[Value], list_meta: Value) -> Value {
    let defs = json!([
        {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
        {"name": "Status", "type": "string", "format": "", "description": "Status of the job.", "priority": 0},
        {"name": "Completions", "type": "string", "format": "", "description": "The desired number of successfully finished pods the job should be run with.", "priority": 0},
        {"name": "Duration", "type": "string", "format": "", "description": "Time required to complete the job.", "priority": 0},
        {"name": "Age", "type": "string", "format": "", "description": "", "priority": 0}
    ]);
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let st = &o["status"];
            let cond = |t: &str| {
                st["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == t && c["status"] == "True")
            };
            let status = if cond("Complete") {
                "Complete"
            } else if cond("Failed") {
                "Failed"
            } else {
                "Running"
            };
            let completions = format!(
                "{}/{}",
                st["succeeded"].as_u64().unwrap_or(0),
                o["spec"]["completions"].as_u64().unwrap_or(1)
            );
            let parse = |v: &Value| v.as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
            let duration = match (parse(&st["startTime"]), parse(&st["completionTime"])) {
                (Some(a), Some(b)) => format!("{}s", (b - a).num_seconds().max(0)),
                (Some(a), None) => format!("{}s", (chrono::Utc::now() - a.with_timezone(&chrono::Utc)).num_seconds().max(0)),
                _ => String::new(),
            };
            let age = o["metadata"]["creationTimestamp"].as_str().map(age).unwrap_or_default();
            json!({"cells": [o["metadata"]["name"], status, completions, duration, age],
                   "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "columnDefinitions": defs, "rows": rows})
}

/// True when the request asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|a| a.contains("as=Table"))
}

impl Store {
    /// Rebuilds the served custom resources from the stored CRDs (after one changed), and
    /// deletes the objects of a CRD that is gone.
    pub fn sync_crds(&mut self) {
        let crds: Vec<Value> = self
            .objects
            .iter()
            .filter(|((plural, _, _), _)| plural == "customresourcedefinitions")
            .map(|(_, v)| v.clone())
            .collect();
        let before: Vec<&'static Resource> = self.crds.iter().map(|s| s.res).collect();
        self.crds = crds.iter().filter_map(|c| served(c).ok()).collect();
        let gone: Vec<&'static Resource> =
            before.into_iter().filter(|r| !self.crds.iter().any(|s| s.res.plural == r.plural)).collect();
        for res in gone {
            let keys: Vec<_> = self.objects.keys().filter(|(p, _, _)| p == res.plural).cloned().collect();
            for (_, ns, name) in keys {
                self.delete(res, &ns, &name);
            }
        }
    }

    /// Stores a CustomResourceDefinition as the API server accepts one (established) and
    /// serves its resource from then on; the API server's refusal otherwise.
    pub fn install_crd(&mut self, crd: Value) -> Result<Value, String> {
        served(&crd)?;
        let mut crd = established(crd);
        crd["kind"] = json!("CustomResourceDefinition");
        let stored = self.put(crd);
        self.sync_crds();
        Ok(stored)
    }

    /// The served custom resource with this plural.
    pub fn custom(&self, plural: &str) -> Option<&Served> {
        self.crds.iter().find(|s| s.res.plural == plural)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({"kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.io"},
            "spec": {"group": "example.io", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]}]}})
    }

    #[test]
    fn a_crd_describes_its_resource_and_refuses_what_the_server_refuses() {
        let s = served(&crd()).expect("served");
        assert_eq!((s.res.group, s.res.version, s.res.plural, s.res.kind), ("example.io", "v1", "widgets", "Widget"));
        assert!(s.res.namespaced && s.res.subresources == ["status"] && s.res.short == ["wd"]);
        let mut bad = crd();
        bad["metadata"]["name"] = json!("widgets");
        assert!(served(&bad).expect_err("name").contains("spec.names.plural"));
        let mut bad = crd();
        bad["spec"]["versions"][0]["storage"] = json!(false);
        assert!(served(&bad).expect_err("storage").contains("storage version"));
    }

    #[test]
    fn the_table_has_the_printer_columns_with_missing_values_empty() {
        let s = served(&crd()).expect("served");
        let objs = [json!({"metadata": {"name": "a"}, "spec": {"size": 3}}), json!({"metadata": {"name": "b"}})];
        let t = table(&s, &objs, json!({}));
        assert_eq!(t["columnDefinitions"][1]["name"], "Size");
        assert_eq!(t["rows"][0]["cells"], json!(["a", 3]));
        assert_eq!(t["rows"][1]["cells"], json!(["b", null]));
        assert_eq!(at(&json!({"a": [{"b": 1}]}), ".a[0].b"), Some(&json!(1)));
    }
}
