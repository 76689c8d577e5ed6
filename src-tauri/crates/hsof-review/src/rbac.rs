//! Who can do what in one namespace, computed from the RBAC objects with the rules of
//! Kubernetes' RBAC authorizer (`k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go`):
//! a RoleBinding grants its Role or ClusterRole's rules inside its namespace, a
//! ClusterRoleBinding grants a ClusterRole everywhere; a rule matches when its verbs hold
//! the verb or `*`, its apiGroups the group or `*`, its resources `*`, the resource, the
//! `resource/subresource` or `*/subresource`, and its resourceNames are empty or name the
//! object. Aggregated ClusterRoles get the union of the ClusterRoles their selectors pick,
//! as the controller-manager fills them. A ServiceAccount is the user
//! `system:serviceaccount:NS:NAME` in groups `system:serviceaccounts`,
//! `system:serviceaccounts:NS` and `system:authenticated`; every user is in
//! `system:authenticated`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject};
use serde::{Deserialize, Serialize};

use crate::selector;

/// A subject a binding names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
pub struct SubjectRef {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// A ServiceAccount's namespace.
    pub namespace: Option<String>,
}

impl SubjectRef {
    /// `ServiceAccount hsof/backup`, `User alice`, `Group devs`.
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// The user and groups the API server sees for this subject.
    pub fn identity(&self) -> Identity {
        match self.kind.as_str() {
            "ServiceAccount" => {
                let ns = self.namespace.clone().unwrap_or_default();
                Identity {
                    user: format!("system:serviceaccount:{ns}:{}", self.name),
                    groups: vec![
                        "system:serviceaccounts".into(),
                        format!("system:serviceaccounts:{ns}"),
                        "system:authenticated".into(),
                    ],
                }
            }
            "Group" => {
                let mut groups = vec![self.name.clone()];
                if self.name.starts_with("system:serviceaccounts:") {
                    groups.push("system:serviceaccounts".into());
                }
                if self.name != "system:unauthenticated" && self.name != "system:authenticated" {
                    groups.push("system:authenticated".into());
                }
                Identity { user: String::new(), groups }
            }
            _ if self.name == "system:anonymous" => {
                Identity { user: self.name.clone(), groups: vec!["system:unauthenticated".into()] }
            }
            _ => Identity { user: self.name.clone(), groups: vec!["system:authenticated".into()] },
        }
    }
}

/// Who asks: a user name and its groups (what a SubjectAccessReview carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user (empty for a group asked about as a whole).
    pub user: String,
    /// Its groups.
    pub groups: Vec<String>,
}

/// What is asked: the attributes of a resource request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Request {
    /// `get`, `create`, `impersonate`, …
    pub verb: String,
    /// API group, `""` for core.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// `exec`, `scale`, … or empty.
    pub subresource: String,
    /// The object's name, or empty.
    pub name: String,
    /// Namespace, empty for a cluster-scoped request.
    pub namespace: String,
}

impl Request {
    fn new(verb: &str, group: &str, resource: &str, namespace: &str) -> Self {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Self {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: String::new(),
            namespace: namespace.into(),
        }
    }

    /// As `kubectl auth can-i` takes it: `create pods/exec -n hsof`.
    pub fn text(&self) -> String {
        let mut r = self.resource.clone();
        if !self.group.is_empty() {
            r = format!("{r}.{}", self.group);
        }
        if !self.subresource.is_empty() {
            r = format!("{r}/{}", self.subresource);
        }
        if !self.name.is_empty() {
            r = format!("{r} {}", self.name);
        }
        match self.namespace.as_str() {
            "" => format!("{} {r}", self.verb),
            ns => format!("{} {r} -n {ns}", self.verb),
        }
    }
}

/// One sensitive ability the review asks every subject about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Check {
    /// Stable id: `exec`, `read-secrets`, …
    pub id: String,
    /// What it means, for the screen.
    pub label: String,
    /// Requests any of which grants the ability.
    pub requests: Vec<Request>,
}

