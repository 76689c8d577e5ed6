//! Kubernetes' RBAC authorizer over the stored Roles, ClusterRoles, RoleBindings and
//! ClusterRoleBindings, and who a request acts as (user and groups, as the API server's
//! authenticator and impersonation filter build them).
//!
//! Which identities the stored objects decide for ([`Store::decide`]):
//! 1. a user with an entry in [`Store::policy`]: only that entry's rules (as before);
//! 2. [`DEFAULT_USER`], and a caller with no credentials that impersonates no one (the
//!    fake's own kubeconfig as kubectl uses it over plain http): everything;
//! 3. anyone else, while the store holds no RoleBinding and no ClusterRoleBinding:
//!    everything (so tests that never store bindings keep their open fake);
//! 4. anyone else once a binding is stored: Kubernetes' RBAC over the stored objects,
//!    after the `system:masters` group (always allowed, as the API server's privileged
//!    group authorizer does).

use serde_json::Value;

use crate::policy::{resource_matches, Attributes, DEFAULT_USER};
use crate::store::Store;

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// The group every authenticated user is in.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The group of requests without credentials.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// The user of requests without credentials.
pub const ANONYMOUS: &str = "system:anonymous";
/// The group the API server's privileged-group authorizer allows everything.
pub const MASTERS: &str = "system:masters";
const SA_PREFIX: &str = "system:serviceaccount:";

/// Who a request acts as.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInfo {
    /// The user name (`system:serviceaccount:NS:NAME` for a service account).
    pub name: String,
    /// Its groups, implicit ones included.
    pub groups: Vec<String>,
    /// The request had no credentials and impersonated no one: kubectl with the fake's own
    /// kubeconfig over plain http (which sends no token). It keeps full access.
    pub credentialless: bool,
}

/// `(namespace, name)` of a service account user name `system:serviceaccount:NS:NAME`.
pub fn service_account(user: &str) -> Option<(&str, &str)> {
    let (ns, name) = user.strip_prefix(SA_PREFIX)?.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// The groups of a service account's namespace: `system:serviceaccounts`,
/// `system:serviceaccounts:NS`.
fn service_account_groups(ns: &str) -> Vec<String> {
    vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{ns}")]
}

impl UserInfo {
    /// A user as a bearer token authenticates them: `extra` groups, a service account's
    /// two groups, and `system:authenticated`; `system:anonymous` is in
    /// `system:unauthenticated` only.
    pub fn authenticated(name: &str, extra: &[String]) -> Self {
        let mut all = extra.to_vec();
        if name == ANONYMOUS {
            all = vec![UNAUTHENTICATED.into()];
        } else {
            if let Some((ns, _)) = service_account(name) {
                all.extend(service_account_groups(ns));
            }
            all.push(AUTHENTICATED.into());
        }
        let mut groups: Vec<String> = Vec::new();
        for g in all {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        Self { name: name.into(), groups, credentialless: false }
    }

    /// As the API server's impersonation filter builds it from `Impersonate-User` and
    /// `Impersonate-Group` (kubectl `--as`, `--as-group`): a service account impersonated
    /// without groups gets its two groups; then `system:authenticated` is added unless a
    /// group given is `system:authenticated` or `system:unauthenticated` (for
    /// `system:anonymous`: `system:unauthenticated`, unless given).
    pub fn impersonated(name: &str, mut groups: Vec<String>) -> Self {
        if groups.is_empty() {
            if let Some((ns, _)) = service_account(name) {
                groups = service_account_groups(ns);
            }
        }
        if name != ANONYMOUS {
            if !groups.iter().any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED) {
                groups.push(AUTHENTICATED.into());
            }
        } else if !groups.iter().any(|g| g == UNAUTHENTICATED) {
            groups.push(UNAUTHENTICATED.into());
        }
        Self { name: name.into(), groups, credentialless: false }
    }
}

/// What is asked: a resource request, or a non-resource one (`/healthz`, `/version`).
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    /// Verb, group, resource, subresource, namespace, name.
    Resource(&'a Attributes),
    /// Verb (`get`, `post`, ...) and URL path.
    NonResource {
        /// The verb.
        verb: &'a str,
        /// The path.
        path: &'a str,
    },
}

impl Request<'_> {
    fn namespace(&self) -> &str {
        match self {
            Request::Resource(a) => &a.namespace,
            Request::NonResource { .. } => "",
        }
    }
}

/// An authorizer's answer: allowed or not, and its reason (empty for a plain denial, as
/// Kubernetes' RBAC authorizer gives none).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    /// Allowed.
    pub allowed: bool,
    /// `RBAC: allowed by RoleBinding "rb/ns" of Role "r" to User "u"`, or why it could
    /// not decide (`RBAC: role.rbac.authorization.k8s.io "r" not found`), or "".
    pub reason: String,
}

impl Decision {
    fn allow(reason: impl Into<String>) -> Self {
        Self { allowed: true, reason: reason.into() }
    }
}

