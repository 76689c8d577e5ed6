//! Who can do what in the namespace: every subject a RoleBinding of the namespace or a
//! ClusterRoleBinding names, asked each sensitive question of [`rbac::checks`], and the
//! RBAC findings (cluster-admin and wildcard grants, grants to everyone, bindings to
//! missing roles or service accounts, service accounts that read Secrets, Roles no one
//! binds).

use serde::{Deserialize, Serialize};

use crate::rbac::{self, Evaluator, SubjectRef};
use crate::{Finding, FindingSeverity, Inputs, ReviewArea, Unread};

/// One sensitive ability held, and what grants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Granted {
    /// The check's id.
    pub check: String,
    /// `RoleBinding hsof/x → ClusterRole edit`.
    pub via: String,
    /// The request that is allowed (`create pods/exec -n hsof`).
    pub request: String,
}

/// One subject and what it can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct SubjectAccess {
    /// The subject.
    pub subject: SubjectRef,
    /// A built-in identity (`system:` users and groups, kube-system's accounts); shown, but
    /// only broad `system:` groups make findings.
    pub system: bool,
    /// Whether it exists: known for service accounts of the namespace, `None` otherwise.
    pub exists: Option<bool>,
    /// The bindings that name it.
    pub bindings: Vec<String>,
    /// The sensitive abilities it holds.
    pub can: Vec<Granted>,
}

/// A disagreement between the evaluator and the API server on one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Disagreement {
    /// The subject.
    pub subject: String,
    /// The request.
    pub request: String,
    /// The evaluator's answer.
    pub evaluator: bool,
    /// The API server's answer.
    pub api_server: bool,
}

/// The answers checked with SubjectAccessReviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct CrossCheck {
    /// How many questions were asked.
    pub asked: u32,
    /// Where the API server answered otherwise.
    pub disagreements: Vec<Disagreement>,
    /// Why no cross-check ran (this identity may not create SubjectAccessReviews), if so.
    pub skipped: Option<String>,
}

/// Who can do what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AccessReport {
    /// The questions asked, in column order.
    pub checks: Vec<rbac::Check>,
    /// Every subject, with its answers.
    pub subjects: Vec<SubjectAccess>,
    /// The data claims whose deletion is asked about.
    pub data_claims: Vec<String>,
    /// The API server's cross-check of a sample, when one ran.
    pub cross_check: Option<CrossCheck>,
}

impl AccessReport {
    /// The subjects holding check `id`.
    pub fn holders(&self, id: &str) -> Vec<&SubjectAccess> {
        self.subjects.iter().filter(|s| s.can.iter().any(|g| g.check == id)).collect()
    }

    /// Up to `n` (subject, request, evaluator's answer) triples spread over subjects and
    /// checks, for a SubjectAccessReview cross-check.
    pub fn sample(&self, n: usize) -> Vec<(SubjectRef, rbac::Request, bool)> {
        let mut out = Vec::new();
        let subjects: Vec<&SubjectAccess> = self.subjects.iter().filter(|s| !s.system).collect();
        'outer: for round in 0..self.checks.len() {
            for (i, s) in subjects.iter().enumerate() {
                let check = &self.checks[(i + round) % self.checks.len()];
                let Some(req) = check.requests.first() else { continue };
                let yes = s.can.iter().any(|g| g.check == check.id && g.request == req.text());
                out.push((s.subject.clone(), req.clone(), yes));
                if out.len() >= n {
                    break 'outer;
                }
            }
        }
        out
    }
}

fn is_system(s: &SubjectRef) -> bool {
    s.name.starts_with("system:") || s.namespace.as_deref() == Some("kube-system")
}

/// The broad groups every (or every unauthenticated) caller belongs to.
const BROAD_GROUPS: [&str; 3] = ["system:authenticated", "system:unauthenticated", "system:serviceaccounts"];

/// The main Deployment's claims: the data a deletion would lose.
fn data_claims(i: &Inputs) -> Vec<String> {
    let Ok(deps) = &i.deployments else { return Vec::new() };
    let dep = deps.iter().find(|d| d.metadata.name.as_deref() == Some(i.deployment.as_str()));
    let vols =
        dep.and_then(|d| d.spec.as_ref()).and_then(|s| s.template.spec.as_ref()).and_then(|p| p.volumes.as_ref());
    vols.into_iter()
        .flatten()
        .filter_map(|v| v.persistent_volume_claim.as_ref().map(|c| c.claim_name.clone()))
        .collect()
}