/// The sensitive things of the issue, in `namespace`; `claims` are the data claims whose
/// deletion is asked about by name.
pub fn checks(namespace: &str, claims: &[String]) -> Vec<Check> {
    let ns = namespace;
    let mk = |id: &str, label: &str, reqs: Vec<Request>| Check { id: id.into(), label: label.into(), requests: reqs };
    let rbac = "rbac.authorization.k8s.io";
    let mut delete_claims: Vec<Request> = claims
        .iter()
        .map(|c| Request { name: c.clone(), ..Request::new("delete", "", "persistentvolumeclaims", ns) })
        .collect();
    if delete_claims.is_empty() {
        delete_claims.push(Request::new("delete", "", "persistentvolumeclaims", ns));
    }
    vec![
        mk("exec", "exec into pods", vec![Request::new("create", "", "pods/exec", ns)]),
        mk(
            "read-secrets",
            "read Secrets",
            vec![
                Request::new("get", "", "secrets", ns),
                Request::new("list", "", "secrets", ns),
                Request::new("watch", "", "secrets", ns),
            ],
        ),
        mk(
            "write-deployments",
            "create or patch Deployments",
            vec![
                Request::new("create", "apps", "deployments", ns),
                Request::new("patch", "apps", "deployments", ns),
                Request::new("update", "apps", "deployments", ns),
            ],
        ),
        mk(
            "patch-configmaps",
            "patch ConfigMaps",
            vec![Request::new("patch", "", "configmaps", ns), Request::new("update", "", "configmaps", ns)],
        ),
        mk(
            "create-workloads",
            "create Jobs or pods",
            vec![Request::new("create", "batch", "jobs", ns), Request::new("create", "", "pods", ns)],
        ),
        mk("delete-claims", "delete the data claims", delete_claims),
        mk(
            "bind-escalate",
            "bind or escalate roles",
            vec![
                Request::new("bind", rbac, "roles", ns),
                Request::new("escalate", rbac, "roles", ns),
                // Binding a ClusterRole in a RoleBinding is authorized in that namespace.
                Request::new("bind", rbac, "clusterroles", ns),
                Request::new("escalate", rbac, "clusterroles", ""),
            ],
        ),
        mk(
            "impersonate",
            "impersonate",
            vec![
                Request::new("impersonate", "", "users", ""),
                Request::new("impersonate", "", "groups", ""),
                Request::new("impersonate", "", "serviceaccounts", ns),
            ],
        ),
    ]
}

/// Whether one rule allows `r` (the authorizer's `RuleAllows`).
pub fn rule_allows(rule: &PolicyRule, r: &Request) -> bool {
    let has = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
    let groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    let names = rule.resource_names.as_deref().unwrap_or_default();
    let combined =
        if r.subresource.is_empty() { r.resource.clone() } else { format!("{}/{}", r.resource, r.subresource) };
    let resource_ok = resources.iter().any(|x| {
        x == "*"
            || *x == combined
            || (!r.subresource.is_empty() && x.strip_prefix("*/") == Some(r.subresource.as_str()))
    });
    has(&rule.verbs, &r.verb)
        && has(groups, &r.group)
        && resource_ok
        && (names.is_empty() || (!r.name.is_empty() && names.contains(&r.name)))
}

/// The RBAC objects read for one namespace (its Roles and RoleBindings, every ClusterRole
/// and ClusterRoleBinding).
#[derive(Debug, Clone, Default)]
pub struct Objects {
    /// Roles of the namespace.
    pub roles: Vec<Role>,
    /// All ClusterRoles.
    pub cluster_roles: Vec<ClusterRole>,
    /// RoleBindings of the namespace.
    pub role_bindings: Vec<RoleBinding>,
    /// All ClusterRoleBindings.
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

/// What granted an ability: the binding and the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `RoleBinding hsof/edit` or `ClusterRoleBinding admins`.
    pub binding: String,
    /// `Role hsof/reader` or `ClusterRole edit`.
    pub role: String,
}

/// One binding, reduced to what evaluation needs.
#[derive(Debug, Clone)]
struct Bound {
    label: String,
    role: String,
    /// The namespace it holds in; `None` for a ClusterRoleBinding.
    namespace: Option<String>,
    subjects: Vec<SubjectRef>,
    rules: Option<Vec<PolicyRule>>,
    /// One of Kubernetes' own bootstrap bindings (`kubernetes.io/bootstrapping: rbac-defaults`).
    builtin: bool,
}

