//! Who may do what: `kubectl auth can-i`, impersonated requests, aggregation, validation
//! of bindings, SubjectAccessReviews, and the fake's older policies beside RBAC.

use serde_json::{json, Value};

use super::{apply, call, can_i, fake, kubectl, kubectl_err, run, BUILDER, DEPLOYER, RBAC};
use crate::{Rule, DEFAULT_USER};

#[test]
fn kubectl_auth_can_i_answers_from_the_stored_rbac_objects() {
    let f = fake();
    apply(&f, RBAC);
    let sa = |args: &[&str]| can_i(&f, DEPLOYER, &[], args);
    // A Role through a RoleBinding, in its namespace only.
    assert_eq!(sa(&["list", "pods"]), "yes");
    assert_eq!(sa(&["get", "pods/p", "--subresource=log"]), "yes");
    assert_eq!(sa(&["delete", "pods"]), "no");
    assert_eq!(sa(&["create", "pods", "--subresource=exec"]), "no");
    assert_eq!(sa(&["list", "pods", "-n", "hsof"]), "no");
    assert_eq!(sa(&["list", "pods", "-A"]), "no", "a RoleBinding does not reach every namespace");
    // A ClusterRole through a RoleBinding (its service account subject without namespace
    // is the binding's): only in the binding's namespace.
    assert_eq!(sa(&["create", "configmaps"]), "yes");
    assert_eq!(sa(&["create", "configmaps", "-n", "hsof"]), "no");
    // The aggregated ClusterRole: a */scale rule and a resourceNames rule.
    assert_eq!(sa(&["patch", "deployments.apps/hsof-main", "--subresource=scale"]), "yes");
    assert_eq!(sa(&["update", "replicasets.apps", "--subresource=scale"]), "yes");
    assert_eq!(sa(&["patch", "deployments.apps/hsof-main"]), "no", "*/scale is not the object");
    assert_eq!(sa(&["patch", "deployments.apps", "--subresource=status"]), "no");
    assert_eq!(sa(&["get", "secrets/registry-creds"]), "yes");
    assert_eq!(sa(&["get", "secrets/other"]), "no");
    assert_eq!(sa(&["get", "secrets"]), "no", "a named rule never covers a request without a name");
    assert_eq!(sa(&["list", "secrets"]), "no");
    // A ClusterRoleBinding to the service account's implicit group, at the cluster scope.
    assert_eq!(sa(&["list", "namespaces"]), "yes");
    assert_eq!(sa(&["get", "/healthz"]), "yes");
    assert_eq!(sa(&["get", "/metrics/cadvisor"]), "yes");
    assert_eq!(sa(&["get", "/version"]), "no");
    assert_eq!(sa(&["list", "nodes"]), "no");
    // A ClusterRoleBinding to a group given with --as-group; groups given replace the
    // service account's own (as the API server's impersonation does).
    assert_eq!(can_i(&f, DEPLOYER, &["auditors"], &["list", "nodes"]), "yes");
    assert_eq!(can_i(&f, DEPLOYER, &["auditors"], &["list", "namespaces"]), "no");
    assert_eq!(can_i(&f, DEPLOYER, &["auditors"], &["list", "pods"]), "yes", "the User subject still holds");
    assert_eq!(can_i(&f, "alice", &["auditors"], &["get", "nodes/gpu-node-1"]), "yes");
    assert_eq!(can_i(&f, "alice", &[], &["get", "nodes"]), "no");
    assert_eq!(can_i(&f, "alice", &["system:masters"], &["delete", "nodes"]), "yes");
    // A wildcard rule, bound in another namespace.
    let b = |args: &[&str]| can_i(&f, BUILDER, &[], args);
    assert_eq!(b(&["*", "*", "-n", "sandbox"]), "yes");
    assert_eq!(b(&["delete", "deployments.apps/x", "-n", "sandbox", "--subresource=scale"]), "yes");
    assert_eq!(b(&["create", "widgets.example.io", "-n", "sandbox"]), "yes");
    assert_eq!(b(&["get", "pods"]), "no");
    assert_eq!(b(&["list", "namespaces"]), "yes", "its namespace's group");
    // A binding whose role is missing grants nothing, and says why.
    assert_eq!(sa(&["get", "pods", "-n", "ghost"]), "no - RBAC: role.rbac.authorization.k8s.io \"missing\" not found");
    // The default user keeps everything; so does the kubeconfig's own (tokenless) kubectl.
    assert_eq!(can_i(&f, DEFAULT_USER, &[], &["delete", "nodes"]), "yes");
    assert_eq!(kubectl(&f, &["auth", "can-i", "delete", "nodes"]).trim(), "yes");
    // The reasons, as the API server words them.
    let review = |user: &str, attrs: Value| {
        let body = json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "spec": {"resourceAttributes": attrs}});
        let (code, r) = call(
            &f,
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            &[("Impersonate-User", user)],
            Some(&body),
        );
        assert_eq!(code, 201, "{r}");
        r["status"].clone()
    };
    assert_eq!(
        review(DEPLOYER, json!({"verb": "list", "resource": "pods", "namespace": "ci"})),
        json!({"allowed": true, "reason": "RBAC: allowed by RoleBinding \"read-pods/ci\" of Role \"pod-reader\" to ServiceAccount \"deployer/ci\""})
    );
    assert_eq!(
        review(DEPLOYER, json!({"verb": "delete", "resource": "configmaps", "namespace": "ci"}))["reason"],
        "RBAC: allowed by RoleBinding \"edit-config/ci\" of ClusterRole \"configmap-editor\" to ServiceAccount \"deployer/ci\""
    );
    assert_eq!(
        review(DEPLOYER, json!({"verb": "list", "resource": "namespaces"}))["reason"],
        "RBAC: allowed by ClusterRoleBinding \"ci-accounts-list-namespaces\" of ClusterRole \"namespace-lister\" to Group \"system:serviceaccounts:ci\""
    );
    assert_eq!(
        review(DEPLOYER, json!({"verb": "delete", "resource": "pods", "namespace": "ci"})),
        json!({"allowed": false})
    );
}