fn unread_list<T: Clone>(r: &crate::Read<Vec<T>>, what: &str, unread: &mut Vec<Unread>) -> Vec<T> {
    match r {
        Ok(v) => v.clone(),
        Err(why) => {
            unread.push(Unread { area: ReviewArea::Rbac, what: what.into(), why: why.clone() });
            Vec::new()
        }
    }
}

/// Builds the access table and the RBAC findings; the evaluator is handed back for the
/// other checks that ask who can do what (backup access).
pub fn analyse(i: &Inputs, findings: &mut Vec<Finding>, unread: &mut Vec<Unread>) -> (AccessReport, Evaluator) {
    let objects = rbac::Objects {
        roles: unread_list(&i.roles, "Roles", unread),
        cluster_roles: unread_list(&i.cluster_roles, "ClusterRoles", unread),
        role_bindings: unread_list(&i.role_bindings, "RoleBindings", unread),
        cluster_role_bindings: unread_list(
            &i.cluster_role_bindings,
            "ClusterRoleBindings (grants through them are not seen)",
            unread,
        ),
    };
    let claims = data_claims(i);
    let checks = rbac::checks(&i.namespace, &claims);
    let ev = Evaluator::new(&objects);
    let accounts: Option<Vec<String>> =
        i.service_accounts.as_ref().ok().map(|v| v.iter().filter_map(|a| a.metadata.name.clone()).collect());
    let mut subjects = Vec::new();
    // Every subject a binding names, and every account of the namespace (reached through
    // the ServiceAccount groups even when no binding names it).
    let mut all = ev.subjects();
    for name in accounts.iter().flatten() {
        let sa = SubjectRef { kind: "ServiceAccount".into(), name: name.clone(), namespace: Some(i.namespace.clone()) };
        if !all.contains(&sa) {
            all.push(sa);
        }
    }
    if i.service_accounts.is_err() {
        unread.push(Unread {
            area: ReviewArea::Rbac,
            what: "ServiceAccounts (bindings to accounts that do not exist, and what the namespace's accounts can do through groups, are not checked)".into(),
            why: i.service_accounts.clone().err().unwrap_or_default(),
        });
    }
    for s in all {
        let id = s.identity();
        let can: Vec<Granted> = checks
            .iter()
            .filter_map(|c| {
                ev.can(&id, c).map(|(r, g)| Granted {
                    check: c.id.clone(),
                    via: format!("{} → {}", g.binding, g.role),
                    request: r.text(),
                })
            })
            .collect();
        let exists = match (&accounts, s.kind.as_str(), s.namespace.as_deref()) {
            (Some(list), "ServiceAccount", Some(ns)) if ns == i.namespace => Some(list.contains(&s.name)),
            _ => None,
        };
        let bindings = ev.bindings_of(&s);
        // An account reached only through groups, with nothing sensitive, adds nothing.
        if bindings.is_empty() && can.is_empty() {
            continue;
        }
        let system = is_system(&s) || ev.only_builtin(&s);
        subjects.push(SubjectAccess { system, exists, bindings, can, subject: s });
    }
    rbac_findings(i, &objects, &ev, &subjects, findings);
    (AccessReport { checks, subjects, data_claims: claims, cross_check: None }, ev)
}

