//! kube-controller-manager's ClusterRole aggregation controller: a ClusterRole with an
//! `aggregationRule` gets as its `rules` the union of the rules of the ClusterRoles its
//! `clusterRoleSelectors` select (selectors in order, selected roles by name, each rule
//! once, itself left out). The store runs it whenever a ClusterRole is written or deleted,
//! so `kubectl get clusterrole X -o yaml` and the authorizer see the aggregated rules.

use serde_json::{json, Value};

use crate::store::Store;

/// Whether a `metav1.LabelSelector` (`matchLabels`, `matchExpressions` with `In`, `NotIn`,
/// `Exists`, `DoesNotExist`) selects an object with `labels`. The empty selector selects
/// everything; one with an unknown operator selects nothing.
pub fn label_selector_matches(selector: &Value, labels: &Value) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let equal = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k).is_some_and(|l| Some(l) == v.as_str()));
    equal
        && selector["matchExpressions"].as_array().into_iter().flatten().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            match e["operator"].as_str() {
                Some("In") => label(key).is_some_and(|l| values.contains(&l)),
                Some("NotIn") => label(key).is_none_or(|l| !values.contains(&l)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            }
        })
}

/// A rule as Go's semantic equality sees it: empty and missing lists are the same.
fn normal(rule: &Value) -> Value {
    let mut r = rule.clone();
    if let Some(o) = r.as_object_mut() {
        o.retain(|_, v| !(v.is_null() || v.as_array().is_some_and(Vec::is_empty)));
    }
    r
}

impl Store {
    /// Fills every aggregating ClusterRole's rules from the roles it selects, until nothing
    /// changes (aggregated roles may select aggregated roles).
    pub(crate) fn aggregate_cluster_roles(&mut self) {
        for _ in 0..16 {
            let aggregating: Vec<Value> = self
                .stored("clusterroles", None)
                .filter(|r| r.get("aggregationRule").is_some_and(|a| !a.is_null()))
                .cloned()
                .collect();
            let mut changed = false;
            for role in aggregating {
                let name = role["metadata"]["name"].as_str().unwrap_or_default();
                let mut rules: Vec<Value> = Vec::new();
                for selector in role["aggregationRule"]["clusterRoleSelectors"].as_array().into_iter().flatten() {
                    for other in self.stored("clusterroles", None) {
                        if other["metadata"]["name"].as_str() == Some(name)
                            || !label_selector_matches(selector, &other["metadata"]["labels"])
                        {
                            continue;
                        }
                        for rule in other["rules"].as_array().into_iter().flatten() {
                            if !rules.iter().any(|r| normal(r) == normal(rule)) {
                                rules.push(rule.clone());
                            }
                        }
                    }
                }
                let current: Vec<Value> = role["rules"].as_array().cloned().unwrap_or_default();
                if rules.iter().map(normal).ne(current.iter().map(normal)) {
                    let mut next = role.clone();
                    next["rules"] = json!(rules);
                    self.put_object(next);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_match_as_metav1_selectors_do() {
        let labels = json!({"a": "1", "b": "2"});
        let m = |s: Value| label_selector_matches(&s, &labels);
        assert!(m(json!({})), "the empty selector selects everything");
        assert!(m(json!({"matchLabels": {"a": "1"}})));
        assert!(!m(json!({"matchLabels": {"a": "2"}})));
        assert!(m(json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["0", "1"]}]})));
        assert!(m(json!({"matchExpressions": [{"key": "c", "operator": "NotIn", "values": ["1"]}]})));
        assert!(!m(json!({"matchExpressions": [{"key": "b", "operator": "NotIn", "values": ["2"]}]})));
        assert!(m(json!({"matchExpressions": [{"key": "b", "operator": "Exists"}]})));
        assert!(m(json!({"matchExpressions": [{"key": "c", "operator": "DoesNotExist"}]})));
        assert!(!m(json!({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]})));
        assert!(!m(json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["0"]}]})));
        assert!(!label_selector_matches(&json!({"matchLabels": {"a": "1"}}), &Value::Null));
    }

    #[test]
    fn aggregated_roles_collect_the_rules_of_what_they_select_and_follow_changes() {
        let mut s = Store::default();
        let role = |name: &str, labels: Value, rules: Value| json!({"kind": "ClusterRole", "metadata": {"name": name, "labels": labels}, "rules": rules});
        let read = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]});
        let write = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]});
        s.put(role("b-writer", json!({"agg": "edit"}), json!([write])));
        s.put(role("a-reader", json!({"agg": "view"}), json!([read])));
        let mut edit = role("edit", json!({"agg": "admin"}), json!([]));
        edit["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchExpressions": [{"key": "agg", "operator": "In", "values": ["view", "edit"]}]}]});
        s.put(edit);
        let mut admin = role("admin", json!({}), Value::Null);
        admin["aggregationRule"] =
            json!({"clusterRoleSelectors": [{"matchLabels": {"agg": "admin"}}, {"matchLabels": {"agg": "view"}}]});
        s.put(admin);
        let rules = |s: &Store, n: &str| {
            s.stored("clusterroles", None).find(|r| r["metadata"]["name"] == n).map(|r| r["rules"].clone())
        };
        assert_eq!(rules(&s, "edit"), Some(json!([read, write])), "by name, each once");
        assert_eq!(rules(&s, "admin"), Some(json!([read, write])), "through the aggregated edit, read once");
        let res = crate::resources::find("rbac.authorization.k8s.io", "v1", "clusterroles").expect("served");
        s.delete(res, "", "a-reader");
        assert_eq!(rules(&s, "edit"), Some(json!([write])));
        assert_eq!(rules(&s, "admin"), Some(json!([write])));
    }
}
