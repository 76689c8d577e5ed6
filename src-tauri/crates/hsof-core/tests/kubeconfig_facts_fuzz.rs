//! Property test: the kubeconfig facts (`facts::read_kubeconfig`, which lists contexts for the UI)
//! never panic on a broken kubeconfig, one file or several merged; a problem is reported in
//! `error` instead.

use hsof_core::facts::read_kubeconfig;
use proptest::prelude::*;

fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn yaml_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => prop::sample::select(vec![
            "clusters", "users", "contexts", "current-context", "cluster", "user", "context", "name", "server",
            "namespace", "apiVersion", "kind", "Config", "v1", "prod", "dev", ":", ": ", "- ", "\n", "  ", "    ",
            "[", "]", "{", "}", ",", "'", "\"", "&a ", "*a", "<<: *a", "!!str ", "~", "null", "true", "---\n",
            "#", "|\n", "? ", "\t",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{1,4}",
    ];
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn broken_kubeconfigs_are_reported_not_a_panic(files in prop::collection::vec(yaml_soup(), 1..4)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths: Vec<std::path::PathBuf> = files
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let p = dir.path().join(format!("k{i}"));
                std::fs::write(&p, text).expect("write");
                p
            })
            .collect();
        let env = std::env::join_paths(&paths).expect("join").into_string().expect("utf-8 temp path");
        let facts = read_kubeconfig(None, Some(&env), None);
        prop_assert_eq!(facts.sources.len(), paths.len());
        let one = read_kubeconfig(Some(&paths[0]), None, None);
        prop_assert_eq!(one.sources.len(), 1);
    }
}

/// kube's reader indexes past the end of a UTF-16 file with an odd number of bytes (a truncated
/// UTF-16 kubeconfig) and panicked here; the facts now read through
/// `hsof_cluster::read_kubeconfig`, which refuses such a file.
#[test]
fn a_truncated_utf16_kubeconfig_is_reported_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("config");
    std::fs::write(&p, [0xFF, 0xFE, b'a', 0, b':']).expect("write");
    let facts = read_kubeconfig(Some(&p), None, None);
    assert!(facts.error.is_some());
}
