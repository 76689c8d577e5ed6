//! The security review against a fake API server seeded with a realistic namespace
//! (`seed_security`), through the real `hsofctl`, judged by the real kubectl: every
//! subject × sensitive ability answered as `kubectl auth can-i --as` answers it; the
//! seeded problems found; a change and a second review showing exactly that change; what
//! the identity may not read named, never reported clean; the calendar's Security Review
//! steps answered by one review.

use std::path::{Path, PathBuf};
use std::process::Command;

use hsof_fake_kube::{seed_hsof, seed_security, FakeKube, Rule, Store, DEFAULT_USER};
use serde_json::Value;

struct Setup {
    _kube: FakeKube,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

fn start(restrict: bool) -> Setup {
    let mut store = Store::default();
    seed_hsof(&mut store, 2, 0);
    seed_security(&mut store, chrono::Utc::now());
    if restrict {
        // The app's identity may read everything but ClusterRoleBindings and NetworkPolicies.
        let all = [
            "pods",
            "deployments",
            "replicasets",
            "jobs",
            "cronjobs",
            "configmaps",
            "serviceaccounts",
            "roles",
            "clusterroles",
            "rolebindings",
            "namespaces",
            "persistentvolumeclaims",
            "storageclasses",
            "vulnerabilityreports",
            "selfsubjectaccessreviews",
            "customresourcedefinitions",
        ];
        store.policy.insert(DEFAULT_USER.into(), vec![Rule::new(&["*"], &["*"], &all)]);
    }
    let kube = FakeKube::start(store);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
    let config = format!(
        "[cluster]\nkubeconfig = \"{}\"\nnamespace = \"hsof\"\ndeployment = \"hsof-main\"\nconfigmap = \"hsof-config\"\n\n[endpoints]\nrequest_timeout_secs = 2\nhsof_health_url = \"http://127.0.0.1:9\"\nprometheus_url = \"http://127.0.0.1:9\"\nalertmanager_url = \"http://127.0.0.1:9\"\n",
        kubeconfig.display()
    );
    std::fs::write(dir.path().join("config.toml"), config).expect("config");
    Setup { _kube: kube, kubeconfig, dir }
}

impl Setup {
    fn hsofctl(&self, args: &[&str]) -> (i32, String, String) {
        crate::hsofctl_in(self.dir.path(), args)
    }

