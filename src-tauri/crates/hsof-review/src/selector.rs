//! Label selectors as Kubernetes evaluates them (`matchLabels` and `matchExpressions`
//! ANDed; an empty selector selects everything), with the API server's validation: a
//! selector it would refuse is named, never silently read as "everything" or "nothing".

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Why a selector cannot be evaluated (the API server would refuse it).
pub fn invalid(sel: &LabelSelector) -> Option<String> {
    for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Some(format!(
                    "matchExpressions[{i}].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
                ))
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Some(format!(
                    "matchExpressions[{i}].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                ))
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => return Some(format!("matchExpressions[{i}].operator: Invalid value: \"{other}\": not a valid selector operator")),
        }
        if e.key.is_empty() {
            return Some(format!("matchExpressions[{i}].key: Invalid value: \"\": name part must be non-empty"));
        }
    }
    None
}

/// Whether `labels` match `sel` (an invalid selector matches nothing; check [`invalid`]).
pub fn matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    if invalid(sel).is_some() {
        return false;
    }
    let labels_ok = sel.match_labels.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && sel.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            let have = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => have.is_some_and(|v| values.contains(v)),
                "NotIn" => have.is_none_or(|v| !values.contains(v)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            }
        })
}

/// Whether the selector is empty (selects every object).
pub fn is_empty(sel: &LabelSelector) -> bool {
    sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty) && sel.match_expressions.as_ref().is_none_or(Vec::is_empty)
}

/// `app=hsof,tier in (a,b)` as kubectl prints selectors; `{}` (everything) when empty.
pub fn text(sel: &LabelSelector) -> String {
    if is_empty(sel) {
        return "{} (all)".into();
    }
    let mut parts: Vec<String> = sel.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            op => format!("{} {} ({values})", e.key, op.to_lowercase()),
        });
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelector {
        LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: key.into(),
                operator: op.into(),
                values: if values.is_empty() { None } else { Some(values.iter().map(|v| (*v).to_string()).collect()) },
            }]),
            ..LabelSelector::default()
        }
    }

    #[test]
    fn empty_selects_everything_and_labels_are_anded() {
        assert!(matches(&LabelSelector::default(), &labels(&[])));
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "hsof"), ("tier", "api")])),
            ..LabelSelector::default()
        };
        assert!(matches(&sel, &labels(&[("app", "hsof"), ("tier", "api"), ("x", "y")])));
        assert!(!matches(&sel, &labels(&[("app", "hsof")])));
    }

    #[test]
    fn expressions_follow_the_api_rules() {
        assert!(matches(&expr("tier", "In", &["a", "b"]), &labels(&[("tier", "b")])));
        assert!(!matches(&expr("tier", "In", &["a"]), &labels(&[])));
        assert!(matches(&expr("tier", "NotIn", &["a"]), &labels(&[])), "NotIn matches a missing key");
        assert!(matches(&expr("tier", "Exists", &[]), &labels(&[("tier", "")])));
        assert!(matches(&expr("tier", "DoesNotExist", &[]), &labels(&[("app", "x")])));
    }

    #[test]
    fn malformed_selectors_are_named_and_match_nothing() {
        for (sel, want) in [
            (expr("tier", "In", &[]), "Required value"),
            (expr("tier", "Exists", &["a"]), "Forbidden"),
            (expr("tier", "Equals", &["a"]), "not a valid selector operator"),
        ] {
            assert!(invalid(&sel).unwrap_or_default().contains(want), "{sel:?}");
            assert!(!matches(&sel, &labels(&[("tier", "a")])));
        }
    }
}