fn is_builtin(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool {
    meta.labels.as_ref().and_then(|l| l.get("kubernetes.io/bootstrapping")).map(String::as_str) == Some("rbac-defaults")
}

/// The evaluator: bindings resolved to their rules once.
#[derive(Debug, Clone)]
pub struct Evaluator {
    bound: Vec<Bound>,
    /// ClusterRole name → its rules, aggregation resolved.
    cluster_rules: BTreeMap<String, Vec<PolicyRule>>,
    /// Role name → its rules.
    role_rules: BTreeMap<String, Vec<PolicyRule>>,
}

fn subject_ref(s: &Subject, binding_ns: Option<&str>) -> SubjectRef {
    let namespace = match s.kind.as_str() {
        "ServiceAccount" => s.namespace.clone().or_else(|| binding_ns.map(str::to_string)),
        _ => None,
    };
    SubjectRef { kind: s.kind.clone(), name: s.name.clone(), namespace }
}

/// The rules of every ClusterRole, aggregated ones filled with the union of the ClusterRoles
/// their selectors match (their own stored rules kept too, as the controller would have
/// written them).
pub fn resolve_cluster_roles(roles: &[ClusterRole]) -> BTreeMap<String, Vec<PolicyRule>> {
    let mut out: BTreeMap<String, Vec<PolicyRule>> = roles
        .iter()
        .map(|r| (r.metadata.name.clone().unwrap_or_default(), r.rules.clone().unwrap_or_default()))
        .collect();
    // Aggregated roles may pick other aggregated roles (admin ← edit ← view): repeat until
    // nothing grows, as the controller converges.
    for _ in 0..=roles.len() {
        let mut grew = false;
        for r in roles {
            let Some(selectors) = r.aggregation_rule.as_ref().and_then(|a| a.cluster_role_selectors.as_ref()) else {
                continue;
            };
            let name = r.metadata.name.clone().unwrap_or_default();
            let mut rules = out.get(&name).cloned().unwrap_or_default();
            for other in roles.iter().filter(|o| o.metadata.name != r.metadata.name) {
                let labels = other.metadata.labels.clone().unwrap_or_default();
                if selectors.iter().any(|s| selector::matches(s, &labels)) {
                    for rule in out.get(other.metadata.name.as_deref().unwrap_or_default()).into_iter().flatten() {
                        if !rules.contains(rule) {
                            rules.push(rule.clone());
                            grew = true;
                        }
                    }
                }
            }
            out.insert(name, rules);
        }
        if !grew {
            break;
        }
    }
    out
}

fn role_label(role_ref: &RoleRef, ns: Option<&str>) -> String {
    match (role_ref.kind.as_str(), ns) {
        ("Role", Some(ns)) => format!("Role {ns}/{}", role_ref.name),
        (kind, _) => format!("{kind} {}", role_ref.name),
    }
}

impl Evaluator {
    /// Resolves the bindings of `o` to their rules.
    pub fn new(o: &Objects) -> Self {
        let cluster_rules = resolve_cluster_roles(&o.cluster_roles);
        let role_rules: BTreeMap<String, Vec<PolicyRule>> = o
            .roles
            .iter()
            .map(|r| (r.metadata.name.clone().unwrap_or_default(), r.rules.clone().unwrap_or_default()))
            .collect();
        let mut bound = Vec::new();
        for b in &o.cluster_role_bindings {
            let rules = match b.role_ref.kind.as_str() {
                "ClusterRole" => cluster_rules.get(&b.role_ref.name).cloned(),
                _ => None,
            };
            bound.push(Bound {
                label: format!("ClusterRoleBinding {}", b.metadata.name.clone().unwrap_or_default()),
                role: role_label(&b.role_ref, None),
                namespace: None,
                subjects: b.subjects.iter().flatten().map(|s| subject_ref(s, None)).collect(),
                rules,
                builtin: is_builtin(&b.metadata),
            });
        }
        for b in &o.role_bindings {
            let ns = b.metadata.namespace.clone().unwrap_or_default();
            let rules = match b.role_ref.kind.as_str() {
                "ClusterRole" => cluster_rules.get(&b.role_ref.name).cloned(),
                "Role" => role_rules.get(&b.role_ref.name).cloned(),
                _ => None,
            };
            bound.push(Bound {
                label: format!("RoleBinding {ns}/{}", b.metadata.name.clone().unwrap_or_default()),
                role: role_label(&b.role_ref, Some(&ns)),
                subjects: b.subjects.iter().flatten().map(|s| subject_ref(s, Some(&ns))).collect(),
                namespace: Some(ns),
                rules,
                builtin: is_builtin(&b.metadata),
            });
        }
        Self { bound, cluster_rules, role_rules }
    }

    /// Every subject some binding names, each once, in order.
    pub fn subjects(&self) -> Vec<SubjectRef> {
        let set: BTreeSet<SubjectRef> = self.bound.iter().flat_map(|b| b.subjects.iter().cloned()).collect();
        set.into_iter().collect()
    }

    /// The bindings naming `s` directly.
    pub fn bindings_of(&self, s: &SubjectRef) -> Vec<String> {
        self.bound.iter().filter(|b| b.subjects.contains(s)).map(|b| format!("{} → {}", b.label, b.role)).collect()
    }

    /// Bindings whose role does not exist: `(binding, role)`.
    pub fn missing_roles(&self) -> Vec<(String, String)> {
        self.bound.iter().filter(|b| b.rules.is_none()).map(|b| (b.label.clone(), b.role.clone())).collect()
    }

    /// The rules of a ClusterRole (aggregation resolved) or of a Role of the namespace.
    pub fn rules_of(&self, role_label: &str) -> Option<&[PolicyRule]> {
        if let Some(n) = role_label.strip_prefix("ClusterRole ") {
            return self.cluster_rules.get(n).map(Vec::as_slice);
        }
        let n = role_label.strip_prefix("Role ")?.rsplit('/').next()?;
        self.role_rules.get(n).map(Vec::as_slice)
    }

    /// Whether every binding naming `s` is one of Kubernetes' own bootstrap bindings.
    pub fn only_builtin(&self, s: &SubjectRef) -> bool {
        let mut naming = self.bound.iter().filter(|b| b.subjects.contains(s)).peekable();
        naming.peek().is_some() && naming.all(|b| b.builtin)
    }

    /// `(binding, role, subjects)` of every binding that resolves and is not one of
    /// Kubernetes' own bootstrap bindings.
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &str, &[SubjectRef])> {
        self.bound
            .iter()
            .filter(|b| b.rules.is_some() && !b.builtin)
            .map(|b| (b.label.as_str(), b.role.as_str(), b.subjects.as_slice()))
    }

    fn applies(s: &SubjectRef, id: &Identity) -> bool {
        match s.kind.as_str() {
            "User" => !id.user.is_empty() && s.name == id.user,
            "Group" => id.groups.contains(&s.name),
            "ServiceAccount" => {
                id.user == format!("system:serviceaccount:{}:{}", s.namespace.as_deref().unwrap_or_default(), s.name)
            }
            _ => false,
        }
    }

    /// The first binding that allows `r` to `id`, or `None` (denied).
    pub fn allowed(&self, id: &Identity, r: &Request) -> Option<Grant> {
        self.bound.iter().find_map(|b| {
            let in_scope = match &b.namespace {
                None => true,
                Some(ns) => !r.namespace.is_empty() && *ns == r.namespace,
            };
            let rules = b.rules.as_ref()?;
            (in_scope
                && b.subjects.iter().any(|s| Self::applies(s, id))
                && rules.iter().any(|rule| rule_allows(rule, r)))
            .then(|| Grant { binding: b.label.clone(), role: b.role.clone() })
        })
    }

    /// The first request of `check` allowed to `id`, with what granted it.
    pub fn can(&self, id: &Identity, check: &Check) -> Option<(Request, Grant)> {
        check.requests.iter().find_map(|r| self.allowed(id, r).map(|g| (r.clone(), g)))
    }
}