    fn review(&self) -> (i32, Value) {
        crate::hsofctl_json(self.dir.path(), &["review", "security"])
    }
}

/// `kubectl auth can-i` for one request of a check, as `who` (kubectl's --as / --as-group).
fn can_i(kubeconfig: &Path, who: &[String], r: &Value) -> bool {
    let group = r["group"].as_str().unwrap_or_default();
    let mut resource = r["resource"].as_str().unwrap_or_default().to_string();
    if !group.is_empty() {
        resource = format!("{resource}.{group}");
    }
    if let Some(name) = r["name"].as_str().filter(|n| !n.is_empty()) {
        resource = format!("{resource}/{name}");
    }
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig").arg(kubeconfig).args(["auth", "can-i", r["verb"].as_str().unwrap_or_default(), &resource]);
    if let Some(sub) = r["subresource"].as_str().filter(|s| !s.is_empty()) {
        cmd.arg(format!("--subresource={sub}"));
    }
    match r["namespace"].as_str().unwrap_or_default() {
        "" => cmd.arg("--all-namespaces"),
        ns => cmd.args(["-n", ns]),
    };
    let out = cmd.args(who).output().expect("kubectl");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim_start().starts_with("yes")
}

fn as_args(subject: &Value) -> Vec<String> {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str() {
        Some("ServiceAccount") => {
            vec![format!("--as=system:serviceaccount:{}:{name}", subject["namespace"].as_str().unwrap_or_default())]
        }
        Some("Group") => vec!["--as=group-probe".into(), format!("--as-group={name}")],
        _ => vec![format!("--as={name}")],
    }
}

fn keys(rec: &Value) -> Vec<String> {
    rec["report"]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["key"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_answer_is_the_api_servers_and_the_seeded_problems_are_found() {
    let s = start(false);
    let (code, rec) = s.review();
    assert_eq!(code, 2, "a critical finding (the fixable critical CVE) exits 2: {}", rec["report"]["unread"]);
    let checks = rec["report"]["access"]["checks"].as_array().expect("checks").clone();
    let subjects = rec["report"]["access"]["subjects"].as_array().expect("subjects").clone();
    assert!(subjects.len() >= 6, "{subjects:?}");
    let mut asked = 0;
    let mut calls = 0;
    let started = std::time::Instant::now();
    for sub in &subjects {
        let who = as_args(&sub["subject"]);
        for c in &checks {
            let id = c["id"].as_str().unwrap_or_default();
            let evaluator = sub["can"].as_array().into_iter().flatten().any(|g| g["check"] == id);
            let requests = c["requests"].as_array().cloned().unwrap_or_default();
            calls += requests.len();
            let answers: Vec<bool> = requests.iter().map(|r| can_i(&s.kubeconfig, &who, r)).collect();
            let kubectl = answers.contains(&true);
            asked += 1;
            assert_eq!(
                evaluator, kubectl,
                "{} {id}: review says {evaluator}, kubectl auth can-i says {kubectl}",
                sub["subject"]
            );
        }
    }
    assert_eq!(asked, subjects.len() * checks.len());
    eprintln!("kubectl auth can-i: {calls} calls for {asked} questions in {:.1} s", started.elapsed().as_secs_f64());
    let k = keys(&rec);
    for want in [
        "rbac:wildcard:RoleBinding hsof/hsof-debug-alice",
        "rbac:missing-subject:ServiceAccount hsof/old-deployer",
        "rbac:missing-role:RoleBinding hsof/old-deployer",
        "rbac:unbound-role:unused-role",
        "sa:unused:legacy-ci",
        "net:uncovered:ingress:debug-shell",
        "backup:unencrypted:hsof-backup-storage",
        "backup:retention-short",
        "backup:secret-readers:backup-s3-credentials",
        "vuln:critical:index.docker.io/hsof/hsof:1.5.0",
    ] {
        assert!(k.iter().any(|x| x == want), "{want} not found in {k:?}");
    }
    // The cross-check ran (this identity may create SubjectAccessReviews) and agrees.
    let cc = &rec["report"]["access"]["cross_check"];
    assert!(cc["skipped"].is_null(), "{cc}");
    assert!(cc["asked"].as_u64().unwrap_or(0) > 0 && cc["disagreements"].as_array().is_some_and(Vec::is_empty), "{cc}");
    assert!(rec["diff"].is_null(), "the first review has nothing to compare with");

    // A change: legacy-ci gets the operator role; the HSOF network policy goes.
    let binding = r#"{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"ci-operator","namespace":"hsof"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"hsof-operator"},"subjects":[{"kind":"ServiceAccount","name":"legacy-ci","namespace":"hsof"}]}"#;
    let file = s.dir.path().join("binding.json");
    std::fs::write(&file, binding).expect("write");
    crate::kubectl_at(&s.kubeconfig, &["apply", "-f", file.to_str().unwrap_or_default()]);
    crate::kubectl_at(&s.kubeconfig, &["delete", "networkpolicy", "hsof-network-policy"]);
    let (_, second) = s.review();
    let d = &second["diff"];
    let list = |k: &str| -> Vec<String> {
        d[k].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
    };
    assert_eq!(d["removed_subjects"], serde_json::json!([]));
    assert_eq!(d["new_subjects"], serde_json::json!(["ServiceAccount hsof/legacy-ci"]));
    let grants = list("new_grants");
    for g in ["exec into pods", "create or patch Deployments", "patch ConfigMaps", "create Jobs or pods"] {
        assert!(grants.contains(&format!("ServiceAccount hsof/legacy-ci: {g}")), "{grants:?}");
    }
    assert!(
        grants.iter().all(|g| g.starts_with("ServiceAccount hsof/legacy-ci:")),
        "only legacy-ci's grants are new: {grants:?}"
    );
    assert_eq!(d["removed_grants"], serde_json::json!([]));
    assert_eq!(d["newly_uncovered"], serde_json::json!(["egress: hsof-main", "ingress: hsof-main"]));
    assert_eq!(d["newly_covered"], serde_json::json!([]));
    assert_eq!(d["new_critical"], serde_json::json!([]));
    assert_eq!(d["fixed"], serde_json::json!([]));

    // Signed off once; the second sign-off says who signed.
    let id = second["id"].as_i64().expect("id").to_string();
    let (code, _, _) = s.hsofctl(&["review", "sign-off", &id]);
    assert_eq!(code, 0);
    let (code, _, err) = s.hsofctl(&["review", "sign-off", &id]);
    assert_ne!(code, 0);
    assert!(err.contains("was signed off by"), "{err}");
}

#[test]
fn what_the_identity_may_not_read_is_named_and_the_calendar_steps_use_one_review() {
    let s = start(true);
    let (_, rec) = s.review();
    let unread = rec["report"]["unread"].as_array().expect("unread").clone();
    let what: Vec<&str> = unread.iter().filter_map(|u| u["what"].as_str()).collect();
    assert!(what.iter().any(|w| w.starts_with("ClusterRoleBindings")), "{what:?}");
    assert!(what.contains(&"NetworkPolicies"), "{what:?}");
    assert!(
        unread.iter().any(|u| u["why"].as_str().is_some_and(|w| w.contains("forbidden") || w.contains("Forbidden"))),
        "{unread:?}"
    );
    assert!(!keys(&rec).iter().any(|k| k.starts_with("net:")), "nothing said about policies never read");
    // No SubjectAccessReviews for this identity: the cross-check says so.
    assert!(rec["report"]["access"]["cross_check"]["skipped"]
        .as_str()
        .is_some_and(|w| w.contains("subjectaccessreviews")));

    // The Wednesday review's steps, each from the latest occurrence: one review answers all.
    for step in
        ["rbac", "service-accounts", "network-policies", "backup-encryption", "backup-access", "backup-retention"]
    {
        let (code, out, err) = s.hsofctl(&["procedure", "run", "weekly-security-review", "--step", step]);
        assert!(code == 0 || code == 1, "{step}: {out} {err}");
    }
    let (_, out, _) = s.hsofctl(&["--json", "review", "list"]);
    let list: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "the review run since the occurrence began answers every step: {out}"
    );
    let (_, out, _) = s.hsofctl(&["--json", "procedure", "show", "weekly-security-review"]);
    let show: Value = serde_json::from_str(&out).expect("json");
    let text = show.to_string();
    assert!(text.contains("[not read] NetworkPolicies"), "the network step names what it could not read: {text}");
}

#[test]
fn the_audit_check_matches_every_write_of_the_app_to_its_audit_row() {
    let s = start(false);
    // Seeded objects were written by kubectl, not the app: nothing to match yet.
    let (_, out, err) = s.hsofctl(&["--json", "review", "security", "--audit"]);
    let first: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    assert!(first["audit"]["changes_unseen"].is_null(), "{}", first["audit"]);
    assert_eq!(first["audit"]["app_changes"], 0);
    assert_eq!(first["audit"]["intact"], true);
    // A change through the app: audited, and written with the app's field manager.
    let (code, out, err) = s.hsofctl(&["change", "scale", "2", "--yes"]);
    assert_eq!(code, 0, "{out} {err}");
    let (_, out, _) = s.hsofctl(&["--json", "review", "security", "--audit"]);
    let second: Value = serde_json::from_str(&out).expect("json");
    let a = &second["audit"];
    assert!(a["changes_unseen"].is_null(), "{a}");
    assert_eq!(a["app_changes"], 1, "{a}");
    assert_eq!(a["matched"], 1, "{a}");
    assert!(a["anchor"]["id"].as_i64().is_some_and(|id| id >= 1), "the head is kept with the review: {a}");
    // The monthly assessment's step is answered by that review.
    let (code, out, _) = s.hsofctl(&["procedure", "run", "monthly-security-assessment", "--step", "audit-logs"]);
    assert_eq!(code, 0, "{out}");
    // A write under the app's name that the app did not audit: named, and the check fails.
    crate::kubectl_at(
        &s.kubeconfig,
        &[
            "patch",
            "configmap",
            "hsof-config",
            "--field-manager=hsof-control-center",
            "-p",
            r#"{"data":{"log_level":"debug"}}"#,
        ],
    );
    let (_, out, _) = s.hsofctl(&["--json", "review", "security", "--audit"]);
    let third: Value = serde_json::from_str(&out).expect("json");
    let unmatched = third["audit"]["unmatched"].as_array().cloned().unwrap_or_default();
    assert_eq!(unmatched.len(), 1, "{}", third["audit"]);
    assert!(unmatched[0].as_str().is_some_and(|u| u.starts_with("configmap/hsof-config")), "{unmatched:?}");
    assert_eq!(third["audit"]["earlier_anchors"], 1, "the second review's anchor is checked: {}", third["audit"]);
    assert_eq!(third["audit"]["anchor_mismatches"], serde_json::json!([]));
}

#[test]
fn a_scanner_at_an_unknown_version_is_named_not_read() {
    let s = start(false);
    let mut crd = hsof_fake_kube::trivy_crd();
    crate::kubectl_at(&s.kubeconfig, &["delete", "crd", "vulnerabilityreports.aquasecurity.github.io"]);
    crd["spec"]["versions"][0]["name"] = serde_json::json!("v1beta1");
    let file = s.dir.path().join("crd.json");
    std::fs::write(&file, crd.to_string()).expect("write");
    crate::kubectl_at(&s.kubeconfig, &["apply", "-f", file.to_str().unwrap_or_default()]);
    let (code, rec) = s.review();
    assert_eq!(code, 1, "not read is not clean: {}", rec["report"]["vulnerabilities"]);
    let line = rec["report"]["vulnerabilities"]["line"].as_str().unwrap_or_default();
    assert!(line.contains("served at v1beta1; this app reads v1alpha1"), "{line}");
    assert!(
        rec["report"]["unread"].as_array().into_iter().flatten().any(|u| u["area"] == "vulnerabilities"),
        "{}",
        rec["report"]["unread"]
    );
}
