//! The Trivy Operator's VulnerabilityReport (`aquasecurity.github.io/v1alpha1`): its
//! CustomResourceDefinition as the operator's chart installs it, and reports shaped as the
//! operator writes them (one per container of a workload).
//!
//! Seed a running fake with `store.install_crd(trivy_crd())` and `store.put(report)` (see
//! [`crate::Store::install_crd`]), or with `kubectl apply` of both.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The scanner a report names (`report.scanner`).
pub const SCANNER: (&str, &str, &str) = ("Trivy", "Aqua Security", "0.58.1");

fn printer_column(name: &str, kind: &str, path: &str, priority: i64, description: &str) -> Value {
    let mut c = json!({"name": name, "type": kind, "jsonPath": path, "description": description});
    if priority > 0 {
        c["priority"] = json!(priority);
    }
    c
}

fn string() -> Value {
    json!({"type": "string"})
}

fn count() -> Value {
    json!({"type": "integer", "minimum": 0})
}

/// `vulnerabilityreports.aquasecurity.github.io`: namespaced, version `v1alpha1`, short
/// names `vuln` and `vulns`, printer columns Repository, Tag, Scanner, Age, and (with
/// `-o wide`, priority 1, as in the operator's CRD) Critical, High, Medium, Low, Unknown.
pub fn trivy_crd() -> Value {
    let columns = json!([
        printer_column("Repository", "string", ".report.artifact.repository", 0, "The name of image repository"),
        printer_column("Tag", "string", ".report.artifact.tag", 0, "The name of image tag"),
        printer_column("Scanner", "string", ".report.scanner.name", 0, "The name of the vulnerability scanner"),
        printer_column("Age", "date", ".metadata.creationTimestamp", 0, "The age of the report"),
        printer_column(
            "Critical",
            "integer",
            ".report.summary.criticalCount",
            1,
            "The number of critical vulnerabilities"
        ),
        printer_column("High", "integer", ".report.summary.highCount", 1, "The number of high vulnerabilities"),
        printer_column("Medium", "integer", ".report.summary.mediumCount", 1, "The number of medium vulnerabilities"),
        printer_column("Low", "integer", ".report.summary.lowCount", 1, "The number of low vulnerabilities"),
        printer_column(
            "Unknown",
            "integer",
            ".report.summary.unknownCount",
            1,
            "The number of unknown vulnerabilities"
        ),
    ]);
    let vulnerability = json!({
        "type": "object",
        "required": ["fixedVersion", "installedVersion", "lastModifiedDate", "publishedDate", "resource", "severity", "title", "vulnerabilityID"],
        "properties": {
            "vulnerabilityID": string(), "resource": string(), "installedVersion": string(), "fixedVersion": string(),
            "severity": {"type": "string", "enum": ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]},
            "title": string(), "description": string(), "primaryLink": string(), "links": {"type": "array", "items": string()},
            "score": {"type": "number"}, "target": string(), "class": string(), "packageType": string(), "packagePURL": string(),
            "publishedDate": string(), "lastModifiedDate": string(),
        }
    });
    let report = json!({
        "type": "object",
        "description": "Report is the actual vulnerability report data.",
        "required": ["artifact", "os", "scanner", "summary", "updateTimestamp", "vulnerabilities"],
        "properties": {
            "artifact": {"type": "object", "properties": {"repository": string(), "tag": string(), "digest": string(), "mimeType": string(),
                "labels": {"type": "object", "additionalProperties": string()}}},
            "os": {"type": "object", "properties": {"family": string(), "name": string(), "eosl": {"type": "boolean"}}},
            "registry": {"type": "object", "properties": {"server": string()}},
            "scanner": {"type": "object", "required": ["name", "vendor", "version"], "properties": {"name": string(), "vendor": string(), "version": string()}},
            "summary": {"type": "object", "required": ["criticalCount", "highCount", "lowCount", "mediumCount", "unknownCount"],
                "properties": {"criticalCount": count(), "highCount": count(), "mediumCount": count(), "lowCount": count(), "unknownCount": count(), "noneCount": count()}},
            "updateTimestamp": {"type": "string", "format": "date-time"},
            "vulnerabilities": {"type": "array", "items": vulnerability},
        }
    });
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "vulnerabilityreports.aquasecurity.github.io", "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.1"}},
        "spec": {
            "group": "aquasecurity.github.io",
            "names": {"kind": "VulnerabilityReport", "listKind": "VulnerabilityReportList", "plural": "vulnerabilityreports",
                      "singular": "vulnerabilityreport", "shortNames": ["vuln", "vulns"]},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1alpha1", "served": true, "storage": true, "subresources": {},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "VulnerabilityReport summarizes vulnerabilities in application dependencies and operating system packages built into container images.",
                    "required": ["report"],
                    "x-kubernetes-preserve-unknown-fields": true,
                    "properties": {"apiVersion": string(), "kind": string(), "metadata": {"type": "object"}, "report": report},
                }},
            }],
        },
    })
}