fn rbac_findings(
    i: &Inputs,
    objects: &rbac::Objects,
    ev: &Evaluator,
    subjects: &[SubjectAccess],
    findings: &mut Vec<Finding>,
) {
    let mut push = |key: String, severity, title: String, evidence: String| {
        findings.push(Finding { key, area: ReviewArea::Rbac, severity, title, evidence });
    };
    for (binding, role, bound) in ev.bindings() {
        // Kubernetes' own bootstrap bindings are left out by `bindings()`; any other binding
        // counts, to `system:` identities too (system:anonymous, a namespace's SA group).
        let people: Vec<&SubjectRef> = bound.iter().filter(|s| s.namespace.as_deref() != Some("kube-system")).collect();
        if people.is_empty() {
            continue;
        }
        let who = people.iter().map(|s| s.label()).collect::<Vec<_>>().join(", ");
        if role == "ClusterRole cluster-admin" {
            push(
                format!("rbac:cluster-admin:{binding}"),
                FindingSeverity::Critical,
                format!("cluster-admin granted to {who}"),
                format!("{binding} → {role}"),
            );
            continue;
        }
        let wild = ev.rules_of(role).unwrap_or_default().iter().find(|r| {
            let groups = r.api_groups.as_deref().unwrap_or_default();
            !groups.is_empty()
                && (r.verbs.iter().any(|v| v == "*") || r.resources.iter().flatten().any(|x| x == "*"))
                && !r.resources.as_deref().unwrap_or_default().is_empty()
        });
        if let Some(rule) = wild {
            let cluster_wide = binding.starts_with("ClusterRoleBinding");
            let everything = rule.verbs.iter().any(|v| v == "*") && rule.resources.iter().flatten().any(|x| x == "*");
            let groups = rule.api_groups.clone().unwrap_or_default().join(",");
            push(
                format!("rbac:wildcard:{binding}"),
                if cluster_wide && everything { FindingSeverity::Critical } else { FindingSeverity::Warning },
                format!(
                    "wildcard grant ({}{}) to {who}",
                    if everything {
                        "every verb on every resource"
                    } else if rule.verbs.iter().any(|v| v == "*") {
                        "every verb"
                    } else {
                        "every resource"
                    },
                    if cluster_wide { ", cluster-wide" } else { "" }
                ),
                format!(
                    "{binding} → {role}: verbs [{}] resources [{}] apiGroups [{groups}]",
                    rule.verbs.join(","),
                    rule.resources.clone().unwrap_or_default().join(",")
                ),
            );
        }
    }
    for s in subjects {
        let broad = BROAD_GROUPS.contains(&s.subject.name.as_str())
            || s.subject.name == format!("system:serviceaccounts:{}", i.namespace)
            || s.subject.name == "system:anonymous";
        if broad
            && (s.subject.kind == "Group" || s.subject.kind == "User")
            && !s.can.is_empty()
            && !ev.only_builtin(&s.subject)
        {
            let what: Vec<&str> = s.can.iter().map(|g| g.check.as_str()).collect();
            push(
                format!("rbac:broad:{}", s.subject.name),
                FindingSeverity::Critical,
                format!("every member of {} can {}", s.subject.name, what.join(", ")),
                s.can.iter().map(|g| format!("{} via {}", g.request, g.via)).collect::<Vec<_>>().join("; "),
            );
        }
        if s.exists == Some(false) {
            push(
                format!("rbac:missing-subject:{}", s.subject.label()),
                FindingSeverity::Warning,
                format!("binding to {} that does not exist", s.subject.label()),
                format!("{} (anyone who creates that account gets these rights)", s.bindings.join("; ")),
            );
        }
        if s.subject.kind == "ServiceAccount" && s.subject.namespace.as_deref() != Some("kube-system") {
            if let Some(g) = s.can.iter().find(|g| g.check == "read-secrets") {
                push(
                    format!("rbac:sa-secrets:{}", s.subject.label()),
                    FindingSeverity::Warning,
                    format!("{} can read Secrets", s.subject.label()),
                    format!("{} via {}", g.request, g.via),
                );
            }
        }
    }
    let cluster_roles_read = i.cluster_roles.is_ok();
    for (binding, role) in ev.missing_roles() {
        if (role.starts_with("ClusterRole ") && !cluster_roles_read) || (role.starts_with("Role ") && i.roles.is_err())
        {
            continue;
        }
        push(
            format!("rbac:missing-role:{binding}"),
            FindingSeverity::Warning,
            format!("{binding} refers to {role}, which does not exist"),
            "it grants nothing until that role is created, and then grants whatever it holds".into(),
        );
    }
    if i.role_bindings.is_ok() {
        for r in &objects.roles {
            let name = r.metadata.name.clone().unwrap_or_default();
            let used = objects.role_bindings.iter().any(|b| b.role_ref.kind == "Role" && b.role_ref.name == name);
            if !used {
                push(
                    format!("rbac:unbound-role:{name}"),
                    FindingSeverity::Info,
                    format!("Role {}/{name} is bound to no one", i.namespace),
                    "no RoleBinding of the namespace refers to it".into(),
                );
            }
        }
    }
}
