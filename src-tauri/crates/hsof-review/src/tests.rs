//! The review against the cases of the Kubernetes RBAC and NetworkPolicy documentation.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use crate::rbac::{rule_allows, Evaluator, Objects, Request, SubjectRef};
use crate::{review, Inputs, ReviewArea, Scanner};

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a valid object")
}

fn req(verb: &str, group: &str, resource: &str, name: &str, ns: &str) -> Request {
    let (resource, sub) = resource.split_once('/').unwrap_or((resource, ""));
    Request {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        subresource: sub.into(),
        name: name.into(),
        namespace: ns.into(),
    }
}

fn sa(ns: &str, name: &str) -> SubjectRef {
    SubjectRef { kind: "ServiceAccount".into(), name: name.into(), namespace: Some(ns.into()) }
}

#[test]
fn rule_forms() {
    let rule = |v: Value| -> k8s_openapi::api::rbac::v1::PolicyRule { obj(v) };
    // `*` verbs and resources; apiGroups must still match.
    let all = rule(json!({"verbs": ["*"], "apiGroups": [""], "resources": ["*"]}));
    assert!(rule_allows(&all, &req("delete", "", "secrets", "", "hsof")));
    assert!(rule_allows(&all, &req("create", "", "pods/exec", "", "hsof")), "`*` covers subresources");
    assert!(!rule_allows(&all, &req("get", "apps", "deployments", "", "hsof")));
    // A subresource needs `resource/sub` or `*/sub`; `pods` alone does not cover `pods/exec`.
    let pods = rule(json!({"verbs": ["create"], "apiGroups": [""], "resources": ["pods"]}));
    assert!(!rule_allows(&pods, &req("create", "", "pods/exec", "", "hsof")));
    let any_scale = rule(json!({"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["*/scale"]}));
    assert!(rule_allows(&any_scale, &req("patch", "apps", "deployments/scale", "", "hsof")));
    assert!(!rule_allows(&any_scale, &req("patch", "apps", "deployments", "", "hsof")));
    let pods_star = rule(json!({"verbs": ["create"], "apiGroups": [""], "resources": ["pods/*"]}));
    assert!(
        !rule_allows(&pods_star, &req("create", "", "pods/exec", "", "hsof")),
        "Kubernetes has no `resource/*` form"
    );
    // resourceNames: only that object, never a list or a create.
    let named = rule(
        json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["backup-creds"]}),
    );
    assert!(rule_allows(&named, &req("get", "", "secrets", "backup-creds", "hsof")));
    assert!(!rule_allows(&named, &req("get", "", "secrets", "other", "hsof")));
    assert!(!rule_allows(&named, &req("list", "", "secrets", "", "hsof")));
}

fn rbac_objects() -> Objects {
    Objects {
        roles: vec![
            obj(
                json!({"metadata": {"name": "reader", "namespace": "hsof"}, "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "secrets"]}]}),
            ),
            obj(json!({"metadata": {"name": "orphan", "namespace": "hsof"}, "rules": []})),
        ],
        cluster_roles: vec![
            obj(
                json!({"metadata": {"name": "monitoring"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]}, "rules": []}),
            ),
            obj(
                json!({"metadata": {"name": "exec-part", "labels": {"rbac.example.com/aggregate-to-monitoring": "true"}}, "rules": [{"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]}]}),
            ),
            obj(
                json!({"metadata": {"name": "impersonator"}, "rules": [{"verbs": ["impersonate"], "apiGroups": [""], "resources": ["users", "groups", "serviceaccounts"]}]}),
            ),
            obj(
                json!({"metadata": {"name": "deployer"}, "rules": [{"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["deployments"]}]}),
            ),
        ],
        role_bindings: vec![
            obj(
                json!({"metadata": {"name": "r1", "namespace": "hsof"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}, "subjects": [{"kind": "ServiceAccount", "name": "worker"}]}),
            ),
            obj(
                json!({"metadata": {"name": "r2", "namespace": "hsof"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "monitoring"}, "subjects": [{"kind": "User", "name": "alice"}]}),
            ),
            obj(
                json!({"metadata": {"name": "r3", "namespace": "hsof"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "deployer"}, "subjects": [{"kind": "ServiceAccount", "name": "gone", "namespace": "hsof"}]}),
            ),
            obj(
                json!({"metadata": {"name": "r4", "namespace": "hsof"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "missing"}, "subjects": [{"kind": "User", "name": "bob"}]}),
            ),
        ],
        cluster_role_bindings: vec![
            obj(
                json!({"metadata": {"name": "ops-impersonate"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonator"}, "subjects": [{"kind": "Group", "name": "ops"}]}),
            ),
            obj(
                json!({"metadata": {"name": "all-sas-deploy"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "deployer"}, "subjects": [{"kind": "Group", "name": "system:serviceaccounts:hsof"}]}),
            ),
        ],
    }
}

#[test]
fn bindings_grant_with_kubernetes_scoping() {
    let ev = Evaluator::new(&rbac_objects());
    let worker = sa("hsof", "worker").identity();
    // A ServiceAccount subject without a namespace is the binding's namespace's account.
    assert!(ev.allowed(&worker, &req("get", "", "secrets", "x", "hsof")).is_some());
    // A RoleBinding's grant holds in its namespace only.
    assert!(ev.allowed(&worker, &req("get", "", "secrets", "x", "other")).is_none());
    // The ServiceAccount groups: every account of hsof may patch deployments, anywhere.
    let g = ev.allowed(&worker, &req("patch", "apps", "deployments", "", "elsewhere")).expect("through its group");
    assert_eq!(g.binding, "ClusterRoleBinding all-sas-deploy");
    assert!(ev.allowed(&sa("other", "x").identity(), &req("patch", "apps", "deployments", "", "hsof")).is_none());
    // Aggregation: `monitoring` holds exec-part's rules.
    let alice = SubjectRef { kind: "User".into(), name: "alice".into(), namespace: None }.identity();
    assert!(ev.allowed(&alice, &req("create", "", "pods/exec", "", "hsof")).is_some());
    // Group subjects; impersonation is cluster-scoped.
    let ops = SubjectRef { kind: "User".into(), name: "carol".into(), namespace: None };
    let mut id = ops.identity();
    assert!(ev.allowed(&id, &req("impersonate", "", "users", "", "")).is_none());
    id.groups.push("ops".into());
    assert!(ev.allowed(&id, &req("impersonate", "", "users", "", "")).is_some());
    // A binding to a missing role grants nothing and is named.
    let bob = SubjectRef { kind: "User".into(), name: "bob".into(), namespace: None }.identity();
    assert!(ev.allowed(&bob, &req("get", "", "pods", "", "hsof")).is_none());
    assert_eq!(ev.missing_roles(), vec![("RoleBinding hsof/r4".to_string(), "Role hsof/missing".to_string())]);
}

pub(crate) fn inputs() -> Inputs {
    let o = rbac_objects();
    Inputs {
        namespace: "hsof".into(),
        roles: Ok(o.roles),
        cluster_roles: Ok(o.cluster_roles),
        role_bindings: Ok(o.role_bindings),
        cluster_role_bindings: Ok(o.cluster_role_bindings),
        service_accounts: Ok(vec![
            obj(json!({"metadata": {"name": "worker"}})),
            obj(json!({"metadata": {"name": "default"}})),
            obj(json!({"metadata": {"name": "idle"}})),
        ]),
        pods: Ok(vec![
            obj(
                json!({"metadata": {"name": "hsof-5d9c-abcde", "labels": {"app": "hsof"}, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "hsof-5d9c", "uid": "1", "controller": true}]}, "spec": {"serviceAccountName": "worker", "containers": [{"name": "hsof", "ports": [{"name": "http", "containerPort": 8080}]}]}}),
            ),
            obj(
                json!({"metadata": {"name": "debug", "labels": {"app": "debug"}}, "spec": {"containers": [{"name": "sh"}]}}),
            ),
        ]),
        deployments: Ok(vec![obj(
            json!({"metadata": {"name": "hsof"}, "spec": {"selector": {}, "template": {"spec": {"serviceAccountName": "worker", "containers": [{"name": "hsof"}], "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "hsof-data"}}]}}}}),
        )]),
        cronjobs: Ok(vec![]),
        jobs: Ok(vec![]),
        network_policies: Ok(vec![obj(
            json!({"metadata": {"name": "hsof-in"}, "spec": {"podSelector": {"matchLabels": {"app": "hsof"}}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}], "ports": [{"port": 9090}]}]}}),
        )]),
        namespaces: Ok(vec![
            obj(json!({"metadata": {"name": "hsof", "labels": {"kubernetes.io/metadata.name": "hsof"}}})),
            obj(json!({"metadata": {"name": "monitoring", "labels": {"name": "monitoring"}}})),
        ]),
        claims: Ok(vec![]),
        storage_classes: Ok(vec![]),
        configmap: Ok(None),
        scanner: Scanner::NotInstalled,
        deployment: "hsof".into(),
        backup_cronjob: "hsof-backup".into(),
        retention_target_days: 30,
        now: Utc.with_ymd_and_hms(2026, 12, 9, 10, 0, 0).single().expect("a time"),
    }
}

#[test]
fn the_review_finds_what_is_wrong_and_says_what_it_did_not_see() {
    let r = review(&inputs());
    let keys: Vec<&str> = r.findings.iter().map(|f| f.key.as_str()).collect();
    for want in [
        "rbac:missing-subject:ServiceAccount hsof/gone",
        "rbac:missing-role:RoleBinding hsof/r4",
        "rbac:sa-secrets:ServiceAccount hsof/worker",
        "rbac:unbound-role:orphan",
        "sa:unused:idle",
        "sa:default:default",
        "net:uncovered:ingress:debug",
        "net:no-default-deny:Ingress",
        "backup:no-cronjob:backup-encryption",
    ] {
        assert!(keys.contains(&want), "{want} missing from {keys:?}");
    }
    assert_eq!(r.access.data_claims, vec!["hsof-data".to_string()]);
    let worker = r.access.subjects.iter().find(|s| s.subject == sa("hsof", "worker")).expect("worker");
    let can: Vec<&str> = worker.can.iter().map(|g| g.check.as_str()).collect();
    assert_eq!(can, vec!["read-secrets", "write-deployments"]);
    // The scanner was not there: the area says so instead of passing.
    assert_eq!(r.verdict(ReviewArea::Vulnerabilities), "unknown");
    assert!(r.vulnerabilities.line.contains("No scanner reports are available"));
    // Namespace-selector ports are named; the debug pod reaches hsof only through no policy.
    assert!(r
        .network
        .reach
        .iter()
        .any(|x| x.from == crate::netpol::OTHER_NAMESPACES && x.to == "hsof" && x.ports == "TCP/9090"));
    assert!(!r.network.reach.iter().any(|x| x.from == "debug" && x.to == "hsof"), "hsof accepts only monitoring");
    assert!(r.network.reach.iter().any(|x| x.from == "hsof" && x.to == "debug"));
}

#[test]
fn unreadable_areas_are_named_never_passed() {
    let mut i = inputs();
    i.cluster_role_bindings = Err("clusterrolebindings.rbac.authorization.k8s.io is forbidden".into());
    i.network_policies = Err("networkpolicies.networking.k8s.io is forbidden".into());
    let r = review(&i);
    assert_eq!(r.verdict(ReviewArea::NetworkPolicies), "unknown");
    assert!(r.evidence(ReviewArea::NetworkPolicies).contains("[not read] NetworkPolicies"));
    assert!(r.unread.iter().any(|u| u.area == ReviewArea::Rbac && u.what.starts_with("ClusterRoleBindings")));
    assert!(!r.findings.iter().any(|f| f.key.starts_with("net:")), "no network finding from policies never read");
}

fn with_policies(policies: Vec<Value>) -> crate::SecurityReport {
    let mut i = inputs();
    i.network_policies = Ok(policies.into_iter().map(obj).collect());
    review(&i)
}

fn reach(r: &crate::SecurityReport, from: &str, to: &str) -> Option<String> {
    r.network.reach.iter().find(|x| x.from == from && x.to == to).map(|x| x.ports.clone())
}

#[test]
fn network_policy_selector_forms() {
    // Empty podSelector with no ingress rules: default deny for every pod.
    let r = with_policies(vec![
        json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
    ]);
    assert_eq!(r.network.policies[0].default_deny, vec!["Ingress".to_string()]);
    assert_eq!(reach(&r, "debug", "hsof"), None);
    assert_eq!(reach(&r, "hsof", "debug"), None);
    // `ingress: [{}]` (a rule without `from`) allows everything, on every port.
    let r = with_policies(vec![json!({"metadata": {"name": "allow"}, "spec": {"podSelector": {}, "ingress": [{}]}})]);
    assert_eq!(reach(&r, "debug", "hsof").as_deref(), Some("all ports"));
    assert!(r.findings.iter().any(|f| f.key == "net:ingress-anyone:allow:all ports"));
    // podSelector only: pods of the same namespace; named ports kept by name.
    let r = with_policies(vec![
        json!({"metadata": {"name": "p"}, "spec": {"podSelector": {"matchLabels": {"app": "hsof"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "debug"}}}], "ports": [{"port": "http"}]}]}}),
    ]);
    assert_eq!(reach(&r, "debug", "hsof").as_deref(), Some("TCP/http"));
    assert_eq!(reach(&r, crate::netpol::OTHER_NAMESPACES, "hsof"), None);
    // Both selectors in one peer: the pods of the matching namespaces only (hsof's own
    // namespace does not match `name=monitoring`).
    let r = with_policies(vec![
        json!({"metadata": {"name": "both"}, "spec": {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}, "podSelector": {"matchLabels": {"app": "debug"}}}]}]}}),
    ]);
    assert_eq!(reach(&r, "debug", "hsof"), None);
    assert!(reach(&r, crate::netpol::OTHER_NAMESPACES, "hsof").is_some());
    // ipBlock with except: outside addresses, not pods; named in the findings.
    let r = with_policies(vec![
        json!({"metadata": {"name": "ip"}, "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}], "ports": [{"port": 443, "protocol": "TCP"}]}]}}),
    ]);
    assert_eq!(reach(&r, "debug", "hsof"), None);
    assert_eq!(reach(&r, crate::netpol::OUTSIDE, "hsof").as_deref(), Some("TCP/443"));
    assert!(r
        .findings
        .iter()
        .any(|f| f.key == "net:ingress-ipblock:ip:10.0.0.0/8" && f.evidence.contains("except 10.1.0.0/16")));
    // Egress: a rule without `to` is open to everything; policyTypes inferred from rules.
    let r = with_policies(vec![
        json!({"metadata": {"name": "out"}, "spec": {"podSelector": {"matchLabels": {"app": "hsof"}}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}}),
    ]);
    assert_eq!(r.network.policies[0].types, vec!["Ingress".to_string(), "Egress".to_string()]);
    assert_eq!(reach(&r, "hsof", crate::netpol::OUTSIDE).as_deref(), Some("UDP/53"));
    assert_eq!(reach(&r, "hsof", "debug").as_deref(), Some("UDP/53"), "a rule without `to` reaches pods too");
    assert_eq!(reach(&r, "debug", "hsof"), None, "the inferred Ingress type isolates hsof with no ingress rule");
    assert!(r.findings.iter().any(|f| f.key == "net:egress-anywhere:out:UDP/53"));
    // A malformed selector is named and the policy left out; a policy selecting nothing too.
    let r = with_policies(vec![
        json!({"metadata": {"name": "bad"}, "spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}}}),
        json!({"metadata": {"name": "none"}, "spec": {"podSelector": {"matchLabels": {"app": "nothing"}}}}),
    ]);
    assert!(r.findings.iter().any(|f| f.key == "net:malformed:bad"));
    assert!(r.findings.iter().any(|f| f.key == "net:selects-nothing:none"));
}

#[test]
fn the_diff_shows_exactly_the_change() {
    let before = review(&inputs());
    assert!(crate::diff::diff(&before, &before).is_empty());
    let mut i = inputs();
    // A new binding gives a new account exec; the network policy goes away.
    let mut rbs = i.role_bindings.clone().expect("read");
    rbs.push(obj(json!({"metadata": {"name": "r5", "namespace": "hsof"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "monitoring"}, "subjects": [{"kind": "ServiceAccount", "name": "idle"}]})));
    i.role_bindings = Ok(rbs);
    i.network_policies = Ok(vec![]);
    let after = review(&i);
    let d = crate::diff::diff(&before, &after);
    assert_eq!(d.new_subjects, vec!["ServiceAccount hsof/idle".to_string()]);
    assert!(d.new_grants.contains(&"ServiceAccount hsof/idle: exec into pods".to_string()), "{:?}", d.new_grants);
    assert_eq!(d.newly_uncovered, vec!["ingress: hsof".to_string()]);
    assert!(d.removed_subjects.is_empty() && d.removed_grants.is_empty() && d.newly_covered.is_empty());
}

#[test]
fn trivy_reports_unknown_versions_and_malformed_reports_are_named() {
    let mut i = inputs();
    i.scanner = Scanner::Reports { version: "v1beta1".into(), reports: Ok(vec![]) };
    let r = review(&i);
    assert_eq!(r.verdict(ReviewArea::Vulnerabilities), "unknown");
    assert!(
        r.vulnerabilities.line.contains("served at v1beta1; this app reads v1alpha1"),
        "{}",
        r.vulnerabilities.line
    );
    i.scanner = Scanner::Reports {
        version: "v1alpha1".into(),
        reports: Ok(vec![
            json!({"metadata": {"name": "broken"}, "report": {"artifact": {}}}),
            json!({"metadata": {"name": "ok", "labels": {"trivy-operator.resource.kind": "ReplicaSet", "trivy-operator.resource.name": "hsof", "trivy-operator.container.name": "hsof"}},
                "report": {"registry": {"server": "ghcr.io"}, "artifact": {"repository": "hsof/hsof", "tag": "1.5.0"}, "updateTimestamp": "2026-11-20T10:00:00Z",
                    "summary": {"criticalCount": 1, "highCount": 1},
                    "vulnerabilities": [{"vulnerabilityID": "CVE-1", "severity": "CRITICAL", "resource": "openssl", "installedVersion": "3.0.1", "fixedVersion": "3.0.2"},
                                        {"vulnerabilityID": "CVE-2", "severity": "HIGH", "resource": "zlib", "installedVersion": "1.2", "fixedVersion": ""}]}}),
        ]),
    };
    let r = review(&i);
    assert!(
        r.unread.iter().any(|u| u.what == "VulnerabilityReport broken" && u.why.contains("repository")),
        "{:?}",
        r.unread
    );
    let img = &r.vulnerabilities.images[0];
    assert_eq!((img.image.as_str(), img.critical, img.high, img.fixable), ("ghcr.io/hsof/hsof:1.5.0", 1, 1, 1));
    assert!(img.age_days.is_some_and(|d| d > 18.0));
    assert!(r
        .findings
        .iter()
        .any(|f| f.key == "vuln:critical:ghcr.io/hsof/hsof:1.5.0" && f.evidence.contains("3.0.1 → 3.0.2")));
    assert!(r.findings.iter().any(|f| f.key == "vuln:stale:ghcr.io/hsof/hsof:1.5.0"));
}

#[test]
fn bootstrap_bindings_are_left_out_but_system_identities_bound_by_people_are_not() {
    let mut i = inputs();
    let mut crbs = i.cluster_role_bindings.clone().expect("read");
    let mut crs = i.cluster_roles.clone().expect("read");
    crs.push(obj(json!({"metadata": {"name": "cluster-admin"}, "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]})));
    crbs.push(obj(json!({"metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "Group", "name": "system:masters"}]})));
    crbs.push(obj(json!({"metadata": {"name": "oops"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "User", "name": "system:anonymous"}]})));
    let mut rbs = i.role_bindings.clone().expect("read");
    rbs.push(obj(json!({"metadata": {"name": "all-sas", "namespace": "hsof"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "Group", "name": "system:serviceaccounts:hsof"}]})));
    i.cluster_roles = Ok(crs);
    i.cluster_role_bindings = Ok(crbs);
    i.role_bindings = Ok(rbs);
    let r = review(&i);
    let keys: Vec<&str> = r.findings.iter().map(|f| f.key.as_str()).collect();
    assert!(
        !keys.contains(&"rbac:cluster-admin:ClusterRoleBinding cluster-admin"),
        "Kubernetes' own binding: {keys:?}"
    );
    assert!(keys.contains(&"rbac:cluster-admin:ClusterRoleBinding oops"), "{keys:?}");
    assert!(
        keys.contains(&"rbac:broad:system:serviceaccounts:hsof"),
        "the namespace's accounts read Secrets: {keys:?}"
    );
    assert!(keys.contains(&"rbac:broad:system:anonymous"), "{keys:?}");
    // `idle` is named by no binding but reads Secrets through its group: found.
    assert!(keys.contains(&"rbac:sa-secrets:ServiceAccount hsof/idle"), "{keys:?}");
    let masters = r.access.subjects.iter().find(|s| s.subject.name == "system:masters").expect("listed");
    assert!(masters.system, "shown as a system identity");
}

#[test]
fn what_one_review_did_not_read_is_not_compared() {
    let before = review(&inputs());
    let mut i = inputs();
    i.cluster_role_bindings = Err("forbidden".into());
    i.network_policies = Err("forbidden".into());
    let after = review(&i);
    let d = crate::diff::diff(&before, &after);
    assert!(d.removed_subjects.is_empty() && d.removed_grants.is_empty(), "{d:?}");
    assert!(d.newly_uncovered.is_empty() && d.newly_covered.is_empty());
    assert!(
        !d.resolved_findings.iter().any(|f| f.area == ReviewArea::Rbac || f.area == ReviewArea::NetworkPolicies),
        "{:?}",
        d.resolved_findings
    );
    assert_eq!(
        d.not_compared,
        vec!["rbac".to_string(), "network-policies".to_string(), "vulnerabilities".to_string()],
        "the scanner was in neither"
    );
    assert!(!after.network.policies_read);
}

#[test]
fn an_empty_egress_list_does_not_make_an_egress_policy() {
    let r = with_policies(vec![
        json!({"metadata": {"name": "in"}, "spec": {"podSelector": {}, "ingress": [], "egress": []}}),
    ]);
    assert_eq!(r.network.policies[0].types, vec!["Ingress".to_string()]);
    assert!(r.findings.iter().any(|f| f.key == "net:no-default-deny:Egress"));
    // Egress rules under an explicit [Ingress] are ignored by Kubernetes, and here.
    let r = with_policies(vec![
        json!({"metadata": {"name": "x"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}], "egress": [{}]}}),
    ]);
    assert!(!r.findings.iter().any(|f| f.key.starts_with("net:egress-anywhere")), "{:?}", r.findings);
}