/// The `apiVersion` of an owner of `kind`.
fn owner_api_version(kind: &str) -> &'static str {
    match kind {
        "ReplicaSet" | "Deployment" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        _ => "v1",
    }
}

/// A VulnerabilityReport as the operator writes it for `container` of workload
/// `owner_kind/owner_name` in `namespace`, running `registry/repository:tag@digest`.
/// `vulns` are `(vulnerabilityID, resource (the package), severity, installedVersion,
/// fixedVersion)`; the summary counts them by severity (`CRITICAL`, `HIGH`, `MEDIUM`,
/// `LOW`, anything else unknown). The owner reference has no uid (the fake does not need
/// one; set `metadata.ownerReferences[0].uid` to tie it to a stored owner).
#[allow(clippy::too_many_arguments)]
pub fn vulnerability_report(
    namespace: &str,
    name: &str,
    owner_kind: &str,
    owner_name: &str,
    container: &str,
    registry: &str,
    repository: &str,
    tag: &str,
    digest: &str,
    vulns: &[(&str, &str, &str, &str, &str)],
    update_timestamp: &str,
) -> Value {
    let mut counts = [0u64; 5];
    let vulnerabilities: Vec<Value> = vulns
        .iter()
        .map(|(id, resource, severity, installed, fixed)| {
            let severity = severity.to_uppercase();
            let i = ["CRITICAL", "HIGH", "MEDIUM", "LOW"].iter().position(|s| *s == severity).unwrap_or(4);
            counts[i] += 1;
            json!({
                "vulnerabilityID": id, "resource": resource, "installedVersion": installed, "fixedVersion": fixed,
                "severity": if i == 4 { "UNKNOWN" } else { severity.as_str() },
                "title": format!("{resource}: {id}"),
                "primaryLink": format!("https://avd.aquasec.com/nvd/{}", id.to_lowercase()),
                "links": [], "target": "", "publishedDate": "", "lastModifiedDate": "",
            })
        })
        .collect();
    let hash = hex::encode(&Sha256::digest(format!("{owner_kind}/{owner_name}/{container}/{repository}:{tag}"))[..5]);
    json!({
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "trivy-operator",
                "resource-spec-hash": hash,
                "trivy-operator.resource.kind": owner_kind,
                "trivy-operator.resource.name": owner_name,
                "trivy-operator.resource.namespace": namespace,
                "trivy-operator.container.name": container,
            },
            "ownerReferences": [{"apiVersion": owner_api_version(owner_kind), "kind": owner_kind, "name": owner_name,
                                 "controller": true, "blockOwnerDeletion": false}],
        },
        "report": {
            "updateTimestamp": update_timestamp,
            "scanner": {"name": SCANNER.0, "vendor": SCANNER.1, "version": SCANNER.2},
            "registry": {"server": registry},
            "artifact": {"repository": repository, "tag": tag, "digest": digest},
            "os": {},
            "summary": {"criticalCount": counts[0], "highCount": counts[1], "mediumCount": counts[2],
                        "lowCount": counts[3], "unknownCount": counts[4]},
            "vulnerabilities": vulnerabilities,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crd_is_served_and_reports_count_their_vulnerabilities() {
        let served = crate::crd::served(&trivy_crd()).expect("a valid CRD");
        assert_eq!(
            (served.res.group, served.res.version, served.res.kind),
            ("aquasecurity.github.io", "v1alpha1", "VulnerabilityReport")
        );
        assert!(served.res.namespaced && served.res.short == ["vuln", "vulns"] && served.res.subresources.is_empty());
        let names: Vec<&str> = served.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Repository", "Tag", "Scanner", "Age", "Critical", "High", "Medium", "Low", "Unknown"]);
        let r = vulnerability_report(
            "hsof",
            "replicaset-hsof-main-abc-hsof",
            "ReplicaSet",
            "hsof-main-abc",
            "hsof",
            "index.docker.io",
            "hsof/hsof",
            "1.5.0",
            "sha256:00",
            &[
                ("CVE-2024-1", "openssl", "CRITICAL", "3.0.1", "3.0.2"),
                ("CVE-2024-2", "zlib", "high", "1.2", ""),
                ("CVE-2024-3", "x", "", "1", ""),
            ],
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(
            r["report"]["summary"],
            json!({"criticalCount": 1, "highCount": 1, "mediumCount": 0, "lowCount": 0, "unknownCount": 1})
        );
        assert_eq!(r["report"]["vulnerabilities"][1]["severity"], "HIGH");
        assert_eq!(r["report"]["vulnerabilities"][2]["severity"], "UNKNOWN");
        assert_eq!(r["metadata"]["labels"]["trivy-operator.resource.kind"], "ReplicaSet");
        assert_eq!(r["metadata"]["ownerReferences"][0]["apiVersion"], "apps/v1");
        assert_eq!(r["report"]["vulnerabilities"][0]["primaryLink"], "https://avd.aquasec.com/nvd/cve-2024-1");
    }
}