#[test]
fn impersonated_requests_are_authorized_and_aggregation_follows_the_roles() {
    let f = fake();
    apply(&f, RBAC);
    fn as_sa<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [&["--as", DEPLOYER, "-n", "ci"], args].concat()
    }
    kubectl(&f, &as_sa(&["get", "pods"]));
    kubectl(&f, &as_sa(&["create", "configmap", "settings", "--from-literal=a=b"]));
    kubectl(&f, &as_sa(&["delete", "configmap", "settings"]));
    let e = kubectl_err(&f, &as_sa(&["get", "pods", "-n", "hsof"]), None);
    assert!(
        e.contains(&format!("pods is forbidden: User \"{DEPLOYER}\" cannot list resource \"pods\" in API group \"\" in the namespace \"hsof\"")),
        "{e}"
    );
    let e = kubectl_err(&f, &as_sa(&["get", "nodes"]), None);
    assert!(e.contains("cannot list resource \"nodes\" in API group \"\" at the cluster scope"), "{e}");
    let e = kubectl_err(&f, &as_sa(&["get", "pods", "-n", "ghost"]), None);
    assert!(
        e.contains("in the namespace \"ghost\": RBAC: role.rbac.authorization.k8s.io \"missing\" not found"),
        "{e}"
    );
    assert!(kubectl(&f, &["--as", DEPLOYER, "--as-group", "auditors", "get", "nodes", "-o", "name"])
        .contains("node/gpu-node-1"));
    // The default user may still do anything.
    kubectl(&f, &["--as", DEFAULT_USER, "delete", "pods", "--all", "-n", "hsof"]);

    // The aggregation controller: the aggregated role shows the rules it selects ...
    let role: Value =
        serde_json::from_str(&kubectl(&f, &["get", "clusterrole", "deployer-aggregate", "-o", "json"])).expect("json");
    assert_eq!(role["rules"].as_array().map(Vec::len), Some(2), "{role}");
    assert_eq!(
        role["rules"][0]["resourceNames"],
        json!(["registry-creds"]),
        "selected roles by name: registry-secret, scaler"
    );
    // ... and follows a role labelled into it, or out.
    assert_eq!(can_i(&f, DEPLOYER, &[], &["list", "nodes"]), "no");
    kubectl(&f, &["label", "clusterrole", "node-viewer", "hsof.io/aggregate-to=deployer"]);
    // A RoleBinding's ClusterRole holds in its namespace only: a review that names the
    // namespace says yes (as on a real cluster), the cluster-scoped request is refused.
    assert_eq!(can_i(&f, DEPLOYER, &[], &["list", "nodes", "-n", "ci"]), "yes");
    assert_eq!(can_i(&f, DEPLOYER, &[], &["list", "nodes", "-A"]), "no");
    kubectl_err(&f, &as_sa(&["get", "nodes"]), None);
    kubectl(&f, &["delete", "clusterrole", "scaler"]);
    assert_eq!(can_i(&f, DEPLOYER, &[], &["patch", "deployments.apps", "--subresource=scale"]), "no");
    let role: Value =
        serde_json::from_str(&kubectl(&f, &["get", "clusterrole", "deployer-aggregate", "-o", "json"])).expect("json");
    assert_eq!(role["rules"][0]["resources"], json!(["nodes"]), "node-viewer, then registry-secret: {role}");
    assert_eq!(role["rules"].as_array().map(Vec::len), Some(2), "{role}");
    // A binding's roleRef cannot change; a ClusterRoleBinding's service account needs a namespace.
    let e = kubectl_err(&f, &["patch", "rolebinding", "read-pods", "-p", r#"{"roleRef":{"name":"other"}}"#], None);
    assert!(e.contains("cannot change roleRef"), "{e}");
    let bad = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: bad}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}\nsubjects:\n- {kind: ServiceAccount, name: deployer}\n";
    let e = kubectl_err(&f, &["apply", "-f", "-"], Some(bad));
    assert!(e.contains("The ClusterRoleBinding \"bad\" is invalid: subjects[0].namespace: Required value"), "{e}");
}

