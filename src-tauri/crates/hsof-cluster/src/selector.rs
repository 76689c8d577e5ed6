//! Label selectors as Kubernetes defines them: a `metav1.LabelSelector` (`matchLabels` and
//! `matchExpressions` with `In`, `NotIn`, `Exists`, `DoesNotExist`) turned into the query
//! the API server accepts (`a=b,c in (x,y),d notin (z),e,!f`) with the rules of
//! k8s.io/apimachinery's `LabelSelectorAsSelector`: a nil selector selects nothing, an
//! empty one everything, `In`/`NotIn` need values, `Exists`/`DoesNotExist` take none, keys
//! and values must be valid label keys and values, any other operator is an error.
//!
//! The same requirements also match labels here, so a list can be checked client-side.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::ClusterError;

/// How a requirement relates a label to its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorOp {
    /// `key=value` (from `matchLabels`): the label is present with that value.
    Equals,
    /// `key in (a,b)`: present, with one of the values.
    In,
    /// `key notin (a,b)`: absent, or with none of the values.
    NotIn,
    /// `key`: present, any value.
    Exists,
    /// `!key`: absent.
    DoesNotExist,
}

/// One term of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Label key.
    pub key: String,
    /// Operator.
    pub op: SelectorOp,
    /// Values, sorted (one for `Equals`, at least one for `In`/`NotIn`, none otherwise).
    pub values: Vec<String>,
}

impl Requirement {
    /// Whether `labels` meet this requirement.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let value = labels.and_then(|l| l.get(&self.key));
        match self.op {
            SelectorOp::Equals | SelectorOp::In => value.is_some_and(|v| self.values.contains(v)),
            SelectorOp::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            SelectorOp::Exists => value.is_some(),
            SelectorOp::DoesNotExist => value.is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = self.values.join(",");
        match self.op {
            SelectorOp::Equals => write!(f, "{}={values}", self.key),
            SelectorOp::In => write!(f, "{} in ({values})", self.key),
            SelectorOp::NotIn => write!(f, "{} notin ({values})", self.key),
            SelectorOp::Exists => write!(f, "{}", self.key),
            SelectorOp::DoesNotExist => write!(f, "!{}", self.key),
        }
    }
}

/// What a label selector selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Nothing: a nil selector. There is no query for it; do not list.
    Nothing,
    /// Objects meeting every requirement, sorted by key; none at all means everything.
    Matching(Vec<Requirement>),
}

impl Selection {
    /// Converts a `metav1.LabelSelector` as `LabelSelectorAsSelector` does: `None` selects
    /// nothing, a selector with neither `matchLabels` nor `matchExpressions` everything.
    /// Requirements are ordered by key (`matchLabels` before expressions on the same key,
    /// expressions in their given order), values within a term sorted: the same selector
    /// always gives the same query.
    pub fn from_label_selector(selector: Option<&LabelSelector>) -> Result<Self, ClusterError> {
        let Some(selector) = selector else { return Ok(Self::Nothing) };
        let mut out = Vec::new();
        for (key, value) in selector.match_labels.iter().flatten() {
            out.push(requirement(key, SelectorOp::Equals, vec![value.clone()])?);
        }
        for expr in selector.match_expressions.iter().flatten() {
            let op = match expr.operator.as_str() {
                "In" => SelectorOp::In,
                "NotIn" => SelectorOp::NotIn,
                "Exists" => SelectorOp::Exists,
                "DoesNotExist" => SelectorOp::DoesNotExist,
                other => {
                    return Err(invalid(format!(
                        "{other:?} is not a valid label selector operator (key {:?}; valid: In, NotIn, Exists, DoesNotExist)",
                        expr.key
                    )))
                }
            };
            out.push(requirement(&expr.key, op, expr.values.clone().unwrap_or_default())?);
        }
        // Stable: equal keys keep matchLabels first, then the expressions' order.
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Self::Matching(out))
    }

    /// The pods (and ReplicaSets) `deployment` selects. A Deployment without a selector,
    /// or with an empty one, is invalid in apps/v1 (the API server refuses it): that is an
    /// error here, never "every pod in the namespace".
    pub fn of_deployment(deployment: &Deployment) -> Result<Self, ClusterError> {
        let name = deployment.metadata.name.as_deref().unwrap_or("?");
        let Some(spec) = deployment.spec.as_ref() else {
            return Err(invalid(format!("deployment {name} has no spec.selector")));
        };
        let selection = Self::from_label_selector(Some(&spec.selector)).map_err(|e| match e {
            ClusterError::Invalid(m) => ClusterError::Invalid(format!("deployment {name}: {m}")),
            other => other,
        })?;
        if selection.selects_everything() {
            return Err(invalid(format!(
                "deployment {name} has an empty selector (invalid for a Deployment): refusing to take every pod in the namespace as its own"
            )));
        }
        Ok(selection)
    }

    /// The `labelSelector` query (`""` for everything); `None` for [`Selection::Nothing`].
    pub fn query(&self) -> Option<String> {
        match self {
            Self::Nothing => None,
            Self::Matching(reqs) => Some(reqs.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")),
        }
    }

    /// True for a selector with no requirements (it selects every object).
    pub fn selects_everything(&self) -> bool {
        matches!(self, Self::Matching(r) if r.is_empty())
    }

    /// Whether an object with `labels` is selected.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        match self {
            Self::Nothing => false,
            Self::Matching(reqs) => reqs.iter().all(|r| r.matches(labels)),
        }
    }
}