fn strs(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// Whether one stored PolicyRule allows `req`, as Kubernetes' `RuleAllows` decides.
pub fn rule_allows(rule: &Value, req: &Request) -> bool {
    let has = |key: &str, v: &str| strs(&rule[key]).any(|x| x == "*" || x == v);
    match req {
        Request::Resource(a) => {
            let names: Vec<&str> = strs(&rule["resourceNames"]).collect();
            has("verbs", &a.verb)
                && has("apiGroups", &a.group)
                && resource_matches(strs(&rule["resources"]), &a.resource, &a.subresource)
                && (names.is_empty() || names.contains(&a.name.as_str()))
        }
        Request::NonResource { verb, path } => {
            has("verbs", verb)
                && strs(&rule["nonResourceURLs"])
                    .any(|u| u == "*" || u == *path || u.strip_suffix('*').is_some_and(|p| path.starts_with(p)))
        }
    }
}

/// The index of the first subject of a binding that `who` is, as Kubernetes'
/// `appliesTo` finds it; `namespace` is the RoleBinding's ("" for a ClusterRoleBinding),
/// which a ServiceAccount subject without namespace means.
fn subject_index(user: &str, groups: &[String], subjects: &Value, namespace: &str) -> Option<usize> {
    subjects.as_array()?.iter().position(|s| {
        let name = s["name"].as_str().unwrap_or_default();
        match s["kind"].as_str() {
            Some("User") => user == name,
            Some("Group") => groups.iter().any(|g| g == name),
            Some("ServiceAccount") => {
                let ns = s["namespace"].as_str().filter(|n| !n.is_empty()).unwrap_or(namespace);
                !ns.is_empty() && user == format!("{SA_PREFIX}{ns}:{name}")
            }
            _ => false,
        }
    })
}

/// How the API server names a subject in a reason: `User "u"`, `Group "g"`,
/// `ServiceAccount "name/ns"`.
fn describe_subject(s: &Value, binding_ns: &str) -> String {
    let kind = s["kind"].as_str().unwrap_or_default();
    let name = s["name"].as_str().unwrap_or_default();
    if kind == "ServiceAccount" {
        let ns = s["namespace"].as_str().filter(|n| !n.is_empty()).unwrap_or(binding_ns);
        format!("{kind} \"{name}/{ns}\"")
    } else {
        format!("{kind} \"{name}\"")
    }
}

/// Go's `utilerrors.NewAggregate(errs).Error()`: one message, or `[a, b]`, duplicates once.
fn aggregate(errors: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [one] => (*one).to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

impl Store {
    /// The stored objects of `plural` (in namespace `ns` when given), in name order.
    pub(crate) fn stored<'a>(&'a self, plural: &'a str, ns: Option<&'a str>) -> impl Iterator<Item = &'a Value> + 'a {
        let start = (plural.to_string(), ns.unwrap_or_default().to_string(), String::new());
        self.objects
            .range(start..)
            .take_while(move |((p, n, _), _)| p == plural && ns.is_none_or(|ns| n == ns))
            .map(|(_, v)| v)
    }

    /// Whether a RoleBinding or ClusterRoleBinding is stored (from then on, identities
    /// other than the default user are authorized by RBAC; see the module docs).
    pub fn has_bindings(&self) -> bool {
        self.stored("rolebindings", None).next().is_some() || self.stored("clusterrolebindings", None).next().is_some()
    }

    /// The rules of a binding's `roleRef`, or the lister's error for a missing role.
    fn role_rules(&self, role_ref: &Value, binding_ns: &str) -> Result<&Value, String> {
        let name = role_ref["name"].as_str().unwrap_or_default();
        let kind = role_ref["kind"].as_str().unwrap_or_default();
        let key = match kind {
            "Role" => ("roles".to_string(), binding_ns.to_string(), name.to_string()),
            "ClusterRole" => ("clusterroles".to_string(), String::new(), name.to_string()),
            other => return Err(format!("unsupported role reference kind: \"{other}\"")),
        };
        self.objects
            .get(&key)
            .map(|r| &r["rules"])
            .ok_or_else(|| format!("{}.{RBAC_GROUP} \"{name}\" not found", kind.to_lowercase()))
    }

    /// Kubernetes' RBAC authorizer alone: the ClusterRoleBindings (name order), then, for a
    /// namespaced request, the RoleBindings of its namespace, whose subjects include
    /// `user` or one of `groups`; the first rule of their roles that allows `req` decides.
    /// The groups are taken as given (a SubjectAccessReview adds none).
    pub fn rbac_authorize(&self, user: &str, groups: &[String], req: &Request) -> Decision {
        let mut errors = Vec::new();
        for crb in self.stored("clusterrolebindings", None) {
            let Some(i) = subject_index(user, groups, &crb["subjects"], "") else { continue };
            match self.role_rules(&crb["roleRef"], "") {
                Err(e) => errors.push(e),
                Ok(rules) => {
                    if strs_rules(rules).any(|r| rule_allows(r, req)) {
                        return Decision::allow(format!(
                            "RBAC: allowed by ClusterRoleBinding \"{}\" of {} \"{}\" to {}",
                            crb["metadata"]["name"].as_str().unwrap_or_default(),
                            crb["roleRef"]["kind"].as_str().unwrap_or_default(),
                            crb["roleRef"]["name"].as_str().unwrap_or_default(),
                            describe_subject(&crb["subjects"][i], "")
                        ));
                    }
                }
            }
        }
        let ns = req.namespace();
        if !ns.is_empty() {
            for rb in self.stored("rolebindings", Some(ns)) {
                let Some(i) = subject_index(user, groups, &rb["subjects"], ns) else { continue };
                match self.role_rules(&rb["roleRef"], ns) {
                    Err(e) => errors.push(e),
                    Ok(rules) => {
                        if strs_rules(rules).any(|r| rule_allows(r, req)) {
                            return Decision::allow(format!(
                                "RBAC: allowed by RoleBinding \"{}/{ns}\" of {} \"{}\" to {}",
                                rb["metadata"]["name"].as_str().unwrap_or_default(),
                                rb["roleRef"]["kind"].as_str().unwrap_or_default(),
                                rb["roleRef"]["name"].as_str().unwrap_or_default(),
                                describe_subject(&rb["subjects"][i], ns)
                            ));
                        }
                    }
                }
            }
        }
        let reason = if errors.is_empty() { String::new() } else { format!("RBAC: {}", aggregate(&errors)) };
        Decision { allowed: false, reason }
    }

    /// Whether `who` may do `req`, by the rules in the module docs.
    pub fn decide(&self, who: &UserInfo, req: &Request) -> Decision {
        if let Some(rules) = self.policy.get(&who.name) {
            return match req {
                Request::Resource(a) if !rules.iter().any(|r| r.allows(a)) => Decision::default(),
                _ => Decision::allow(format!("RBAC: allowed by a rule of user \"{}\"", who.name)),
            };
        }
        if who.name == DEFAULT_USER || who.credentialless || !self.has_bindings() {
            return Decision::allow("RBAC: allowed by fake");
        }
        if who.groups.iter().any(|g| g == MASTERS) {
            return Decision::allow("");
        }
        self.rbac_authorize(&who.name, &who.groups, req)
    }
}

fn strs_rules(rules: &Value) -> impl Iterator<Item = &Value> {
    rules.as_array().into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::policy::tests::attrs;

    #[test]
    fn identities_get_the_groups_the_api_server_gives() {
        let sa = UserInfo::impersonated("system:serviceaccount:ci:deployer", vec![]);
        assert_eq!(sa.groups, ["system:serviceaccounts", "system:serviceaccounts:ci", AUTHENTICATED]);
        let sa = UserInfo::impersonated("system:serviceaccount:ci:deployer", vec!["ops".into()]);
        assert_eq!(sa.groups, ["ops", AUTHENTICATED], "groups given: no service account groups");
        assert_eq!(UserInfo::impersonated(ANONYMOUS, vec![]).groups, [UNAUTHENTICATED]);
        assert_eq!(UserInfo::impersonated("u", vec![UNAUTHENTICATED.into()]).groups, [UNAUTHENTICATED]);
        assert_eq!(UserInfo::authenticated("u", &["dev".into()]).groups, ["dev", AUTHENTICATED]);
        assert_eq!(UserInfo::authenticated(ANONYMOUS, &[]).groups, [UNAUTHENTICATED]);
        assert_eq!(service_account("system:serviceaccount:a:b"), Some(("a", "b")));
        assert_eq!(service_account("system:serviceaccount:a"), None);
    }

    #[test]
    fn rules_match_as_kubernetes_matches_them() {
        let r = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods", "*/scale"], "resourceNames": ["a"]});
        let ok = |a: Attributes| rule_allows(&r, &Request::Resource(&a));
        assert!(ok(attrs("get", "", "pods", "", "n", "a")));
        assert!(!ok(attrs("get", "", "pods", "", "n", "b")));
        assert!(!ok(attrs("get", "", "pods", "", "n", "")), "a named rule never matches a list");
        assert!(ok(attrs("get", "", "deployments", "scale", "n", "a")));
        assert!(!ok(attrs("get", "", "pods", "log", "n", "a")));
        assert!(!ok(attrs("get", "apps", "pods", "", "n", "a")));
        let none = json!({"verbs": ["*"], "resources": ["*"]});
        assert!(!rule_allows(&none, &Request::Resource(&attrs("get", "", "pods", "", "n", ""))), "no apiGroups");
        let urls = json!({"verbs": ["get"], "nonResourceURLs": ["/healthz", "/metrics/*"]});
        let nr = |verb, path| rule_allows(&urls, &Request::NonResource { verb, path });
        assert!(nr("get", "/healthz") && nr("get", "/metrics/x") && !nr("post", "/healthz") && !nr("get", "/version"));
        assert_eq!(aggregate(&["a".into(), "a".into()]), "a");
        assert_eq!(aggregate(&["a".into(), "b".into()]), "[a, b]");
    }
}