#[test]
fn subject_access_reviews_evaluate_the_user_and_groups_given() {
    let f = fake();
    apply(&f, RBAC);
    let sar = |user: &str, groups: &[&str], attrs: Value| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
               "spec": {"user": user, "groups": groups, "resourceAttributes": attrs}})
    };
    let create = |review: &Value| -> Value {
        let out = run(&f, &["create", "-f", "-", "-o", "json"], Some(&review.to_string()));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let r = create(&sar(DEPLOYER, &[], json!({"verb": "get", "resource": "pods", "namespace": "ci"})));
    assert_eq!(r["kind"], "SubjectAccessReview");
    assert_eq!(
        r["status"],
        json!({"allowed": true, "reason": "RBAC: allowed by RoleBinding \"read-pods/ci\" of Role \"pod-reader\" to ServiceAccount \"deployer/ci\""})
    );
    let ns = json!({"verb": "list", "resource": "namespaces"});
    assert_eq!(create(&sar(DEPLOYER, &[], ns.clone()))["status"], json!({"allowed": false}), "no implicit groups");
    let r = create(&sar(DEPLOYER, &["system:serviceaccounts:ci"], ns.clone()));
    assert_eq!(r["status"]["allowed"], true);
    assert_eq!(
        create(&sar("", &["auditors"], json!({"verb": "list", "resource": "nodes"})))["status"]["allowed"],
        true
    );
    let r = create(&json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": DEPLOYER, "groups": ["system:serviceaccounts:ci"], "nonResourceAttributes": {"verb": "get", "path": "/healthz"}}}));
    assert_eq!(r["status"]["allowed"], true);
    // The caller must be allowed to create subjectaccessreviews.
    let out =
        run(&f, &["--as", DEPLOYER, "create", "-f", "-", "-o", "json"], Some(&sar(DEPLOYER, &[], ns).to_string()));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && e.contains(&format!("subjectaccessreviews.authorization.k8s.io is forbidden: User \"{DEPLOYER}\" cannot create resource \"subjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope")),
        "{e}"
    );
    let (code, body) = call(
        &f,
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        &[],
        Some(&json!({"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}})),
    );
    assert_eq!(code, 422, "{body}");
    assert!(body["message"].as_str().unwrap_or_default().ends_with("at least one of user or group must be specified"));
    let (_, discovery) = call(&f, "GET", "/apis/authorization.k8s.io/v1", &[], None);
    assert!(discovery["resources"].as_array().expect("resources").iter().any(|r| r["name"] == "subjectaccessreviews"));
}

#[test]
fn explicit_policies_and_bindingless_stores_keep_their_old_meaning() {
    let f = fake();
    // No binding stored: anyone may do anything.
    assert_eq!(can_i(&f, "alice", &[], &["delete", "nodes"]), "yes");
    f.server.with(|s| {
        s.policy.insert("viewer".into(), vec![Rule::new(&["get", "list"], &[""], &["pods"]).in_namespaces(&["ci"])]);
    });
    apply(&f, RBAC);
    // A user with explicit rules gets those rules only, bindings or not.
    assert_eq!(can_i(&f, "viewer", &[], &["list", "pods"]), "yes");
    assert_eq!(can_i(&f, "viewer", &["auditors"], &["list", "nodes"]), "no");
    assert_eq!(can_i(&f, "alice", &[], &["delete", "nodes"]), "no", "bindings stored: RBAC decides");
    // Objects seeded through the store count the same.
    f.server.with(|s| {
        s.put(json!({"kind": "ClusterRoleBinding", "metadata": {"name": "alice-nodes"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "node-viewer"},
            "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]}));
    });
    assert_eq!(can_i(&f, "alice", &[], &["list", "nodes"]), "yes");
    // Groups of token users come from the store.
    f.server.with(|s| {
        s.tokens.insert("token-bob".into(), "bob".into());
        s.groups.insert("bob".into(), vec!["auditors".into()]);
    });
    let (code, _) = call(&f, "GET", "/api/v1/nodes", &[("Authorization", "Bearer token-bob")], None);
    assert_eq!(code, 200);
    let (code, body) = call(&f, "GET", "/api/v1/namespaces/hsof/pods", &[("Authorization", "Bearer token-bob")], None);
    assert_eq!((code, body["reason"].as_str()), (403, Some("Forbidden")));
    let (_, who) = call(
        &f,
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        &[("Impersonate-User", DEPLOYER)],
        Some(&json!({})),
    );
    assert_eq!(
        who["status"]["userInfo"],
        json!({"username": DEPLOYER, "groups": ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]})
    );
}
