//! Who may do what: RBAC-like rules per user, evaluated for SelfSubjectAccessReviews and
//! enforced on the requests themselves (`403 Forbidden` with the API server's message).
//!
//! Once a test installs rules for a user in [`crate::Store::policy`], only what a rule
//! allows is allowed to that user. A user without rules may do everything while the store
//! holds no RoleBinding or ClusterRoleBinding; once it holds one, the stored RBAC objects
//! decide for every user but [`DEFAULT_USER`] (see [`crate::rbac`]).

/// The user the kubeconfig from [`crate::FakeKube::kubeconfig`] authenticates as.
pub const DEFAULT_USER: &str = "tester";
/// The bearer token of that kubeconfig.
pub const DEFAULT_TOKEN: &str = "fake-token";

/// One allow rule, as in a Role (`namespaces` set) or ClusterRole (`namespaces` empty).
/// `"*"` matches any verb, group or resource; `resource/sub` names a subresource
/// (`pods/exec`, `pods/log`, `deployments/scale`), `*/sub` any resource's one (but
/// `resource/*` is no wildcard, as in Kubernetes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, `*`.
    pub verbs: Vec<String>,
    /// `""` for core, `apps`, `batch`, `*`.
    pub api_groups: Vec<String>,
    /// Plurals, with `/subresource` for subresources.
    pub resources: Vec<String>,
    /// Namespaces the rule holds in; empty: every namespace and the cluster scope.
    pub namespaces: Vec<String>,
    /// Object names the rule holds for; empty: all (and lists, creates).
    pub resource_names: Vec<String>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

impl Rule {
    /// A rule for `verbs` on `resources` of `api_groups`, in every namespace.
    pub fn new(verbs: &[&str], api_groups: &[&str], resources: &[&str]) -> Self {
        Self {
            verbs: strings(verbs),
            api_groups: strings(api_groups),
            resources: strings(resources),
            ..Self::default()
        }
    }

    /// Only in these namespaces (a Role).
    pub fn in_namespaces(mut self, namespaces: &[&str]) -> Self {
        self.namespaces = strings(namespaces);
        self
    }

    /// Only for objects of these names.
    pub fn named(mut self, names: &[&str]) -> Self {
        self.resource_names = strings(names);
        self
    }

    /// Whether the rule allows `a`.
    pub fn allows(&self, a: &Attributes) -> bool {
        let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
        any(&self.verbs, &a.verb)
            && any(&self.api_groups, &a.group)
            && resource_matches(self.resources.iter().map(String::as_str), &a.resource, &a.subresource)
            && (self.namespaces.is_empty() || (!a.namespace.is_empty() && self.namespaces.contains(&a.namespace)))
            && (self.resource_names.is_empty() || (!a.name.is_empty() && self.resource_names.contains(&a.name)))
    }
}

/// Whether a rule's `resources` cover `resource` (and `subresource`), as Kubernetes'
/// `ResourceMatches` decides: `*`, the exact `resource` or `resource/subresource`, or
/// `*/subresource`. `resource/*` is no wildcard (Kubernetes has none for subresources).
pub fn resource_matches<'a>(
    rule_resources: impl IntoIterator<Item = &'a str>,
    resource: &str,
    subresource: &str,
) -> bool {
    rule_resources.into_iter().any(|r| {
        r == "*"
            || (subresource.is_empty() && r == resource)
            || (!subresource.is_empty()
                && (r.strip_prefix(resource).and_then(|rest| rest.strip_prefix('/')) == Some(subresource)
                    || r.strip_prefix("*/") == Some(subresource)))
    })
}

/// What a request (or a review's `resourceAttributes`) asks to do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes {
    /// The verb.
    pub verb: String,
    /// API group ("" for core).
    pub group: String,
    /// Plural.
    pub resource: String,
    /// Subresource, "" for none.
    pub subresource: String,
    /// Namespace, "" for the cluster scope (or all namespaces).
    pub namespace: String,
    /// Object name, "" for lists and creates.
    pub name: String,
}