fn invalid(message: String) -> ClusterError {
    ClusterError::Invalid(format!("label selector: {message}"))
}

/// `labels.NewRequirement`: a valid key, the number of values the operator takes, valid values.
fn requirement(key: &str, op: SelectorOp, mut values: Vec<String>) -> Result<Requirement, ClusterError> {
    if let Err(why) = check_key(key) {
        return Err(invalid(format!("key {key:?}: {why}")));
    }
    match op {
        SelectorOp::In | SelectorOp::NotIn if values.is_empty() => {
            return Err(invalid(format!("key {key:?}: values for 'In' and 'NotIn' can't be empty")));
        }
        SelectorOp::Exists | SelectorOp::DoesNotExist if !values.is_empty() => {
            return Err(invalid(format!(
                "key {key:?}: values must be empty for 'Exists' and 'DoesNotExist' (got {values:?})"
            )));
        }
        _ => {}
    }
    for v in &values {
        if let Err(why) = check_value(v) {
            return Err(invalid(format!("key {key:?}: value {v:?}: {why}")));
        }
    }
    values.sort();
    Ok(Requirement { key: key.to_string(), op, values })
}

/// `validation.IsQualifiedName`: `[prefix/]name`, prefix a DNS subdomain.
fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split('/').collect::<Vec<_>>()[..] {
        [name] => (None, name),
        [prefix, name] => (Some(prefix), name),
        _ => return Err("a qualified name has at most one '/'".into()),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err("the prefix before '/' must not be empty".into());
        }
        if prefix.len() > 253 || !is_dns_subdomain(prefix) {
            return Err("the prefix must be a DNS subdomain (lower-case a-z, 0-9, '-', '.'; at most 253)".into());
        }
    }
    if name.is_empty() {
        return Err("the name part must not be empty".into());
    }
    if name.len() > 63 || !is_label_name(name) {
        return Err(
            "the name part must be at most 63 of A-Z, a-z, 0-9, '-', '_', '.', starting and ending alphanumeric".into(),
        );
    }
    Ok(())
}

