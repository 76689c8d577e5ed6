//! `kubectl get` of bindings, service accounts, storage classes and Trivy reports.

use serde_json::{json, Value};

use super::{apply, fake, kubectl, RBAC};
use crate::{trivy_crd, vulnerability_report, Store};

#[test]
fn kubectl_gets_bindings_service_accounts_storage_classes_and_trivy_reports() {
    let f = fake();
    apply(&f, RBAC);
    let table = kubectl(&f, &["get", "rolebindings,clusterrolebindings,sa,sc", "-n", "ci"]);
    for want in [
        "rolebinding.rbac.authorization.k8s.io/read-pods",
        "Role/pod-reader",
        "ClusterRole/configmap-editor",
        "clusterrolebinding.rbac.authorization.k8s.io/auditors-view-nodes",
        "ClusterRole/node-viewer",
        "serviceaccount/builder",
        "storageclass.storage.k8s.io/fast (default)",
        "csi.hsof.io",
    ] {
        assert!(table.contains(want), "{want}: {table}");
    }
    assert!(table.contains("ROLE") && table.contains("SECRETS") && table.contains("PROVISIONER"), "{table}");
    assert!(table.contains("Delete") && table.contains("Immediate") && table.contains("true"), "defaulted: {table}");
    let wide = kubectl(&f, &["get", "rolebindings", "-n", "ci", "-o", "wide"]);
    assert!(wide.contains("SERVICEACCOUNTS") && wide.contains("ci/deployer"), "{wide}");
    let wide = kubectl(&f, &["get", "clusterrolebinding", "auditors-view-nodes", "-o", "wide"]);
    assert!(wide.contains("GROUPS") && wide.contains("auditors"), "{wide}");
    let sa = kubectl(&f, &["get", "sa", "builder", "-n", "ci"]);
    assert!(sa.lines().nth(1).is_some_and(|l| l.split_whitespace().nth(1) == Some("1")), "one secret: {sa}");
    assert!(kubectl(&f, &["get", "roles", "-n", "ci"]).contains("CREATED AT"));
    assert!(kubectl(&f, &["api-resources", "--api-group=storage.k8s.io", "-o", "name"])
        .contains("storageclasses.storage.k8s.io"));
    kubectl(&f, &["delete", "sc", "fast"]);
    assert!(!kubectl(&f, &["get", "sc", "-o", "name"]).contains("fast"));

    // The Trivy Operator: its CRD through kubectl, a report through kubectl, another
    // through the store.
    let path = f.dir.join("trivy-crd.json");
    std::fs::write(&path, trivy_crd().to_string()).expect("crd");
    kubectl(&f, &["apply", "-f", path.to_str().expect("utf-8")]);
    let report = |container: &str, tag: &str, vulns: &[(&str, &str, &str, &str, &str)]| {
        vulnerability_report(
            "ci",
            &format!("replicaset-hsof-main-7d9f-{container}"),
            "ReplicaSet",
            "hsof-main-7d9f",
            container,
            "index.docker.io",
            "hsof/hsof",
            tag,
            "sha256:1f2e",
            vulns,
            "2026-01-01T00:00:00Z",
        )
    };
    let first = report(
        "hsof",
        "1.5.0",
        &[
            ("CVE-2024-0001", "openssl", "CRITICAL", "3.0.1", "3.0.2"),
            ("CVE-2024-0002", "zlib", "HIGH", "1.2.11", "1.2.12"),
            ("CVE-2024-0003", "curl", "HIGH", "7.88", ""),
        ],
    );
    apply(&f, &first.to_string());
    f.server.with(|s| s.put(report("sidecar", "1.4.0", &[])));
    let table = kubectl(&f, &["get", "vulnerabilityreports", "-n", "ci"]);
    assert!(table.contains("REPOSITORY") && table.contains("SCANNER"), "{table}");
    let row = table.lines().find(|l| l.starts_with("replicaset-hsof-main-7d9f-hsof")).expect("the report's row");
    assert_eq!(
        row.split_whitespace().take(4).collect::<Vec<_>>(),
        ["replicaset-hsof-main-7d9f-hsof", "hsof/hsof", "1.5.0", "Trivy"]
    );
    let wide = kubectl(&f, &["get", "vuln", "-n", "ci", "-o", "wide"]);
    let row = wide.lines().find(|l| l.starts_with("replicaset-hsof-main-7d9f-hsof")).expect("row");
    assert_eq!(row.split_whitespace().skip(5).collect::<Vec<_>>(), ["1", "2", "0", "0", "0"], "{wide}");
    let got: Value = serde_json::from_str(&kubectl(
        &f,
        &["get", "vulns", "-n", "ci", "-l", "trivy-operator.container.name=hsof", "-o", "json"],
    ))
    .expect("json");
    assert_eq!(got["items"][0]["report"]["summary"]["highCount"], 2);
    assert_eq!(got["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn the_store_installs_the_trivy_crd() {
    let mut s = Store::default();
    s.install_crd(trivy_crd()).expect("installed");
    assert!(s.resource("aquasecurity.github.io", "v1alpha1", "vulnerabilityreports").is_some());
    assert!(s.install_crd(json!({"metadata": {"name": "x"}, "spec": {}})).is_err());
}