impl Attributes {
    /// From a SelfSubjectAccessReview's `spec.resourceAttributes`.
    pub fn from_review(a: &serde_json::Value) -> Self {
        let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
        Self {
            verb: s("verb"),
            group: s("group"),
            resource: s("resource"),
            subresource: s("subresource"),
            namespace: s("namespace"),
            name: s("name"),
        }
    }

    /// The API server's `403` message for `user`.
    pub fn forbidden_message(&self, user: &str) -> String {
        let gr =
            if self.group.is_empty() { self.resource.clone() } else { format!("{}.{}", self.resource, self.group) };
        let what = if self.name.is_empty() { gr } else { format!("{gr} \"{}\"", self.name) };
        let resource = if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        };
        let scope = if self.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{}\"", self.namespace)
        };
        format!(
            "{what} is forbidden: User \"{user}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
            self.verb, self.group
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The attributes of one request, for the tests of both authorizers.
    pub(crate) fn attrs(verb: &str, group: &str, resource: &str, sub: &str, ns: &str, name: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn rules_scope_verbs_groups_resources_namespaces_and_names() {
        let r = Rule::new(&["get", "list"], &[""], &["pods", "pods/log"]).in_namespaces(&["hsof"]);
        assert!(r.allows(&attrs("get", "", "pods", "", "hsof", "p")));
        assert!(r.allows(&attrs("get", "", "pods", "log", "hsof", "p")));
        assert!(!r.allows(&attrs("create", "", "pods", "exec", "hsof", "p")), "pods/exec is not pods/log");
        assert!(!r.allows(&attrs("delete", "", "pods", "", "hsof", "p")));
        assert!(!r.allows(&attrs("get", "", "pods", "", "other", "p")));
        assert!(!r.allows(&attrs("list", "", "pods", "", "", "")), "a Role does not reach all namespaces");
        assert!(!r.allows(&attrs("get", "apps", "pods", "", "hsof", "p")));
        let named = Rule::new(&["patch"], &["apps"], &["deployments"]).named(&["hsof-main"]);
        assert!(named.allows(&attrs("patch", "apps", "deployments", "", "x", "hsof-main")));
        assert!(!named.allows(&attrs("patch", "apps", "deployments", "", "x", "other")));
        assert!(!named.allows(&attrs("patch", "apps", "deployments", "scale", "x", "hsof-main")));
        let all = Rule::new(&["*"], &["*"], &["*"]);
        assert!(all.allows(&attrs("deletecollection", "batch", "jobs", "status", "", "")));
        assert!(
            !Rule::new(&["get"], &[""], &["pods/*"]).allows(&attrs("get", "", "pods", "log", "n", "p")),
            "Kubernetes has no resource/* wildcard"
        );
        assert!(!Rule::new(&["get"], &[""], &["*/log"]).allows(&attrs("get", "", "pods", "", "n", "p")));
        assert!(!Rule::new(&["get"], &[""], &["pods"]).allows(&attrs("get", "", "pods", "log", "n", "p")));
        assert!(Rule::new(&["patch"], &["apps"], &["*/scale"]).allows(&attrs(
            "patch",
            "apps",
            "replicasets",
            "scale",
            "n",
            "r"
        )));
    }

    #[test]
    fn forbidden_messages_read_like_the_api_servers() {
        assert_eq!(
            attrs("delete", "", "pods", "", "hsof", "x").forbidden_message("u"),
            "pods \"x\" is forbidden: User \"u\" cannot delete resource \"pods\" in API group \"\" in the namespace \"hsof\""
        );
        assert_eq!(
            attrs("patch", "apps", "deployments", "scale", "hsof", "d").forbidden_message("u"),
            "deployments.apps \"d\" is forbidden: User \"u\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"hsof\""
        );
        assert_eq!(
            attrs("list", "", "nodes", "", "", "").forbidden_message("u"),
            "nodes is forbidden: User \"u\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
        );
    }
}