/// `validation.IsValidLabelValue`: empty, or at most 63 characters like a key's name part.
fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && is_label_name(value)) {
        Ok(())
    } else {
        Err("a label value is at most 63 of A-Z, a-z, 0-9, '-', '_', '.', starting and ending alphanumeric".into())
    }
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|part| {
        let b = part.as_bytes();
        let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        match (b.first(), b.last()) {
            (Some(f), Some(l)) => alnum(f) && alnum(l) && b.iter().all(|c| alnum(c) || *c == b'-'),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::DeploymentSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn expr(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_string()).collect()),
        }
    }

    fn sel(labels: &[(&str, &str)], exprs: Vec<LabelSelectorRequirement>) -> LabelSelector {
        LabelSelector {
            match_labels: (!labels.is_empty())
                .then(|| labels.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()),
            match_expressions: (!exprs.is_empty()).then_some(exprs),
        }
    }

    fn query(s: &LabelSelector) -> String {
        match Selection::from_label_selector(Some(s)) {
            Ok(sel) => sel.query().unwrap_or_else(|| "<nothing>".into()),
            Err(e) => format!("<error: {e}>"),
        }
    }

    fn error(s: &LabelSelector) -> String {
        match Selection::from_label_selector(Some(s)) {
            Ok(sel) => format!("<no error: {sel:?}>"),
            Err(e) => e.to_string(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    fn deployment(selector: LabelSelector) -> Deployment {
        Deployment {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("web".into()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec { selector, ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn each_operator_renders_as_the_api_server_parses_it() {
        assert_eq!(query(&sel(&[("app", "hsof")], vec![])), "app=hsof");
        assert_eq!(query(&sel(&[], vec![expr("tier", "In", &["main", "edge"])])), "tier in (edge,main)");
        assert_eq!(query(&sel(&[], vec![expr("tier", "In", &["main"])])), "tier in (main)");
        assert_eq!(query(&sel(&[], vec![expr("env", "NotIn", &["dev"])])), "env notin (dev)");
        assert_eq!(query(&sel(&[], vec![expr("gpu", "Exists", &[])])), "gpu");
        assert_eq!(query(&sel(&[], vec![expr("canary", "DoesNotExist", &[])])), "!canary");
        // An empty `matchLabels` value is a valid label value.
        assert_eq!(query(&sel(&[("flag", "")], vec![])), "flag=");
    }

    #[test]
    fn labels_and_expressions_combine_sorted_by_key_whatever_the_input_order() {
        let s = sel(
            &[("c", "3"), ("a", "1"), ("app.kubernetes.io/name", "hsof")],
            vec![
                expr("f", "DoesNotExist", &[]),
                expr("b", "In", &["y", "x"]),
                expr("e", "Exists", &[]),
                expr("d", "NotIn", &["z"]),
            ],
        );
        let q = "a=1,app.kubernetes.io/name=hsof,b in (x,y),c=3,d notin (z),e,!f";
        assert_eq!(query(&s), q);
        // Deterministic: the same selector with its expressions reordered gives the same query.
        let mut r = s.clone();
        if let Some(e) = r.match_expressions.as_mut() {
            e.reverse();
        }
        assert_eq!(query(&r), q);
        for _ in 0..10 {
            assert_eq!(query(&s), q);
        }
    }

    #[test]
    fn terms_on_the_same_key_keep_labels_first_then_the_expression_order() {
        let s = sel(&[("app", "hsof")], vec![expr("app", "NotIn", &["old"]), expr("app", "Exists", &[])]);
        assert_eq!(query(&s), "app=hsof,app notin (old),app");
    }

    #[test]
    fn nil_selects_nothing_and_empty_selects_everything() {
        let nothing = Selection::from_label_selector(None).ok();
        assert_eq!(nothing, Some(Selection::Nothing));
        assert_eq!(nothing.as_ref().and_then(Selection::query), None);
        assert!(!Selection::Nothing.matches(Some(&labels(&[("app", "hsof")]))));
        assert!(!Selection::Nothing.matches(None));
        for empty in [
            LabelSelector::default(),
            LabelSelector { match_labels: Some(BTreeMap::new()), match_expressions: Some(Vec::new()) },
        ] {
            let all = Selection::from_label_selector(Some(&empty)).ok();
            assert!(all.as_ref().is_some_and(Selection::selects_everything));
            assert_eq!(all.as_ref().and_then(Selection::query).as_deref(), Some(""));
            assert!(all.as_ref().is_some_and(|a| a.matches(None) && a.matches(Some(&labels(&[("x", "y")])))));
        }
    }

    #[test]
    fn in_and_notin_need_values() {
        for op in ["In", "NotIn"] {
            let e = error(&sel(&[], vec![expr("tier", op, &[])]));
            assert!(e.contains("can't be empty") && e.contains("tier"), "{op}: {e}");
            let empty_list = LabelSelectorRequirement { key: "tier".into(), operator: op.into(), values: Some(vec![]) };
            assert!(error(&sel(&[], vec![empty_list])).contains("can't be empty"), "{op}");
        }
    }

    #[test]
    fn exists_and_does_not_exist_take_no_values() {
        for op in ["Exists", "DoesNotExist"] {
            let e = error(&sel(&[], vec![expr("gpu", op, &["yes"])]));
            assert!(e.contains("must be empty") && e.contains("gpu"), "{op}: {e}");
            // An explicit empty list is no values.
            let empty = LabelSelectorRequirement { key: "gpu".into(), operator: op.into(), values: Some(vec![]) };
            assert!(Selection::from_label_selector(Some(&sel(&[], vec![empty]))).is_ok(), "{op}");
        }
    }

    #[test]
    fn an_unknown_operator_is_an_error_not_a_match_all() {
        for op in ["in", "Equals", "", "Gt", "NotExists"] {
            let e = error(&sel(&[("app", "hsof")], vec![expr("tier", op, &["main"])]));
            assert!(e.contains("is not a valid label selector operator"), "{op:?}: {e}");
        }
    }

    #[test]
    fn keys_and_values_are_validated_so_nothing_can_smuggle_terms_into_the_query() {
        for key in ["", "a b", "app,tier", "-app", "app-", "/app", "Example.com/app", "a/b/c", "ex_ample.com/app"] {
            assert!(error(&sel(&[(key, "v")], vec![])).contains("key"), "key {key:?} accepted");
            assert!(error(&sel(&[], vec![expr(key, "Exists", &[])])).contains("key"), "key {key:?} accepted");
        }
        let long = "a".repeat(64);
        assert!(error(&sel(&[(long.as_str(), "v")], vec![])).contains("63"));
        for value in ["x,y", "x)", "a b", "-x", "x-", "!x"] {
            assert!(error(&sel(&[("app", value)], vec![])).contains("value"), "value {value:?} accepted");
            assert!(error(&sel(&[], vec![expr("app", "In", &["ok", value])])).contains("value"), "{value:?}");
        }
        assert!(error(&sel(&[("app", &"v".repeat(64))], vec![])).contains("63"));
        for key in ["app", "app.kubernetes.io/name", "a", "A_b.c-D", "example.com/x", "k8s.io/1"] {
            assert!(Selection::from_label_selector(Some(&sel(&[(key, "Some_value.1")], vec![]))).is_ok(), "{key:?}");
        }
    }

    #[test]
    fn matching_follows_each_operator() {
        let s = Selection::from_label_selector(Some(&sel(
            &[("app", "hsof")],
            vec![
                expr("tier", "In", &["main", "edge"]),
                expr("env", "NotIn", &["dev"]),
                expr("gpu", "Exists", &[]),
                expr("canary", "DoesNotExist", &[]),
            ],
        )))
        .unwrap_or(Selection::Nothing);
        let ok = labels(&[("app", "hsof"), ("tier", "edge"), ("gpu", ""), ("extra", "1")]);
        assert!(s.matches(Some(&ok)));
        assert!(s.matches(Some(&labels(&[("app", "hsof"), ("tier", "main"), ("env", "prod"), ("gpu", "1")]))));
        let without = |k: &str| {
            let mut l = ok.clone();
            l.remove(k);
            l
        };
        let with = |k: &str, v: &str| {
            let mut l = ok.clone();
            l.insert(k.into(), v.into());
            l
        };
        assert!(!s.matches(Some(&without("app"))));
        assert!(!s.matches(Some(&with("app", "other"))));
        assert!(!s.matches(Some(&without("tier"))));
        assert!(!s.matches(Some(&with("tier", "db"))));
        assert!(!s.matches(Some(&with("env", "dev"))));
        assert!(!s.matches(Some(&without("gpu"))));
        assert!(!s.matches(Some(&with("canary", "yes"))));
        assert!(!s.matches(None));
        // NotIn and DoesNotExist alone match an object without labels.
        let loose = Selection::from_label_selector(Some(&sel(
            &[],
            vec![expr("env", "NotIn", &["dev"]), expr("canary", "DoesNotExist", &[])],
        )))
        .unwrap_or(Selection::Nothing);
        assert!(loose.matches(None));
        assert!(loose.matches(Some(&labels(&[("env", "prod")]))));
        assert!(!loose.matches(Some(&labels(&[("env", "dev")]))));
    }

    #[test]
    fn a_deployment_with_match_expressions_selects_only_its_pods() {
        let d = deployment(sel(&[], vec![expr("app", "In", &["web"]), expr("track", "NotIn", &["canary"])]));
        let s = Selection::of_deployment(&d).unwrap_or(Selection::Nothing);
        assert_eq!(s.query().as_deref(), Some("app in (web),track notin (canary)"));
        assert!(s.matches(Some(&labels(&[("app", "web")]))));
        assert!(s.matches(Some(&labels(&[("app", "web"), ("track", "stable")]))));
        assert!(!s.matches(Some(&labels(&[("app", "web"), ("track", "canary")]))));
        assert!(!s.matches(Some(&labels(&[("app", "db")]))));
        assert!(!s.matches(None), "a pod without labels is not the deployment's");
    }

    #[test]
    fn a_deployment_without_a_usable_selector_is_an_error() {
        let empty = Selection::of_deployment(&deployment(LabelSelector::default())).err().map(|e| e.to_string());
        assert!(empty.as_deref().is_some_and(|e| e.contains("empty selector") && e.contains("web")), "{empty:?}");
        let no_spec = Deployment { spec: None, ..deployment(LabelSelector::default()) };
        assert!(Selection::of_deployment(&no_spec).is_err());
        let bad = Selection::of_deployment(&deployment(sel(&[], vec![expr("app", "Matches", &["web"])])))
            .err()
            .map(|e| e.to_string());
        assert!(
            bad.as_deref().is_some_and(|e| e.contains("deployment web") && e.contains("not a valid label selector")),
            "{bad:?}"
        );
    }
}
