//! Secrets file backend and kubeconfig discovery.

use hsof_core::facts::read_kubeconfig;
use hsof_core::secrets::{BackendChoice, SecretBackend, SecretError, SecretStore, SecretValue};

#[test]
fn file_backend_is_0600_and_never_prints_values() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secrets.toml");
    let store = SecretStore::new(BackendChoice::File, file.clone());
    assert!(matches!(store.backend(), SecretBackend::File { .. }));
    let url = SecretValue::new("https://hooks.slack.com/services/T000/B000/XXXX");
    store.set("slack-webhook", &url).expect("set");
    assert_eq!(std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777, 0o600);
    assert_eq!(store.get("slack-webhook").expect("get"), url);
    assert!(!format!("{url:?}").contains("hooks.slack.com"));
    store.set("other", &SecretValue::new("x")).expect("set");
    store.delete("slack-webhook").expect("delete");
    assert!(matches!(store.get("slack-webhook"), Err(SecretError::NotFound(_))));
    assert_eq!(store.get("other").expect("kept").expose(), "x");
    assert!(matches!(store.set("Bad Name", &url), Err(SecretError::BadName(_))));
}

#[test]
fn corrupt_secrets_file_is_an_error_not_a_wipe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secrets.toml");
    std::fs::write(&file, "not = [valid").expect("write");
    let store = SecretStore::new(BackendChoice::File, file.clone());
    assert!(matches!(store.set("a", &SecretValue::new("b")), Err(SecretError::Backend { .. })));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "not = [valid");
}

const KUBECONFIG: &str = r#"apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: gke-prod
  cluster: {server: "https://10.0.0.1"}
- name: kind
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: me
  user: {token: abc}
contexts:
- name: prod
  context: {cluster: gke-prod, user: me, namespace: hsof}
- name: local
  context: {cluster: kind, user: me}
"#;

#[test]
fn kubeconfig_contexts_are_listed_with_the_current_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    std::fs::write(&path, KUBECONFIG).expect("write");
    let facts = read_kubeconfig(None, Some(path.to_str().expect("utf8")), None);
    assert_eq!(facts.error, None);
    assert_eq!(facts.current_context.as_deref(), Some("prod"));
    let names: Vec<_> =
        facts.contexts.iter().map(|c| (c.name.as_str(), c.cluster.as_str(), c.namespace.as_deref())).collect();
    assert_eq!(names, [("prod", "gke-prod", Some("hsof")), ("local", "kind", None)]);
}

#[test]
fn missing_kubeconfig_says_how_to_add_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let facts = read_kubeconfig(None, None, Some(dir.path()));
    assert!(facts.contexts.is_empty() && facts.error.is_none());
    let hint = facts.hint.expect("hint");
    assert!(hint.contains("no kubeconfig found") && hint.contains(".kube/config"), "{hint}");
}

#[test]
fn kubeconfig_that_fails_to_parse_is_reported_with_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken");
    std::fs::write(&path, "apiVersion: v1\ncontexts: [ {name: x, context: \n").expect("write");
    let facts = read_kubeconfig(Some(&path), None, None);
    let err = facts.error.expect("error");
    assert!(err.contains("broken") && err.contains("could not be parsed"), "{err}");
}
