//! The fake's state: objects as JSON, a resource version counter, access rules, faults.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::resources::{by_kind, Resource};

/// Key of one object: plural, namespace ("" for cluster-scoped), name.
pub type Key = (String, String, String);

/// Faults a test can inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer every request with this HTTP status (500, 401, 403).
    pub status: Option<u16>,
    /// Delay every answer by this many milliseconds.
    pub delay_ms: u64,
}

/// The whole state.
#[derive(Debug, Default)]
pub struct Store {
    /// Last resource version handed out.
    pub rv: u64,
    /// Objects.
    pub objects: BTreeMap<Key, Value>,
    /// `(verb, resource, subresource)` triples SelfSubjectAccessReview denies.
    pub denied: Vec<(String, String, String)>,
    /// Injected faults.
    pub faults: Faults,
    /// Pod logs by (namespace, pod).
    pub logs: BTreeMap<(String, String), Vec<String>>,
    /// Requests seen, `METHOD path?query`, for assertions.
    pub requests: Vec<String>,
    /// Serve metrics.k8s.io (as if metrics-server were installed).
    pub metrics_server: bool,
    /// Jobs whose name starts with one of these fail instead of succeeding.
    pub failing_jobs: Vec<String>,
}

impl Store {
    /// Next resource version.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores `obj` (kind and metadata must be set), stamping uid, resourceVersion and
    /// creationTimestamp as the API server would. Returns the stored object.
    pub fn put(&mut self, mut obj: Value) -> Value {
        // The real server decodes into typed structs: explicit nulls (Go's zero
        // `creationTimestamp: null`, say) do not survive a round trip.
        prune_nulls(&mut obj);
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let Some(res) = by_kind(&kind) else { return obj };
        let ns = if res.namespaced {
            obj["metadata"]["namespace"].as_str().unwrap_or("default").to_string()
        } else {
            String::new()
        };
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let key = (res.plural.to_string(), ns.clone(), name.clone());
        let rv = self.next_rv();
        let existing = self.objects.get(&key).cloned();
        let meta = obj["metadata"].as_object_mut().map(std::mem::take).unwrap_or_default();
        let mut meta = Value::Object(meta);
        meta["resourceVersion"] = json!(rv.to_string());
        if res.namespaced {
            meta["namespace"] = json!(ns);
        }
        match existing {
            Some(e) => {
                meta["uid"] = e["metadata"]["uid"].clone();
                meta["creationTimestamp"] = e["metadata"]["creationTimestamp"].clone();
            }
            None => {
                meta["uid"] = json!(format!("00000000-0000-4000-8000-{rv:012}"));
                if meta.get("creationTimestamp").is_none_or(Value::is_null) {
                    meta["creationTimestamp"] =
                        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                }
            }
        }
        obj["metadata"] = meta;
        obj["apiVersion"] = json!(res.api_version());
        self.objects.insert(key, obj.clone());
        obj
    }

    /// One object.
    pub fn get(&self, res: &Resource, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(&(
            res.plural.to_string(),
            if res.namespaced { ns.to_string() } else { String::new() },
            name.to_string(),
        ))
    }

    /// Objects of a resource in a namespace (all namespaces when `ns` is `None`), filtered by
    /// an equality-based label selector (`a=b,c=d`).
    pub fn list(&self, res: &Resource, ns: Option<&str>, selector: Option<&str>) -> Vec<Value> {
        let wanted: Vec<(&str, &str)> = selector
            .unwrap_or_default()
            .split(',')
            .filter_map(|p| p.split_once('=').map(|(k, v)| (k.trim().trim_end_matches('='), v.trim())))
            .collect();
        self.objects
            .iter()
            .filter(|((plural, n, _), _)| plural == res.plural && ns.is_none_or(|ns| !res.namespaced || n == ns))
            .map(|(_, v)| v)
            .filter(|v| wanted.iter().all(|(k, val)| v["metadata"]["labels"][*k].as_str() == Some(val)))
            .cloned()
            .collect()
    }

    /// Removes an object.
    pub fn delete(&mut self, res: &Resource, ns: &str, name: &str) -> Option<Value> {
        self.objects.remove(&(
            res.plural.to_string(),
            if res.namespaced { ns.to_string() } else { String::new() },
            name.to_string(),
        ))
    }
}

fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(prune_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}
